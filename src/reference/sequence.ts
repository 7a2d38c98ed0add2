// Reference sequence plumbing (float64): concatenating the puzzle slots before the tokens,
// slicing positions (and placing a slice's gradient back), and resetting halted rows of the
// recurrent state to its initial vector, and swapping the last two axes (TRM's sequence-axis MLP). Legend: B batch, S/P/T positions, D width.

import type { Tensor } from '../core/tensor.ts';
import { wrap64 } from '../core/tensor.ts';
import { shapes } from '../core/shapes.ts';

type T64 = Tensor<Float64Array>;

/** y[B,P+T,D] = a[B,P,D] followed by b[B,T,D] along the sequence axis. */
export const concatSeq = (a: T64, b: T64): T64 => {
  const shape = shapes.concatSeq(a.shape, b.shape);
  const [B, S, D] = shape;
  const P = a.shape[1];
  const T = b.shape[1];
  const y = new Float64Array(B * S * D);
  for (let i = 0; i < B; i++) {
    y.set(a.data.subarray(i * P * D, (i + 1) * P * D), i * S * D); // y[(i*S + s)*D + d], s < P
    y.set(b.data.subarray(i * T * D, (i + 1) * T * D), (i * S + P) * D); // s ≥ P
  }
  return wrap64(shape, y);
};

/** y[b,s,d] = x[b,start+s,d] for s < len. */
export const sliceSeq = (x: T64, start: number, len: number): T64 => {
  const shape = shapes.sliceSeq(x.shape, start, len);
  const [B, S, D] = x.shape;
  const y = new Float64Array(B * len * D);
  for (let b = 0; b < B; b++) {
    y.set(x.data.subarray((b * S + start) * D, (b * S + start + len) * D), b * len * D);
  }
  return wrap64(shape, y);
};

/** dx[B,fullLen,D]: zeros with dy[B,len,D] at positions start..start+len−1. */
export const sliceSeqBackward = (dy: T64, fullLen: number, start: number): T64 => {
  const shape = shapes.sliceSeqBackward(dy.shape, fullLen, start);
  const [B, len, D] = dy.shape;
  const dx = new Float64Array(B * fullLen * D);
  for (let b = 0; b < B; b++) {
    dx.set(dy.data.subarray(b * len * D, (b + 1) * len * D), (b * fullLen + start) * D);
  }
  return wrap64(shape, dx);
};

/** y[b] = init broadcast over S where mask[b] ≠ 0, else state[b]. */
export const resetRows = (state: T64, init: T64, mask: Uint8Array): T64 => {
  const shape = shapes.resetRows(state.shape, init.shape, mask.length);
  const [B, S, D] = shape;
  const y = new Float64Array(state.data);
  for (let b = 0; b < B; b++) {
    if (mask[b] === 0) continue;
    for (let s = 0; s < S; s++) y.set(init.data, (b * S + s) * D);
  }
  return wrap64(shape, y);
};

/** y[b,n,m] = x[b,m,n]: x[B,M,N] → y[B,N,M]; its own VJP (dx = transpose(dy)). */
export const transpose = (x: T64): T64 => {
  const shape = shapes.transpose(x.shape);
  const [B, M, N] = x.shape;
  const y = new Float64Array(B * M * N);
  for (let b = 0; b < B; b++) {
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) y[(b * N + n) * M + m] = x.data[(b * M + m) * N + n];
    }
  }
  return wrap64(shape, y);
};
