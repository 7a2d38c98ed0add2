// RMSNorm without weight (float32), y = x / sqrt(mean(x²) + eps) over the last axis, and the fused
// residual rmsNorm(a + b), forward and backward side by side. webgpu: one hand-written WGSL pass
// each (one workgroup per row: statistics reduced in workgroup memory, then the row written; the
// residual add happens in the same pass and the plain backward needs no zero tensor). Other modes:
// two gpu.js launches each (per-row statistics, then one elementwise pass).
// Legend: N rows (product of leading axes), D the normalized axis.

import { shapes } from '../../core/shapes.ts';
import type { Shape } from '../../core/tensor.ts';
import { numel } from '../../core/tensor.ts';
import type { Device, GpuTensor } from './device.ts';
import type { KernelThis } from './gpujs.ts';
import { foldGrid } from './linear.ts';

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

/** The scalars of the backward kernels: eps, D·eps as a float32 pair, and a run-time 1 (WGSL: in this order in the parameter block). */
const gradScalars = (D: number, eps: number): Float32Array => {
  const f = Math.fround;
  const de = D * eps;
  return Float32Array.from([eps, f(de), f(de - f(de)), 1]);
};

// ---- webgpu: one WGSL pass per call ----------------------------------------------------------

/** Threads per row (one workgroup per row). */
const WG = 64;

/**
 * Forward, one workgroup per row n of h = a + b (b absent when p.hasB = 0): thread t sums h² over
 * d ≡ t (mod 64) in increasing d, the 64 partial sums are added by a fixed pairwise tree, then
 * r = 1/sqrt(Σ/D + eps) and the thread writes y[n,d] = h[n,d]·r for its own d.
 */
const forwardWgsl = (): string => `
struct P { n: u32, d: u32, gx: u32, hasB: u32, eps: f32, one: f32, q0: f32, q1: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
var<workgroup> part: array<f32, ${WG}>;

fn h(i: u32) -> f32 {
  if (p.hasB != 0u) { return a[i] + b[i]; }
  return a[i];
}

@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let row = wid.y * p.gx + wid.x;
  if (row >= p.n) { return; }
  let base = row * p.d;
  let t = lid.x;
  var ss = 0.0;
  for (var d = t; d < p.d; d = d + ${WG}u) {
    let v = h(base + d);
    ss = ss + v * v;
  }
  part[t] = ss;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s = s >> 1u) {
    if (t < s) { part[t] = part[t] + part[t + s]; }
    workgroupBarrier();
  }
  let r = 1.0 / sqrt(part[0] / f32(p.d) + p.eps);
  for (var d = t; d < p.d; d = d + ${WG}u) {
    y[base + d] = h(base + d) * r;
  }
}
`;

/**
 * Backward, one workgroup per row: the statistics of gradStatsBody (Σ h² and Σ dy·h in double-float,
 * "Dot2", h = a + b kept exactly as a pair) accumulated by each thread over d ≡ t (mod 64) in
 * increasing d, the 64 double-float partials combined by a fixed pairwise tree of 2Sum additions,
 * then q = Σ dy·h / (Σ h² + D·eps) as a float32 pair and every thread writes
 * dh[n,d] = r·(dy − q·h) for its own d exactly as gradApplyBody does. p.one is 1 at run time (see
 * gradStatsBody for why the error terms are multiplied by it).
 */
const backwardWgsl = (): string => `
struct P { n: u32, d: u32, gx: u32, hasB: u32, eps: f32, deh: f32, del: f32, one: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> a: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;
var<workgroup> ssH: array<f32, ${WG}>;
var<workgroup> ssE: array<f32, ${WG}>;
var<workgroup> dtH: array<f32, ${WG}>;
var<workgroup> dtE: array<f32, ${WG}>;

fn bOf(i: u32) -> f32 {
  if (p.hasB != 0u) { return b[i]; }
  return 0.0;
}

// (high, error) of x + y, both (high, error) sums: 2Sum of the highs, errors added
fn add2(xh: f32, xe: f32, yh: f32, ye: f32) -> vec2<f32> {
  let one = p.one;
  let s = (xh + yh) * one;
  let c = (s - xh) * one;
  return vec2<f32>(s, xe + ye + ((xh - (s - c)) + (yh - c)));
}

@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let row = wid.y * p.gx + wid.x;
  if (row >= p.n) { return; }
  let base = row * p.d;
  let t = lid.x;
  let one = p.one;
  var ss = 0.0;
  var ssErr = 0.0;
  var dot = 0.0;
  var dotErr = 0.0;
  for (var d = t; d < p.d; d = d + ${WG}u) {
    let av = a[base + d];
    let bv0 = bOf(base + d);
    let hh = (av + bv0) * one;
    let hb = (hh - av) * one;
    let hl = (av - (hh - hb)) + (bv0 - hb);
    let ch = 4097.0 * hh * one;
    let th = (ch - hh) * one;
    let h1 = ch - th;
    let h2 = hh - h1;
    let g = dy[base + d];
    let cg = 4097.0 * g * one;
    let tg = (cg - g) * one;
    let g1 = cg - tg;
    let g2 = g - g1;
    let p1 = hh * hh * one;
    let e1 = (((h1 * h1 - p1) + 2.0 * h1 * h2) + h2 * h2) * one;
    let s1 = (ss + p1) * one;
    let c1 = (s1 - ss) * one;
    ssErr = ssErr + ((ss - (s1 - c1)) + (p1 - c1) + e1 + 2.0 * hh * hl);
    ss = s1;
    let p2 = g * hh * one;
    let e2 = (((g1 * h1 - p2) + g1 * h2 + g2 * h1) + g2 * h2) * one;
    let s2 = (dot + p2) * one;
    let c2 = (s2 - dot) * one;
    dotErr = dotErr + ((dot - (s2 - c2)) + (p2 - c2) + e2 + g * hl);
    dot = s2;
  }
  ssH[t] = ss;
  ssE[t] = ssErr;
  dtH[t] = dot;
  dtE[t] = dotErr;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s = s >> 1u) {
    if (t < s) {
      let x = add2(ssH[t], ssE[t], ssH[t + s], ssE[t + s]);
      let z = add2(dtH[t], dtE[t], dtH[t + s], dtE[t + s]);
      ssH[t] = x.x;
      ssE[t] = x.y;
      dtH[t] = z.x;
      dtE[t] = z.y;
    }
    workgroupBarrier();
  }
  ss = ssH[0];
  ssErr = ssE[0];
  dot = dtH[0];
  dotErr = dtE[0];
  let r = 1.0 / sqrt(ss / f32(p.d) + p.eps);
  let sh0 = (ss + p.deh) * one;
  let sb = (sh0 - ss) * one;
  let sl0 = (ss - (sh0 - sb)) + (p.deh - sb) + ssErr + p.del;
  let sh = (sh0 + sl0) * one;
  let sl = sl0 - (sh - sh0);
  let dh = (dot + dotErr) * one;
  let dl = dotErr - (dh - dot);
  let qh = dh / sh;
  let cq = 4097.0 * qh * one;
  let tq = (cq - qh) * one;
  let q1 = cq - tq;
  let q2 = qh - q1;
  let cs = 4097.0 * sh * one;
  let ts = (cs - sh) * one;
  let s1h = cs - ts;
  let s2h = sh - s1h;
  let pq = qh * sh * one;
  let eq = (((q1 * s1h - pq) + q1 * s2h + q2 * s1h) + q2 * s2h) * one;
  let rem = (((dh - pq) * one - eq) * one + dl) - qh * sl;
  let ql = rem / sh;
  for (var d = t; d < p.d; d = d + ${WG}u) {
    let i = base + d;
    let av = a[i];
    let bv0 = bOf(i);
    let hh = (av + bv0) * one;
    let hb = (hh - av) * one;
    let hl = (av - (hh - hb)) + (bv0 - hb);
    let ch = 4097.0 * hh * one;
    let th = (ch - hh) * one;
    let h1 = ch - th;
    let h2 = hh - h1;
    let pp = qh * hh * one;
    let e = (((q1 * h1 - pp) + q1 * h2 + q2 * h1) + q2 * h2) * one;
    let g = dy[i];
    let u = (g - pp) * one;
    let ub = (u - g) * one;
    let eu = ((g - (u - ub)) - (pp + ub)) * one;
    dx[i] = r * (u + (eu - e - qh * hl - ql * hh));
  }
}
`;

/** rmsNorm(a + b) (b absent: rmsNorm(a)) in one WGSL pass. */
const forwardRows = (dev: Device, shape: Shape, a: GpuTensor, b: GpuTensor | undefined, eps: number): GpuTensor => {
  const D = shape[shape.length - 1];
  const n = rows(shape);
  const { gx, groups } = foldGrid(1, n); // one workgroup per row
  const params = new ArrayBuffer(32);
  new Uint32Array(params, 0, 4).set([n, D, gx, b === undefined ? 0 : 1]);
  new Float32Array(params, 16, 4).set([eps, 1, 0, 0]);
  const [y] = dev.runWgsl({ name: 'rmsNorm.rows', code: forwardWgsl, params, inputs: [a, b ?? a], outputs: [shape], groups });
  return y;
};

/** d(a + b) of rmsNorm(a + b) (b absent: of rmsNorm(a)) in one WGSL pass. */
const backwardRows = (dev: Device, shape: Shape, dy: GpuTensor, a: GpuTensor, b: GpuTensor | undefined, eps: number): GpuTensor => {
  const D = shape[shape.length - 1];
  const n = rows(shape);
  const { gx, groups } = foldGrid(1, n); // one workgroup per row
  const params = new ArrayBuffer(32);
  new Uint32Array(params, 0, 4).set([n, D, gx, b === undefined ? 0 : 1]);
  new Float32Array(params, 16, 4).set(gradScalars(D, eps));
  const [dx] = dev.runWgsl({ name: 'rmsNormBackward.rows', code: backwardWgsl, params, inputs: [dy, a, b ?? a], outputs: [shape], groups });
  return dx;
};

/** y = x / sqrt(mean(x²) + eps) over the last axis of x[N,D]. */
export const rmsNorm = (dev: Device, x: GpuTensor, eps: number): GpuTensor => {
  const shape = shapes.rmsNorm(x.shape);
  if (dev.mode === 'webgpu') return forwardRows(dev, shape, x, undefined, eps);
  const constants = { D: shape[shape.length - 1] };
  const r = dev.run({ name: 'rmsNorm.rstd', body: rstdBody, constants, args: [x, eps], shape: [rows(shape)] });
  const y = dev.run({ name: 'rmsNorm.apply', body: applyBody, constants, args: [x, r], shape });
  dev.release(r);
  return y;
};

/** dx = r·dy − r³·x·(Σ dy·x)/D, as the residual form with b = 0. */
export const rmsNormBackward = (dev: Device, dy: GpuTensor, x: GpuTensor, eps: number): GpuTensor => {
  const shape = shapes.rmsNormBackward(dy.shape, x.shape);
  if (dev.mode === 'webgpu') return backwardRows(dev, shape, dy, x, undefined, eps);
  const zero = dev.zeros(shape); // written on the device where the mode allows: no upload
  const dx = addRmsNormBackward(dev, dy, x, zero, eps);
  dev.release(zero);
  return dx;
};

/** rmsNorm(a + b), the residual add fused into the pass(es). */
export const addRmsNorm = (dev: Device, a: GpuTensor, b: GpuTensor, eps: number): GpuTensor => {
  const shape = shapes.addRmsNorm(a.shape, b.shape);
  if (dev.mode === 'webgpu') return forwardRows(dev, shape, a, b, eps);
  const constants = { D: shape[shape.length - 1] };
  const r = dev.run({ name: 'addRmsNorm.rstd', body: rstdAddBody, constants, args: [a, b, eps], shape: [rows(shape)] });
  const y = dev.run({ name: 'addRmsNorm.apply', body: applyAddBody, constants, args: [a, b, r], shape });
  dev.release(r);
  return y;
};

/** d(a + b) of rmsNorm(a + b). */
export const addRmsNormBackward = (dev: Device, dy: GpuTensor, a: GpuTensor, b: GpuTensor, eps: number): GpuTensor => {
  const shape = shapes.addRmsNormBackward(dy.shape, a.shape, b.shape);
  if (dev.mode === 'webgpu') return backwardRows(dev, shape, dy, a, b, eps);
  const constants = { D: shape[shape.length - 1] };
  const k = gradScalars(constants.D, eps);
  const st = dev.run({ name: 'addRmsNormBackward.stats', body: gradStatsBody, constants, args: [dy, a, b, k], shape: [3 * rows(shape)] });
  const dx = dev.run({ name: 'addRmsNormBackward.apply', body: gradApplyBody, constants, args: [dy, a, b, st, k], shape });
  dev.release(st);
  return dx;
};
