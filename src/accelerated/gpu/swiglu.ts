// SwiGLU on gpu.js (float32) over a fused gu[N,2I] (gate first, then up): y = silu(g)·u, and its
// backward into both halves. σ is the overflow-free form used by every sigmoid of this backend.
// Legend: N rows, I inner size.

import { shapes } from '../../core/shapes.ts';
import type { Device, GpuTensor } from './device.ts';
import type { KernelThis } from './gpujs.ts';

type Dims = KernelThis<{ I: number }>;

/** y[n,i] = g·σ(g)·u with g = gu[n,i], u = gu[n,I+i]. */
function swigluBody(this: Dims, gu: Float32Array): number {
  const i = this.thread.x;
  const n = Math.floor((i + 0.5) / this.constants.I);
  const c = i - n * this.constants.I;
  const g = gu[n * 2 * this.constants.I + c];
  const u = gu[n * 2 * this.constants.I + this.constants.I + c];
  let sg = 0;
  if (g >= 0) {
    sg = 1 / (1 + Math.exp(-g));
  } else {
    const e = Math.exp(g);
    sg = e / (1 + e);
  }
  return g * sg * u;
}

/** dg = dy·u·σ(g)·(1 + g·(1 − σ(g))), du = dy·g·σ(g); thread i = n·2I + c. */
function swigluBackwardBody(this: Dims, dy: Float32Array, gu: Float32Array): number {
  const i = this.thread.x;
  const twoI = 2 * this.constants.I;
  const n = Math.floor((i + 0.5) / twoI);
  const c = i - n * twoI;
  let k = c;
  if (c >= this.constants.I) {
    k = c - this.constants.I;
  }
  const g = gu[n * twoI + k];
  const u = gu[n * twoI + this.constants.I + k];
  const d = dy[n * this.constants.I + k];
  let sg = 0;
  if (g >= 0) {
    sg = 1 / (1 + Math.exp(-g));
  } else {
    const e = Math.exp(g);
    sg = e / (1 + e);
  }
  if (c >= this.constants.I) {
    return d * g * sg;
  }
  return d * u * sg * (1 + g * (1 - sg));
}

/** y[N,I] = silu(g)·u of gu[N,2I]. */
export const swiglu = (dev: Device, gu: GpuTensor): GpuTensor => {
  const shape = shapes.swiglu(gu.shape);
  return dev.run({ name: 'swiglu', body: swigluBody, constants: { I: shape[shape.length - 1] }, args: [gu], shape });
};

/** dgu[N,2I] from dy[N,I]. */
export const swigluBackward = (dev: Device, dy: GpuTensor, gu: GpuTensor): GpuTensor => {
  const shape = shapes.swigluBackward(dy.shape, gu.shape);
  return dev.run({ name: 'swigluBackward', body: swigluBackwardBody, constants: { I: shape[shape.length - 1] / 2 }, args: [dy, gu], shape });
};
