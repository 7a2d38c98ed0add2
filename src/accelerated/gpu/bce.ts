// Logistic sigmoid and binary cross-entropy with logits on gpu.js (float32). Every σ here (and in
// swiglu.ts) is the same overflow-free expression, so σ(x) − σ(x) is exactly 0 where a target is
// itself a sigmoid of the same logit computed by this backend.

import { shapes } from '../../core/shapes.ts';
import type { Device, GpuTensor } from './device.ts';
import type { KernelThis } from './gpujs.ts';

/** σ(x) = 1/(1 + e^−x) for x ≥ 0, e^x/(1 + e^x) otherwise. */
function sigmoidBody(this: KernelThis<object>, x: Float32Array): number {
  const v = x[this.thread.x];
  if (v >= 0) {
    return 1 / (1 + Math.exp(-v));
  }
  const e = Math.exp(v);
  return e / (1 + e);
}

/** ℓ = max(x, 0) − x·y + log(1 + e^−|x|). */
function bceBody(this: KernelThis<object>, x: Float32Array, target: Float32Array): number {
  const v = x[this.thread.x];
  return Math.max(v, 0) - v * target[this.thread.x] + Math.log(1 + Math.exp(-Math.abs(v)));
}

/** scale·(σ(x) − y). */
function bceBackwardBody(this: KernelThis<object>, x: Float32Array, target: Float32Array, scale: number): number {
  const v = x[this.thread.x];
  let sg = 0;
  if (v >= 0) {
    sg = 1 / (1 + Math.exp(-v));
  } else {
    const e = Math.exp(v);
    sg = e / (1 + e);
  }
  return scale * (sg - target[this.thread.x]);
}

export const sigmoid = (dev: Device, x: GpuTensor): GpuTensor =>
  dev.run({ name: 'sigmoid', body: sigmoidBody, args: [x], shape: shapes.sigmoid(x.shape) });

export const bceWithLogits = (dev: Device, x: GpuTensor, target: GpuTensor): GpuTensor =>
  dev.run({ name: 'bceWithLogits', body: bceBody, args: [x, target], shape: shapes.bceWithLogits(x.shape, target.shape) });

export const bceWithLogitsBackward = (dev: Device, x: GpuTensor, target: GpuTensor, scale: number): GpuTensor =>
  dev.run({ name: 'bceWithLogitsBackward', body: bceBackwardBody, args: [x, target, scale], shape: shapes.bceWithLogitsBackward(x.shape, target.shape) });
