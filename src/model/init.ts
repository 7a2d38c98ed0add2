// Initialization of spec §1.9: the truncated normal of the original (`trunc_normal_init_`, a port of
// JAX's initializer: the requested std is the std of the distribution truncated at ±2σ, sampled as
// erfinv(uniform(erf(−√2), erf(√2)))·√2·comp_std and clipped), zeros, and constants. Draws from the
// seeded Rng only, so one seed gives one model. Host float64 values; uploading is the caller's job.

import type { Rng } from '../core/rng.ts';
import type { Tensor } from '../core/tensor.ts';
import { numel, wrap64 } from '../core/tensor.ts';
import type { Layout } from './layout.ts';

const SQRT2 = Math.SQRT2;
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/** erf(x) in float64: Maclaurin series for |x| < 2.5 (error < 1e-15), continued fraction beyond. */
export const erf = (x: number): number => {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // erf(x) = 2/√π Σ_n (−1)^n x^(2n+1) / (n! (2n+1))
    let term = ax;
    let sum = ax;
    const x2 = ax * ax;
    for (let n = 1; n < 80; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * TWO_OVER_SQRT_PI * sum;
  }
  // erfc(x) = e^{−x²}/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...)))) (Lentz-free backward evaluation)
  let f = ax;
  for (let k = 60; k >= 1; k--) f = ax + k / 2 / f;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
};

/** erfinv(y) for y in (−1, 1): Giles' single-precision approximation refined by Newton steps on erf. */
export const erfinv = (y: number): number => {
  if (!(y > -1 && y < 1)) {
    if (y === 1) return Infinity;
    if (y === -1) return -Infinity;
    return NaN;
  }
  let w = -Math.log((1 - y) * (1 + y));
  let x: number;
  if (w < 5) {
    w -= 2.5;
    let p = 2.81022636e-8;
    p = 3.43273939e-7 + p * w;
    p = -3.5233877e-6 + p * w;
    p = -4.39150654e-6 + p * w;
    p = 0.00021858087 + p * w;
    p = -0.00125372503 + p * w;
    p = -0.00417768164 + p * w;
    p = 0.246640727 + p * w;
    p = 1.50140941 + p * w;
    x = p * y;
  } else {
    w = Math.sqrt(w) - 3;
    let p = -0.000200214257;
    p = 0.000100950558 + p * w;
    p = 0.00134934322 + p * w;
    p = -0.00367342844 + p * w;
    p = 0.00573950773 + p * w;
    p = -0.0076224613 + p * w;
    p = 0.00943887047 + p * w;
    p = 1.00167406 + p * w;
    p = 2.83297682 + p * w;
    x = p * y;
  }
  for (let i = 0; i < 3; i++) {
    const err = erf(x) - y;
    x -= err / (TWO_OVER_SQRT_PI * Math.exp(-x * x));
  }
  return x;
};

/** comp_std / std for truncation at ±2σ: 1/sqrt(1 − 4φ(2)/z) ≈ 1.1368472343. */
export const TRUNC_STD_FACTOR = (() => {
  const phi2 = Math.exp(-2) / Math.sqrt(2 * Math.PI);
  const z = erf(2 / SQRT2);
  return 1 / Math.sqrt(1 - (4 * phi2) / z);
})();

/** n samples of the truncated normal whose (truncated) std is `std` (zeros when std = 0). */
export const truncatedNormal = (rng: Rng, n: number, std: number): Float64Array => {
  const out = new Float64Array(n);
  if (std === 0) return out;
  const a = erf(-2 / SQRT2);
  const b = erf(2 / SQRT2);
  const comp = std * TRUNC_STD_FACTOR;
  for (let i = 0; i < n; i++) {
    const u = a + (b - a) * rng.uniform();
    const w = erfinv(u) * SQRT2 * comp;
    out[i] = Math.min(2 * comp, Math.max(-2 * comp, w));
  }
  return out;
};

/** Fresh values for every layout entry, in layout order, from `rng` (spec §1.9). */
export const initialValues = (layout: Layout, rng: Rng): Map<string, Tensor<Float64Array>> => {
  const out = new Map<string, Tensor<Float64Array>>();
  for (const e of layout) {
    const n = numel(e.shape);
    const data = e.fill !== undefined ? new Float64Array(n).fill(e.fill) : truncatedNormal(rng, n, e.initStd);
    out.set(e.name, wrap64(e.shape, data));
  }
  return out;
};
