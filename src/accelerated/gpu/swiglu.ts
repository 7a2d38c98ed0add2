// SwiGLU on gpu.js (float32) over a fused gu[N,2I] (gate first, then up): y = silu(g)·u, and its
// backward into both halves. σ is the overflow-free form used by every sigmoid of this backend.
// webgpu: the same arithmetic as cell-wise WGSL with u32 indices (indexed.ts), exact at any size
// (gate_up at paper width is 97M cells); the gpu.js bodies serve cpu/webasm.
// Legend: N rows, I inner size.

import { shapes } from '../../core/shapes.ts';
import type { Device, GpuTensor } from './device.ts';
import type { KernelThis } from './gpujs.ts';
import type { IndexedKernel } from './indexed.ts';
import { runIndexed } from './indexed.ts';

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

/** σ(g) in WGSL as the gpu.js bodies compute it: the overflow-free form of every sigmoid of this backend (also the fused products' epilogue). */
export const SIGMOID_WGSL = `fn sigm(g: f32) -> f32 {
  if (g >= 0.0) { return 1.0 / (1.0 + exp(-g)); }
  let e = exp(g);
  return e / (1.0 + e);
}`;

/** swigluBody in WGSL. */
const SWIGLU: IndexedKernel = {
  name: 'swiglu.cells',
  inputs: ['gu'],
  sizes: ['I'],
  helpers: SIGMOID_WGSL,
  body: `  let n = i / p.I;
  let c = i - n * p.I;
  let g = gu[n * 2u * p.I + c];
  let u = gu[n * 2u * p.I + p.I + c];
  return g * sigm(g) * u;`,
};

/** swigluBackwardBody in WGSL. */
const SWIGLU_BACKWARD: IndexedKernel = {
  name: 'swigluBackward.cells',
  inputs: ['dy', 'gu'],
  sizes: ['I'],
  helpers: SIGMOID_WGSL,
  body: `  let twoI = 2u * p.I;
  let n = i / twoI;
  let c = i - n * twoI;
  var k = c;
  if (c >= p.I) { k = c - p.I; }
  let g = gu[n * twoI + k];
  let u = gu[n * twoI + p.I + k];
  let d = dy[n * p.I + k];
  let sg = sigm(g);
  if (c >= p.I) { return d * g * sg; }
  return d * u * sg * (1.0 + g * (1.0 - sg));`,
};

/** y[N,I] = silu(g)·u of gu[N,2I]. */
export const swiglu = (dev: Device, gu: GpuTensor): GpuTensor => {
  const shape = shapes.swiglu(gu.shape);
  const constants = { I: shape[shape.length - 1] };
  if (dev.mode === 'webgpu') return runIndexed(dev, SWIGLU, [gu], shape, constants);
  return dev.run({ name: 'swiglu', body: swigluBody, constants, args: [gu], shape });
};

/** dgu[N,2I] from dy[N,I]. */
export const swigluBackward = (dev: Device, dy: GpuTensor, gu: GpuTensor): GpuTensor => {
  const shape = shapes.swigluBackward(dy.shape, gu.shape);
  const constants = { I: shape[shape.length - 1] / 2 };
  if (dev.mode === 'webgpu') return runIndexed(dev, SWIGLU_BACKWARD, [dy, gu], shape, constants);
  return dev.run({ name: 'swigluBackward', body: swigluBackwardBody, constants, args: [dy, gu], shape });
};
