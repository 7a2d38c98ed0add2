// AdamATan2 as released, on gpu.js (float32): θ ← θ(1 − lr·wd); m ← lerp(m, g, 1−β1);
// v ← lerp(v, g², 1−β2); θ ← θ − (lr/bc1)·atan2(m, √v/√bc2). Three launches (m and v through one
// compiled lerp kernel, then θ from the new m and v); the step's scalars are computed once on the host. Math.fround marks the float32
// rounding points of the released kernel (a no-op on float32 devices; it matters in gpu.js's cpu
// mode, which computes in float64). CONSUMES param, m and v.

import type { AdamAtan2Hyper, AdamState } from '../../core/backend.ts';
import { shapes } from '../../core/shapes.ts';
import type { Device, GpuTensor } from './device.ts';
import type { KernelThis } from './gpujs.ts';

/**
 * lerp(a, b, w) = w·b + (a − w·a) as the reference rounds it: both products exact, the inner
 * difference rounded once to float32, the outer sum rounded once. Each product is split into its
 * float32 value and its error (Veltkamp/Dekker; w arrives pre-split as wHi + wLo), each addition
 * carries its error (2Sum). Operands below 2⁻⁶⁰ are scaled up by 2⁸⁰ first (exact) so the error
 * terms do not underflow, and each rounding is then taken back to the unscaled float32 grid (which
 * is coarser in the subnormal range: a remainder of exactly half a subnormal step is nudged the way
 * its dropped error term points, so ties resolve as a single rounding would). `one` is 1 at run time: multiplying by it keeps shader
 * compilers that rewrite inexact float algebra (Mesa's NIR turns (a + b) − a into b) from deleting
 * the error terms. Plain float32 evaluation would leave 2⁻²⁴·|w·b| of error in a result that
 * cancellation may have made far smaller.
 */
function lerpBody(this: KernelThis<object>, a: Float32Array, b: Float32Array, k: Float32Array): number {
  const i = this.thread.x;
  const w = k[0];
  const wHi = k[1];
  const wLo = k[2];
  const one = k[3];
  const square = k[4];
  const tiny = k[5];
  const up = k[6];
  const down = k[7];
  const half = k[8];
  const nudge = k[9];
  const x0 = a[i];
  let y0 = b[i];
  if (square > 0.5) {
    y0 = Math.fround(y0 * y0);
  }
  let sc = one;
  let inv = one;
  if (Math.max(Math.abs(x0), Math.abs(y0)) < tiny) {
    sc = up;
    inv = down;
  }
  const x = x0 * sc;
  const y = y0 * sc;
  const p1 = w * x;
  const cx = 4097 * x * one;
  const tx = (cx - x) * one;
  const xh = cx - tx;
  const xl = x - xh;
  const e1 = ((wHi * xh - p1) + wHi * xl + wLo * xh) + wLo * xl;
  const s1 = (x - p1) * one;
  const b1 = (s1 - x) * one;
  const c1 = ((x - (s1 - b1)) + (0 - p1 - b1)) - e1;
  const d1 = Math.fround(s1 * inv);
  const r1 = s1 - d1 * sc;
  const q1 = (r1 + c1) * one;
  let n1 = q1;
  if (sc > one && Math.abs(q1) === half) {
    const bq1 = (q1 - r1) * one;
    const rr1 = (r1 - (q1 - bq1)) + (c1 - bq1);
    if (rr1 > 0) {
      n1 = q1 + nudge;
    }
    if (rr1 < 0) {
      n1 = q1 - nudge;
    }
  }
  const t = Math.fround(d1 + Math.fround(n1 * inv)) * sc;
  const p2 = w * y;
  const cy = 4097 * y * one;
  const ty = (cy - y) * one;
  const yh = cy - ty;
  const yl = y - yh;
  const e2 = ((wHi * yh - p2) + wHi * yl + wLo * yh) + wLo * yl;
  const s2 = (p2 + t) * one;
  const b2 = (s2 - p2) * one;
  const c2 = ((p2 - (s2 - b2)) + (t - b2)) + e2;
  const d2 = Math.fround(s2 * inv);
  const r2 = s2 - d2 * sc;
  const q2 = (r2 + c2) * one;
  let n2 = q2;
  if (sc > one && Math.abs(q2) === half) {
    const bq2 = (q2 - r2) * one;
    const rr2 = (r2 - (q2 - bq2)) + (c2 - bq2);
    if (rr2 > 0) {
      n2 = q2 + nudge;
    }
    if (rr2 < 0) {
      n2 = q2 - nudge;
    }
  }
  return d2 + n2 * inv;
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

/** webgpu: m' = w1·g + (m − w1·m) in plain float32 (the exact lerpBody is not yet right there). */
function firstMomentBody(this: KernelThis<object>, m: Float32Array, g: Float32Array, w1: number): number {
  const i = this.thread.x;
  return Math.fround(w1 * g[i] + Math.fround(m[i] - w1 * m[i]));
}
/** webgpu: v' = w2·g² + (v − w2·v) in plain float32. */
function secondMomentBody(this: KernelThis<object>, v: Float32Array, g: Float32Array, w2: number): number {
  const i = this.thread.x;
  const gg = Math.fround(g[i] * g[i]);
  return Math.fround(w2 * gg + Math.fround(v[i] - w2 * v[i]));
}

/**
 * lerpBody's scalars as one small array (many scalar arguments are not passed reliably on webgpu):
 * w, w split into 12-bit halves wHi + wLo = w (exact in float32), 1, whether b is squared, and the
 * scaling (operands below 2⁻⁶⁰ scaled by 2⁸⁰, results by 2⁻⁸⁰; half a subnormal step and a
 * tie-breaking nudge in the scaled domain).
 */
const lerpScalars = (w: number, square: boolean): Float32Array => {
  const f = Math.fround;
  const c = f(4097 * w);
  const hi = f(c - f(c - w));
  return Float32Array.from([w, hi, f(w - hi), 1, square ? 1 : 0, 2 ** -60, 2 ** 80, 2 ** -80, 2 ** -70, 2 ** -85]);
};

/** One AdamATan2 step; the step's scalars are rounded to float32 once, as the released kernel does. */
export const adamAtan2 = (dev: Device, state: AdamState<GpuTensor>, grad: GpuTensor, hyper: AdamAtan2Hyper): AdamState<GpuTensor> => {
  const shape = shapes.adamAtan2(state.param.shape, state.m.shape, state.v.shape, grad.shape);
  const { lr, weightDecay, beta1, beta2, step } = hyper;
  if (!(step >= 1)) throw new RangeError(`adamAtan2: hyper 'step' is ${step}, expected ≥ 1 (1 on the first update)`);
  const f = Math.fround;
  const stepSize = f(lr / (1 - beta1 ** step));
  const wdAlpha = f(1 - lr * weightDecay);
  const bc2Sqrt = f(Math.sqrt(1 - beta2 ** step));
  const webgpu = dev.mode === 'webgpu';
  const m = webgpu
    ? dev.run({ name: 'adamAtan2.m', body: firstMomentBody, args: [state.m, grad, f(1 - beta1)], shape })
    : dev.run({ name: 'adamAtan2.m', body: lerpBody, args: [state.m, grad, lerpScalars(f(1 - beta1), false)], shape });
  const v = webgpu
    ? dev.run({ name: 'adamAtan2.v', body: secondMomentBody, args: [state.v, grad, f(1 - beta2)], shape })
    : dev.run({ name: 'adamAtan2.v', body: lerpBody, args: [state.v, grad, lerpScalars(f(1 - beta2), true)], shape });
  const args = [state.param, m, v, wdAlpha, stepSize, bc2Sqrt];
  const body = dev.mode === 'webgpu' ? paramPolyBody : paramBody;
  const param = dev.run({ name: 'adamAtan2.param', body, args, shape });
  dev.release(state.param);
  dev.release(state.m);
  dev.release(state.v);
  return { param, m, v };
};
