// Half-split rotary position embedding on gpu.js (float32) over the first `rotatedHeads` heads of
// x[B,S,W] (heads of width hd laid out contiguously), and its backward (the transposed rotation).
// Heads past `rotatedHeads` pass through. Legend: B batch, S sequence, W = heads·hd, hd head dim.

import { shapes } from '../../core/shapes.ts';
import type { Device, GpuTensor } from './device.ts';
import type { KernelThis } from './gpujs.ts';

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

/** RoPE on x[B,S,W] with cos/sin [S,hd]. */
export const rope = (dev: Device, x: GpuTensor, cos: GpuTensor, sin: GpuTensor, headDim: number, rotatedHeads: number): GpuTensor => {
  const shape = shapes.rope(x.shape, cos.shape, sin.shape, headDim, rotatedHeads);
  const constants = { S: shape[1], W: shape[2], hd: headDim, rotated: rotatedHeads };
  return dev.run({ name: 'rope', body: ropeBody, constants, args: [x, cos, sin], shape });
};

/** The vector-Jacobian product of `rope` for dy[B,S,W]. */
export const ropeBackward = (dev: Device, dy: GpuTensor, cos: GpuTensor, sin: GpuTensor, headDim: number, rotatedHeads: number): GpuTensor => {
  const shape = shapes.ropeBackward(dy.shape, cos.shape, sin.shape, headDim, rotatedHeads);
  const constants = { S: shape[1], W: shape[2], hd: headDim, rotated: rotatedHeads };
  return dev.run({ name: 'ropeBackward', body: ropeBackwardBody, constants, args: [dy, cos, sin], shape });
};
