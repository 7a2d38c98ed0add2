// The fused products on the CPU engine: linearRope (QKV projection with RoPE) and linearSwiglu
// (gate_up projection with SwiGLU), and their backwards, as one task over row panels each
// (fused.wat.ts): a thread applies the activation to the rows whose product it has just computed
// (forward), or the activation's backward to the rows whose dX product it is about to compute
// (backward), while they are in its cache; the dW product then runs as in linearBackward. What they
// compute is src/core/fused.ts's composition, which also serves shapes with an empty axis.
// Legend: N rows (batch·sequence), K inputs, M outputs (W = heads·hd, or 2I), S sequence.

import type { LinearGrads } from '../../core/backend.ts';
import type { Parts } from '../../core/fused.ts';
import { composedLinearRope, composedLinearRopeBackward, composedLinearSwiglu, composedLinearSwigluBackward } from '../../core/fused.ts';
import { shapes } from '../../core/shapes.ts';
import { numel } from '../../core/tensor.ts';
import type { Engine } from './engine.ts';
import { gemmScratchBytes } from './gemm.wat.ts';
import { linear, linearBackward, packedWeight, packedWeightN, weightGrad } from './linear.ts';
import type { SimdTensor } from './memory.ts';
import { rope, ropeBackward } from './rope.ts';
import { swiglu, swigluBackward } from './swiglu.ts';
import { microRows } from './wat.ts';

/** The engine's unfused kernels, for the composition where an axis is empty. */
const parts = (e: Engine): Parts<SimdTensor> => ({
  shape: (t) => t.shape,
  dispose: (t) => e.mem.release(t),
  linear: (x, w, b) => linear(e, x, w, b),
  linearBackward: (dy, x, w, withBias) => linearBackward(e, dy, x, w, withBias),
  rope: (x, cos, sin, hd, nh) => rope(e, x, cos, sin, hd, nh),
  ropeBackward: (dy, cos, sin, hd, nh) => ropeBackward(e, dy, cos, sin, hd, nh),
  swiglu: (gu) => swiglu(e, gu),
  swigluBackward: (dy, gu) => swigluBackward(e, dy, gu),
});

const check = (e: Engine, kernel: string, args: Record<string, SimdTensor>): void => {
  for (const [name, t] of Object.entries(args)) e.mem.check(kernel, name, t);
};

/** N, K, M of a product of x[..., K] with w[M, K]; null when one is 0 (the composition handles those). */
const dims = (x: SimdTensor, w: SimdTensor): { N: number; K: number; M: number } | null => {
  const [M, K] = w.shape;
  const N = numel(x.shape.slice(0, -1));
  return N > 0 && K > 0 && M > 0 ? { N, K, M } : null;
};

/** y[B,S,W] = rope(x[B,S,K]·w[W,K]ᵀ) on the first `rotatedHeads` heads of width headDim. */
export const linearRope = (e: Engine, x: SimdTensor, w: SimdTensor, cos: SimdTensor, sin: SimdTensor, headDim: number, rotatedHeads: number): SimdTensor => {
  check(e, 'linearRope', { x, w, cos, sin });
  const shape = shapes.linearRope(x.shape, w.shape, cos.shape, sin.shape, headDim, rotatedHeads);
  const d = dims(x, w);
  if (d === null) return composedLinearRope(parts(e), x, w, cos, sin, headDim, rotatedHeads);
  const { N, K, M } = d;
  const y = e.mem.alloc(shape);
  const args = [x.offset, packedWeight(e, w), y.offset, N, K, M, cos.offset, sin.offset, shape[1], headDim, rotatedHeads];
  e.pool.run('linearRope', args, Math.ceil(N / microRows(e.variant)), gemmScratchBytes(e.variant), 2 * N * K * M);
  return y;
};

/** dx[B,S,K], dw[W,K] of linearRope for dy[B,S,W]. */
export const linearRopeBackward = (
  e: Engine, dy: SimdTensor, x: SimdTensor, w: SimdTensor, cos: SimdTensor, sin: SimdTensor, headDim: number, rotatedHeads: number,
): LinearGrads<SimdTensor> => {
  check(e, 'linearRopeBackward', { dy, x, w, cos, sin });
  const s = shapes.linearRopeBackward(dy.shape, x.shape, w.shape, cos.shape, sin.shape, headDim, rotatedHeads);
  const d = dims(x, w);
  if (d === null) return composedLinearRopeBackward(parts(e), dy, x, w, cos, sin, headDim, rotatedHeads);
  const { N, K, M } = d;
  const dRaw = e.mem.alloc(dy.shape);
  const dx = e.mem.alloc(s.dx);
  const dw = e.mem.alloc(s.dw);
  const args = [dy.offset, cos.offset, sin.offset, dy.shape[1], headDim, rotatedHeads, dRaw.offset, packedWeightN(e, w), dx.offset, N, K, M];
  e.pool.run('ropeDx', args, Math.ceil(N / microRows(e.variant)), gemmScratchBytes(e.variant), 2 * N * K * M);
  weightGrad(e, dRaw, x, dw, N, K, M);
  e.mem.release(dRaw);
  return { dx, dw };
};

/** gu[...,2I] = x[...,K]·w[2I,K]ᵀ and y[...,I] = swiglu(gu). */
export const linearSwiglu = (e: Engine, x: SimdTensor, w: SimdTensor): { readonly y: SimdTensor; readonly gu: SimdTensor } => {
  check(e, 'linearSwiglu', { x, w });
  const s = shapes.linearSwiglu(x.shape, w.shape);
  const d = dims(x, w);
  if (d === null) return composedLinearSwiglu(parts(e), x, w);
  const { N, K, M } = d;
  const gu = e.mem.alloc(s.gu);
  const y = e.mem.alloc(s.y);
  e.pool.run('linearSwiglu', [x.offset, packedWeight(e, w), gu.offset, y.offset, N, K, M], Math.ceil(N / microRows(e.variant)), gemmScratchBytes(e.variant), 2 * N * K * M);
  return { y, gu };
};

/** dx[...,K], dw[2I,K] of linearSwiglu for dy[...,I]. */
export const linearSwigluBackward = (e: Engine, dy: SimdTensor, x: SimdTensor, w: SimdTensor, gu: SimdTensor): LinearGrads<SimdTensor> => {
  check(e, 'linearSwigluBackward', { dy, x, w, gu });
  const s = shapes.linearSwigluBackward(dy.shape, x.shape, w.shape, gu.shape);
  const d = dims(x, w);
  if (d === null) return composedLinearSwigluBackward(parts(e), dy, x, w, gu);
  const { N, K, M } = d;
  const dgu = e.mem.alloc(gu.shape);
  const dx = e.mem.alloc(s.dx);
  const dw = e.mem.alloc(s.dw);
  const args = [dy.offset, gu.offset, dgu.offset, packedWeightN(e, w), dx.offset, N, K, M];
  e.pool.run('swigluDx', args, Math.ceil(N / microRows(e.variant)), gemmScratchBytes(e.variant), 2 * N * K * M);
  weightGrad(e, dgu, x, dw, N, K, M);
  e.mem.release(dgu);
  return { dx, dw };
};
