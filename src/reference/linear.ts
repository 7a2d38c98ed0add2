// Reference dense layer (float64): y = x·wᵀ (+ b) and its vector-Jacobian product.
// Plain indexed loops, fresh outputs, arguments never written; no SIMD, threads or tiling.
// The loops are ordered so every inner loop walks contiguous rows (x, w, dx and dw rows along K),
// with offsets and sums in locals, and four outputs (or four rows) share one pass over a row:
// four independent sums per trip instead of one dependent chain. Legend: N rows (product of x's
// leading axes), K input features, M output features.

import type { Tensor } from '../core/tensor.ts';
import { numel, wrap64 } from '../core/tensor.ts';
import { shapes } from '../core/shapes.ts';

type T64 = Tensor<Float64Array>;

/**
 * y[N,M] = x[N,K]·w[M,K]ᵀ + b[M]; x may carry leading axes, y keeps them. Each y[n,m] is summed
 * as b[m] + Σ_k x[n,k]·w[m,k] in order k = 0…K−1, for four m at a time (then the rest one by one).
 */
export const linear = (x: T64, w: T64, b?: T64): T64 => {
  const yShape = shapes.linear(x.shape, w.shape, b?.shape);
  const [M, K] = w.shape;
  const N = K === 0 ? numel(x.shape.slice(0, -1)) : x.data.length / K;
  const xd = x.data;
  const wd = w.data;
  const bias = (m: number): number => (b === undefined ? 0 : b.data[m]);
  const y = new Float64Array(N * M);
  for (let n = 0; n < N; n++) {
    const xo = n * K; // row x[n,:]
    const yo = n * M; // row y[n,:]
    let m = 0;
    for (; m + 4 <= M; m += 4) {
      const w0 = m * K; // rows w[m..m+3,:]
      const w1 = w0 + K;
      const w2 = w1 + K;
      const w3 = w2 + K;
      let a0 = bias(m);
      let a1 = bias(m + 1);
      let a2 = bias(m + 2);
      let a3 = bias(m + 3);
      for (let k = 0; k < K; k++) {
        const xk = xd[xo + k]; // x[n,k]
        a0 += xk * wd[w0 + k];
        a1 += xk * wd[w1 + k];
        a2 += xk * wd[w2 + k];
        a3 += xk * wd[w3 + k];
      }
      y[yo + m] = a0;
      y[yo + m + 1] = a1;
      y[yo + m + 2] = a2;
      y[yo + m + 3] = a3;
    }
    for (; m < M; m++) {
      const wo = m * K;
      let acc = bias(m);
      for (let k = 0; k < K; k++) acc += xd[xo + k] * wd[wo + k]; // x[n,k]·w[m,k]
      y[yo + m] = acc;
    }
  }
  return wrap64(yShape, y);
};

/**
 * dx[N,K] = dy[N,M]·w[M,K]; dw[M,K] = Σ_n dy[n,m]·x[n,k]; db[M] = Σ_n dy[n,m].
 * dx: row n gathers four rows w[m..m+3,:] per pass (i-k-j order); dw: row m gathers four rows
 * x[n..n+3,:] per pass; the rest one by one.
 */
export const linearBackward = (dy: T64, x: T64, w: T64, withBias: boolean): { dx: T64; dw: T64; db?: T64 } => {
  shapes.linearBackward(dy.shape, x.shape, w.shape);
  const [M, K] = w.shape;
  const N = numel(x.shape.slice(0, -1));
  const xd = x.data;
  const wd = w.data;
  const gd = dy.data;
  const dx = new Float64Array(N * K);
  const dw = new Float64Array(M * K);
  const db = new Float64Array(M);
  // dx[n,:] = Σ_m dy[n,m]·w[m,:]
  for (let n = 0; n < N; n++) {
    const xo = n * K; // row dx[n,:]
    const go = n * M; // row dy[n,:]
    let m = 0;
    for (; m + 4 <= M; m += 4) {
      const g0 = gd[go + m];
      const g1 = gd[go + m + 1];
      const g2 = gd[go + m + 2];
      const g3 = gd[go + m + 3];
      const w0 = m * K; // rows w[m..m+3,:]
      const w1 = w0 + K;
      const w2 = w1 + K;
      const w3 = w2 + K;
      for (let k = 0; k < K; k++) dx[xo + k] += g0 * wd[w0 + k] + g1 * wd[w1 + k] + g2 * wd[w2 + k] + g3 * wd[w3 + k];
    }
    for (; m < M; m++) {
      const g = gd[go + m];
      const wo = m * K;
      for (let k = 0; k < K; k++) dx[xo + k] += g * wd[wo + k];
    }
  }
  // dw[m,:] = Σ_n dy[n,m]·x[n,:], db[m] = Σ_n dy[n,m]
  let n = 0;
  for (; n + 4 <= N; n += 4) {
    const x0 = n * K; // rows x[n..n+3,:]
    const x1 = x0 + K;
    const x2 = x1 + K;
    const x3 = x2 + K;
    const go = n * M; // rows dy[n..n+3,:]
    for (let m = 0; m < M; m++) {
      const g0 = gd[go + m];
      const g1 = gd[go + M + m];
      const g2 = gd[go + 2 * M + m];
      const g3 = gd[go + 3 * M + m];
      const wo = m * K; // row dw[m,:]
      db[m] += g0 + g1 + g2 + g3;
      for (let k = 0; k < K; k++) dw[wo + k] += g0 * xd[x0 + k] + g1 * xd[x1 + k] + g2 * xd[x2 + k] + g3 * xd[x3 + k];
    }
  }
  for (; n < N; n++) {
    const xo = n * K;
    const go = n * M;
    for (let m = 0; m < M; m++) {
      const g = gd[go + m];
      const wo = m * K;
      db[m] += g;
      for (let k = 0; k < K; k++) dw[wo + k] += g * xd[xo + k];
    }
  }
  const out = { dx: wrap64(x.shape, dx), dw: wrap64(w.shape, dw) };
  return withBias ? { ...out, db: wrap64([M], db) } : out;
};
