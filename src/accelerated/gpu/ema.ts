// Exponential moving average of weights on gpu.js (float32): e ← decay·e + (1 − decay)·p.
// CONSUMES e.

import { shapes } from '../../core/shapes.ts';
import type { Device, GpuTensor } from './device.ts';
import type { KernelThis } from './gpujs.ts';

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

/** EMA step; decay and 1 − decay are passed as float32 high and low parts. CONSUMES e. */
export const ema = (dev: Device, e: GpuTensor, p: GpuTensor, decay: number): GpuTensor => {
  const shape = shapes.ema(e.shape, p.shape);
  const f = Math.fround;
  const rest = 1 - decay;
  const k = Float32Array.from([f(decay), f(decay - f(decay)), f(rest), f(rest - f(rest)), 1]);
  const out = dev.run({ name: 'ema', body: emaBody, args: [e, p, k], shape });
  dev.release(e);
  return out;
};
