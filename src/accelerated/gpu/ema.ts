// Exponential moving average of weights on gpu.js (float32): e ← decay·e + (1 − decay)·p.
// CONSUMES e.

import { shapes } from '../../core/shapes.ts';
import type { Device, GpuTensor } from './device.ts';
import type { KernelThis } from './gpujs.ts';

/** e' = decay·e + rest·p with rest = 1 − decay (computed on the host). */
function emaBody(this: KernelThis<object>, e: Float32Array, p: Float32Array, decay: number, rest: number): number {
  const i = this.thread.x;
  return decay * e[i] + rest * p[i];
}

export const ema = (dev: Device, e: GpuTensor, p: GpuTensor, decay: number): GpuTensor => {
  const shape = shapes.ema(e.shape, p.shape);
  const out = dev.run({ name: 'ema', body: emaBody, args: [e, p, decay, 1 - decay], shape });
  dev.release(e);
  return out;
};
