// Reference RMSNorm without weight (float64), over the last axis: y = x / sqrt(mean(x²) + eps),
// and the fused residual form rmsNorm(a + b). Forward and backward side by side.
// Legend: N rows (product of leading axes), D the normalized axis.

import type { Tensor } from '../core/tensor.ts';
import { wrap64 } from '../core/tensor.ts';
import { shapes } from '../core/shapes.ts';
import { add } from './elementwise.ts';

type T64 = Tensor<Float64Array>;

/** y[n,d] = x[n,d] · r[n], r[n] = 1/sqrt(mean_d x[n,d]² + eps). */
export const rmsNorm = (x: T64, eps: number): T64 => {
  const shape = shapes.rmsNorm(x.shape);
  const D = shape[shape.length - 1];
  const N = D === 0 ? 0 : x.data.length / D;
  const y = new Float64Array(x.data.length);
  for (let n = 0; n < N; n++) {
    let ss = 0;
    for (let d = 0; d < D; d++) ss += x.data[n * D + d] * x.data[n * D + d];
    const r = 1 / Math.sqrt(ss / D + eps);
    for (let d = 0; d < D; d++) y[n * D + d] = x.data[n * D + d] * r;
  }
  return wrap64(shape, y);
};

/** dx[n,d] = r·dy[n,d] − r³·x[n,d]·(Σ_e dy[n,e]·x[n,e])/D. */
export const rmsNormBackward = (dy: T64, x: T64, eps: number): T64 => {
  const shape = shapes.rmsNormBackward(dy.shape, x.shape);
  const D = shape[shape.length - 1];
  const N = D === 0 ? 0 : x.data.length / D;
  const dx = new Float64Array(x.data.length);
  for (let n = 0; n < N; n++) {
    let ss = 0;
    let dot = 0;
    for (let d = 0; d < D; d++) {
      const v = x.data[n * D + d];
      ss += v * v;
      dot += dy.data[n * D + d] * v;
    }
    const r = 1 / Math.sqrt(ss / D + eps);
    const c = (r * r * r * dot) / D;
    for (let d = 0; d < D; d++) dx[n * D + d] = r * dy.data[n * D + d] - c * x.data[n * D + d];
  }
  return wrap64(shape, dx);
};

/** rmsNorm(a + b): the post-norm residual of a transformer block. */
export const addRmsNorm = (a: T64, b: T64, eps: number): T64 => {
  shapes.addRmsNorm(a.shape, b.shape);
  return rmsNorm(add(a, b), eps);
};

/** d(a + b) of rmsNorm(a + b); it is both da and db. */
export const addRmsNormBackward = (dy: T64, a: T64, b: T64, eps: number): T64 => {
  shapes.addRmsNormBackward(dy.shape, a.shape, b.shape);
  return rmsNormBackward(dy, add(a, b), eps);
};
