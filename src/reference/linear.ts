// Reference dense layer (float64): y = x·wᵀ (+ b) and its vector-Jacobian product.
// Plain loops, fresh outputs, arguments never written. Legend: N rows (product of x's leading axes),
// K input features, M output features.

import type { Tensor } from '../core/tensor.ts';
import { numel, wrap64 } from '../core/tensor.ts';
import { shapes } from '../core/shapes.ts';

type T64 = Tensor<Float64Array>;

/** y[N,M] = x[N,K]·w[M,K]ᵀ + b[M]; x may carry leading axes, y keeps them. */
export const linear = (x: T64, w: T64, b?: T64): T64 => {
  const yShape = shapes.linear(x.shape, w.shape, b?.shape);
  const [M, K] = w.shape;
  const N = K === 0 ? numel(x.shape.slice(0, -1)) : x.data.length / K;
  const y = new Float64Array(N * M);
  for (let n = 0; n < N; n++) {
    for (let m = 0; m < M; m++) {
      let acc = b === undefined ? 0 : b.data[m];
      for (let k = 0; k < K; k++) acc += x.data[n * K + k] * w.data[m * K + k]; // x[n,k]·w[m,k]
      y[n * M + m] = acc;
    }
  }
  return wrap64(yShape, y);
};

/** dx[N,K] = dy[N,M]·w[M,K]; dw[M,K] = Σ_n dy[n,m]·x[n,k]; db[M] = Σ_n dy[n,m]. */
export const linearBackward = (dy: T64, x: T64, w: T64, withBias: boolean): { dx: T64; dw: T64; db?: T64 } => {
  shapes.linearBackward(dy.shape, x.shape, w.shape);
  const [M, K] = w.shape;
  const N = numel(x.shape.slice(0, -1));
  const dx = new Float64Array(N * K);
  const dw = new Float64Array(M * K);
  const db = new Float64Array(M);
  for (let n = 0; n < N; n++) {
    for (let m = 0; m < M; m++) {
      const g = dy.data[n * M + m]; // dy[n,m]
      db[m] += g;
      for (let k = 0; k < K; k++) {
        dx[n * K + k] += g * w.data[m * K + k];
        dw[m * K + k] += g * x.data[n * K + k];
      }
    }
  }
  const out = { dx: wrap64(x.shape, dx), dw: wrap64(w.shape, dw) };
  return withBias ? { ...out, db: wrap64([M], db) } : out;
};
