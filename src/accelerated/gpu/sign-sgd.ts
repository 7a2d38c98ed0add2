// SignSGD on the rows of a table named by host ids, on the gpu backend (float32): duplicate ids'
// gradient rows are summed in ascending batch position, then W[u] ← W[u]·(1 − lr·wd) − lr·sign(g_u),
// sign(0) = 0. Untouched rows keep their bits. CONSUMES table. Legend: R table rows, E width, B ids,
// U distinct ids.
// webgpu: one hand-written WGSL pass over the U touched rows only (U·E threads), written into the
// table's own buffer (a table shared with another handle is first copied into a fresh one); the
// host groups the batch positions by id first. cpu/webasm: one gpu.js pass over every cell of the
// table, each scanning all B ids, into a fresh table (its cell index is a float32 number on webasm:
// tables past 2²⁴ cells are refused there). No ids: the table's values unchanged.

import { checkIds, shapes } from '../../core/shapes.ts';
import { numel, shapeToString } from '../../core/tensor.ts';
import type { Device, GpuTensor } from './device.ts';
import type { KernelThis } from './gpujs.ts';
import { ownBuffers } from './indexed.ts';

/**
 * thread i = r·E + e: the updated W[r,e] if some ids[n] = r, else W[r,e]. The row is floor(i/E)
 * corrected by one either way, so that it stays exact where the division rounds (float32 numbers
 * on webgpu/webasm: exact up to 2²⁴ cells, where i itself stops being exact); Math.fround marks the
 * float32 roundings (the sum, W·decay) for the cpu mode, which computes in float64.
 */
function signSgdBody(this: KernelThis<{ E: number; B: number }>, table: Float32Array, grads: Float32Array, ids: Float32Array, decay: number, lr: number): number {
  const i = this.thread.x;
  let r = Math.floor(i / this.constants.E);
  let e = i - r * this.constants.E;
  if (e < 0) {
    r = r - 1;
    e = e + this.constants.E;
  }
  if (e >= this.constants.E) {
    r = r + 1;
    e = e - this.constants.E;
  }
  let g = 0;
  let touched = 0;
  for (let n = 0; n < this.constants.B; n++) {
    if (Math.abs(ids[n] - r) < 0.5) {
      g = Math.fround(g + grads[n * this.constants.E + e]);
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
  return Math.fround(table[i] * decay) - lr * sg;
}

/**
 * The batch grouped by id, as one u32 table of 3B + 1 entries (its length depends on B only, so
 * the upload buffer is the same pool size every step): rows[0..U) the distinct ids ascending,
 * at B: offsets[0..U] into the positions, at 2B + 1: positions[0..B) grouped by id, each group in
 * ascending batch position. Returned bit-cast as float32 (uploads copy bytes; the kernel reads
 * `array<u32>`), so ids need not be exact in float32.
 */
export const groupIds = (ids: Int32Array): { readonly table: Float32Array; readonly distinct: number } => {
  const B = ids.length;
  const order = Int32Array.from({ length: B }, (_, n) => n).sort((a, b) => ids[a] - ids[b] || a - b);
  const t = new Uint32Array(3 * B + 1);
  let u = 0;
  for (let j = 0; j < B; j++) {
    const n = order[j];
    if (j === 0 || ids[n] !== ids[order[j - 1]]) {
      t[u] = ids[n];
      t[B + u] = j;
      u++;
    }
    t[2 * B + 1 + j] = n;
  }
  t[B + u] = B;
  return { table: new Float32Array(t.buffer), distinct: u };
};

/**
 * Thread t = k·E + e of the U·E (grid split over x/y past 65535 workgroups): row u = rows[k];
 * g = 0 + Σ grads[n, e] over the positions n of u in ascending order (as signSgdBody adds them);
 * W[u, e] ← W[u, e]·decay − lr·sign(g), in place. Rows not in the batch are not touched at all.
 * Parameter block: workgroups per grid row, U·E, E, B; decay and lr (float32), then 1.0 as `one`:
 * the product W·decay is multiplied by it before the subtraction, so a compiler that contracts
 * a·b − c into one fused multiply-add fuses the exact ×1 instead and W·decay is rounded on its own,
 * as the gpu.js body and the reference round it.
 */
const signSgdWgsl = (): string => `
struct P { gx: u32, n: u32, e: u32, b: u32, decay: f32, lr: f32, one: f32, p0: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> grads: array<f32>;
@group(0) @binding(2) var<storage, read> idx: array<u32>;
@group(0) @binding(3) var<storage, read_write> table: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let t = (wid.y * p.gx + wid.x) * 256u + lid.x;
  if (t >= p.n) { return; }
  let k = t / p.e;
  let e = t - k * p.e;
  let row = idx[k];
  let first = idx[p.b + k];
  let last = idx[p.b + k + 1u];
  var g = 0.0;
  for (var j = first; j < last; j++) {
    g = g + grads[idx[2u * p.b + 1u + j] * p.e + e];
  }
  var sg = 0.0;
  if (g > 0.0) { sg = 1.0; } else if (g < 0.0) { sg = -1.0; }
  let i = row * p.e + e;
  let w = table[i] * p.decay;
  table[i] = w * p.one - p.lr * sg;
}
`;

/** The gpu.js pass over every cell of the table (the cpu/webasm path); a fresh table. */
export const signSgdRowsGpuJs = (dev: Device, table: GpuTensor, grads: GpuTensor, ids: Int32Array, lr: number, weightDecay: number): GpuTensor => {
  const shape = shapes.signSgdRows(table.shape, grads.shape, ids.length);
  checkIds('signSgdRows', 'ids', ids, table.shape[0]);
  if (dev.mode !== 'cpu' && numel(shape) > 2 ** 24) {
    throw new RangeError(`signSgdRows: table ${shapeToString(shape)} has ${numel(shape)} cells, more than the 2^24 that gpu.js's float32 cell index addresses exactly on mode ${dev.mode} (webgpu and cpu have no such limit)`);
  }
  const constants = { E: shape[1], B: ids.length };
  const args = [table, grads, Float32Array.from(ids), Math.fround(1 - lr * weightDecay), Math.fround(lr)];
  const out = dev.run({ name: 'signSgdRows', body: signSgdBody, constants, args, shape });
  dev.release(table);
  return out;
};

/**
 * No ids: the table unchanged, under a new handle that takes over its values (the old handle is
 * spent, as a consumed argument is; an alias would die with the release of the old handle).
 */
const unchanged = (dev: Device, table: GpuTensor): GpuTensor => {
  dev.check(table, 'signSgdRows', 'table');
  table.disposed = true;
  return { shape: table.shape, storage: table.storage, disposed: false };
};

/** table'[R,E] after one SignSGD step with grads[B,E] for ids[B] (see the file's header for the paths). */
export const signSgdRows = (dev: Device, table: GpuTensor, grads: GpuTensor, ids: Int32Array, lr: number, weightDecay: number): GpuTensor => {
  const shape = shapes.signSgdRows(table.shape, grads.shape, ids.length);
  const E = shape[1];
  if (ids.length === 0) return unchanged(dev, table);
  if (dev.mode !== 'webgpu' || E === 0) return signSgdRowsGpuJs(dev, table, grads, ids, lr, weightDecay);
  checkIds('signSgdRows', 'ids', ids, table.shape[0]);
  const [own] = ownBuffers(dev, [table]);
  const { table: idx, distinct } = groupIds(ids);
  const n = distinct * E;
  const blocks = Math.ceil(n / 256);
  const gx = Math.min(blocks, 65535);
  const params = new ArrayBuffer(32);
  new Uint32Array(params, 0, 4).set([gx, n, E, ids.length]);
  new Float32Array(params, 16, 3).set([1 - lr * weightDecay, lr, 1]);
  const [out] = dev.runWgsl({
    name: 'signSgdRows.rows',
    code: signSgdWgsl,
    params,
    inputs: [grads, idx],
    outputs: [own],
    groups: [gx, Math.ceil(blocks / gx), 1],
  });
  return out;
};
