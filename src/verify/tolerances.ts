// The one tolerance table of the conformance suite: how far a backend's result may be from the
// float64 reference, per kernel. An element passes when
//     |got − ref| ≤ atol + rtol·|ref| + ntol·max|ref|      (NaN never passes)
// where max|ref| is the largest magnitude in that output tensor (it absorbs cancellation: a sum of
// terms of size M can be off by ~K·2⁻²⁴·M in float32 even when the result is tiny).
// Inputs of the conformance arbitraries are float32-representable, bounded by 2 in magnitude (logits
// by 4), with reduction lengths ≤ 8–16, so the float32 numbers below are a few times the worst
// rounding those sizes allow; a wrong index, sign or formula is off by O(1)·max|ref| and fails.
// atol 1e-37 lets a device flush float32 subnormals (< 1.18e-38) to zero.

import type { KernelName } from '../core/backend.ts';

export interface Tolerance {
  readonly atol: number;
  readonly rtol: number;
  readonly ntol: number;
}

const t = (atol: number, rtol: number, ntol: number): Tolerance => Object.freeze({ atol, rtol, ntol });

/** One float32 rounding of an exactly-representable result (2⁻²³ leaves room for one ulp). */
const ONE_ULP = t(1e-37, 2 ** -23, 0);
/** Pure data movement: values must be copied exactly (up to subnormal flushing). */
const COPY = t(1e-37, 0, 0);

export const FLOAT32_TOLERANCES: Readonly<Record<KernelName, Tolerance>> = Object.freeze({
  linear: t(1e-6, 1e-5, 1e-5), // K ≤ 8 products accumulated
  linearBackward: t(1e-6, 1e-5, 1e-5), // dw sums over N ≤ 16 rows
  add: ONE_ULP,
  scale: ONE_ULP,
  addBroadcast: ONE_ULP,
  sumBatch: t(1e-37, 1e-6, 1e-6), // B ≤ 4 terms
  rmsNorm: t(1e-6, 1e-5, 1e-6), // rsqrt of a mean of ≤ 8 squares
  rmsNormBackward: t(1e-6, 1e-4, 1e-5), // r³-scaled cancellation when rows are near zero
  addRmsNorm: t(1e-6, 1e-5, 1e-6),
  addRmsNormBackward: t(1e-6, 1e-4, 1e-5),
  rope: t(1e-7, 1e-6, 1e-6), // two products and a sum per element
  ropeBackward: t(1e-7, 1e-6, 1e-6),
  attention: t(1e-6, 1e-5, 1e-5), // exp of scores ≤ 8 in size, S ≤ 5 keys
  attentionBackward: t(1e-6, 1e-4, 2e-5),
  swiglu: t(1e-7, 1e-5, 1e-6), // a device exp is a few ulp
  swigluBackward: t(1e-6, 1e-5, 1e-6),
  // a product (K ≤ 8 terms) and its activation: the activation's inputs carry the sums' rounding
  linearRope: t(1e-6, 1e-5, 2e-5),
  linearRopeBackward: t(1e-6, 1e-5, 2e-5),
  linearSwiglu: t(1e-6, 1e-5, 2e-5),
  linearSwigluBackward: t(1e-6, 1e-4, 2e-5),
  embedding: COPY,
  embeddingBackward: t(1e-37, 1e-6, 1e-6), // scatter-add of ≤ 16 rows
  concatSeq: COPY,
  sliceSeq: COPY,
  sliceSeqBackward: COPY,
  resetRows: COPY,
  transpose: COPY,
  crossEntropy: t(1e-6, 1e-5, 1e-6), // log of a ratio; ce ≈ 0 when p_y ≈ 1 needs the atol
  crossEntropyBackward: t(1e-6, 1e-5, 1e-5),
  argmax: t(0, 0, 0), // same input bits ⇒ same index
  sigmoid: t(1e-7, 2e-6, 0),
  bceWithLogits: t(1e-6, 1e-5, 0),
  bceWithLogitsBackward: t(1e-6, 1e-5, 0),
  adamAtan2: t(1e-37, 2 ** -22, 2 ** -23), // the reference rounds like the float32 kernel: ≤ 1–2 ulp
  adamAtan2Many: t(1e-37, 2 ** -22, 2 ** -23), // adamAtan2 per tensor
  // f(f(W·decay) − lr·sign): a fused multiply-add (allowed on GPUs) or a single float64 rounding moves the
  // result by up to an ulp of W·decay, which exceeds an ulp of the result when W·decay ≈ lr cancels
  signSgdRows: t(1e-37, 2 ** -23, 2 ** -23),
  ema: t(1e-37, 2 ** -22, 2 ** -23),
  emaMany: t(1e-37, 2 ** -22, 2 ** -23), // ema per tensor
});

/** A float64 target (another reference-like engine) must agree to float64 rounding. */
export const FLOAT64_TOLERANCE: Tolerance = t(1e-300, 1e-12, 1e-12);

export const toleranceFor = (kernel: KernelName, dtype: 'float32' | 'float64'): Tolerance =>
  kernel === 'argmax' ? FLOAT32_TOLERANCES.argmax : dtype === 'float64' ? FLOAT64_TOLERANCE : FLOAT32_TOLERANCES[kernel];
