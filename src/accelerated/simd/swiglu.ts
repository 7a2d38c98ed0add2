// SwiGLU on the CPU engine over a fused gu[N,2I] (gate first, then up): y = silu(g)·u and its backward
// into both halves, WebAssembly SIMD by rows (swiglu.wat.ts). Legend: N rows, I inner size.

import { shapes } from '../../core/shapes.ts';
import { numel } from '../../core/tensor.ts';
import type { Engine } from './engine.ts';
import { rowsOf } from './engine.ts';
import type { SimdTensor } from './memory.ts';

/** y[N,I] = silu(g)·u of gu[N,2I]. */
export const swiglu = (e: Engine, gu: SimdTensor): SimdTensor => {
  e.mem.check('swiglu', 'gu', gu);
  const shape = shapes.swiglu(gu.shape);
  const y = e.mem.alloc(shape);
  e.pool.run('swiglu', [gu.offset, y.offset, shape[shape.length - 1]], rowsOf(shape), 0, 20 * numel(shape));
  return y;
};

/** dgu[N,2I] from dy[N,I]. */
export const swigluBackward = (e: Engine, dy: SimdTensor, gu: SimdTensor): SimdTensor => {
  e.mem.check('swigluBackward', 'dy', dy);
  e.mem.check('swigluBackward', 'gu', gu);
  const shape = shapes.swigluBackward(dy.shape, gu.shape);
  const dgu = e.mem.alloc(shape);
  e.pool.run('swigluBwd', [dy.offset, gu.offset, dgu.offset, shape[shape.length - 1] / 2], rowsOf(dy.shape), 0, 15 * numel(shape));
  return dgu;
};
