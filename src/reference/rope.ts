// Reference rotary position embedding (float64 rotation, float32 tables as the original builds
// them), "half-split" convention (GPT-NeoX / Llama-HF), NOT interleaved pairs. Forward, backward
// and the cos/sin tables. Legend: B batch, S positions, W = heads·hd channels, hd head dim, h = hd/2.

import type { Tensor } from '../core/tensor.ts';
import { wrap64 } from '../core/tensor.ts';
import { shapes } from '../core/shapes.ts';

type T64 = Tensor<Float64Array>;
const f = Math.fround;

/**
 * cos, sin [S, hd] (spec §1.7): inv_freq[i] = 1/theta^(2i/hd) for i < hd/2, freqs[t,i] = t·inv_freq[i],
 * each table row = concat(cos(freqs[t]), cos(freqs[t])). Every step is rounded to float32, as the
 * original computes these tables in float32.
 */
export const ropeTables = (S: number, headDim: number, theta: number): { cos: T64; sin: T64 } => {
  if (!Number.isInteger(headDim) || headDim <= 0 || headDim % 2 !== 0) {
    throw new RangeError(`ropeTables: argument 'headDim' is ${headDim}, expected a positive even integer`);
  }
  if (!Number.isInteger(S) || S < 0) throw new RangeError(`ropeTables: argument 'S' is ${S}, expected an integer ≥ 0`);
  const h = headDim / 2;
  const invFreq = new Float64Array(h);
  for (let i = 0; i < h; i++) invFreq[i] = f(1 / f(Math.pow(theta, f((2 * i) / headDim))));
  const cos = new Float64Array(S * headDim);
  const sin = new Float64Array(S * headDim);
  for (let t = 0; t < S; t++) {
    for (let i = 0; i < h; i++) {
      const a = f(t * invFreq[i]);
      const c = f(Math.cos(a));
      const s = f(Math.sin(a));
      cos[t * headDim + i] = c; // cos[t, i]
      cos[t * headDim + h + i] = c; // cos[t, h + i]
      sin[t * headDim + i] = s;
      sin[t * headDim + h + i] = s;
    }
  }
  return { cos: wrap64([S, headDim], cos), sin: wrap64([S, headDim], sin) };
};

/**
 * y[b,s,hd·j + i] for rotated heads j < rotatedHeads:
 *   i < h:  v[i]·cos[s,i] − v[i+h]·sin[s,i]
 *   i ≥ h:  v[i]·cos[s,i] + v[i−h]·sin[s,i]
 * (that is v·cos + rotate_half(v)·sin); other channels copied.
 */
export const rope = (x: T64, cos: T64, sin: T64, headDim: number, rotatedHeads: number): T64 => {
  const [B, S, W] = shapes.rope(x.shape, cos.shape, sin.shape, headDim, rotatedHeads);
  const h = headDim / 2;
  const y = new Float64Array(x.data);
  for (let b = 0; b < B; b++) {
    for (let s = 0; s < S; s++) {
      const row = (b * S + s) * W; // x[(b*S + s)*W + c]
      for (let j = 0; j < rotatedHeads; j++) {
        const o = row + j * headDim;
        for (let i = 0; i < h; i++) {
          const c1 = cos.data[s * headDim + i];
          const s1 = sin.data[s * headDim + i];
          const c2 = cos.data[s * headDim + h + i];
          const s2 = sin.data[s * headDim + h + i];
          const lo = x.data[o + i];
          const hi = x.data[o + h + i];
          y[o + i] = lo * c1 - hi * s1;
          y[o + h + i] = hi * c2 + lo * s2;
        }
      }
    }
  }
  return wrap64(x.shape, y);
};

/**
 * The transpose of the rotation: dx[i] = dy[i]·cos[i] + dy[i+h]·sin[i+h] (i < h),
 * dx[i] = dy[i]·cos[i] − dy[i−h]·sin[i−h] (i ≥ h); other channels copied.
 */
export const ropeBackward = (dy: T64, cos: T64, sin: T64, headDim: number, rotatedHeads: number): T64 => {
  const [B, S, W] = shapes.ropeBackward(dy.shape, cos.shape, sin.shape, headDim, rotatedHeads);
  const h = headDim / 2;
  const dx = new Float64Array(dy.data);
  for (let b = 0; b < B; b++) {
    for (let s = 0; s < S; s++) {
      const row = (b * S + s) * W;
      for (let j = 0; j < rotatedHeads; j++) {
        const o = row + j * headDim;
        for (let i = 0; i < h; i++) {
          const c1 = cos.data[s * headDim + i];
          const s1 = sin.data[s * headDim + i];
          const c2 = cos.data[s * headDim + h + i];
          const s2 = sin.data[s * headDim + h + i];
          const glo = dy.data[o + i];
          const ghi = dy.data[o + h + i];
          dx[o + i] = glo * c1 + ghi * s2;
          dx[o + h + i] = ghi * c2 - glo * s1;
        }
      }
    }
  }
  return wrap64(dy.shape, dx);
};
