// The rotary position embedding's cos/sin tables, built once on the host by the model (spec §1.7)
// and handed to every backend's `rope` kernel. Float32 rounding at each step, as the original builds
// them. Legend: S positions, hd head dim.

import type { Tensor } from '../core/tensor.ts';
import { wrap64 } from '../core/tensor.ts';

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
