// Sequence plumbing on the CPU engine (copies within the shared memory): concatenation along the
// sequence, a slice and its backward, the reset of halted batch rows to an initial state, and the
// swap of the last two axes (TRM's sequence-axis MLP).
// Legend: B batch, S sequence, D hidden.

import { shapes } from '../../core/shapes.ts';
import { numel } from '../../core/tensor.ts';
import type { Engine } from './engine.ts';
import type { SimdTensor } from './memory.ts';
import { at } from './memory.ts';

/** y[B,P+T,D] = a[B,P,D] then b[B,T,D]. */
export const concatSeq = (e: Engine, a: SimdTensor, b: SimdTensor): SimdTensor => {
  e.mem.check('concatSeq', 'a', a);
  e.mem.check('concatSeq', 'b', b);
  const shape = shapes.concatSeq(a.shape, b.shape);
  const [B, S, D] = shape;
  const P = a.shape[1];
  const T = b.shape[1];
  const y = e.mem.alloc(shape);
  const v = e.mem.f32;
  for (let i = 0; i < B; i++) {
    v.copyWithin(at(y) + i * S * D, at(a) + i * P * D, at(a) + (i + 1) * P * D);
    v.copyWithin(at(y) + (i * S + P) * D, at(b) + i * T * D, at(b) + (i + 1) * T * D);
  }
  return y;
};

/** y[B,len,D] = x[B, start : start+len, D]. */
export const sliceSeq = (e: Engine, x: SimdTensor, start: number, len: number): SimdTensor => {
  e.mem.check('sliceSeq', 'x', x);
  const shape = shapes.sliceSeq(x.shape, start, len);
  const [B, S, D] = x.shape;
  const y = e.mem.alloc(shape);
  const v = e.mem.f32;
  for (let i = 0; i < B; i++) v.copyWithin(at(y) + i * len * D, at(x) + (i * S + start) * D, at(x) + (i * S + start + len) * D);
  return y;
};

/** dx[B,fullLen,D]: dy at [start, start+len), zeros elsewhere. */
export const sliceSeqBackward = (e: Engine, dy: SimdTensor, fullLen: number, start: number): SimdTensor => {
  e.mem.check('sliceSeqBackward', 'dy', dy);
  const shape = shapes.sliceSeqBackward(dy.shape, fullLen, start);
  const [B, len, D] = dy.shape;
  const y = e.mem.alloc(shape);
  const v = e.mem.f32;
  v.fill(0, at(y), at(y) + numel(shape));
  for (let i = 0; i < B; i++) v.copyWithin(at(y) + (i * fullLen + start) * D, at(dy) + i * len * D, at(dy) + (i + 1) * len * D);
  return y;
};

/** y[b] = init[D] at every position where mask[b] ≠ 0, else state[b]. */
export const resetRows = (e: Engine, state: SimdTensor, init: SimdTensor, mask: Uint8Array): SimdTensor => {
  e.mem.check('resetRows', 'state', state);
  e.mem.check('resetRows', 'init', init);
  const shape = shapes.resetRows(state.shape, init.shape, mask.length);
  const [B, S, D] = shape;
  const y = e.mem.alloc(shape);
  const v = e.mem.f32;
  for (let b = 0; b < B; b++) {
    if (mask[b] === 0) v.copyWithin(at(y) + b * S * D, at(state) + b * S * D, at(state) + (b + 1) * S * D);
    else for (let s = 0; s < S; s++) v.copyWithin(at(y) + (b * S + s) * D, at(init), at(init) + D);
  }
  return y;
};

/** y[b,n,m] = x[b,m,n]: x[B,M,N] → y[B,N,M]; its own VJP. */
export const transpose = (e: Engine, x: SimdTensor): SimdTensor => {
  e.mem.check('transpose', 'x', x);
  const shape = shapes.transpose(x.shape);
  const [B, M, N] = x.shape;
  const y = e.mem.alloc(shape);
  const v = e.mem.f32;
  const ix = at(x);
  const iy = at(y);
  for (let b = 0; b < B; b++) {
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) v[iy + (b * N + n) * M + m] = v[ix + (b * M + m) * N + n];
    }
  }
  return y;
};
