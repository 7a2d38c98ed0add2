// Host tensors: an immutable shape plus a typed array in row-major (C) order.
// The reference backend computes on Float64Array; accelerated backends read and write Float32Array.
// Nothing in the core mutates a Tensor after it is made: kernels return fresh values.

export type Shape = readonly number[];
export type FloatArray = Float64Array | Float32Array;

export interface Tensor<A extends FloatArray = FloatArray> {
  readonly shape: Shape;
  readonly data: A;
}

/** Number of elements of a shape (1 for a scalar shape []). */
export const numel = (shape: Shape): number => shape.reduce((a, b) => a * b, 1);

export const shapeToString = (shape: Shape): string => `[${shape.join(', ')}]`;

export const sameShape = (a: Shape, b: Shape): boolean =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/** A float64 tensor; copies `data` so the caller keeps ownership of its array. */
export const tensor64 = (shape: Shape, data?: ArrayLike<number>): Tensor<Float64Array> => {
  const n = numel(shape);
  const out = new Float64Array(n);
  if (data !== undefined) {
    if (data.length !== n) {
      throw new Error(`tensor64: data has ${data.length} elements, shape ${shapeToString(shape)} needs ${n}`);
    }
    out.set(data);
  }
  return Object.freeze({ shape: Object.freeze([...shape]), data: out });
};

/** A float32 tensor; copies `data`. */
export const tensor32 = (shape: Shape, data?: ArrayLike<number>): Tensor<Float32Array> => {
  const n = numel(shape);
  const out = new Float32Array(n);
  if (data !== undefined) {
    if (data.length !== n) {
      throw new Error(`tensor32: data has ${data.length} elements, shape ${shapeToString(shape)} needs ${n}`);
    }
    out.set(data);
  }
  return Object.freeze({ shape: Object.freeze([...shape]), data: out });
};

/** Wraps an array without copying: use only for arrays nobody else will write. */
export const wrap64 = (shape: Shape, data: Float64Array): Tensor<Float64Array> => {
  if (data.length !== numel(shape)) {
    throw new Error(`wrap64: data has ${data.length} elements, shape ${shapeToString(shape)} needs ${numel(shape)}`);
  }
  return Object.freeze({ shape: Object.freeze([...shape]), data });
};
