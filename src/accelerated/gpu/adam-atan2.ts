// AdamATan2 as released, on gpu.js (float32): θ ← θ(1 − lr·wd); m ← lerp(m, g, 1−β1);
// v ← lerp(v, g², 1−β2); θ ← θ − (lr/bc1)·atan2(m, √v/√bc2). Three launches (m, v, then θ from the
// new m and v); the step's scalars are computed once on the host. Math.fround marks the float32
// rounding points of the released kernel (a no-op on float32 devices; it matters in gpu.js's cpu
// mode, which computes in float64). CONSUMES param, m and v.

import type { AdamAtan2Hyper, AdamState } from '../../core/backend.ts';
import { shapes } from '../../core/shapes.ts';
import type { Device, GpuTensor } from './device.ts';
import type { KernelThis } from './gpujs.ts';

/** m' = w1·g + (m − w1·m), the lerp as the released kernel evaluates it. */
function firstMomentBody(this: KernelThis<object>, m: Float32Array, g: Float32Array, w1: number): number {
  const i = this.thread.x;
  return Math.fround(w1 * g[i] + Math.fround(m[i] - w1 * m[i]));
}

/** v' = w2·g² + (v − w2·v). */
function secondMomentBody(this: KernelThis<object>, v: Float32Array, g: Float32Array, w2: number): number {
  const i = this.thread.x;
  const gg = Math.fround(g[i] * g[i]);
  return Math.fround(w2 * gg + Math.fround(v[i] - w2 * v[i]));
}

/**
 * θ' = θ·wdAlpha − stepSize·atan2(m', √v'/bc2Sqrt). The zero cases are spelled out (atan2(0, x ≥ 0)
 * = 0, atan2(±m, 0) = ±π/2) because WGSL leaves atan2 at a zero denominator to the implementation.
 */
function paramBody(this: KernelThis<object>, p: Float32Array, m: Float32Array, v: Float32Array, wdAlpha: number, stepSize: number, bc2Sqrt: number): number {
  const i = this.thread.x;
  const theta = Math.fround(p[i] * wdAlpha);
  const mi = m[i];
  const root = Math.fround(Math.sqrt(v[i]));
  const den = Math.fround(root / bc2Sqrt);
  let a = 0;
  if (Math.abs(mi) > 0) {
    if (den > 0) {
      a = Math.atan2(mi, den);
    } else if (mi > 0) {
      a = 1.5707963267948966;
    } else {
      a = -1.5707963267948966;
    }
  }
  const delta = Math.fround(stepSize * Math.fround(a));
  return theta - delta;
}

/**
 * The same update with atan evaluated in the kernel (Cephes-style range reduction and polynomial,
 * ≤ 2.2e-7 relative error measured over 2·10⁵ random operands): WebGPU's built-in atan2 carries
 * ~2e-5 relative error on some adapters (Mesa lavapipe), far from the float32 kernel it mirrors.
 * The denominator √v'/bc2Sqrt is ≥ 0, so atan2(m, den) = sign(m)·atan(|m|/den).
 */
function paramPolyBody(this: KernelThis<object>, p: Float32Array, m: Float32Array, v: Float32Array, wdAlpha: number, stepSize: number, bc2Sqrt: number): number {
  const i = this.thread.x;
  const theta = Math.fround(p[i] * wdAlpha);
  const mi = m[i];
  const root = Math.fround(Math.sqrt(v[i]));
  const den = Math.fround(root / bc2Sqrt);
  let a = 0;
  if (Math.abs(mi) > 0) {
    if (den > 0) {
      const z = Math.abs(mi) / den;
      let base = 0;
      let t = z;
      if (z > 2.414213562373095) {
        base = 1.5707963267948966;
        t = -1 / z;
      } else if (z > 0.41421356237309503) {
        base = 0.7853981633974483;
        t = (z - 1) / (z + 1);
      }
      const zz = t * t;
      a = base + ((((0.0805374449538 * zz - 0.138776856032) * zz + 0.199777106478) * zz - 0.333329491539) * zz) * t + t;
    } else {
      a = 1.5707963267948966;
    }
    if (mi < 0) {
      a = -a;
    }
  }
  const delta = Math.fround(stepSize * Math.fround(a));
  return theta - delta;
}

/** One AdamATan2 step; the step's scalars are rounded to float32 once, as the released kernel does. */
export const adamAtan2 = (dev: Device, state: AdamState<GpuTensor>, grad: GpuTensor, hyper: AdamAtan2Hyper): AdamState<GpuTensor> => {
  const shape = shapes.adamAtan2(state.param.shape, state.m.shape, state.v.shape, grad.shape);
  const { lr, weightDecay, beta1, beta2, step } = hyper;
  if (!(step >= 1)) throw new RangeError(`adamAtan2: hyper 'step' is ${step}, expected ≥ 1 (1 on the first update)`);
  const f = Math.fround;
  const stepSize = f(lr / (1 - beta1 ** step));
  const wdAlpha = f(1 - lr * weightDecay);
  const bc2Sqrt = f(Math.sqrt(1 - beta2 ** step));
  const m = dev.run({ name: 'adamAtan2.m', body: firstMomentBody, args: [state.m, grad, f(1 - beta1)], shape });
  const v = dev.run({ name: 'adamAtan2.v', body: secondMomentBody, args: [state.v, grad, f(1 - beta2)], shape });
  const args = [state.param, m, v, wdAlpha, stepSize, bc2Sqrt];
  const body = dev.mode === 'webgpu' ? paramPolyBody : paramBody;
  const param = dev.run({ name: 'adamAtan2.param', body, args, shape });
  dev.release(state.param);
  dev.release(state.m);
  dev.release(state.v);
  return { param, m, v };
};
