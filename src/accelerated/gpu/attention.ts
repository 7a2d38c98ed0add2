// Non-causal multi-head attention (float32) over a fused qkv[B,S,3·W] (all Q heads, then all K
// heads, then all V heads), and its backward.
// webgpu (head dim ≤ 128): hand-written WGSL, one workgroup of 64 threads per (batch, head, block of
// 64 rows) (the grid folded past 65535 workgroups), one row per thread, the other side's rows
// streamed through workgroup memory in tiles; nothing of size S×S is stored. Forward: pass 1 the
// row max m of the scores, pass 2 l = Σ_t e_t and Σ_t e_t·V_t with e_t = exp(score_t − m),
// out = (Σ e·V)/l. Backward, two launches: per query
// row m, l, D = Σ_t P_t·dP_t (dP_t = dy·V_t) and dQ = Σ_t dS_t·K_t (dS = P·(dP − D)·scale), writing
// (m, l, D) per row; then per key row dV = Σ_s P_s·dy_s and dK = Σ_s dS_s·Q_s from those rows.
// Summation order: every sum runs over increasing key (or query) index with one float32
// accumulator; dot products over the head dim in increasing j.
// cpu/webasm (and wider heads): gpu.js bodies, launch sequence scores → row statistics (max, Σexp)
// → probabilities → output; the backward recomputes the probabilities, then dP, the row dots
// Σ_t P·dP, dS and one launch writing dQ|dK|dV into the fused layout.
// Legend: B batch, S sequence, Hh heads, hd head dim, W = Hh·hd, F = 3·W, BH = B·Hh.

import { shapes } from '../../core/shapes.ts';
import type { Device, GpuTensor } from './device.ts';
import type { KernelThis } from './gpujs.ts';
import { foldGrid } from './linear.ts';

type Dims = KernelThis<{ S: number; Hh: number; hd: number; W: number; F: number }>;

/** L[bh,s,t] = (Q[b,s,h,:]·K[b,t,h,:])·scale; thread i = (bh·S + s)·S + t. */
function scoresBody(this: Dims, qkv: Float32Array, scale: number): number {
  const i = this.thread.x;
  const S = this.constants.S;
  const r = Math.floor((i + 0.5) / S);
  const t = i - r * S;
  const bh = Math.floor((r + 0.5) / S);
  const s = r - bh * S;
  const b = Math.floor((bh + 0.5) / this.constants.Hh);
  const h = bh - b * this.constants.Hh;
  const q = (b * S + s) * this.constants.F + h * this.constants.hd;
  const k = (b * S + t) * this.constants.F + this.constants.W + h * this.constants.hd;
  let acc = 0;
  for (let j = 0; j < this.constants.hd; j++) {
    acc += qkv[q + j] * qkv[k + j];
  }
  return acc * scale;
}

/** st[2r] = max_t L[r,t], st[2r+1] = Σ_t exp(L[r,t] − max); r = bh·S + s. */
function rowStatsBody(this: Dims, L: Float32Array): number {
  const j = this.thread.x;
  const r = Math.floor((j + 0.5) / 2);
  const base = r * this.constants.S;
  let mx = L[base];
  for (let t = 1; t < this.constants.S; t++) {
    mx = Math.max(mx, L[base + t]);
  }
  if (j - r * 2 < 0.5) {
    return mx;
  }
  let sum = 0;
  for (let u = 0; u < this.constants.S; u++) {
    sum += Math.exp(L[base + u] - mx);
  }
  return sum;
}

/** P[r,t] = exp(L[r,t] − max_r)/Σ_r. */
function probsBody(this: Dims, L: Float32Array, st: Float32Array): number {
  const i = this.thread.x;
  const r = Math.floor((i + 0.5) / this.constants.S);
  return Math.exp(L[i] - st[2 * r]) / st[2 * r + 1];
}

/** out[b,s,h·hd+j] = Σ_t P[bh,s,t]·V[b,t,h,j]; thread i = (b·S + s)·W + h·hd + j. */
function outputBody(this: Dims, P: Float32Array, qkv: Float32Array): number {
  const i = this.thread.x;
  const S = this.constants.S;
  const row = Math.floor((i + 0.5) / this.constants.W);
  const c = i - row * this.constants.W;
  const b = Math.floor((row + 0.5) / S);
  const s = row - b * S;
  const h = Math.floor((c + 0.5) / this.constants.hd);
  const p = ((b * this.constants.Hh + h) * S + s) * S;
  const v = b * S * this.constants.F + 2 * this.constants.W + c;
  let acc = 0;
  for (let t = 0; t < S; t++) {
    acc += P[p + t] * qkv[v + t * this.constants.F];
  }
  return acc;
}

/** dP[bh,s,t] = Σ_j dy[b,s,h,j]·V[b,t,h,j]. */
function dProbsBody(this: Dims, dy: Float32Array, qkv: Float32Array): number {
  const i = this.thread.x;
  const S = this.constants.S;
  const r = Math.floor((i + 0.5) / S);
  const t = i - r * S;
  const bh = Math.floor((r + 0.5) / S);
  const s = r - bh * S;
  const b = Math.floor((bh + 0.5) / this.constants.Hh);
  const h = bh - b * this.constants.Hh;
  const g = (b * S + s) * this.constants.W + h * this.constants.hd;
  const v = (b * S + t) * this.constants.F + 2 * this.constants.W + h * this.constants.hd;
  let acc = 0;
  for (let j = 0; j < this.constants.hd; j++) {
    acc += dy[g + j] * qkv[v + j];
  }
  return acc;
}

/** dS[r,t] = P[r,t]·(dP[r,t] − Σ_u P[r,u]·dP[r,u])·scale (softmax backward with the score scale). */
function dScoresBody(this: Dims, P: Float32Array, dP: Float32Array, scale: number): number {
  const i = this.thread.x;
  const r = Math.floor((i + 0.5) / this.constants.S);
  const base = r * this.constants.S;
  let dot = 0;
  for (let u = 0; u < this.constants.S; u++) {
    dot += P[base + u] * dP[base + u];
  }
  return P[i] * (dP[i] - dot) * scale;
}

/**
 * dqkv[b,s,part·W + h·hd + j]: part 0 dQ = Σ_t dS[bh,s,t]·K[b,t], part 1 dK = Σ_u dS[bh,u,s]·Q[b,u],
 * part 2 dV = Σ_u P[bh,u,s]·dy[b,u]; thread i = (b·S + s)·F + c.
 */
function dQkvBody(this: Dims, dS: Float32Array, P: Float32Array, qkv: Float32Array, dy: Float32Array): number {
  const i = this.thread.x;
  const S = this.constants.S;
  const W = this.constants.W;
  const F = this.constants.F;
  const row = Math.floor((i + 0.5) / F);
  const c = i - row * F;
  const b = Math.floor((row + 0.5) / S);
  const s = row - b * S;
  const part = Math.floor((c + 0.5) / W);
  const cc = c - part * W;
  const h = Math.floor((cc + 0.5) / this.constants.hd);
  const bh = (b * this.constants.Hh + h) * S;
  let acc = 0;
  if (part < 0.5) {
    for (let t = 0; t < S; t++) {
      acc += dS[(bh + s) * S + t] * qkv[(b * S + t) * F + W + cc];
    }
  } else if (part < 1.5) {
    for (let u = 0; u < S; u++) {
      acc += dS[(bh + u) * S + s] * qkv[(b * S + u) * F + cc];
    }
  } else {
    for (let u = 0; u < S; u++) {
      acc += P[(bh + u) * S + s] * dy[(b * S + u) * W + cc];
    }
  }
  return acc;
}

const dimsOf = (qkv: GpuTensor, numHeads: number): { S: number; Hh: number; hd: number; W: number; F: number } => {
  const [, S, F] = qkv.shape;
  const W = F / 3;
  return { S, Hh: numHeads, hd: W / numHeads, W, F };
};

/** P[B,Hh,S,S] = softmax(QKᵀ/√hd) over the last axis. */
const probabilities = (dev: Device, qkv: GpuTensor, c: ReturnType<typeof dimsOf>, name: string): GpuTensor => {
  const B = qkv.shape[0];
  const rowsShape = [B, c.Hh, c.S];
  const L = dev.run({ name: `${name}.scores`, body: scoresBody, constants: c, args: [qkv, 1 / Math.sqrt(c.hd)], shape: [...rowsShape, c.S] });
  const st = dev.run({ name: `${name}.rowStats`, body: rowStatsBody, constants: c, args: [L], shape: [...rowsShape, 2] });
  const P = dev.run({ name: `${name}.probs`, body: probsBody, constants: c, args: [L, st], shape: [...rowsShape, c.S] });
  dev.release(L);
  dev.release(st);
  return P;
};

// ---- WGSL (webgpu) ------------------------------------------------------------------------------

/** Rows per workgroup (one per thread). */
const RB = 64;
/** Widest head the WGSL kernels take (their per-thread rows live in registers). */
const MAX_WGSL_HD = 128;

/** Rows of the streamed side per tile so that the tiles fit 16 KiB of workgroup memory. */
const tileRows = (hd: number, extraPerRow: number): number => Math.max(1, Math.min(RB, Math.floor(16384 / (8 * hd + extraPerRow))));

const header = `
struct P { S: u32, Hh: u32, W: u32, F: u32, scale: f32, gx: u32, blocks: u32, tiles: u32 }
@group(0) @binding(0) var<uniform> p: P;`;

/** Loads rows t0 … t0+T−1 (part `off` of the fused layout, head h) of `src` into `dst` (zeros past S). */
const loadTile = (dst: string, src: string, rowWidth: string, off: string, T: number, hd: number): string => `
    for (var e = lid.x; e < ${T * hd}u; e += ${RB}u) {
      let tt = e / ${hd}u;
      let t = t0 + tt;
      var v = 0.0;
      if (t < p.S) { v = ${src}[(b * p.S + t) * ${rowWidth} + ${off} + h * ${hd}u + e % ${hd}u]; }
      ${dst}[e] = v;
    }`;

/** Workgroup wg = wid.y·gx + wid.x (see foldGrid) is row block wg mod blocks of (batch, head) wg ÷ blocks. */
const prologue = (hd: number): string => `
  let wg = wid.y * p.gx + wid.x;
  if (wg >= p.tiles) { return; }
  let bh = wg / p.blocks;
  let b = bh / p.Hh;
  let h = bh % p.Hh;
  let s = (wg % p.blocks) * ${RB}u + lid.x;
  let valid = s < p.S;
  let row = min(s, p.S - 1u);`;

/** out[b,s,h·hd + j]: the forward (see the file comment). */
const forwardWgsl = (hd: number): string => {
  const T = tileRows(hd, 0);
  return `${header}
@group(0) @binding(1) var<storage, read> qkv: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
var<workgroup> Ks: array<f32, ${T * hd}>;
var<workgroup> Vs: array<f32, ${T * hd}>;

@compute @workgroup_size(${RB})
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  ${prologue(hd)}
  var q: array<f32, ${hd}>;
  for (var j = 0u; j < ${hd}u; j++) { q[j] = qkv[(b * p.S + row) * p.F + h * ${hd}u + j]; }
  var mx = -3.4028234e38;
  for (var t0 = 0u; t0 < p.S; t0 += ${T}u) {
    ${loadTile('Ks', 'qkv', 'p.F', 'p.W', T, hd)}
    workgroupBarrier();
    let n = min(${T}u, p.S - t0);
    for (var tt = 0u; tt < n; tt++) {
      var d = 0.0;
      for (var j = 0u; j < ${hd}u; j++) { d = d + q[j] * Ks[tt * ${hd}u + j]; }
      mx = max(mx, d * p.scale);
    }
    workgroupBarrier();
  }
  var l = 0.0;
  var acc: array<f32, ${hd}>;
  for (var t0 = 0u; t0 < p.S; t0 += ${T}u) {
    ${loadTile('Ks', 'qkv', 'p.F', 'p.W', T, hd)}
    ${loadTile('Vs', 'qkv', 'p.F', '2u * p.W', T, hd)}
    workgroupBarrier();
    let n = min(${T}u, p.S - t0);
    for (var tt = 0u; tt < n; tt++) {
      var d = 0.0;
      for (var j = 0u; j < ${hd}u; j++) { d = d + q[j] * Ks[tt * ${hd}u + j]; }
      let e = exp(d * p.scale - mx);
      l = l + e;
      for (var j = 0u; j < ${hd}u; j++) { acc[j] = acc[j] + e * Vs[tt * ${hd}u + j]; }
    }
    workgroupBarrier();
  }
  if (valid) {
    for (var j = 0u; j < ${hd}u; j++) { out[(b * p.S + s) * p.W + h * ${hd}u + j] = acc[j] / l; }
  }
}
`;
};

/** Per query row: dQ into dqkv's Q part and (m, l, D) into st[(bh·S + s)·3 …]. */
const backwardQueryWgsl = (hd: number): string => {
  const T = tileRows(hd, 0);
  return `${header}
@group(0) @binding(1) var<storage, read> qkv: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dqkv: array<f32>;
@group(0) @binding(4) var<storage, read_write> st: array<f32>;
var<workgroup> Ks: array<f32, ${T * hd}>;
var<workgroup> Vs: array<f32, ${T * hd}>;

@compute @workgroup_size(${RB})
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  ${prologue(hd)}
  var q: array<f32, ${hd}>;
  var g: array<f32, ${hd}>;
  for (var j = 0u; j < ${hd}u; j++) {
    q[j] = qkv[(b * p.S + row) * p.F + h * ${hd}u + j];
    g[j] = dy[(b * p.S + row) * p.W + h * ${hd}u + j];
  }
  var mx = -3.4028234e38;
  for (var t0 = 0u; t0 < p.S; t0 += ${T}u) {
    ${loadTile('Ks', 'qkv', 'p.F', 'p.W', T, hd)}
    workgroupBarrier();
    let n = min(${T}u, p.S - t0);
    for (var tt = 0u; tt < n; tt++) {
      var d = 0.0;
      for (var j = 0u; j < ${hd}u; j++) { d = d + q[j] * Ks[tt * ${hd}u + j]; }
      mx = max(mx, d * p.scale);
    }
    workgroupBarrier();
  }
  var l = 0.0;
  var dsum = 0.0;
  for (var t0 = 0u; t0 < p.S; t0 += ${T}u) {
    ${loadTile('Ks', 'qkv', 'p.F', 'p.W', T, hd)}
    ${loadTile('Vs', 'qkv', 'p.F', '2u * p.W', T, hd)}
    workgroupBarrier();
    let n = min(${T}u, p.S - t0);
    for (var tt = 0u; tt < n; tt++) {
      var d = 0.0;
      var dp = 0.0;
      for (var j = 0u; j < ${hd}u; j++) {
        d = d + q[j] * Ks[tt * ${hd}u + j];
        dp = dp + g[j] * Vs[tt * ${hd}u + j];
      }
      let e = exp(d * p.scale - mx);
      l = l + e;
      dsum = dsum + e * dp;
    }
    workgroupBarrier();
  }
  let D = dsum / l;
  var dq: array<f32, ${hd}>;
  for (var t0 = 0u; t0 < p.S; t0 += ${T}u) {
    ${loadTile('Ks', 'qkv', 'p.F', 'p.W', T, hd)}
    ${loadTile('Vs', 'qkv', 'p.F', '2u * p.W', T, hd)}
    workgroupBarrier();
    let n = min(${T}u, p.S - t0);
    for (var tt = 0u; tt < n; tt++) {
      var d = 0.0;
      var dp = 0.0;
      for (var j = 0u; j < ${hd}u; j++) {
        d = d + q[j] * Ks[tt * ${hd}u + j];
        dp = dp + g[j] * Vs[tt * ${hd}u + j];
      }
      let pr = exp(d * p.scale - mx) / l;
      let ds = pr * (dp - D) * p.scale;
      for (var j = 0u; j < ${hd}u; j++) { dq[j] = dq[j] + ds * Ks[tt * ${hd}u + j]; }
    }
    workgroupBarrier();
  }
  if (valid) {
    for (var j = 0u; j < ${hd}u; j++) { dqkv[(b * p.S + s) * p.F + h * ${hd}u + j] = dq[j]; }
    let o = (bh * p.S + s) * 3u;
    st[o] = mx;
    st[o + 1u] = l;
    st[o + 2u] = D;
  }
}
`;
};

/** Per key row t: dK and dV into dqkv's K and V parts, from the query rows' (m, l, D). */
const backwardKeyWgsl = (hd: number): string => {
  const T = tileRows(hd, 12);
  return `${header}
@group(0) @binding(1) var<storage, read> qkv: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read> st: array<f32>;
@group(0) @binding(4) var<storage, read_write> dqkv: array<f32>;
var<workgroup> Qs: array<f32, ${T * hd}>;
var<workgroup> Gs: array<f32, ${T * hd}>;
var<workgroup> Ss: array<f32, ${T * 3}>;

@compute @workgroup_size(${RB})
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  ${prologue(hd)}
  var kr: array<f32, ${hd}>;
  var vr: array<f32, ${hd}>;
  for (var j = 0u; j < ${hd}u; j++) {
    kr[j] = qkv[(b * p.S + row) * p.F + p.W + h * ${hd}u + j];
    vr[j] = qkv[(b * p.S + row) * p.F + 2u * p.W + h * ${hd}u + j];
  }
  var dk: array<f32, ${hd}>;
  var dv: array<f32, ${hd}>;
  for (var t0 = 0u; t0 < p.S; t0 += ${T}u) {
    ${loadTile('Qs', 'qkv', 'p.F', '0u', T, hd)}
    ${loadTile('Gs', 'dy', 'p.W', '0u', T, hd)}
    for (var e = lid.x; e < ${T * 3}u; e += ${RB}u) {
      let u = t0 + e / 3u;
      var v = 1.0;
      if (u < p.S) { v = st[(bh * p.S + u) * 3u + e % 3u]; }
      Ss[e] = v;
    }
    workgroupBarrier();
    let n = min(${T}u, p.S - t0);
    for (var uu = 0u; uu < n; uu++) {
      var d = 0.0;
      var dp = 0.0;
      for (var j = 0u; j < ${hd}u; j++) {
        d = d + Qs[uu * ${hd}u + j] * kr[j];
        dp = dp + Gs[uu * ${hd}u + j] * vr[j];
      }
      let pr = exp(d * p.scale - Ss[uu * 3u]) / Ss[uu * 3u + 1u];
      let ds = pr * (dp - Ss[uu * 3u + 2u]) * p.scale;
      for (var j = 0u; j < ${hd}u; j++) {
        dv[j] = dv[j] + pr * Gs[uu * ${hd}u + j];
        dk[j] = dk[j] + ds * Qs[uu * ${hd}u + j];
      }
    }
    workgroupBarrier();
  }
  if (valid) {
    for (var j = 0u; j < ${hd}u; j++) {
      dqkv[(b * p.S + s) * p.F + p.W + h * ${hd}u + j] = dk[j];
      dqkv[(b * p.S + s) * p.F + 2u * p.W + h * ${hd}u + j] = dv[j];
    }
  }
}
`;
};

/** The parameter block and grid of the WGSL kernels: one workgroup per (batch, head, block of RB rows). */
const launchOf = (c: ReturnType<typeof dimsOf>, B: number): { params: ArrayBuffer; groups: [number, number, number] } => {
  const blocks = Math.ceil(c.S / RB);
  const tiles = blocks * B * c.Hh;
  const { gx, groups } = foldGrid(blocks, tiles);
  const params = new ArrayBuffer(32);
  new Uint32Array(params, 0, 4).set([c.S, c.Hh, c.W, c.F]);
  new Float32Array(params, 16, 1)[0] = 1 / Math.sqrt(c.hd);
  new Uint32Array(params, 20, 3).set([gx, blocks, tiles]);
  return { params, groups };
};

/** Whether the WGSL kernels take these shapes. */
const useWgsl = (dev: Device, c: ReturnType<typeof dimsOf>): boolean => dev.mode === 'webgpu' && c.hd >= 1 && c.hd <= MAX_WGSL_HD && Number.isInteger(c.hd);

/** out[B,S,W] = per head softmax(Q_h K_hᵀ/√hd)·V_h. */
export const attention = (dev: Device, qkv: GpuTensor, numHeads: number): GpuTensor => {
  const shape = shapes.attention(qkv.shape, numHeads);
  const c = dimsOf(qkv, numHeads);
  if (useWgsl(dev, c)) {
    const [out] = dev.runWgsl({
      name: `attention.forward.hd${c.hd}`,
      code: () => forwardWgsl(c.hd),
      ...launchOf(c, qkv.shape[0]),
      inputs: [qkv],
      outputs: [shape],
    });
    return out;
  }
  const P = probabilities(dev, qkv, c, 'attention');
  const out = dev.run({ name: 'attention.output', body: outputBody, constants: c, args: [P, qkv], shape });
  dev.release(P);
  return out;
};

/** dqkv[B,S,3W] from dy[B,S,W]. */
export const attentionBackward = (dev: Device, dy: GpuTensor, qkv: GpuTensor, numHeads: number): GpuTensor => {
  const shape = shapes.attentionBackward(dy.shape, qkv.shape, numHeads);
  const c = dimsOf(qkv, numHeads);
  if (useWgsl(dev, c)) {
    const B = qkv.shape[0];
    const { params, groups } = launchOf(c, B);
    const [dq, st] = dev.runWgsl({
      name: `attentionBackward.query.hd${c.hd}`,
      code: () => backwardQueryWgsl(c.hd),
      params,
      inputs: [qkv, dy],
      outputs: [shape, [B, c.Hh, c.S, 3]],
      groups,
    });
    const [dqkv] = dev.runWgsl({
      name: `attentionBackward.key.hd${c.hd}`,
      code: () => backwardKeyWgsl(c.hd),
      params,
      inputs: [qkv, dy, st],
      outputs: [dq],
      groups,
    });
    dev.release(st);
    return dqkv;
  }
  const P = probabilities(dev, qkv, c, 'attentionBackward');
  const dP = dev.run({ name: 'attentionBackward.dProbs', body: dProbsBody, constants: c, args: [dy, qkv], shape: P.shape });
  const dS = dev.run({ name: 'attentionBackward.dScores', body: dScoresBody, constants: c, args: [P, dP, 1 / Math.sqrt(c.hd)], shape: P.shape });
  dev.release(dP);
  const dqkv = dev.run({ name: 'attentionBackward.dQkv', body: dQkvBody, constants: c, args: [dS, P, qkv, dy], shape });
  dev.release(dS);
  dev.release(P);
  return dqkv;
};
