// fast-check building blocks for kernel inputs: shapes first, then data. Values are float32-
// representable (so a float32 backend receives exactly the numbers the reference does), bounded,
// finite (noNaN, noDefaultInfinity). Small shapes keep thousands of runs cheap.

import fc from 'fast-check';
import type { Shape } from '../core/tensor.ts';
import { numel } from '../core/tensor.ts';
import { IGNORE_LABEL } from '../core/batch.ts';

export interface HostTensor {
  readonly shape: Shape;
  readonly data: Float64Array;
}

/** The smallest normal float32, 2^−126. */
export const F32_MIN_NORMAL = 2 ** -126;

/**
 * Subnormal float32 values become (signed) zero. The float32 contract is defined on normal-range
 * values and zero: WGSL lets GPU implementations flush subnormal inputs and results to zero, and
 * an NVIDIA H200 through WebGPU does (1.4e-45 read as 0 turned argmax ties, SignSGD signs and
 * AdamATan2's atan2(m, 0) into different answers). Normal values down to 2^−126 are still drawn.
 */
export const flushSubnormal = (x: number): number => (Math.abs(x) < F32_MIN_NORMAL ? x * 0 : x);

/** A float32-representable number in [min, max], normal or zero. */
export const f32 = (min: number, max: number): fc.Arbitrary<number> =>
  fc.float({ min: Math.fround(min), max: Math.fround(max), noNaN: true, noDefaultInfinity: true }).map(flushSubnormal);

/** n float32-representable values in [min, max] (normal or zero) as a Float64Array. */
export const values = (n: number, min: number, max: number): fc.Arbitrary<Float64Array> =>
  fc
    .float32Array({ minLength: n, maxLength: n, min: Math.fround(min), max: Math.fround(max), noNaN: true, noDefaultInfinity: true })
    .map((a) => Float64Array.from(a, flushSubnormal));

/** A tensor of the given shape with values in [−bound, bound]. */
export const tensorOf = (shape: Shape, bound = 2): fc.Arbitrary<HostTensor> =>
  values(numel(shape), -bound, bound).map((data) => ({ shape, data }));

/**
 * Values below `minMagnitude` in absolute value become zero: for kernels whose intermediates square
 * their inputs (AdamATan2's g², √v), so that no intermediate falls into the subnormal range either.
 */
export const zeroBelow = (t: HostTensor, minMagnitude: number): HostTensor => ({
  shape: t.shape,
  data: t.data.map((x) => (Math.abs(x) < minMagnitude ? x * 0 : x)),
});

/** A tensor of the given shape with values in [min, max]. */
export const tensorIn = (shape: Shape, min: number, max: number): fc.Arbitrary<HostTensor> =>
  values(numel(shape), min, max).map((data) => ({ shape, data }));

/** A small dimension in [min, max]. */
export const dim = (min: number, max: number): fc.Arbitrary<number> => fc.integer({ min, max });

/** Leading axes (1 or 2 of them, each 1..3). */
export const leading = (): fc.Arbitrary<number[]> => fc.array(dim(1, 3), { minLength: 1, maxLength: 2 });

/** n ids in [0, rows). */
export const ids = (n: number, rows: number): fc.Arbitrary<Int32Array> =>
  fc.array(fc.integer({ min: 0, max: rows - 1 }), { minLength: n, maxLength: n }).map((a) => Int32Array.from(a));

/** n labels in [0, V) or −100 (about one in five ignored). */
export const labels = (n: number, V: number): fc.Arbitrary<Int32Array> =>
  fc
    .array(fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: V - 1 }) }, { weight: 1, arbitrary: fc.constant(IGNORE_LABEL) }), {
      minLength: n,
      maxLength: n,
    })
    .map((a) => Int32Array.from(a));

/** The run count of property tests: HRM_PROP_RUNS, else `fallback`. */
export const propRuns = (fallback = 100): number => {
  const v = process.env.HRM_PROP_RUNS;
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`HRM_PROP_RUNS is '${v}', expected a positive integer`);
  return n;
};
