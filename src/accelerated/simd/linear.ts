// Linear layers on the CPU engine: y = x·wᵀ (+ b) and its backward (dX = dY·W, dW = dYᵀ·X, db = Σ dY),
// the three products as WebAssembly SIMD GEMMs over row panels (linear.wat.ts on gemm.wat.ts). A
// weight's packed copies (wᵀ for the forward product, w for dX) are made once per handle and kept
// until the handle is disposed or consumed. Legend: N rows (batch·sequence), K inputs, M outputs.

import type { LinearGrads } from '../../core/backend.ts';
import { shapes } from '../../core/shapes.ts';
import { numel } from '../../core/tensor.ts';
import type { Engine } from './engine.ts';
import { gemmScratchBytes } from './gemm.wat.ts';
import type { SimdTensor } from './memory.ts';
import { at } from './memory.ts';
import { microRows } from './wat.ts';

/** B = wᵀ of w[M,K] packed in 8-column panels for the forward product (cached per handle). */
export const packedWeight = (e: Engine, w: SimdTensor): number => {
  const [M, K] = w.shape;
  const panels = Math.ceil(M / 8);
  return e.mem.derive(w, 'packBT', panels * K * 8 * 4, (dst) => e.pool.run('packBT', [w.offset, M, K, dst], panels, 0));
};

/** B = w[M,K] itself packed in 8-column panels for dX = dY·W (cached per handle). */
export const packedWeightN = (e: Engine, w: SimdTensor): number => {
  const [M, K] = w.shape;
  const panels = Math.ceil(K / 8);
  return e.mem.derive(w, 'packB', panels * M * 8 * 4, (dst) => e.pool.run('packB', [w.offset, M, K, dst], panels, 0, M * K));
};

/** y[..., M] = x[..., K]·w[M,K]ᵀ (+ b[M]). */
export const linear = (e: Engine, x: SimdTensor, w: SimdTensor, b?: SimdTensor): SimdTensor => {
  e.mem.check('linear', 'x', x);
  e.mem.check('linear', 'w', w);
  if (b !== undefined) e.mem.check('linear', 'b', b);
  const shape = shapes.linear(x.shape, w.shape, b?.shape);
  const [M, K] = w.shape;
  const N = numel(x.shape.slice(0, -1));
  const y = e.mem.alloc(shape);
  if (N === 0 || M === 0) return y;
  const wp = packedWeight(e, w);
  const MR = microRows(e.variant);
  e.pool.run('linear', [x.offset, wp, b === undefined ? 0 : b.offset, y.offset, N, K, M], Math.ceil(N / MR), gemmScratchBytes(e.variant), 2 * N * K * M);
  return y;
};

/** dw[M,K] = dy[N,M]ᵀ·x[N,K] into dw (x packed in 8-column panels for the product, then freed). */
export const weightGrad = (e: Engine, dy: SimdTensor, x: SimdTensor, dw: SimdTensor, N: number, K: number, M: number): void => {
  if (M === 0 || K === 0) return;
  if (N === 0) {
    e.mem.f32.fill(0, at(dw), at(dw) + M * K);
    return;
  }
  const panels = Math.ceil(K / 8);
  const xp = e.mem.block(panels * N * 8 * 4);
  e.pool.run('packB', [x.offset, N, K, xp.offset], panels, 0, N * K);
  e.pool.run('linearDw', [dy.offset, xp.offset, dw.offset, N, K, M], Math.ceil(M / microRows(e.variant)), gemmScratchBytes(e.variant), 2 * N * K * M);
  e.mem.free(xp);
};

/** dx[..., K], dw[M,K] and (withBias) db[M] from dy[..., M], x[..., K], w[M,K]. */
export const linearBackward = (e: Engine, dy: SimdTensor, x: SimdTensor, w: SimdTensor, withBias: boolean): LinearGrads<SimdTensor> => {
  const { mem, pool } = e;
  mem.check('linearBackward', 'dy', dy);
  mem.check('linearBackward', 'x', x);
  mem.check('linearBackward', 'w', w);
  const s = shapes.linearBackward(dy.shape, x.shape, w.shape);
  const [M, K] = w.shape;
  const N = numel(dy.shape.slice(0, -1));
  const MR = microRows(e.variant);
  const gemmScratch = gemmScratchBytes(e.variant);
  const dx = mem.alloc(s.dx);
  const dw = mem.alloc(s.dw);
  if (K > 0 && N > 0) {
    if (M > 0) pool.run('linearDx', [dy.offset, packedWeightN(e, w), dx.offset, N, K, M], Math.ceil(N / MR), gemmScratch, 2 * N * K * M);
    else mem.f32.fill(0, at(dx), at(dx) + N * K);
  }
  weightGrad(e, dy, x, dw, N, K, M);
  if (!withBias) return { dx, dw };
  const db = mem.alloc(s.db);
  const acc = new Float64Array(M);
  const v = mem.f32;
  const o = at(dy);
  for (let n = 0; n < N; n++) for (let m = 0; m < M; m++) acc[m] += v[o + n * M + m];
  v.set(acc, at(db));
  return { dx, dw, db };
};
