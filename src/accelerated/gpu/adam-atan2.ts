// AdamATan2 as released (float32): θ ← θ(1 − lr·wd); m ← lerp(m, g, 1−β1); v ← lerp(v, g², 1−β2);
// θ ← θ − (lr/bc1)·atan2(m, √v/√bc2); the step's scalars are computed once on the host.
// webgpu: one hand-written WGSL pass per tensor that updates θ, m and v in place (their buffers are
// reused: the optimizer state never moves between buffers; a state shared with another handle is
// first copied into a buffer of its own), the same arithmetic as the gpu.js bodies below, written
// out in WGSL with u32 indices. cpu/webasm: three gpu.js launches (m and v by the lerp body, then θ
// from the new m and v). Math.fround marks the
// float32 rounding points of the released kernel (a no-op on float32 devices; it matters in
// gpu.js's cpu mode, which computes in float64). CONSUMES param, m and v.

import type { AdamAtan2Hyper, AdamState } from '../../core/backend.ts';
import { shapes } from '../../core/shapes.ts';
import { numel } from '../../core/tensor.ts';
import type { Device, GpuTensor } from './device.ts';
import type { KernelThis } from './gpujs.ts';
import { ownBuffers } from './indexed.ts';

/**
 * lerp(a, b, w) = w·b + (a − w·a) as the reference rounds it: both products exact, the inner
 * difference rounded once to float32, the outer sum rounded once. Each product is split into its
 * float32 value and its error (Veltkamp/Dekker; w arrives pre-split as wHi + wLo), each addition
 * carries its error (2Sum). Operands below 2⁻⁶⁰ are scaled up by 2⁸⁰ first (exact) so the error
 * terms do not underflow. A scaled result in the subnormal range (below 2⁻⁴⁶ scaled) is rounded
 * onto the subnormal grid (step 2⁻⁶⁹ scaled) inside the scaled domain, by adding and removing 2⁻⁴⁶
 * (ties to even), a remainder of exactly half a step then moved the way the error term points (the
 * error is far below the remainder's ulp, so only exact ties can flip), so the final ×2⁻⁸⁰ is
 * exact: devices need not round subnormal products correctly (lavapipe returned 2⁻¹⁴⁹ for a true
 * 3.5·10⁻⁴⁶). `one` is 1 at run time: multiplying by it keeps shader compilers that rewrite
 * inexact float algebra (Mesa's NIR turns (a + b) − a into b and cancels a product against its
 * own error term) from deleting the error terms. Plain float32 evaluation would leave 2⁻²⁴·|w·b| of error in a result that
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
  const step = k[9];
  const edge = k[10];
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
  const p1 = w * x * one;
  const cx = 4097 * x * one;
  const tx = (cx - x) * one;
  const xh = cx - tx;
  const xl = x - xh;
  const e1 = (((wHi * xh - p1) + wHi * xl + wLo * xh) + wLo * xl) * one;
  const s1 = (x - p1) * one;
  const b1 = (s1 - x) * one;
  const c1 = (((x - (s1 - b1)) + (0 - p1 - b1)) * one - e1) * one;
  let t = Math.fround(s1 + Math.fround(c1));
  if (sc > one && Math.abs(s1) < edge) {
    let sg1 = one;
    if (s1 < 0) {
      sg1 = -one;
    }
    const a1 = Math.abs(s1);
    let g1 = Math.fround((Math.fround((a1 + edge) * one) - edge) * one);
    const rr1 = (a1 - g1) * one;
    const ee1 = sg1 * c1;
    if (rr1 === half && ee1 > 0) {
      g1 = g1 + step;
    }
    if (rr1 === -half && ee1 < 0) {
      g1 = g1 - step;
    }
    t = sg1 * g1;
  }
  const p2 = w * y * one;
  const cy = 4097 * y * one;
  const ty = (cy - y) * one;
  const yh = cy - ty;
  const yl = y - yh;
  const e2 = (((wHi * yh - p2) + wHi * yl + wLo * yh) + wLo * yl) * one;
  const s2 = (p2 + t) * one;
  const b2 = (s2 - p2) * one;
  const c2 = (((p2 - (s2 - b2)) + (t - b2)) * one + e2) * one;
  if (sc > one && Math.abs(s2) < edge) {
    let sg2 = one;
    if (s2 < 0) {
      sg2 = -one;
    }
    const a2 = Math.abs(s2);
    let g2 = Math.fround((Math.fround((a2 + edge) * one) - edge) * one);
    const rr2 = (a2 - g2) * one;
    const ee2 = sg2 * c2;
    if (rr2 === half && ee2 > 0) {
      g2 = g2 + step;
    }
    if (rr2 === -half && ee2 < 0) {
      g2 = g2 - step;
    }
    return sg2 * g2 * inv;
  }
  return Math.fround(s2 + Math.fround(c2)) * inv;
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
 * The θ update's scalars for the WGSL `update` (see there): wdAlpha, stepSize, bc2Sqrt, 1, π/4 hi, lo,
 * π/2 hi, lo, 2⁶⁰, 2⁻⁶⁰, 2⁻⁸⁰, 2⁸⁰.
 */
const paramScalars = (wdAlpha: number, stepSize: number, bc2Sqrt: number): Float32Array => {
  const f = Math.fround;
  const q4 = Math.PI / 4;
  const q2 = Math.PI / 2;
  return Float32Array.from([wdAlpha, stepSize, bc2Sqrt, 1, f(q4), f(q4 - f(q4)), f(q2), f(q2 - f(q2)), 2 ** 60, 2 ** -60, 2 ** -80, 2 ** 80]);
};

/**
 * lerpBody's scalars as one small array (many scalar arguments are not passed reliably on webgpu):
 * w, w split into 12-bit halves wHi + wLo = w (exact in float32), 1, whether b is squared, and the
 * scaling (operands below 2⁻⁶⁰ scaled by 2⁸⁰, results by 2⁻⁸⁰; half a subnormal step, a subnormal
 * step and the subnormal edge 2⁻¹²⁶ in the scaled domain).
 */
const lerpScalars = (w: number, square: boolean): Float32Array => {
  const f = Math.fround;
  const c = f(4097 * w);
  const hi = f(c - f(c - w));
  return Float32Array.from([w, hi, f(w - hi), 1, square ? 1 : 0, 2 ** -60, 2 ** 80, 2 ** -80, 2 ** -70, 2 ** -69, 2 ** -46]);
};

/**
 * The element update's WGSL (the parameter block `p` with its scalars `k` declared before it):
 * `lerp` is lerpBody's arithmetic; `update` is paramBody's θ update with atan2 evaluated to within
 * ≈0.5 ulp before the float32 rounding (WebGPU's built-in atan2 carries ~2e-5 relative error on
 * some adapters, e.g. Mesa lavapipe; a plain float32 polynomial is off by up to 4 ulp). The
 * denominator √v'/bc2Sqrt is ≥ 0, so atan2(m, den) = sign(m)·atan(x/den), x = |m|. The argument is
 * reduced to |t| ≤ tan(π/8) as t = x/den, (x − den)/(x + den) (+π/4) or −den/x (+π/2); t is carried
 * as th + tl (the quotient and its residual, exact through Veltkamp/Dekker products; the mid range's
 * numerator and denominator through 2Sum), atan(t) = th + th·z·S(z) + tl/(1 + z), z = th², S the
 * alternating series Σ (−1)ᵏ zᵏ⁻¹/(2k+1) to k = 11 (truncation < 3e-11 relative), and base + th is
 * summed by 2Sum with π/4, π/2 split into float32 hi + lo, so the result is rounded once. Operands
 * are scaled by 2^±80 (exact; the quotient is unchanged) when the larger is outside [2⁻⁶⁰, 2⁶⁰], so
 * the error terms neither overflow nor underflow. `one` (1 at run time) shields the error terms from
 * shader compilers' float rewrites (see lerpBody).
 */
const UPDATE_FNS_WGSL = `fn kf(i: u32) -> f32 { return p.k[i / 4u][i % 4u]; }

fn lerp(x0: f32, b0: f32, o: u32) -> f32 {
  let w = kf(o); let wHi = kf(o + 1u); let wLo = kf(o + 2u); let one = kf(o + 3u); let square = kf(o + 4u);
  let tiny = kf(o + 5u); let up = kf(o + 6u); let down = kf(o + 7u); let half = kf(o + 8u); let stp = kf(o + 9u); let edge = kf(o + 10u);
  var y0 = b0;
  if (square > 0.5) { y0 = y0 * y0; }
  var sc = one;
  var inv = one;
  if (max(abs(x0), abs(y0)) < tiny) { sc = up; inv = down; }
  let x = x0 * sc;
  let y = y0 * sc;
  let p1 = w * x * one;
  let cx = 4097.0 * x * one;
  let tx = (cx - x) * one;
  let xh = cx - tx;
  let xl = x - xh;
  let e1 = (((wHi * xh - p1) + wHi * xl + wLo * xh) + wLo * xl) * one;
  let s1 = (x - p1) * one;
  let b1 = (s1 - x) * one;
  let c1 = (((x - (s1 - b1)) + (0.0 - p1 - b1)) * one - e1) * one;
  var t = s1 + c1;
  if (sc > one && abs(s1) < edge) {
    var sg1 = one;
    if (s1 < 0.0) { sg1 = -one; }
    let a1 = abs(s1);
    var g1 = (((a1 + edge) * one) - edge) * one;
    let rr1 = (a1 - g1) * one;
    let ee1 = sg1 * c1;
    if (rr1 == half && ee1 > 0.0) { g1 = g1 + stp; }
    if (rr1 == -half && ee1 < 0.0) { g1 = g1 - stp; }
    t = sg1 * g1;
  }
  let p2 = w * y * one;
  let cy = 4097.0 * y * one;
  let ty = (cy - y) * one;
  let yh = cy - ty;
  let yl = y - yh;
  let e2 = (((wHi * yh - p2) + wHi * yl + wLo * yh) + wLo * yl) * one;
  let s2 = (p2 + t) * one;
  let b2 = (s2 - p2) * one;
  let c2 = (((p2 - (s2 - b2)) + (t - b2)) * one + e2) * one;
  if (sc > one && abs(s2) < edge) {
    var sg2 = one;
    if (s2 < 0.0) { sg2 = -one; }
    let a2 = abs(s2);
    var g2 = (((a2 + edge) * one) - edge) * one;
    let rr2 = (a2 - g2) * one;
    let ee2 = sg2 * c2;
    if (rr2 == half && ee2 > 0.0) { g2 = g2 + stp; }
    if (rr2 == -half && ee2 < 0.0) { g2 = g2 - stp; }
    return sg2 * g2 * inv;
  }
  return (s2 + c2) * inv;
}

fn update(p0: f32, mi: f32, vi: f32) -> f32 {
  let o = 22u;
  let one = kf(o + 3u);
  let th0 = p0 * kf(o);
  let root = sqrt(vi);
  let den0 = root / kf(o + 2u);
  var a = 0.0;
  if (abs(mi) > 0.0) {
    if (den0 > 0.0) {
      var x = abs(mi);
      var den = den0;
      let big = max(x, den);
      if (big > kf(o + 8u)) {
        x = x * kf(o + 10u);
        den = den * kf(o + 10u);
      } else if (big < kf(o + 9u)) {
        x = x * kf(o + 11u);
        den = den * kf(o + 11u);
      }
      var nh = x;
      var nl = 0.0;
      var dh = den;
      var dl = 0.0;
      var bh = 0.0;
      var bl = 0.0;
      if (x > 2.414213562373095 * den) {
        nh = -den;
        dh = x;
        bh = kf(o + 6u);
        bl = kf(o + 7u);
      } else if (x > 0.41421356237309503 * den) {
        let s1 = (x - den) * one;
        let z1 = (s1 - x) * one;
        nl = ((x - (s1 - z1)) + (0.0 - den - z1)) * one;
        nh = s1;
        let s2 = (x + den) * one;
        let z2 = (s2 - x) * one;
        dl = ((x - (s2 - z2)) + (den - z2)) * one;
        dh = s2;
        bh = kf(o + 4u);
        bl = kf(o + 5u);
      }
      let th = nh / dh;
      let c1 = 4097.0 * th * one;
      let r1 = (c1 - th) * one;
      let tH = c1 - r1;
      let tL = th - tH;
      let c2 = 4097.0 * dh * one;
      let r2 = (c2 - dh) * one;
      let dH = c2 - r2;
      let dL = dh - dH;
      let pr = th * dh * one;
      let pe = (((tH * dH - pr) + tH * dL + tL * dH) + tL * dL) * one;
      let res = ((((nh - pr) * one - pe) + nl) - th * dl) * one;
      let tl = res / dh;
      let z = th * th;
      var sz: f32 = -1.0 / 23.0;
      sz = sz * z + 1.0 / 21.0;
      sz = sz * z - 1.0 / 19.0;
      sz = sz * z + 1.0 / 17.0;
      sz = sz * z - 1.0 / 15.0;
      sz = sz * z + 1.0 / 13.0;
      sz = sz * z - 1.0 / 11.0;
      sz = sz * z + 1.0 / 9.0;
      sz = sz * z - 1.0 / 7.0;
      sz = sz * z + 1.0 / 5.0;
      sz = sz * z - 1.0 / 3.0;
      let corr = (th * z * sz + tl / (1.0 + z)) * one;
      let u = (bh + th) * one;
      let w = (u - bh) * one;
      let e = ((bh - (u - w)) + (th - w)) * one;
      a = u + ((e + bl) + corr);
    } else {
      a = 1.5707963267948966;
    }
    if (mi < 0.0) { a = -a; }
  }
  let delta = kf(o + 1u) * a;
  return th0 - delta;
}
`;

/** One tensor's update of element i in place (the names of its four bindings). */
const updateElementWgsl = (grad: string, theta: string, mom: string, vel: string): string => `let g = ${grad}[i];
  let m1 = lerp(${mom}[i], g, 0u);
  let v1 = lerp(${vel}[i], g, 11u);
  ${theta}[i] = update(${theta}[i], m1, v1);
  ${mom}[i] = m1;
  ${vel}[i] = v1;`;

/**
 * The fused WGSL update of one tensor, element i by one thread: m' = lerp(m, g, 1−β1) and
 * v' = lerp(v, g², 1−β2) as lerpBody computes them, θ' from θ, m', v' as paramPolyBody does; all
 * three written back in place. Scalars k: lerpScalars for m (0–10) and v (11–21), paramScalars
 * (22–33); `one` shields the error terms as in the gpu.js bodies.
 */
const fusedWgsl = (): string => `
struct P { n: u32, gx: u32, p0: u32, p1: u32, k: array<vec4<f32>, 9> }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> theta: array<f32>;
@group(0) @binding(3) var<storage, read_write> mom: array<f32>;
@group(0) @binding(4) var<storage, read_write> vel: array<f32>;

${UPDATE_FNS_WGSL}
@compute @workgroup_size(256)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let i = (wid.y * p.gx + wid.x) * 256u + lid.x;
  if (i >= p.n) { return; }
  ${updateElementWgsl('grad', 'theta', 'mom', 'vel')}
}
`;

/** Most tensors one adamAtan2Many pass updates (their tables take 256 bytes of the parameter block). */
export const MANY_MAX = 32;

/**
 * AdamATan2 over `count` tensors in one pass: workgroup w (row-major over the grid) belongs to the
 * last tensor t whose first workgroup start[t] ≤ w, and its thread updates element
 * (w − start[t])·256 + lid of that tensor exactly as fusedWgsl does (same functions, same order).
 * Bindings: the gradients g0…, then θ, m, v of each tensor; the tables start and n in the block.
 */
const manyWgsl = (count: number): string => `
struct P { gx: u32, count: u32, p0: u32, p1: u32, k: array<vec4<f32>, 9>, start: array<vec4<u32>, ${MANY_MAX / 4}>, n: array<vec4<u32>, ${MANY_MAX / 4}> }
@group(0) @binding(0) var<uniform> p: P;
${Array.from({ length: count }, (_, t) => `@group(0) @binding(${1 + t}) var<storage, read> g${t}: array<f32>;`).join('\n')}
${Array.from({ length: count }, (_, t) => ['theta', 'mom', 'vel'].map((v, j) => `@group(0) @binding(${1 + count + 3 * t + j}) var<storage, read_write> ${v}${t}: array<f32>;`).join('\n')).join('\n')}

${UPDATE_FNS_WGSL}
fn startOf(t: u32) -> u32 { return p.start[t / 4u][t % 4u]; }

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let w = wid.y * p.gx + wid.x;
  var t = 0u;
  for (var j = 1u; j < p.count; j++) { if (w >= startOf(j)) { t = j; } }
  let i = (w - startOf(t)) * 256u + lid.x;
  if (i >= p.n[t / 4u][t % 4u]) { return; }
  switch t {
${Array.from({ length: count }, (_, t) => `    case ${t}u: {\n  ${updateElementWgsl(`g${t}`, `theta${t}`, `mom${t}`, `vel${t}`)}\n    }`).join('\n')}
    default: {}
  }
}
`;

/** The step's scalars in the parameter block at byte 16: lerp for m, lerp for v, the θ update. */
const stepScalars = (block: ArrayBuffer, hyper: AdamAtan2Hyper): void => {
  const f = Math.fround;
  const { lr, weightDecay, beta1, beta2, step } = hyper;
  const k = new Float32Array(block, 16, 36);
  k.set(lerpScalars(f(1 - beta1), false), 0);
  k.set(lerpScalars(f(1 - beta2), true), 11);
  k.set(paramScalars(f(1 - lr * weightDecay), f(lr / (1 - beta1 ** step)), f(Math.sqrt(1 - beta2 ** step))), 22);
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
  if (dev.mode === 'webgpu') {
    const [p0, m0, v0] = ownBuffers(dev, [state.param, state.m, state.v]);
    const n = numel(shape);
    if (n === 0) return { param: p0, m: m0, v: v0 };
    const blocks = Math.ceil(n / 256);
    const gx = Math.min(blocks, 65535);
    const params = new ArrayBuffer(16 + 9 * 16);
    new Uint32Array(params, 0, 2).set([n, gx]);
    stepScalars(params, hyper);
    const [param, m, v] = dev.runWgsl({
      name: 'adamAtan2.fused',
      code: fusedWgsl,
      params,
      inputs: [grad],
      outputs: [p0, m0, v0],
      groups: [gx, Math.ceil(blocks / gx), 1],
    });
    return { param, m, v };
  }
  const m = dev.run({ name: 'adamAtan2.m', body: lerpBody, args: [state.m, grad, lerpScalars(f(1 - beta1), false)], shape });
  const v = dev.run({ name: 'adamAtan2.v', body: lerpBody, args: [state.v, grad, lerpScalars(f(1 - beta2), true)], shape });
  const param = dev.run({ name: 'adamAtan2.param', body: paramBody, args: [state.param, m, v, wdAlpha, stepSize, bc2Sqrt], shape });
  dev.release(state.param);
  dev.release(state.m);
  dev.release(state.v);
  return { param, m, v };
};

/**
 * adamAtan2 over whole packs (webgpu): when the params, m, v and grads are each every view of one
 * pack (four packs, one layout), fusedWgsl runs once over the packs' full length, gaps included
 * (zero there, and the update keeps zero at zero). Returns null when they are not.
 */
const adamAtan2Packed = (dev: Device, states: readonly AdamState<GpuTensor>[], grads: readonly GpuTensor[], hyper: AdamAtan2Hyper): AdamState<GpuTensor>[] | null => {
  if (dev.mode !== 'webgpu' || states.length === 0) return null;
  const groups = [states.map((s) => s.param), states.map((s) => s.m), states.map((s) => s.v), grads];
  const packs = groups.map((g) => dev.packOf(g));
  const [p] = packs;
  if (p === null || new Set(packs).size !== 4) return null;
  const same = packs.every((q) => q !== null && q.total === p.total && q.offsets.every((o, i) => o === p.offsets[i] && q.sizes[i] === p.sizes[i]));
  if (!same || !groups.slice(0, 3).every((g) => g.every((t) => dev.writableInPlace(t)))) return null;
  const blocks = Math.ceil(p.total / 256);
  const gx = Math.min(blocks, 65535);
  const params = new ArrayBuffer(16 + 9 * 16);
  new Uint32Array(params, 0, 2).set([p.total, gx]);
  stepScalars(params, hyper);
  const [param, m, v] = dev.runWgslPacks({ name: 'adamAtan2.fused', code: fusedWgsl, params, groups: [gx, Math.ceil(blocks / gx), 1] }, [grads], groups.slice(0, 3));
  return states.map((_, i) => ({ param: param[i], m: m[i], v: v[i] }));
};

/**
 * adamAtan2 on each (states[i], grads[i]). webgpu: whole packs in one pass (adamAtan2Packed);
 * otherwise the tensors that can be updated in place go
 * MANY_MAX at a time (fewer where the device binds fewer storage buffers per stage: 4 per
 * tensor) through one manyWgsl pass each, element for element the arithmetic of the per-tensor
 * pass; the others (and cpu/webasm) one by one. CONSUMES every param, m and v.
 */
export const adamAtan2Many = (
  dev: Device, one: (s: AdamState<GpuTensor>, g: GpuTensor) => AdamState<GpuTensor>, states: readonly AdamState<GpuTensor>[], grads: readonly GpuTensor[], hyper: AdamAtan2Hyper,
): AdamState<GpuTensor>[] => {
  shapes.adamAtan2Many(states.map((s) => ({ param: s.param.shape, m: s.m.shape, v: s.v.shape })), grads.map((g) => g.shape));
  if (!(hyper.step >= 1)) throw new RangeError(`adamAtan2Many: hyper 'step' is ${hyper.step}, expected ≥ 1 (1 on the first update)`);
  const whole = adamAtan2Packed(dev, states, grads, hyper);
  if (whole !== null) return whole;
  const per = Math.min(MANY_MAX, Math.floor(dev.storageBindings() / 4));
  const storages = states.flatMap((s) => [s.param.storage, s.m.storage, s.v.storage]);
  const distinct = new Set(storages).size === storages.length;
  const packable = (i: number): boolean => {
    const s = states[i];
    return dev.mode === 'webgpu' && per >= 2 && distinct && numel(s.param.shape) > 0 && [s.param, s.m, s.v].every((t) => dev.writableInPlace(t));
  };
  const out: AdamState<GpuTensor>[] = new Array(states.length);
  const batch: number[] = [];
  const flush = (): void => {
    if (batch.length === 0) return;
    const params = new ArrayBuffer(16 + 9 * 16 + 2 * 4 * MANY_MAX);
    const start = new Uint32Array(params, 16 + 9 * 16, MANY_MAX);
    const n = new Uint32Array(params, 16 + 9 * 16 + 4 * MANY_MAX, MANY_MAX);
    let blocks = 0;
    batch.forEach((i, t) => {
      start[t] = blocks;
      n[t] = numel(states[i].param.shape);
      blocks += Math.ceil(n[t] / 256);
    });
    const gx = Math.min(blocks, 65535);
    const count = batch.length; // the code is generated later, on the pipeline's first use
    new Uint32Array(params, 0, 2).set([gx, count]);
    stepScalars(params, hyper);
    const results = dev.runWgsl({
      name: `adamAtan2.many${count}`,
      code: () => manyWgsl(count),
      params,
      inputs: batch.map((i) => grads[i]),
      outputs: batch.flatMap((i) => [states[i].param, states[i].m, states[i].v]),
      groups: [gx, Math.ceil(blocks / gx), 1],
    });
    batch.forEach((i, t) => {
      out[i] = { param: results[3 * t], m: results[3 * t + 1], v: results[3 * t + 2] };
    });
    batch.length = 0;
  };
  states.forEach((s, i) => {
    if (!packable(i)) {
      out[i] = one(s, grads[i]);
      return;
    }
    batch.push(i);
    if (batch.length === per) flush();
  });
  flush();
  return out;
};
