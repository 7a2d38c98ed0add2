// RMSNorm on the CPU engine, alone or fused with the residual add before it (post-norm HRM blocks):
// y = x/√(mean(x²) + eps) with x = a (+ b), and the backward into x. WebAssembly SIMD by rows
// (rms-norm.wat.ts). Legend: rows × D (the last axis).

import { shapes } from '../../core/shapes.ts';
import { numel } from '../../core/tensor.ts';
import type { Engine } from './engine.ts';
import { rowsOf } from './engine.ts';
import type { SimdTensor } from './memory.ts';

/** y = rmsNorm(x) over the last axis. */
export const rmsNorm = (e: Engine, x: SimdTensor, eps: number): SimdTensor => {
  e.mem.check('rmsNorm', 'x', x);
  const shape = shapes.rmsNorm(x.shape);
  const y = e.mem.alloc(shape);
  e.pool.run('addRms', [x.offset, 0, y.offset, shape[shape.length - 1], eps], rowsOf(shape), 0, 3 * numel(shape));
  return y;
};

/** dx from dy and x. */
export const rmsNormBackward = (e: Engine, dy: SimdTensor, x: SimdTensor, eps: number): SimdTensor => {
  e.mem.check('rmsNormBackward', 'dy', dy);
  e.mem.check('rmsNormBackward', 'x', x);
  const shape = shapes.rmsNormBackward(dy.shape, x.shape);
  const dx = e.mem.alloc(shape);
  e.pool.run('addRmsBwd', [dy.offset, x.offset, 0, dx.offset, shape[shape.length - 1], eps], rowsOf(shape), 0, 5 * numel(shape));
  return dx;
};

/** y = rmsNorm(a + b). */
export const addRmsNorm = (e: Engine, a: SimdTensor, b: SimdTensor, eps: number): SimdTensor => {
  e.mem.check('addRmsNorm', 'a', a);
  e.mem.check('addRmsNorm', 'b', b);
  const shape = shapes.addRmsNorm(a.shape, b.shape);
  const y = e.mem.alloc(shape);
  e.pool.run('addRms', [a.offset, b.offset, y.offset, shape[shape.length - 1], eps], rowsOf(shape), 0, 4 * numel(shape));
  return y;
};

/** d(a + b) from dy (the same gradient reaches a and b). */
export const addRmsNormBackward = (e: Engine, dy: SimdTensor, a: SimdTensor, b: SimdTensor, eps: number): SimdTensor => {
  e.mem.check('addRmsNormBackward', 'dy', dy);
  e.mem.check('addRmsNormBackward', 'a', a);
  e.mem.check('addRmsNormBackward', 'b', b);
  const shape = shapes.addRmsNormBackward(dy.shape, a.shape, b.shape);
  const dx = e.mem.alloc(shape);
  e.pool.run('addRmsBwd', [dy.offset, a.offset, b.offset, dx.offset, shape[shape.length - 1], eps], rowsOf(shape), 0, 6 * numel(shape));
  return dx;
};
