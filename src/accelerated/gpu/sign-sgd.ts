// SignSGD on the rows of a table named by host ids, on gpu.js (float32): duplicate ids' gradient
// rows are summed, then W[u] ← W[u]·(1 − lr·wd) − lr·sign(g_u). Untouched rows are copied bit for
// bit. CONSUMES table. Legend: R table rows, E width, B ids.

import { checkIds, shapes } from '../../core/shapes.ts';
import type { Device, GpuTensor } from './device.ts';
import type { KernelThis } from './gpujs.ts';

/** thread i = r·E + e: the updated W[r,e] if some ids[n] = r, else W[r,e]. */
function signSgdBody(this: KernelThis<{ E: number; B: number }>, table: Float32Array, grads: Float32Array, ids: Float32Array, decay: number, lr: number): number {
  const i = this.thread.x;
  const r = Math.floor((i + 0.5) / this.constants.E);
  const e = i - r * this.constants.E;
  let g = 0;
  let touched = 0;
  for (let n = 0; n < this.constants.B; n++) {
    if (Math.abs(ids[n] - r) < 0.5) {
      g += grads[n * this.constants.E + e];
      touched = 1;
    }
  }
  if (touched < 0.5) {
    return table[i];
  }
  let sg = 0;
  if (g > 0) {
    sg = 1;
  } else if (g < 0) {
    sg = -1;
  }
  return table[i] * decay - lr * sg;
}

export const signSgdRows = (dev: Device, table: GpuTensor, grads: GpuTensor, ids: Int32Array, lr: number, weightDecay: number): GpuTensor => {
  const shape = shapes.signSgdRows(table.shape, grads.shape, ids.length);
  checkIds('signSgdRows', 'ids', ids, table.shape[0]);
  const constants = { E: shape[1], B: ids.length };
  const args = [table, grads, Float32Array.from(ids), 1 - lr * weightDecay, lr];
  const out = ids.length === 0
    ? dev.alias(dev.check(table, 'signSgdRows', 'table'), shape)
    : dev.run({ name: 'signSgdRows', body: signSgdBody, constants, args, shape });
  dev.release(table);
  return out;
};
