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

/**
 * Backward statistics of row n of h = a + b (b all zero for the plain rmsNorm), three cells per row:
 * st[3n] = r = 1/sqrt(mean h² + eps) and st[3n+1] + st[3n+2] = q = (Σ dy·h)/(Σ h² + D·eps) as a
 * float32 pair, so that dh = r·(dy − q·h). The cancellation in dy − q·h (dy nearly parallel to h)
 * amplifies any relative error of q, so q is built in double-float: h = a + b kept exactly as a pair
 * (2Sum), both sums accumulated with their rounding errors (Dekker products on 12-bit halves, 2Sum
 * additions: the "Dot2" scheme), D·eps arriving as a pair, the quotient refined by its exact
 * remainder. k = [eps, D·eps high, D·eps low, 1]; multiplying by k[3] = 1 (known only at run time)
 * keeps shader compilers that rewrite float algebra ((a + x) − a → x, as Mesa's NIR does) or fuse
 * a product into the following sum from deleting or spoiling the error terms.
 */
function gradStatsBody(this: Row, dy: Float32Array, a: Float32Array, b: Float32Array, k: Float32Array): number {
  const j = this.thread.x;
  const n = Math.floor((j + 0.5) / 3);
  const which = j - n * 3;
  const base = n * this.constants.D;
  const one = k[3];
  let ss = 0;
  let ssErr = 0;
  let dot = 0;
  let dotErr = 0;
  for (let d = 0; d < this.constants.D; d++) {
    const av = a[base + d];
    const bv0 = b[base + d];
    const hh = (av + bv0) * one;
    const hb = (hh - av) * one;
    const hl = (av - (hh - hb)) + (bv0 - hb);
    const ch = 4097 * hh * one;
    const th = (ch - hh) * one;
    const h1 = ch - th;
    const h2 = hh - h1;
    const g = dy[base + d];
    const cg = 4097 * g * one;
    const tg = (cg - g) * one;
    const g1 = cg - tg;
    const g2 = g - g1;
    const p1 = hh * hh * one;
    const e1 = (((h1 * h1 - p1) + 2 * h1 * h2) + h2 * h2) * one;
    const s1 = (ss + p1) * one;
    const c1 = (s1 - ss) * one;
    ssErr += (ss - (s1 - c1)) + (p1 - c1) + e1 + 2 * hh * hl;
    ss = s1;
    const p2 = g * hh * one;
    const e2 = (((g1 * h1 - p2) + g1 * h2 + g2 * h1) + g2 * h2) * one;
    const s2 = (dot + p2) * one;
    const c2 = (s2 - dot) * one;
    dotErr += (dot - (s2 - c2)) + (p2 - c2) + e2 + g * hl;
    dot = s2;
  }
  if (which < 0.5) {
    return 1 / Math.sqrt(ss / this.constants.D + k[0]);
  }
  const sh0 = (ss + k[1]) * one;
  const sb = (sh0 - ss) * one;
  const sl0 = (ss - (sh0 - sb)) + (k[1] - sb) + ssErr + k[2];
  const sh = (sh0 + sl0) * one;
  const sl = sl0 - (sh - sh0);
  const dh = (dot + dotErr) * one;
  const dl = dotErr - (dh - dot);
  const qh = Math.fround(dh / sh);
  const cq = 4097 * qh * one;
  const tq = (cq - qh) * one;
  const q1 = cq - tq;
  const q2 = qh - q1;
  const cs = 4097 * sh * one;
  const ts = (cs - sh) * one;
  const s1h = cs - ts;
  const s2h = sh - s1h;
  const pq = qh * sh * one;
  const eq = (((q1 * s1h - pq) + q1 * s2h + q2 * s1h) + q2 * s2h) * one;
  const rem = (((dh - pq) * one - eq) * one + dl) - qh * sl;
  if (which < 1.5) {
    return qh;
  }
  return rem / sh;
}

/** dh[n,d] = r·(dy − q·h) with h = a + b kept exactly as a pair and q = st[3n+1] + st[3n+2]. */
function gradApplyBody(this: Row, dy: Float32Array, a: Float32Array, b: Float32Array, st: Float32Array, k: Float32Array): number {
  const i = this.thread.x;
  const n = Math.floor((i + 0.5) / this.constants.D);
  const one = k[3];
  const r = st[3 * n];
  const qh = st[3 * n + 1];
  const ql = st[3 * n + 2];
  const av = a[i];
  const bv0 = b[i];
  const hh = (av + bv0) * one;
  const hb = (hh - av) * one;
  const hl = (av - (hh - hb)) + (bv0 - hb);
  const ch = 4097 * hh * one;
  const th = (ch - hh) * one;
  const h1 = ch - th;
  const h2 = hh - h1;
  const cq = 4097 * qh * one;
  const tq = (cq - qh) * one;
  const q1 = cq - tq;
  const q2 = qh - q1;
  const p = qh * hh * one;
  const e = (((q1 * h1 - p) + q1 * h2 + q2 * h1) + q2 * h2) * one;
  const g = dy[i];
  const t = (g - p) * one;
  const tb = (t - g) * one;
  const et = ((g - (t - tb)) - (p + tb)) * one;
  return r * (t + (et - e - qh * hl - ql * hh));
}

/** The scalars of the backward kernels: eps, D·eps as a float32 pair, and a run-time 1. */
const gradScalars = (D: number, eps: number): Float32Array => {
  const f = Math.fround;
  const de = D * eps;
  return Float32Array.from([eps, f(de), f(de - f(de)), 1]);
};

/** y = x / sqrt(mean(x²) + eps) over the last axis of x[N,D]. */
export const rmsNorm = (dev: Device, x: GpuTensor, eps: number): GpuTensor => {
  const shape = shapes.rmsNorm(x.shape);
  const constants = { D: shape[shape.length - 1] };
  const r = dev.run({ name: 'rmsNorm.rstd', body: rstdBody, constants, args: [x, eps], shape: [rows(shape)] });
  const y = dev.run({ name: 'rmsNorm.apply', body: applyBody, constants, args: [x, r], shape });
  dev.release(r);
  return y;
};

/** dx = r·dy − r³·x·(Σ dy·x)/D, as the residual form with b = 0. */
export const rmsNormBackward = (dev: Device, dy: GpuTensor, x: GpuTensor, eps: number): GpuTensor => {
  const shape = shapes.rmsNormBackward(dy.shape, x.shape);
  const zero = dev.zeros(shape); // written on the device where the mode allows: no upload
  const dx = addRmsNormBackward(dev, dy, x, zero, eps);
  dev.release(zero);
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
  const k = gradScalars(constants.D, eps);
  const st = dev.run({ name: 'addRmsNormBackward.stats', body: gradStatsBody, constants, args: [dy, a, b, k], shape: [3 * rows(shape)] });
  const dx = dev.run({ name: 'addRmsNormBackward.apply', body: gradApplyBody, constants, args: [dy, a, b, st, k], shape });
  dev.release(st);
  return dx;
};
