// Dense layer (float32): y[N,M] = x[N,K]·w[M,K]ᵀ (+ b[M]) and its backward (dx = dy·w,
// dw = dyᵀ·x, db = Σ_N dy). Summation order, the same on every path: each output cell is one
// float32 accumulator that starts at 0 and adds the products in increasing index of the reduced
// axis (k for y, m for dx, n for dw and db); the bias is added after the sum. A GPU compiler may
// contract a product and its addition into one fused multiply-add.
// webgpu: one hand-written WGSL kernel for the three products (below), tiled in workgroup memory
// with register blocking; any N/K/M (edges read as zeros, no padding copies). cpu/webasm: gpu.js
// bodies, one cell per thread. The older gpu.js webgpu path (four cells per thread over wᵀ) stays
// as `linearGpuJs` for the side-by-side benchmark (bench/gpu-linear.ts).
// Legend: N rows (product of x's leading axes), K input width, M output width.

import type { LinearGrads } from '../../core/backend.ts';
import { shapes } from '../../core/shapes.ts';
import { numel } from '../../core/tensor.ts';
import type { Device, GpuTensor } from './device.ts';
import type { KernelThis } from './gpujs.ts';
import type { IndexedKernel } from './indexed.ts';
import { runIndexed } from './indexed.ts';
import { SIGMOID_WGSL } from './swiglu.ts';

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

/** Whether the four-cells-per-thread gpu.js kernels apply: webgpu and a row width that is a multiple of 4. */
const wide = (dev: Device, width: number): boolean => dev.mode === 'webgpu' && width % 4 === 0 && width > 0;

// ---- tiled WGSL product (webgpu) --------------------------------------------------------------

/**
 * How the product C[R,Q] = Σ_k A[r,k]·B[k,q] reads its operands: A row-major (a[r·K + k]) or
 * stored transposed (a[k·R + r]); B row-major (b[k·Q + q]) or stored transposed (b[q·K + k]).
 * forward y = x·wᵀ: A = x, B = wᵀ (transposed); dx = dy·w: both row-major; dw = dyᵀ·x: A = dyᵀ.
 */
export type Layout = 'nt' | 'nn' | 'tn';

/** Threads per workgroup side (16×16), cells per thread (RM×RN), reduction tile TK. */
const WG = 16;
const RM = 4;
const RN = 4;
const TK = 16;
const TM = WG * RM; // 64 output rows per workgroup
const TN = WG * RN; // 64 output columns per workgroup

/**
 * Which operands are read four floats at a time (vec4 loads): an operand whose contiguous axis has
 * a length that is a multiple of 4 (A: R for 'tn', else K; B: K for 'nt', else Q).
 * Tiles start at multiples of 4 along every axis, so such a vec4 lies wholly inside or wholly
 * outside the matrix. The loads change, not the sums: results are bit-identical either way.
 */
interface Vectorized {
  readonly a: boolean;
  readonly b: boolean;
}

/** The operands that can be read as vec4 for a product of this layout and these sizes. */
export const vectorizable = (layout: Layout, R: number, Q: number, K: number): Vectorized => ({
  a: (layout === 'tn' ? R : K) % 4 === 0,
  b: (layout === 'nt' ? K : Q) % 4 === 0,
});

/**
 * What a product computes around its sums (see fused.ts for the kernels that use them):
 * - 'rope', 'swiglu' (layout 'nt', epilogue): the output columns come in pairs (lo, hi) =
 *   (g·2H + i, g·2H + H + i) for pair P = g·H + i, H = the pair distance (hd/2 for RoPE, I for
 *   SwiGLU). A workgroup's TN tile columns hold TN/2 consecutive pairs (column c: pair c mod TN/2,
 *   half c ÷ TN/2), so a thread's cells j and j + RN/2 are the two halves of one pair and the
 *   activation runs on its registers: RoPE rotates the pair (rows of the first `rot` heads; row r
 *   has position r mod S) and writes it; SwiGLU writes gu and y[r, P] = silu(lo)·hi.
 * - 'ropeBackward', 'swigluBackward' (layouts 'nn' for dx and 'tn' for dw, prologue): A is not
 *   read but computed element by element while the tile loads, A[n, m] = ropeBackward(dy)[n, m]
 *   or swigluBackward(dy, gu)[n, m] (n row, m column of the product's input width W), so the
 *   backward needs no pass of its own between dy and the two products (at the cost of computing
 *   each element once per output column tile: the one-pass alternative fused.ts benchmarks).
 * The sums are those of the plain product, in the same order.
 */
export type Fusion = 'none' | 'rope' | 'swiglu' | 'ropeBackward' | 'swigluBackward';

const isEpilogue = (f: Fusion): boolean => f === 'rope' || f === 'swiglu';
const isPrologue = (f: Fusion): boolean => f === 'ropeBackward' || f === 'swigluBackward';

/** A[n, m] computed from dy (binding a) and the fusion's other inputs: the backward prologues. */
const aSourceWgsl = (fusion: Fusion): string => {
  if (fusion === 'ropeBackward') {
    return `fn aAt(n: u32, m: u32) -> f32 {
  let hd = 2u * p.H;
  let d = a[n * p.W + m];
  if (m / hd >= p.rot) { return d; }
  let t = (n % p.S) * hd;
  let i = m % hd;
  if (i < p.H) { return d * cs[t + i] + a[n * p.W + m + p.H] * sn[t + i + p.H]; }
  return d * cs[t + i] - a[n * p.W + m - p.H] * sn[t + i - p.H];
}`;
  }
  return `${SIGMOID_WGSL}
fn aAt(n: u32, m: u32) -> f32 {
  let up = m >= p.H;
  let k = select(m, m - p.H, up);
  let g = gu[n * 2u * p.H + k];
  let u = gu[n * 2u * p.H + p.H + k];
  let d = a[n * p.H + k];
  let sg = sigm(g);
  if (up) { return d * g * sg; }
  return d * u * sg * (1.0 + g * (1.0 - sg));
}`;
};

/**
 * One thread's share of loading A's tile into As[kk·TM + rr] (zeros outside the matrix): element by
 * element, or one vec4 per thread (TM·TK = 4·WG² floats) along the contiguous axis. With a
 * prologue fusion the element is aAt(row of dy, column of dy).
 */
const aLoadWgsl = (layout: Layout, vec: boolean, computed: boolean): string => {
  if (!vec) {
    const load = layout === 'tn'
      ? `let rr = e % ${TM}u; let kk = e / ${TM}u; let r = row0 + rr; let k = k0 + kk;
      var v = 0.0; if (r < p.R && k < p.K) { v = ${computed ? 'aAt(k, r)' : 'a[k * p.R + r]'}; }`
      : `let kk = e % ${TK}u; let rr = e / ${TK}u; let r = row0 + rr; let k = k0 + kk;
      var v = 0.0; if (r < p.R && k < p.K) { v = ${computed ? 'aAt(r, k)' : 'a[r * p.K + k]'}; }`;
    return `for (var l = 0u; l < ${(TK * TM) / (WG * WG)}u; l++) {
      let e = tid + l * ${WG * WG}u;
      ${load}
      As[kk * ${TM}u + rr] = v;
    }`;
  }
  return layout === 'tn'
    ? `{ let rr = (tid % ${TM / 4}u) * 4u; let kk = tid / ${TM / 4}u; let r = row0 + rr; let k = k0 + kk;
      var v = vec4<f32>(0.0); if (r < p.R && k < p.K) { v = a[(k * p.R + r) / 4u]; }
      let o = kk * ${TM}u + rr;
      As[o] = v.x; As[o + 1u] = v.y; As[o + 2u] = v.z; As[o + 3u] = v.w; }`
    : `{ let kk = (tid % ${TK / 4}u) * 4u; let rr = tid / ${TK / 4}u; let r = row0 + rr; let k = k0 + kk;
      var v = vec4<f32>(0.0); if (r < p.R && k < p.K) { v = a[(r * p.K + k) / 4u]; }
      As[kk * ${TM}u + rr] = v.x; As[(kk + 1u) * ${TM}u + rr] = v.y; As[(kk + 2u) * ${TM}u + rr] = v.z; As[(kk + 3u) * ${TM}u + rr] = v.w; }`;
};

/** The output column of tile column `qq` and whether it lies inside C: plain, or paired (see Fusion). */
const columnWgsl = (paired: boolean): string =>
  paired
    ? `let pr = col0 / 2u + qq % ${TN / 2}u; let q = pairCol(pr, qq / ${TN / 2}u); let inside = pr < p.Q / 2u;`
    : 'let q = col0 + qq; let inside = q < p.Q;';

/** B's tile into Bs[kk·TN + qq], as aLoadWgsl does for A. */
const bLoadWgsl = (layout: Layout, vec: boolean, paired: boolean): string => {
  if (!vec) {
    const load = layout === 'nt'
      ? `let kk = e % ${TK}u; let qq = e / ${TK}u; ${columnWgsl(paired)} let k = k0 + kk;
      var v = 0.0; if (inside && k < p.K) { v = b[q * p.K + k]; }`
      : `let qq = e % ${TN}u; let kk = e / ${TN}u; ${columnWgsl(paired)} let k = k0 + kk;
      var v = 0.0; if (inside && k < p.K) { v = b[k * p.Q + q]; }`;
    return `for (var l = 0u; l < ${(TK * TN) / (WG * WG)}u; l++) {
      let e = tid + l * ${WG * WG}u;
      ${load}
      Bs[kk * ${TN}u + qq] = v;
    }`;
  }
  return layout === 'nt'
    ? `{ let kk = (tid % ${TK / 4}u) * 4u; let qq = tid / ${TK / 4}u; ${columnWgsl(paired)} let k = k0 + kk;
      var v = vec4<f32>(0.0); if (inside && k < p.K) { v = b[(q * p.K + k) / 4u]; }
      Bs[kk * ${TN}u + qq] = v.x; Bs[(kk + 1u) * ${TN}u + qq] = v.y; Bs[(kk + 2u) * ${TN}u + qq] = v.z; Bs[(kk + 3u) * ${TN}u + qq] = v.w; }`
    : `{ let qq = (tid % ${TN / 4}u) * 4u; let kk = tid / ${TN / 4}u; let q = col0 + qq; let k = k0 + kk;
      var v = vec4<f32>(0.0); if (q < p.Q && k < p.K) { v = b[(k * p.Q + q) / 4u]; }
      let o = kk * ${TN}u + qq;
      Bs[o] = v.x; Bs[o + 1u] = v.y; Bs[o + 2u] = v.z; Bs[o + 3u] = v.w; }`;
};

/** The stores of a thread's RM×RN cells: plain (+ bias), or a paired epilogue (see Fusion). */
const storeWgsl = (fusion: Fusion, bias: boolean): string => {
  if (!isEpilogue(fusion)) {
    return `for (var i = 0u; i < ${RM}u; i++) {
    let r = row0 + ty + ${WG}u * i;
    if (r >= p.R) { continue; }
    for (var j = 0u; j < ${RN}u; j++) {
      let q = col0 + tx + ${WG}u * j;
      if (q < p.Q) { c[r * p.Q + q] = acc[i * ${RN}u + j]${bias ? ' + bias[q]' : ''}; }
    }
  }`;
  }
  const pair = fusion === 'rope'
    ? `let hd = 2u * p.H;
      if (pr / p.H < p.rot) {
        let t = (r % p.S) * hd + pr % p.H;
        c[r * p.Q + qlo] = lo * cs[t] - hi * sn[t];
        c[r * p.Q + qhi] = hi * cs[t + p.H] + lo * sn[t + p.H];
      } else {
        c[r * p.Q + qlo] = lo;
        c[r * p.Q + qhi] = hi;
      }`
    : `c[r * p.Q + qlo] = lo;
      c[r * p.Q + qhi] = hi;
      y[r * p.H + pr] = lo * sigm(lo) * hi;`;
  return `for (var i = 0u; i < ${RM}u; i++) {
    let r = row0 + ty + ${WG}u * i;
    if (r >= p.R) { continue; }
    for (var j = 0u; j < ${RN / 2}u; j++) {
      let pr = col0 / 2u + tx + ${WG}u * j;
      if (pr >= p.Q / 2u) { continue; }
      let qlo = pairCol(pr, 0u);
      let qhi = qlo + p.H;
      let lo = acc[i * ${RN}u + j];
      let hi = acc[i * ${RN}u + j + ${RN / 2}u];
      ${pair}
    }
  }`;
};

/** The bindings after the parameter block: a, b, then the fusion's inputs, then the outputs. */
const bindingsWgsl = (fusion: Fusion, bias: boolean, vec: Vectorized): string => {
  const inputs = [
    `a: array<${vec.a ? 'vec4<f32>' : 'f32'}>`,
    `b: array<${vec.b ? 'vec4<f32>' : 'f32'}>`,
    ...(bias ? ['bias: array<f32>'] : []),
    ...(fusion === 'rope' || fusion === 'ropeBackward' ? ['cs: array<f32>', 'sn: array<f32>'] : []),
    ...(fusion === 'swigluBackward' ? ['gu: array<f32>'] : []),
  ];
  const outputs = ['c: array<f32>', ...(fusion === 'swiglu' ? ['y: array<f32>'] : [])];
  return [
    ...inputs.map((d, i) => `@group(0) @binding(${i + 1}) var<storage, read> ${d};`),
    ...outputs.map((d, i) => `@group(0) @binding(${inputs.length + i + 1}) var<storage, read_write> ${d};`),
  ].join('\n');
};

/**
 * The WGSL of the tiled product. Workgroup wg = wid.y·gx + wid.x (the grid as `foldGrid`
 * lays it out) computes C[(wg ÷ cols)·TM …, (wg mod cols)·TN …]; each step of the
 * reduction loads an A tile [TM×TK] and a B tile [TK×TN] into workgroup memory (k-major, loads
 * along each operand's contiguous axis so neighbouring threads read neighbouring addresses, four
 * floats per load where `vec` allows; cells outside the matrices read as 0), then thread (tx, ty)
 * adds the products of its RM×RN cells, rows ty + WG·i and columns tx + WG·j, in increasing k.
 * With bias: c = acc + bias[q]. Fusions: see `Fusion`.
 */
const productWgsl = (layout: Layout, bias: boolean, vec: Vectorized, fusion: Fusion): string => `
struct P { R: u32, Q: u32, K: u32, S: u32, H: u32, rot: u32, W: u32, gx: u32, cols: u32, tiles: u32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> p: P;
${bindingsWgsl(fusion, bias, vec)}
var<workgroup> As: array<f32, ${TK * TM}>;
var<workgroup> Bs: array<f32, ${TK * TN}>;
${isEpilogue(fusion) ? 'fn pairCol(pr: u32, half: u32) -> u32 { return (pr / p.H) * 2u * p.H + pr % p.H + half * p.H; }' : ''}
${fusion === 'swiglu' ? SIGMOID_WGSL : ''}
${isPrologue(fusion) ? aSourceWgsl(fusion) : ''}

@compute @workgroup_size(${WG}, ${WG}, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let wg = wid.y * p.gx + wid.x;
  if (wg >= p.tiles) { return; }
  let tx = lid.x;
  let ty = lid.y;
  let tid = ty * ${WG}u + tx;
  let row0 = (wg / p.cols) * ${TM}u;
  let col0 = (wg % p.cols) * ${TN}u;
  var acc: array<f32, ${RM * RN}>;
  for (var i = 0u; i < ${RM * RN}u; i++) { acc[i] = 0.0; }
  for (var k0 = 0u; k0 < p.K; k0 += ${TK}u) {
    ${aLoadWgsl(layout, vec.a, isPrologue(fusion))}
    ${bLoadWgsl(layout, vec.b, isEpilogue(fusion))}
    workgroupBarrier();
    for (var kk = 0u; kk < ${TK}u; kk++) {
      var av: array<f32, ${RM}>;
      var bv: array<f32, ${RN}>;
      for (var i = 0u; i < ${RM}u; i++) { av[i] = As[kk * ${TM}u + ty + ${WG}u * i]; }
      for (var j = 0u; j < ${RN}u; j++) { bv[j] = Bs[kk * ${TN}u + tx + ${WG}u * j]; }
      for (var i = 0u; i < ${RM}u; i++) {
        for (var j = 0u; j < ${RN}u; j++) {
          acc[i * ${RN}u + j] = acc[i * ${RN}u + j] + av[i] * bv[j];
        }
      }
    }
    workgroupBarrier();
  }
  ${storeWgsl(fusion, bias)}
}
`;

/**
 * Workgroups per grid dimension that `foldGrid` uses: WebGPU's guaranteed
 * maxComputeWorkgroupsPerDimension (lavapipe's, and most drivers'). A dispatch past it is refused by
 * validation, and with it every dispatch of the same submit, silently. Tests lower it to fold small
 * grids (grid.test.ts).
 */
export const gridLimit = { perDimension: 65535 };

/**
 * The grid of `tiles` workgroups in rows of `cols` (tile g = row g ÷ cols, column g mod cols), for
 * a kernel that reads its tile as g = wid.y·gx + wid.x and returns when g ≥ tiles: the natural 2-D
 * grid [cols, tiles/cols] (gx = cols) while both sides fit the limit, else folded to rows of
 * gx = limit workgroups. The products' row tiles pass 65535 only past 4.19M rows (ARC at batch 768
 * has 703,488 rows: 10,992 tiles), attention's (batch, head, block) at batch·heads·blocks > 65535.
 */
export const foldGrid = (cols: number, tiles: number): { gx: number; groups: [number, number, number] } => {
  const max = gridLimit.perDimension;
  if (tiles === 0) return { gx: 1, groups: [0, 1, 1] };
  const gx = cols <= max && tiles / cols <= max ? cols : max;
  const gy = Math.ceil(tiles / gx);
  if (gy > max) throw new Error(`gpu backend: ${tiles} workgroups exceed a ${max}×${max} grid`);
  return { gx, groups: [gx, gy, 1] };
};

/** A fusion's operands and sizes beyond the product's (see Fusion): S positions, H pair distance, rot rotated heads, W dy width. */
export interface FusionArgs {
  readonly fusion: Fusion;
  readonly extra: readonly GpuTensor[];
  readonly S?: number;
  readonly H: number;
  readonly rot?: number;
  readonly W?: number;
}

/**
 * C[R,Q] (shape `shape`) = A·B per `layout`, through the tiled WGSL kernel (+ bias[Q] when given),
 * with vec4 loads where the sizes allow unless `scalarLoads` (kept for the side-by-side benchmark).
 * With `fused`, the fusion's epilogue or prologue (and its extra outputs after C: SwiGLU's y).
 */
export const product = (
  dev: Device, layout: Layout, a: GpuTensor, b: GpuTensor, R: number, Q: number, K: number, shape: readonly number[], bias?: GpuTensor, scalarLoads = false,
  fused?: FusionArgs & { readonly outputs?: readonly (readonly number[])[] },
): GpuTensor[] => {
  const fusion = fused?.fusion ?? 'none';
  // paired epilogues: TN/2 column pairs per workgroup
  const cols = isEpilogue(fusion) ? Math.ceil(Q / 2 / (TN / 2)) : Math.ceil(Q / TN);
  const tiles = cols * Math.ceil(R / TM);
  const { gx, groups } = foldGrid(cols, tiles);
  const params = new Uint32Array([R, Q, K, fused?.S ?? 0, fused?.H ?? 0, fused?.rot ?? 0, fused?.W ?? 0, gx, cols, tiles, 0, 0]).buffer;
  const v = scalarLoads ? { a: false, b: false } : vectorizable(layout, R, Q, K);
  const vec = { a: v.a && !isPrologue(fusion), b: v.b };
  const name = `product.${layout}${bias ? '.bias' : ''}${vec.a ? '.va' : ''}${vec.b ? '.vb' : ''}${fusion === 'none' ? '' : `.${fusion}`}`;
  return dev.runWgsl({
    name,
    code: () => productWgsl(layout, bias !== undefined, vec, fusion),
    params,
    inputs: [a, b, ...(bias ? [bias] : []), ...(fused?.extra ?? [])],
    outputs: [shape, ...(fused?.outputs ?? [])],
    groups,
  });
};

/** y = x·wᵀ (+ b): x[...,K], w[M,K], b[M] → [...,M]. */
export const linear = (dev: Device, x: GpuTensor, w: GpuTensor, b?: GpuTensor): GpuTensor => {
  const shape = shapes.linear(x.shape, w.shape, b?.shape);
  if (dev.mode !== 'webgpu') return linearGpuJs(dev, x, w, b);
  const [M, K] = w.shape;
  const N = K === 0 ? numel(shape) / Math.max(1, M) : numel(x.shape) / K;
  return product(dev, 'nt', x, w, N, M, K, shape, b)[0];
};

/** dx[...,K], dw[M,K] and (withBias) db[M] from dy[...,M]. */
export const linearBackward = (dev: Device, dy: GpuTensor, x: GpuTensor, w: GpuTensor, withBias: boolean): LinearGrads<GpuTensor> => {
  const out = shapes.linearBackward(dy.shape, x.shape, w.shape);
  if (dev.mode !== 'webgpu') return linearBackwardGpuJs(dev, dy, x, w, withBias);
  const [M, K] = w.shape;
  const N = numel(dy.shape) / Math.max(1, M);
  const [dx] = product(dev, 'nn', dy, w, N, K, M, out.dx);
  const [dw] = product(dev, 'tn', dy, x, M, K, N, out.dw);
  if (!withBias) return { dx, dw };
  return { dx, dw, db: runIndexed(dev, LINEAR_DB, [dy], out.db, { M, N }) };
};

/** linearDbBody in WGSL: u32 indices (the gpu.js body's float32 n·M + m is inexact past 2^24 cells). */
const LINEAR_DB: IndexedKernel = {
  name: 'linearDb.cells',
  inputs: ['dy'],
  sizes: ['M', 'N'],
  body: `  var acc = 0.0;
  for (var n = 0u; n < p.N; n++) { acc = acc + dy[n * p.M + i]; }
  return acc;`,
};

// ---- gpu.js paths (cpu/webasm; on webgpu only for the side-by-side benchmark) ------------------

/** y = x·wᵀ (+ b) by gpu.js bodies (webgpu: four cells per thread over wᵀ, kept with w). */
export const linearGpuJs = (dev: Device, x: GpuTensor, w: GpuTensor, b?: GpuTensor): GpuTensor => {
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

/** The backward by gpu.js bodies (webgpu: four cells per thread when K is a multiple of 4). */
export const linearBackwardGpuJs = (dev: Device, dy: GpuTensor, x: GpuTensor, w: GpuTensor, withBias: boolean): LinearGrads<GpuTensor> => {
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
