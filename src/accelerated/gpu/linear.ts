// Dense layer on gpu.js (float32): y[N,M] = x[N,K]·w[M,K]ᵀ (+ b[M]) and its backward
// (dx = dy·w, dw = dyᵀ·x, db = Σ_N dy). Every output cell is one sequential float32 sum in the
// same order on every path. cpu/webasm: one cell per thread. webgpu, when the output's last axis
// is a multiple of 4: four neighbouring cells per thread, so the shared operand is read once for
// four products and neighbouring threads read neighbouring addresses (the forward reads wᵀ[K,M],
// transposed once per weight tensor and kept with it).
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

/** wt[k,m] = w[m,k]; thread i = k·M + m. */
function transposeBody(this: Dims, w: Float32Array): number {
  const i = this.thread.x;
  const k = Math.floor((i + 0.5) / this.constants.M);
  const m = i - k * this.constants.M;
  return w[m * this.constants.K + k];
}

/** y[n,4j..4j+3] = Σ_k x[n,k]·wt[k,4j..4j+3]; thread t = n·M/4 + j (webgpu). */
function linear4Body(this: Dims, x: Float32Array, wt: Float32Array): number[] {
  const t = this.thread.x;
  const q = this.constants.M / 4;
  const n = Math.floor((t + 0.5) / q);
  const m = (t - n * q) * 4;
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  for (let k = 0; k < this.constants.K; k++) {
    const xv = x[n * this.constants.K + k];
    const base = k * this.constants.M + m;
    a0 += xv * wt[base];
    a1 += xv * wt[base + 1];
    a2 += xv * wt[base + 2];
    a3 += xv * wt[base + 3];
  }
  return [a0, a1, a2, a3];
}

/** linear4Body plus b[m]. */
function linearBias4Body(this: Dims, x: Float32Array, wt: Float32Array, b: Float32Array): number[] {
  const t = this.thread.x;
  const q = this.constants.M / 4;
  const n = Math.floor((t + 0.5) / q);
  const m = (t - n * q) * 4;
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  for (let k = 0; k < this.constants.K; k++) {
    const xv = x[n * this.constants.K + k];
    const base = k * this.constants.M + m;
    a0 += xv * wt[base];
    a1 += xv * wt[base + 1];
    a2 += xv * wt[base + 2];
    a3 += xv * wt[base + 3];
  }
  return [a0 + b[m], a1 + b[m + 1], a2 + b[m + 2], a3 + b[m + 3]];
}

/** dx[n,4j..4j+3] = Σ_m dy[n,m]·w[m,4j..4j+3]; thread t = n·K/4 + j (webgpu). */
function linearDx4Body(this: Dims, dy: Float32Array, w: Float32Array): number[] {
  const t = this.thread.x;
  const q = this.constants.K / 4;
  const n = Math.floor((t + 0.5) / q);
  const k = (t - n * q) * 4;
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  for (let m = 0; m < this.constants.M; m++) {
    const d = dy[n * this.constants.M + m];
    const base = m * this.constants.K + k;
    a0 += d * w[base];
    a1 += d * w[base + 1];
    a2 += d * w[base + 2];
    a3 += d * w[base + 3];
  }
  return [a0, a1, a2, a3];
}

/** dw[m,4j..4j+3] = Σ_n dy[n,m]·x[n,4j..4j+3]; thread t = m·K/4 + j (webgpu). */
function linearDw4Body(this: KernelThis<{ M: number; K: number; N: number }>, dy: Float32Array, x: Float32Array): number[] {
  const t = this.thread.x;
  const q = this.constants.K / 4;
  const m = Math.floor((t + 0.5) / q);
  const k = (t - m * q) * 4;
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  for (let n = 0; n < this.constants.N; n++) {
    const d = dy[n * this.constants.M + m];
    const base = n * this.constants.K + k;
    a0 += d * x[base];
    a1 += d * x[base + 1];
    a2 += d * x[base + 2];
    a3 += d * x[base + 3];
  }
  return [a0, a1, a2, a3];
}

/** Whether the four-cells-per-thread kernels apply: webgpu and a row width that is a multiple of 4. */
const wide = (dev: Device, width: number): boolean => dev.mode === 'webgpu' && width % 4 === 0 && width > 0;

/** y = x·wᵀ (+ b): x[...,K], w[M,K], b[M] → [...,M]. */
export const linear = (dev: Device, x: GpuTensor, w: GpuTensor, b?: GpuTensor): GpuTensor => {
  const shape = shapes.linear(x.shape, w.shape, b?.shape);
  const [M, K] = w.shape;
  const constants = { M, K };
  if (wide(dev, M) && K > 0) {
    const wt = dev.derive(w, 'linear.wt', () => dev.run({ name: 'linearTranspose', body: transposeBody, constants, args: [w], shape: [K, M] }));
    return b === undefined
      ? dev.run({ name: 'linear4', body: linear4Body, constants, args: [x, wt], shape, components: 4 })
      : dev.run({ name: 'linearBias4', body: linearBias4Body, constants, args: [x, wt, b], shape, components: 4 });
  }
  return b === undefined
    ? dev.run({ name: 'linear', body: linearBody, constants, args: [x, w], shape })
    : dev.run({ name: 'linearBias', body: linearBiasBody, constants, args: [x, w, b], shape });
};

/** dx[...,K], dw[M,K] and (withBias) db[M] from dy[...,M]. */
export const linearBackward = (dev: Device, dy: GpuTensor, x: GpuTensor, w: GpuTensor, withBias: boolean): LinearGrads<GpuTensor> => {
  const out = shapes.linearBackward(dy.shape, x.shape, w.shape);
  const [M, K] = w.shape;
  const N = K === 0 ? numel(x.shape) : numel(x.shape) / K;
  const dx = wide(dev, K)
    ? dev.run({ name: 'linearDx4', body: linearDx4Body, constants: { M, K }, args: [dy, w], shape: out.dx, components: 4 })
    : dev.run({ name: 'linearDx', body: linearDxBody, constants: { M, K }, args: [dy, w], shape: out.dx });
  const dw = wide(dev, K)
    ? dev.run({ name: 'linearDw4', body: linearDw4Body, constants: { M, K, N }, args: [dy, x], shape: out.dw, components: 4 })
    : dev.run({ name: 'linearDw', body: linearDwBody, constants: { M, K, N }, args: [dy, x], shape: out.dw });
  if (!withBias) return { dx, dw };
  const db = dev.run({ name: 'linearDb', body: linearDbBody, constants: { M, N }, args: [dy], shape: out.db });
  return { dx, dw, db };
};
