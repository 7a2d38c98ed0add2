// Reference SignSGD on the rows of the sparse puzzle-embedding table (spec §5.3), with the float32
// rounding of the original: for each distinct id u in the batch, g_u = Σ of the gradient rows
// carrying u, then W[u] ← f(f(W[u]·f(1 − lr·wd)) + f(−lr)·sign(g_u)), sign(0) = 0.
// Rows whose id is not in the batch are copied bit for bit (no decay). Legend: R rows, E width, B ids.

import type { Tensor } from '../core/tensor.ts';
import { wrap64 } from '../core/tensor.ts';
import { checkIds, shapes } from '../core/shapes.ts';

type T64 = Tensor<Float64Array>;
const f = Math.fround;

/** table'[R,E] after one SignSGD step with grads[B,E] for ids[B]. */
export const signSgdRows = (table: T64, grads: T64, ids: Int32Array, lr: number, weightDecay: number): T64 => {
  const shape = shapes.signSgdRows(table.shape, grads.shape, ids.length);
  const [R, E] = shape;
  checkIds('signSgdRows', 'ids', ids, R);
  const sum = new Float64Array(R * E);
  const touched = new Uint8Array(R);
  for (let b = 0; b < ids.length; b++) {
    touched[ids[b]] = 1;
    for (let e = 0; e < E; e++) sum[ids[b] * E + e] += grads.data[b * E + e]; // g_u += grads[b,e]
  }
  const decay = f(1 - lr * weightDecay);
  const step = f(-lr);
  const w = new Float64Array(table.data);
  for (let u = 0; u < R; u++) {
    if (touched[u] === 0) continue;
    for (let e = 0; e < E; e++) {
      const g = sum[u * E + e];
      const sign = g > 0 ? 1 : g < 0 ? -1 : 0;
      w[u * E + e] = f(f(table.data[u * E + e] * decay) + step * sign);
    }
  }
  return wrap64(shape, w);
};
