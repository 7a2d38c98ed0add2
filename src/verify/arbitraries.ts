// fast-check building blocks for kernel inputs: shapes first, then data. Values are float32-
// representable (so a float32 backend receives exactly the numbers the reference does), bounded,
// finite (noNaN, noDefaultInfinity). Small shapes keep thousands of runs cheap.

import fc from 'fast-check';
import type { Shape } from '../core/tensor.ts';
import { numel } from '../core/tensor.ts';

export interface HostTensor {
  readonly shape: Shape;
  readonly data: Float64Array;
}

/** A float32-representable number in [min, max]. */
export const f32 = (min: number, max: number): fc.Arbitrary<number> =>
  fc.float({ min: Math.fround(min), max: Math.fround(max), noNaN: true, noDefaultInfinity: true });

/** n float32-representable values in [−bound, bound] (or [min, max]) as a Float64Array. */
export const values = (n: number, min: number, max: number): fc.Arbitrary<Float64Array> =>
  fc
    .float32Array({ minLength: n, maxLength: n, min: Math.fround(min), max: Math.fround(max), noNaN: true, noDefaultInfinity: true })
    .map((a) => Float64Array.from(a));

/** A tensor of the given shape with values in [−bound, bound]. */
export const tensorOf = (shape: Shape, bound = 2): fc.Arbitrary<HostTensor> =>
  values(numel(shape), -bound, bound).map((data) => ({ shape, data }));

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
    .array(fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: V - 1 }) }, { weight: 1, arbitrary: fc.constant(-100) }), {
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
