// Sequence plumbing on gpu.js (float32): concatenation and slicing along the sequence axis, the
// slice's backward, the per-row reset of recurrent states, and the swap of the last two axes. Pure data movement; a zero-length
// operand is handled by aliasing the other one instead of launching over nothing.
// webgpu: the same moves as cell-wise WGSL with u32 indices (indexed.ts), exact at any size (the
// gpu.js bodies' float32 index split fails past 2^23 cells); the gpu.js bodies serve cpu/webasm.
// Legend: B batch, S (= P + T) sequence, D width.

import { shapes } from '../../core/shapes.ts';
import type { Device, GpuTensor } from './device.ts';
import type { KernelThis } from './gpujs.ts';
import type { IndexedKernel } from './indexed.ts';
import { runIndexed } from './indexed.ts';

type Dims = KernelThis<{ S: number; D: number; P: number; T: number }>;

/** y[b,s,d] = s < P ? a[b,s,d] : c[b,s−P,d]; thread i = (b·S + s)·D + d. */
function concatBody(this: Dims, a: Float32Array, c: Float32Array): number {
  const i = this.thread.x;
  const row = Math.floor((i + 0.5) / this.constants.D);
  const d = i - row * this.constants.D;
  const b = Math.floor((row + 0.5) / this.constants.S);
  const s = row - b * this.constants.S;
  if (s < this.constants.P) {
    return a[(b * this.constants.P + s) * this.constants.D + d];
  }
  return c[(b * this.constants.T + s - this.constants.P) * this.constants.D + d];
}

/** y[b,s,d] = x[b,start+s,d] (here S = len and T = the full length). */
function sliceBody(this: Dims, x: Float32Array, start: number): number {
  const i = this.thread.x;
  const row = Math.floor((i + 0.5) / this.constants.D);
  const d = i - row * this.constants.D;
  const b = Math.floor((row + 0.5) / this.constants.S);
  const s = row - b * this.constants.S;
  return x[(b * this.constants.T + start + s) * this.constants.D + d];
}

/** y[b,s,d] = dy[b,s−start,d] for start ≤ s < start+T, else 0 (here T = len). */
function sliceBackwardBody(this: Dims, dy: Float32Array, start: number): number {
  const i = this.thread.x;
  const row = Math.floor((i + 0.5) / this.constants.D);
  const d = i - row * this.constants.D;
  const b = Math.floor((row + 0.5) / this.constants.S);
  const s = row - b * this.constants.S;
  if (s >= start && s < start + this.constants.T) {
    return dy[(b * this.constants.T + s - start) * this.constants.D + d];
  }
  return 0;
}

/** y[b,s,d] = mask[b] ≠ 0 ? init[d] : state[b,s,d]. */
function resetBody(this: Dims, state: Float32Array, init: Float32Array, mask: Float32Array): number {
  const i = this.thread.x;
  const row = Math.floor((i + 0.5) / this.constants.D);
  const d = i - row * this.constants.D;
  const b = Math.floor((row + 0.5) / this.constants.S);
  if (mask[b] !== 0) {
    return init[d];
  }
  return state[i];
}

/** y[b,n,m] = x[b,m,n] for x[B,M,N] (here S = M, D = N); thread i = (b·N + n)·M + m. */
function transposeBody(this: Dims, x: Float32Array): number {
  const i = this.thread.x;
  const row = Math.floor((i + 0.5) / this.constants.S);
  const m = i - row * this.constants.S;
  const b = Math.floor((row + 0.5) / this.constants.D);
  const n = row - b * this.constants.D;
  return x[(b * this.constants.S + m) * this.constants.D + n];
}

/** The cell's row (b·S + s), width index d, batch b and position s (u32). */
const ROW = `  let row = i / p.D;
  let d = i - row * p.D;
  let b = row / p.S;
  let s = row - b * p.S;`;

/** concatBody in WGSL. */
const CONCAT: IndexedKernel = {
  name: 'concatSeq.cells',
  inputs: ['a', 'c'],
  sizes: ['S', 'D', 'P', 'T'],
  body: `${ROW}
  if (s < p.P) { return a[(b * p.P + s) * p.D + d]; }
  return c[(b * p.T + s - p.P) * p.D + d];`,
};

/** sliceBody in WGSL (S = len, T = the full length). */
const SLICE: IndexedKernel = {
  name: 'sliceSeq.cells',
  inputs: ['x'],
  sizes: ['S', 'D', 'T', 'start'],
  body: `${ROW}
  return x[(b * p.T + p.start + s) * p.D + d];`,
};

/** sliceBackwardBody in WGSL (S = the full length, T = len). */
const SLICE_BACKWARD: IndexedKernel = {
  name: 'sliceSeqBackward.cells',
  inputs: ['dy'],
  sizes: ['S', 'D', 'T', 'start'],
  body: `${ROW}
  if (s >= p.start && s < p.start + p.T) { return dy[(b * p.T + s - p.start) * p.D + d]; }
  return 0.0;`,
};

/** resetBody in WGSL; the mask's bytes travel as float32 (exact: integers below 256). */
const RESET: IndexedKernel = {
  name: 'resetRows.cells',
  inputs: ['state', 'init', 'mask'],
  sizes: ['S', 'D'],
  body: `${ROW}
  if (mask[b] != 0.0) { return init[d]; }
  return state[i];`,
};

/** transposeBody in WGSL (S = M, D = N). */
const TRANSPOSE: IndexedKernel = {
  name: 'transpose.cells',
  inputs: ['x'],
  sizes: ['S', 'D'],
  body: `  let row = i / p.S;
  let m = i - row * p.S;
  let b = row / p.D;
  let n = row - b * p.D;
  return x[(b * p.S + m) * p.D + n];`,
};

/** [B,P,D] ++ [B,T,D] → [B,P+T,D]. */
export const concatSeq = (dev: Device, a: GpuTensor, c: GpuTensor): GpuTensor => {
  const shape = shapes.concatSeq(a.shape, c.shape);
  const [, P, D] = a.shape;
  const T = c.shape[1];
  if (P === 0) return dev.alias(dev.check(c, 'concatSeq', 'b'), shape);
  if (T === 0) return dev.alias(dev.check(a, 'concatSeq', 'a'), shape);
  const constants = { S: P + T, D, P, T };
  if (dev.mode === 'webgpu') return runIndexed(dev, CONCAT, [a, c], shape, constants);
  return dev.run({ name: 'concatSeq', body: concatBody, constants, args: [a, c], shape });
};

/** x[:, start:start+len, :]. */
export const sliceSeq = (dev: Device, x: GpuTensor, start: number, len: number): GpuTensor => {
  const shape = shapes.sliceSeq(x.shape, start, len);
  if (start === 0 && len === x.shape[1]) return dev.alias(dev.check(x, 'sliceSeq', 'x'), shape);
  const constants = { S: len, D: x.shape[2], P: 0, T: x.shape[1] };
  if (dev.mode === 'webgpu') return runIndexed(dev, SLICE, [x], shape, { ...constants, start });
  return dev.run({ name: 'sliceSeq', body: sliceBody, constants, args: [x, start], shape });
};

/** dy[B,len,D] placed at `start` in zeros of [B,fullLen,D]. */
export const sliceSeqBackward = (dev: Device, dy: GpuTensor, fullLen: number, start: number): GpuTensor => {
  const shape = shapes.sliceSeqBackward(dy.shape, fullLen, start);
  const len = dy.shape[1];
  if (start === 0 && len === fullLen) return dev.alias(dev.check(dy, 'sliceSeqBackward', 'dy'), shape);
  if (len === 0) return dev.upload(shape, new Float32Array(shape[0] * shape[1] * shape[2]));
  const constants = { S: fullLen, D: dy.shape[2], P: 0, T: len };
  if (dev.mode === 'webgpu') return runIndexed(dev, SLICE_BACKWARD, [dy], shape, { ...constants, start });
  return dev.run({ name: 'sliceSeqBackward', body: sliceBackwardBody, constants, args: [dy, start], shape });
};

/** Rows b with mask[b] ≠ 0 become init broadcast over S; the others are copied. */
export const resetRows = (dev: Device, state: GpuTensor, init: GpuTensor, mask: Uint8Array): GpuTensor => {
  const shape = shapes.resetRows(state.shape, init.shape, mask.length);
  const constants = { S: shape[1], D: shape[2], P: 0, T: 0 };
  const args = [state, init, Float32Array.from(mask)];
  if (dev.mode === 'webgpu') return runIndexed(dev, RESET, args, shape, constants);
  return dev.run({ name: 'resetRows', body: resetBody, constants, args, shape });
};

/** x[B,M,N] → [B,N,M]; an axis of length 1 makes it a pure reshape. */
export const transpose = (dev: Device, x: GpuTensor): GpuTensor => {
  const shape = shapes.transpose(x.shape);
  const [, M, N] = x.shape;
  if (M === 1 || N === 1) return dev.alias(dev.check(x, 'transpose', 'x'), shape);
  const constants = { S: M, D: N, P: 0, T: 0 };
  if (dev.mode === 'webgpu') return runIndexed(dev, TRANSPOSE, [x], shape, constants);
  return dev.run({ name: 'transpose', body: transposeBody, constants, args: [x], shape });
};
