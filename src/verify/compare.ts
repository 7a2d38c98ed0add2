// Elementwise comparison of a backend's output with the reference's under a Tolerance, reporting
// the worst element (index, both values, error and what was allowed). NaN is never equal to
// anything, not even NaN. Pure functions; no test framework here.

import type { Shape } from '../core/tensor.ts';
import { sameShape, shapeToString } from '../core/tensor.ts';
import type { Tolerance } from './tolerances.ts';

export interface Worst {
  readonly output: string;
  readonly index: number;
  readonly ref: number;
  readonly got: number;
  readonly err: number;
  readonly allowed: number;
  /** err / allowed (Infinity for NaN or a nonzero error where nothing is allowed) */
  readonly ratio: number;
}

export interface Comparison {
  readonly ok: boolean;
  /** the element with the largest err/allowed ratio (undefined for empty outputs) */
  readonly worst?: Worst;
  /** a message when shapes differ */
  readonly shapeMismatch?: string;
}

const ratioOf = (err: number, allowed: number): number =>
  Number.isNaN(err) ? Infinity : err === 0 ? 0 : allowed === 0 ? Infinity : err / allowed;

/** Compares one output tensor; `slack` (per element, optional) is extra error allowed where the result is a float32-undecidable cancellation or tie. */
export const compareTensor = (
  output: string,
  refShape: Shape,
  ref: ArrayLike<number>,
  gotShape: Shape,
  got: ArrayLike<number>,
  tol: Tolerance,
  slack?: ArrayLike<number>,
): Comparison => {
  if (!sameShape(refShape, gotShape)) {
    return { ok: false, shapeMismatch: `${output}: shape ${shapeToString(gotShape)}, reference ${shapeToString(refShape)}` };
  }
  let maxAbs = 0;
  for (let i = 0; i < ref.length; i++) if (Math.abs(ref[i]) > maxAbs) maxAbs = Math.abs(ref[i]);
  let worst: Worst | undefined;
  let ok = true;
  for (let i = 0; i < ref.length; i++) {
    const r = ref[i];
    const g = got[i];
    const err = Math.abs(g - r);
    const allowed = tol.atol + tol.rtol * Math.abs(r) + tol.ntol * maxAbs + (slack?.[i] ?? 0);
    const pass = err <= allowed; // false for NaN
    if (!pass) ok = false;
    const ratio = ratioOf(err, allowed);
    if (worst === undefined || ratio > worst.ratio) worst = { output, index: i, ref: r, got: g, err, allowed, ratio };
  }
  return { ok, worst };
};

/** The worse of two comparisons (failures first, then by ratio). */
export const worse = (a: Comparison | undefined, b: Comparison): Comparison => {
  if (a === undefined) return b;
  if (a.ok !== b.ok) return a.ok ? b : a;
  if (b.shapeMismatch !== undefined) return b;
  if (a.shapeMismatch !== undefined) return a;
  return (b.worst?.ratio ?? 0) > (a.worst?.ratio ?? 0) ? b : a;
};

export const describeWorst = (w: Worst): string =>
  `${w.output}[${w.index}]: got ${w.got}, reference ${w.ref}, |error| ${w.err.toExponential(3)} > allowed ${w.allowed.toExponential(3)}`;
