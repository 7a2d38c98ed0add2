// RMSNorm without weight on gpu.js (float32), y = x / sqrt(mean(x²) + eps) over the last axis, and
// the fused residual rmsNorm(a + b). Each is two launches: per-row statistics, then one elementwise
// pass that also does the residual add. Forward and backward side by side.
// Legend: N rows (product of leading axes), D the normalized axis.

import { shapes } from '../../core/shapes.ts';
import type { Shape } from '../../core/tensor.ts';
import { numel } from '../../core/tensor.ts';
import type { Device, GpuTensor } from './device.ts';
import type { KernelThis } from './gpujs.ts';

type Row = KernelThis<{ D: number }>;

const rows = (shape: Shape): number => {
  const D = shape[shape.length - 1];
  return D === 0 ? 0 : numel(shape) / D;
};

/** r[n] = 1/sqrt(mean_d x[n,d]² + eps). */
function rstdBody(this: Row, x: Float32Array, eps: number): number {
  const base = this.thread.x * this.constants.D;
  let ss = 0;
  for (let d = 0; d < this.constants.D; d++) {
    const v = x[base + d];
    ss += v * v;
  }
  return 1 / Math.sqrt(ss / this.constants.D + eps);
}

/** r[n] of h = a + b. */
function rstdAddBody(this: Row, a: Float32Array, b: Float32Array, eps: number): number {
  const base = this.thread.x * this.constants.D;
  let ss = 0;
  for (let d = 0; d < this.constants.D; d++) {
    const v = a[base + d] + b[base + d];
    ss += v * v;
  }
  return 1 / Math.sqrt(ss / this.constants.D + eps);
}

/** y[n,d] = x[n,d]·r[n]. */
function applyBody(this: Row, x: Float32Array, r: Float32Array): number {
  const i = this.thread.x;
  return x[i] * r[Math.floor((i + 0.5) / this.constants.D)];
}

/** y[n,d] = (a + b)[n,d]·r[n]. */
function applyAddBody(this: Row, a: Float32Array, b: Float32Array, r: Float32Array): number {
  const i = this.thread.x;
  return (a[i] + b[i]) * r[Math.floor((i + 0.5) / this.constants.D)];
}

/** st[2n] = r[n], st[2n+1] = r³·(Σ_d dy·x)/D. */
function gradStatsBody(this: Row, dy: Float32Array, x: Float32Array, eps: number): number {
  const j = this.thread.x;
  const n = Math.floor((j + 0.5) / 2);
  const base = n * this.constants.D;
  let ss = 0;
  let dot = 0;
  for (let d = 0; d < this.constants.D; d++) {
    const v = x[base + d];
    ss += v * v;
    dot += dy[base + d] * v;
  }
  const r = 1 / Math.sqrt(ss / this.constants.D + eps);
  if (j - n * 2 < 0.5) {
    return r;
  }
  return (r * r * r * dot) / this.constants.D;
}

/** The same statistics of h = a + b. */
function gradStatsAddBody(this: Row, dy: Float32Array, a: Float32Array, b: Float32Array, eps: number): number {
  const j = this.thread.x;
  const n = Math.floor((j + 0.5) / 2);
  const base = n * this.constants.D;
  let ss = 0;
  let dot = 0;
  for (let d = 0; d < this.constants.D; d++) {
    const v = a[base + d] + b[base + d];
    ss += v * v;
    dot += dy[base + d] * v;
  }
  const r = 1 / Math.sqrt(ss / this.constants.D + eps);
  if (j - n * 2 < 0.5) {
    return r;
  }
  return (r * r * r * dot) / this.constants.D;
}

/** dx[n,d] = r·dy − c·x with (r, c) = st[2n], st[2n+1]. */
function gradApplyBody(this: Row, dy: Float32Array, x: Float32Array, st: Float32Array): number {
  const i = this.thread.x;
  const n = Math.floor((i + 0.5) / this.constants.D);
  return st[2 * n] * dy[i] - st[2 * n + 1] * x[i];
}

/** The same with x = a + b. */
function gradApplyAddBody(this: Row, dy: Float32Array, a: Float32Array, b: Float32Array, st: Float32Array): number {
  const i = this.thread.x;
  const n = Math.floor((i + 0.5) / this.constants.D);
  return st[2 * n] * dy[i] - st[2 * n + 1] * (a[i] + b[i]);
}

/** y = x / sqrt(mean(x²) + eps) over the last axis of x[N,D]. */
export const rmsNorm = (dev: Device, x: GpuTensor, eps: number): GpuTensor => {
  const shape = shapes.rmsNorm(x.shape);
  const constants = { D: shape[shape.length - 1] };
  const r = dev.run({ name: 'rmsNorm.rstd', body: rstdBody, constants, args: [x, eps], shape: [rows(shape)] });
  const y = dev.run({ name: 'rmsNorm.apply', body: applyBody, constants, args: [x, r], shape });
  dev.release(r);
  return y;
};

/** dx = r·dy − r³·x·(Σ dy·x)/D. */
export const rmsNormBackward = (dev: Device, dy: GpuTensor, x: GpuTensor, eps: number): GpuTensor => {
  const shape = shapes.rmsNormBackward(dy.shape, x.shape);
  const constants = { D: shape[shape.length - 1] };
  const st = dev.run({ name: 'rmsNormBackward.stats', body: gradStatsBody, constants, args: [dy, x, eps], shape: [2 * rows(shape)] });
  const dx = dev.run({ name: 'rmsNormBackward.apply', body: gradApplyBody, constants, args: [dy, x, st], shape });
  dev.release(st);
  return dx;
};

/** rmsNorm(a + b), the residual add fused into both launches. */
export const addRmsNorm = (dev: Device, a: GpuTensor, b: GpuTensor, eps: number): GpuTensor => {
  const shape = shapes.addRmsNorm(a.shape, b.shape);
  const constants = { D: shape[shape.length - 1] };
  const r = dev.run({ name: 'addRmsNorm.rstd', body: rstdAddBody, constants, args: [a, b, eps], shape: [rows(shape)] });
  const y = dev.run({ name: 'addRmsNorm.apply', body: applyAddBody, constants, args: [a, b, r], shape });
  dev.release(r);
  return y;
};

/** d(a + b) of rmsNorm(a + b). */
export const addRmsNormBackward = (dev: Device, dy: GpuTensor, a: GpuTensor, b: GpuTensor, eps: number): GpuTensor => {
  const shape = shapes.addRmsNormBackward(dy.shape, a.shape, b.shape);
  const constants = { D: shape[shape.length - 1] };
  const st = dev.run({ name: 'addRmsNormBackward.stats', body: gradStatsAddBody, constants, args: [dy, a, b, eps], shape: [2 * rows(shape)] });
  const dx = dev.run({ name: 'addRmsNormBackward.apply', body: gradApplyAddBody, constants, args: [dy, a, b, st], shape });
  dev.release(st);
  return dx;
};
