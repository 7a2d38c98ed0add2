// Rotary position embedding on the CPU engine: the rotation of the first `rotatedHeads` heads of
// x[B,S,W] (other channels copied) and its transpose for the backward, WebAssembly SIMD by rows
// (rope.wat.ts). cos, sin [S, hd].

import { shapes } from '../../core/shapes.ts';
import type { Shape } from '../../core/tensor.ts';
import type { Engine } from './engine.ts';
import type { SimdTensor } from './memory.ts';

/** RoPE (dir 1) or its transpose (dir −1) on the first `heads` heads of x[B,S,W]; other channels copied. */
const ropeApply = (e: Engine, x: SimdTensor, cos: SimdTensor, sin: SimdTensor, shape: Shape, hd: number, heads: number, dir: 1 | -1): SimdTensor => {
  const [B, S, W] = shape;
  const y = e.mem.alloc(shape);
  e.pool.run('rope', [x.offset, cos.offset, sin.offset, y.offset, S, W, hd, heads, dir === 1 ? 1 : 0], B * S, 0, 2 * B * S * W);
  return y;
};

/** y[B,S,W] = x rotated. */
export const rope = (e: Engine, x: SimdTensor, cos: SimdTensor, sin: SimdTensor, headDim: number, rotatedHeads: number): SimdTensor => {
  e.mem.check('rope', 'x', x);
  e.mem.check('rope', 'cos', cos);
  e.mem.check('rope', 'sin', sin);
  const shape = shapes.rope(x.shape, cos.shape, sin.shape, headDim, rotatedHeads);
  return ropeApply(e, x, cos, sin, shape, headDim, rotatedHeads, 1);
};

/** dx[B,S,W] = dy rotated back (the transpose of the rotation). */
export const ropeBackward = (e: Engine, dy: SimdTensor, cos: SimdTensor, sin: SimdTensor, headDim: number, rotatedHeads: number): SimdTensor => {
  e.mem.check('ropeBackward', 'dy', dy);
  e.mem.check('ropeBackward', 'cos', cos);
  e.mem.check('ropeBackward', 'sin', sin);
  const shape = shapes.ropeBackward(dy.shape, cos.shape, sin.shape, headDim, rotatedHeads);
  return ropeApply(e, dy, cos, sin, shape, headDim, rotatedHeads, -1);
};
