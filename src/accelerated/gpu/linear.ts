// Dense layer on gpu.js (float32): y[N,M] = x[N,K]·w[M,K]ᵀ (+ b[M]) and its backward
// (dx = dy·w, dw = dyᵀ·x, db = Σ_N dy). One output cell per thread, operands read along K.
// Legend: N rows (product of x's leading axes), K input width, M output width.

import type { LinearGrads } from '../../core/backend.ts';
import { shapes } from '../../core/shapes.ts';
import { numel } from '../../core/tensor.ts';
import type { Device, GpuTensor } from './device.ts';
import type { KernelThis } from './gpujs.ts';

type Dims = KernelThis<{ M: number; K: number }>;

/** y[n,m] = Σ_k x[n,k]·w[m,k]; thread i = n·M + m. */
function linearBody(this: Dims, x: Float32Array, w: Float32Array): number {
  const i = this.thread.x;
  const n = Math.floor((i + 0.5) / this.constants.M);
  const m = i - n * this.constants.M;
  let acc = 0;
  for (let k = 0; k < this.constants.K; k++) {
    acc += x[n * this.constants.K + k] * w[m * this.constants.K + k];
  }
  return acc;
}

/** y[n,m] = Σ_k x[n,k]·w[m,k] + b[m]. */
function linearBiasBody(this: Dims, x: Float32Array, w: Float32Array, b: Float32Array): number {
  const i = this.thread.x;
  const n = Math.floor((i + 0.5) / this.constants.M);
  const m = i - n * this.constants.M;
  let acc = 0;
  for (let k = 0; k < this.constants.K; k++) {
    acc += x[n * this.constants.K + k] * w[m * this.constants.K + k];
  }
  return acc + b[m];
}

/** dx[n,k] = Σ_m dy[n,m]·w[m,k]; thread i = n·K + k. */
function linearDxBody(this: Dims, dy: Float32Array, w: Float32Array): number {
  const i = this.thread.x;
  const n = Math.floor((i + 0.5) / this.constants.K);
  const k = i - n * this.constants.K;
  let acc = 0;
  for (let m = 0; m < this.constants.M; m++) {
    acc += dy[n * this.constants.M + m] * w[m * this.constants.K + k];
  }
  return acc;
}

/** dw[m,k] = Σ_n dy[n,m]·x[n,k]; thread i = m·K + k. */
function linearDwBody(this: KernelThis<{ M: number; K: number; N: number }>, dy: Float32Array, x: Float32Array): number {
  const i = this.thread.x;
  const m = Math.floor((i + 0.5) / this.constants.K);
  const k = i - m * this.constants.K;
  let acc = 0;
  for (let n = 0; n < this.constants.N; n++) {
    acc += dy[n * this.constants.M + m] * x[n * this.constants.K + k];
  }
  return acc;
}

/** db[m] = Σ_n dy[n,m]. */
function linearDbBody(this: KernelThis<{ M: number; N: number }>, dy: Float32Array): number {
  const m = this.thread.x;
  let acc = 0;
  for (let n = 0; n < this.constants.N; n++) {
    acc += dy[n * this.constants.M + m];
  }
  return acc;
}

/** y = x·wᵀ (+ b): x[...,K], w[M,K], b[M] → [...,M]. */
export const linear = (dev: Device, x: GpuTensor, w: GpuTensor, b?: GpuTensor): GpuTensor => {
  const shape = shapes.linear(x.shape, w.shape, b?.shape);
  const [M, K] = w.shape;
  const constants = { M, K };
  return b === undefined
    ? dev.run({ name: 'linear', body: linearBody, constants, args: [x, w], shape })
    : dev.run({ name: 'linearBias', body: linearBiasBody, constants, args: [x, w, b], shape });
};

/** dx[...,K], dw[M,K] and (withBias) db[M] from dy[...,M]. */
export const linearBackward = (dev: Device, dy: GpuTensor, x: GpuTensor, w: GpuTensor, withBias: boolean): LinearGrads<GpuTensor> => {
  const out = shapes.linearBackward(dy.shape, x.shape, w.shape);
  const [M, K] = w.shape;
  const N = K === 0 ? numel(x.shape) : numel(x.shape) / K;
  const dx = dev.run({ name: 'linearDx', body: linearDxBody, constants: { M, K }, args: [dy, w], shape: out.dx });
  const dw = dev.run({ name: 'linearDw', body: linearDwBody, constants: { M, K, N }, args: [dy, x], shape: out.dw });
  if (!withBias) return { dx, dw };
  const db = dev.run({ name: 'linearDb', body: linearDbBody, constants: { M, N }, args: [dy], shape: out.db });
  return { dx, dw, db };
};
