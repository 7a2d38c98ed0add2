// Embedding lookup on gpu.js (float32): y[n,:] = table[ids[n],:], and its backward as a gather
// (each table cell sums the dy rows whose id names it, so no atomics are needed). Ids come from
// the host and travel as float32 (exact below 2^24). Legend: N ids, R table rows, D width.

import { checkIds, shapes } from '../../core/shapes.ts';
import type { Shape } from '../../core/tensor.ts';
import type { Device, GpuTensor } from './device.ts';
import type { KernelThis } from './gpujs.ts';

/** y[n,d] = table[ids[n],d]; thread i = n·D + d. */
function embeddingBody(this: KernelThis<{ D: number }>, table: Float32Array, ids: Float32Array): number {
  const i = this.thread.x;
  const n = Math.floor((i + 0.5) / this.constants.D);
  const d = i - n * this.constants.D;
  return table[ids[n] * this.constants.D + d];
}

/**
 * dtable[r,d] = Σ_{n: ids[n] = r} dy[n,d]; thread i = r·D + d. The sum carries its rounding errors
 * (2Sum per addition, errors added at the end), so cancellation between dy rows leaves an error of
 * about one float32 ulp of the result rather than 2⁻²⁴·Σ|dy|. `one` is 1 at run time: multiplying the
 * sum by it keeps shader compilers that rewrite inexact float algebra ((a + x) − a → x, which Mesa's
 * NIR does) from deleting the error terms.
 */
function embeddingBackwardBody(this: KernelThis<{ D: number; N: number }>, dy: Float32Array, ids: Float32Array, one: number): number {
  const i = this.thread.x;
  const r = Math.floor((i + 0.5) / this.constants.D);
  const d = i - r * this.constants.D;
  let acc = 0;
  let err = 0;
  for (let n = 0; n < this.constants.N; n++) {
    if (Math.abs(ids[n] - r) < 0.5) {
      const x = dy[n * this.constants.D + d];
      const s = (acc + x) * one;
      const bv = s - acc;
      err += (acc - (s - bv)) + (x - bv);
      acc = s;
    }
  }
  return acc + err;
}

/** y[...idsShape, D] = table[ids]. */
export const embedding = (dev: Device, table: GpuTensor, ids: Int32Array, idsShape: Shape): GpuTensor => {
  const shape = shapes.embedding(table.shape, ids.length, idsShape);
  checkIds('embedding', 'ids', ids, table.shape[0]);
  return dev.run({ name: 'embedding', body: embeddingBody, constants: { D: table.shape[1] }, args: [table, Float32Array.from(ids)], shape });
};

/** Scatter-add of dy[...,D] into a zero table of `rows` rows. */
export const embeddingBackward = (dev: Device, dy: GpuTensor, ids: Int32Array, rows: number): GpuTensor => {
  const shape = shapes.embeddingBackward(dy.shape, ids.length, rows);
  checkIds('embeddingBackward', 'ids', ids, rows);
  if (ids.length === 0) return dev.upload(shape, new Float32Array(shape[0] * shape[1]));
  const constants = { D: shape[1], N: ids.length };
  return dev.run({ name: 'embeddingBackward', body: embeddingBackwardBody, constants, args: [dy, Float32Array.from(ids), 1], shape });
};
