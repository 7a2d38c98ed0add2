// AdamATan2 as released, on gpu.js (float32): θ ← θ(1 − lr·wd); m ← lerp(m, g, 1−β1);
// v ← lerp(v, g², 1−β2); θ ← θ − (lr/bc1)·atan2(m, √v/√bc2). Three launches (m, v, then θ from the
// new m and v); the step's scalars are computed once on the host. CONSUMES param, m and v.

import type { AdamAtan2Hyper, AdamState } from '../../core/backend.ts';
import { shapes } from '../../core/shapes.ts';
import type { Device, GpuTensor } from './device.ts';
import type { KernelThis } from './gpujs.ts';

/** m' = m + a·(g − m). */
function firstMomentBody(this: KernelThis<object>, m: Float32Array, g: Float32Array, a: number): number {
  const i = this.thread.x;
  return m[i] + a * (g[i] - m[i]);
}

/** v' = v + a·(g² − v). */
function secondMomentBody(this: KernelThis<object>, v: Float32Array, g: Float32Array, a: number): number {
  const i = this.thread.x;
  return v[i] + a * (g[i] * g[i] - v[i]);
}

/** θ' = θ·decay − step·atan2(m', √v'/sbc2). */
function paramBody(this: KernelThis<object>, p: Float32Array, m: Float32Array, v: Float32Array, decay: number, step: number, sbc2: number): number {
  const i = this.thread.x;
  return p[i] * decay - step * Math.atan2(m[i], Math.sqrt(v[i]) / sbc2);
}

export const adamAtan2 = (dev: Device, state: AdamState<GpuTensor>, grad: GpuTensor, hyper: AdamAtan2Hyper): AdamState<GpuTensor> => {
  const shape = shapes.adamAtan2(state.param.shape, state.m.shape, state.v.shape, grad.shape);
  const { lr, weightDecay, beta1, beta2, step } = hyper;
  const bc1 = 1 - beta1 ** step;
  const bc2 = 1 - beta2 ** step;
  const m = dev.run({ name: 'adamAtan2.m', body: firstMomentBody, args: [state.m, grad, 1 - beta1], shape });
  const v = dev.run({ name: 'adamAtan2.v', body: secondMomentBody, args: [state.v, grad, 1 - beta2], shape });
  const args = [state.param, m, v, 1 - lr * weightDecay, lr / bc1, Math.sqrt(bc2)];
  const param = dev.run({ name: 'adamAtan2.param', body: paramBody, args, shape });
  dev.release(state.param);
  dev.release(state.m);
  dev.release(state.v);
  return { param, m, v };
};
