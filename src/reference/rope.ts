// Reference rotary position embedding (float64 rotation), "half-split" convention (GPT-NeoX /
// Llama-HF), NOT interleaved pairs. Forward and backward; the cos/sin tables the model builds are in
// src/model/rope-tables.ts. Legend: B batch, S positions, W = heads·hd channels, hd head dim, h = hd/2.

import type { Tensor } from '../core/tensor.ts';
import { wrap64 } from '../core/tensor.ts';
import { shapes } from '../core/shapes.ts';

type T64 = Tensor<Float64Array>;

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
