// Half-split rotary position embedding on gpu.js (float32) over the first `rotatedHeads` heads of
// x[B,S,W] (heads of width hd laid out contiguously), and its backward (the transposed rotation).
// Heads past `rotatedHeads` pass through. webgpu: the same arithmetic as cell-wise WGSL with u32
// indices (indexed.ts), exact at any size; the gpu.js bodies serve cpu/webasm.
// Legend: B batch, S sequence, W = heads·hd, hd head dim.

import { shapes } from '../../core/shapes.ts';
import type { Device, GpuTensor } from './device.ts';
import type { KernelThis } from './gpujs.ts';
import type { IndexedKernel } from './indexed.ts';
import { runIndexed } from './indexed.ts';

type Dims = KernelThis<{ S: number; W: number; hd: number; rotated: number }>;

/** y = x·cos[s] + rotate_half(x)·sin[s], rotate_half(v)_j = j < hd/2 ? −v[j+hd/2] : v[j−hd/2]. */
function ropeBody(this: Dims, x: Float32Array, cos: Float32Array, sin: Float32Array): number {
  const i = this.thread.x;
  const row = Math.floor((i + 0.5) / this.constants.W);
  const c = i - row * this.constants.W;
  const head = Math.floor((c + 0.5) / this.constants.hd);
  if (head >= this.constants.rotated) {
    return x[i];
  }
  const s = row - Math.floor((row + 0.5) / this.constants.S) * this.constants.S;
  const j = c - head * this.constants.hd;
  const half = this.constants.hd / 2;
  let rot = 0;
  if (j < half) {
    rot = -x[i + half];
  } else {
    rot = x[i - half];
  }
  return x[i] * cos[s * this.constants.hd + j] + rot * sin[s * this.constants.hd + j];
}

/** dx_j = dy_j·cos_j + (j < hd/2 ? dy[j+hd/2]·sin[j+hd/2] : −dy[j−hd/2]·sin[j−hd/2]). */
function ropeBackwardBody(this: Dims, dy: Float32Array, cos: Float32Array, sin: Float32Array): number {
  const i = this.thread.x;
  const row = Math.floor((i + 0.5) / this.constants.W);
  const c = i - row * this.constants.W;
  const head = Math.floor((c + 0.5) / this.constants.hd);
  if (head >= this.constants.rotated) {
    return dy[i];
  }
  const s = row - Math.floor((row + 0.5) / this.constants.S) * this.constants.S;
  const j = c - head * this.constants.hd;
  const half = this.constants.hd / 2;
  const t = s * this.constants.hd;
  let rot = 0;
  if (j < half) {
    rot = dy[i + half] * sin[t + j + half];
  } else {
    rot = -dy[i - half] * sin[t + j - half];
  }
  return dy[i] * cos[t + j] + rot;
}

/** The cell's row, column c, head, position s and channel j (u32), or x[i] for a head past `rotated`. */
const LOCATE = `  let row = i / p.W;
  let c = i - row * p.W;
  let head = c / p.hd;
  if (head >= p.rotated) { return x[i]; }
  let s = row % p.S;
  let j = c - head * p.hd;
  let half = p.hd / 2u;
  let t = s * p.hd;`;

/** ropeBody in WGSL. */
const ROPE: IndexedKernel = {
  name: 'rope.cells',
  inputs: ['x', 'cosT', 'sinT'],
  sizes: ['S', 'W', 'hd', 'rotated'],
  body: `${LOCATE}
  var rot = 0.0;
  if (j < half) { rot = -x[i + half]; } else { rot = x[i - half]; }
  return x[i] * cosT[t + j] + rot * sinT[t + j];`,
};

/** ropeBackwardBody in WGSL (x is dy). */
const ROPE_BACKWARD: IndexedKernel = {
  name: 'ropeBackward.cells',
  inputs: ['x', 'cosT', 'sinT'],
  sizes: ['S', 'W', 'hd', 'rotated'],
  body: `${LOCATE}
  var rot = 0.0;
  if (j < half) { rot = x[i + half] * sinT[t + j + half]; } else { rot = -x[i - half] * sinT[t + j - half]; }
  return x[i] * cosT[t + j] + rot;`,
};

/** RoPE on x[B,S,W] with cos/sin [S,hd]. */
export const rope = (dev: Device, x: GpuTensor, cos: GpuTensor, sin: GpuTensor, headDim: number, rotatedHeads: number): GpuTensor => {
  const shape = shapes.rope(x.shape, cos.shape, sin.shape, headDim, rotatedHeads);
  const constants = { S: shape[1], W: shape[2], hd: headDim, rotated: rotatedHeads };
  if (dev.mode === 'webgpu') return runIndexed(dev, ROPE, [x, cos, sin], shape, constants);
  return dev.run({ name: 'rope', body: ropeBody, constants, args: [x, cos, sin], shape });
};

/** The vector-Jacobian product of `rope` for dy[B,S,W]. */
export const ropeBackward = (dev: Device, dy: GpuTensor, cos: GpuTensor, sin: GpuTensor, headDim: number, rotatedHeads: number): GpuTensor => {
  const shape = shapes.ropeBackward(dy.shape, cos.shape, sin.shape, headDim, rotatedHeads);
  const constants = { S: shape[1], W: shape[2], hd: headDim, rotated: rotatedHeads };
  if (dev.mode === 'webgpu') return runIndexed(dev, ROPE_BACKWARD, [dy, cos, sin], shape, constants);
  return dev.run({ name: 'ropeBackward', body: ropeBackwardBody, constants, args: [dy, cos, sin], shape });
};
