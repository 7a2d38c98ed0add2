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
 */
function emaBody(this: KernelThis<object>, e: Float32Array, p: Float32Array, dHi: number, dLo: number, rHi: number, rLo: number): number {
  const i = this.thread.x;
  const x = e[i];
  const y = p[i];
  const p1 = dHi * x;
  const cx = 4097 * x;
  const xh = cx - (cx - x);
  const xl = x - xh;
  const cd = 4097 * dHi;
  const dh = cd - (cd - dHi);
  const dl = dHi - dh;
  const e1 = ((dh * xh - p1) + dh * xl + dl * xh) + dl * xl;
  const p2 = rHi * y;
  const cy = 4097 * y;
  const yh = cy - (cy - y);
  const yl = y - yh;
  const cr = 4097 * rHi;
  const rh = cr - (cr - rHi);
  const rl = rHi - rh;
  const e2 = ((rh * yh - p2) + rh * yl + rl * yh) + rl * yl;
  const sum = p1 + p2;
  const bv = sum - p1;
  const es = (p1 - (sum - bv)) + (p2 - bv);
  return sum + (es + e1 + e2 + dLo * x + rLo * y);
}

/** EMA step; decay and 1 − decay are passed as float32 high and low parts. CONSUMES e. */
export const ema = (dev: Device, e: GpuTensor, p: GpuTensor, decay: number): GpuTensor => {
  const shape = shapes.ema(e.shape, p.shape);
  const f = Math.fround;
  const rest = 1 - decay;
  const out = dev.run({ name: 'ema', body: emaBody, args: [e, p, f(decay), f(decay - f(decay)), f(rest), f(rest - f(rest))], shape });
  dev.release(e);
  return out;
};
