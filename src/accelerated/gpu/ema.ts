// Exponential moving average of weights on gpu.js (float32): e ← decay·e + (1 − decay)·p.
// webgpu: the same arithmetic as cell-wise WGSL with u32 indices (indexed.ts): gpu.js turns the
// cell index into a float32 number, wrong past 2^24 cells (a puzzle-embedding table passes that).
// emaMany over whole packs (the model's EMA copies packed like its parameters): one WGSL pass.
// CONSUMES e.

import { shapes } from '../../core/shapes.ts';
import type { Device, GpuTensor } from './device.ts';
import type { KernelThis } from './gpujs.ts';
import type { IndexedKernel } from './indexed.ts';
import { runIndexed } from './indexed.ts';

/**
 * e' = decay·e + rest·p, evaluated nearly exactly: each product is split into its float32 value and
 * its rounding error (Veltkamp/Dekker, no FMA needed), decay and rest carry a low-order part, and
 * the two products are added with their error (2Sum). Without this, cancellation between the two
 * terms leaves an error of 2⁻²⁴·|decay·e| in a result that may be far smaller.
 * k = [decay high, decay low, rest high, rest low, 1]; multiplying by k[4] = 1 (known only at run
 * time) keeps shader compilers that rewrite float algebra (Mesa's NIR turns a − (a − x) into x and
 * cancels a product against its own error term) from deleting the error terms.
 */
function emaBody(this: KernelThis<object>, e: Float32Array, p: Float32Array, k: Float32Array): number {
  const i = this.thread.x;
  const dHi = k[0];
  const dLo = k[1];
  const rHi = k[2];
  const rLo = k[3];
  const one = k[4];
  const x = e[i];
  const y = p[i];
  const p1 = dHi * x * one;
  const cx = 4097 * x * one;
  const tx = (cx - x) * one;
  const xh = cx - tx;
  const xl = x - xh;
  const cd = 4097 * dHi * one;
  const td = (cd - dHi) * one;
  const dh = cd - td;
  const dl = dHi - dh;
  const e1 = (((dh * xh - p1) + dh * xl + dl * xh) + dl * xl) * one;
  const p2 = rHi * y * one;
  const cy = 4097 * y * one;
  const ty = (cy - y) * one;
  const yh = cy - ty;
  const yl = y - yh;
  const cr = 4097 * rHi * one;
  const tr = (cr - rHi) * one;
  const rh = cr - tr;
  const rl = rHi - rh;
  const e2 = (((rh * yh - p2) + rh * yl + rl * yh) + rl * yl) * one;
  const sum = (p1 + p2) * one;
  const bv = (sum - p1) * one;
  const es = ((p1 - (sum - bv)) + (p2 - bv)) * one;
  return sum + (es + e1 + e2 + dLo * x + rLo * y);
}

/**
 * emaBody in WGSL; k's five values are scalars of the parameter block (unknown to the compiler).
 * prodErr(a, b, ab) is the rounding error of ab = a·b (the split of each factor, then the four
 * partial products in emaBody's order).
 */
const EMA: IndexedKernel = {
  name: 'ema.cells',
  inputs: ['e', 'pw'],
  sizes: [],
  scalars: ['dHi', 'dLo', 'rHi', 'rLo', 'one'],
  helpers: `fn high(v: f32, one: f32) -> f32 {
  let c = 4097.0 * v * one;
  return c - (c - v) * one;
}
fn prodErr(a: f32, b: f32, ab: f32, one: f32) -> f32 {
  let ah = high(a, one);
  let al = a - ah;
  let bh = high(b, one);
  let bl = b - bh;
  return (((ah * bh - ab) + ah * bl + al * bh) + al * bl) * one;
}`,
  body: `  let one = p.one;
  let x = e[i];
  let y = pw[i];
  let p1 = p.dHi * x * one;
  let e1 = prodErr(p.dHi, x, p1, one);
  let p2 = p.rHi * y * one;
  let e2 = prodErr(p.rHi, y, p2, one);
  let sum = (p1 + p2) * one;
  let bv = (sum - p1) * one;
  let es = ((p1 - (sum - bv)) + (p2 - bv)) * one;
  return sum + (es + e1 + e2 + p.dLo * x + p.rLo * y);`,
};

/** decay and 1 − decay as float32 high and low parts, then 1: emaBody's k. */
const emaScalars = (decay: number): number[] => {
  const f = Math.fround;
  const rest = 1 - decay;
  return [f(decay), f(decay - f(decay)), f(rest), f(rest - f(rest)), 1];
};

/** EMA's cell over two whole packs, written in place into the EMA pack (the same arithmetic as EMA). */
const packsWgsl = (): string => `
struct P { n: u32, gx: u32, dHi: f32, dLo: f32, rHi: f32, rLo: f32, one: f32, p0: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> pw: array<f32>;
@group(0) @binding(2) var<storage, read_write> e: array<f32>;
${EMA.helpers}
fn cell(i: u32) -> f32 {
${EMA.body}
}

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let i = (wid.y * p.gx + wid.x) * 256u + lid.x;
  if (i >= p.n) { return; }
  e[i] = cell(i);
}
`;

/**
 * ema on each (es[i], ps[i]). webgpu: when es and ps are each every view of one pack (two packs, one
 * layout), one pass over the packs' whole length (zero gaps stay zero); otherwise one call each.
 * CONSUMES every e.
 */
export const emaMany = (dev: Device, es: readonly GpuTensor[], ps: readonly GpuTensor[], decay: number): GpuTensor[] => {
  shapes.emaMany(es.map((e) => e.shape), ps.map((p) => p.shape));
  const E = dev.mode === 'webgpu' ? dev.packOf(es) : null;
  const P = dev.packOf(ps);
  if (E !== null && P !== null && E !== P && E.total === P.total && E.offsets.every((o, i) => o === P.offsets[i]) && es.every((e) => dev.writableInPlace(e))) {
    const blocks = Math.ceil(E.total / 256);
    const gx = Math.min(blocks, 65535);
    const params = new ArrayBuffer(32);
    new Uint32Array(params, 0, 2).set([E.total, gx]);
    new Float32Array(params, 8, 5).set(emaScalars(decay));
    const [out] = dev.runWgslPacks({ name: 'ema.packs', code: packsWgsl, params, groups: [gx, Math.ceil(blocks / gx), 1] }, [ps], [es]);
    return out;
  }
  return es.map((e, i) => ema(dev, e, ps[i], decay));
};

/** EMA step; decay and 1 − decay are passed as float32 high and low parts. CONSUMES e. */
export const ema = (dev: Device, e: GpuTensor, p: GpuTensor, decay: number): GpuTensor => {
  const shape = shapes.ema(e.shape, p.shape);
  const k = emaScalars(decay);
  const out = dev.mode === 'webgpu'
    ? runIndexed(dev, EMA, [e, p], shape, {}, { dHi: k[0], dLo: k[1], rHi: k[2], rLo: k[3], one: k[4] })
    : dev.run({ name: 'ema', body: emaBody, args: [e, p, Float32Array.from(k)], shape });
  dev.release(e);
  return out;
};
