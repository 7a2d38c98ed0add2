// Embedding lookup on gpu.js (float32): y[n,:] = table[ids[n],:], and its backward as a gather
// (each table cell sums the dy rows whose id names it, so no atomics are needed). Ids come from
// the host. cpu/webasm: the gpu.js bodies, ids as float32 (exact below 2^24), the backward
// scanning all N ids per table cell (R·D·N steps). webgpu: cell-wise WGSL with u32 indices
// (indexed.ts), exact at any size; ids travel as u32 bit-cast to float32 and the backward reads
// only its own row's positions, grouped by id on the host (N·D steps), in the same ascending order.
// Legend: N ids, R table rows, D width.

import { checkIds, shapes } from '../../core/shapes.ts';
import type { Shape } from '../../core/tensor.ts';
import type { Device, GpuTensor } from './device.ts';
import type { KernelThis } from './gpujs.ts';
import type { IndexedKernel } from './indexed.ts';
import { runIndexed } from './indexed.ts';

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

/**
 * Host integers as their u32 bits in a float32 array (the upload copies bytes), bound as
 * `array<u32>`: exact for every value, where a float32 number is exact only below 2^24.
 */
const asBits = (u: Uint32Array): Float32Array => new Float32Array(u.buffer, u.byteOffset, u.length);

/**
 * ids grouped by row for the webgpu backward, one u32 table of R + 1 + N entries: at r < R the
 * offset of row r's positions (at R: N), from R + 1 the positions n with ids[n] = r, ascending,
 * row after row (a counting sort: O(N + R) on the host).
 */
const groupByRow = (ids: Int32Array, rows: number): Uint32Array => {
  const N = ids.length;
  const t = new Uint32Array(rows + 1 + N);
  for (let n = 0; n < N; n++) t[ids[n] + 1]++;
  for (let r = 0; r < rows; r++) t[r + 1] += t[r];
  const next = t.slice(0, rows);
  for (let n = 0; n < N; n++) t[rows + 1 + next[ids[n]]++] = n;
  return t;
};

/** embeddingBody in WGSL (ids as u32). */
const EMBEDDING: IndexedKernel = {
  name: 'embedding.cells',
  inputs: ['table', 'ids'],
  u32: ['ids'],
  sizes: ['D'],
  body: `  let n = i / p.D;
  let d = i - n * p.D;
  return table[ids[n] * p.D + d];`,
};

/**
 * embeddingBackwardBody in WGSL over row r's positions only (from groupByRow, as u32): the same
 * compensated sum, n ascending, so the same additions as the scan over all ids.
 */
const EMBEDDING_BACKWARD: IndexedKernel = {
  name: 'embeddingBackward.cells',
  inputs: ['dy', 'groups'],
  u32: ['groups'],
  sizes: ['D', 'R'],
  scalars: ['one'],
  body: `  let r = i / p.D;
  let d = i - r * p.D;
  let last = groups[r + 1u];
  var acc = 0.0;
  var err = 0.0;
  for (var k = groups[r]; k < last; k++) {
    let x = dy[groups[p.R + 1u + k] * p.D + d];
    let s = (acc + x) * p.one;
    let bv = s - acc;
    err = err + ((acc - (s - bv)) + (x - bv));
    acc = s;
  }
  return acc + err;`,
};

/** y[...idsShape, D] = table[ids]. */
export const embedding = (dev: Device, table: GpuTensor, ids: Int32Array, idsShape: Shape): GpuTensor => {
  const shape = shapes.embedding(table.shape, ids.length, idsShape);
  checkIds('embedding', 'ids', ids, table.shape[0]);
  if (dev.mode === 'webgpu') return runIndexed(dev, EMBEDDING, [table, asBits(Uint32Array.from(ids))], shape, { D: table.shape[1] });
  return dev.run({ name: 'embedding', body: embeddingBody, constants: { D: table.shape[1] }, args: [table, Float32Array.from(ids)], shape });
};

/** Scatter-add of dy[...,D] into a zero table of `rows` rows. */
export const embeddingBackward = (dev: Device, dy: GpuTensor, ids: Int32Array, rows: number): GpuTensor => {
  const shape = shapes.embeddingBackward(dy.shape, ids.length, rows);
  checkIds('embeddingBackward', 'ids', ids, rows);
  if (dev.mode === 'webgpu') return runIndexed(dev, EMBEDDING_BACKWARD, [dy, asBits(groupByRow(ids, rows))], shape, { D: shape[1], R: rows }, { one: 1 });
  if (ids.length === 0) return dev.upload(shape, new Float32Array(shape[0] * shape[1]));
  const constants = { D: shape[1], N: ids.length };
  return dev.run({ name: 'embeddingBackward', body: embeddingBackwardBody, constants, args: [dy, Float32Array.from(ids), 1], shape });
};
