// Exponential moving average of parameters on the CPU engine, in JS over the shared memory. The old
// average's handle is consumed.

import { shapes } from '../../core/shapes.ts';
import { numel } from '../../core/tensor.ts';
import type { Engine } from './engine.ts';
import type { SimdTensor } from './memory.ts';
import { at } from './memory.ts';

/** e' = decay·e + (1 − decay)·p (any one shape). */
export const ema = (e: Engine, avg: SimdTensor, p: SimdTensor, decay: number): SimdTensor => {
  const { mem } = e;
  mem.check('ema', 'e', avg);
  mem.check('ema', 'p', p);
  const shape = shapes.ema(avg.shape, p.shape);
  const out = mem.consume(avg, shape);
  const v = mem.f32;
  const n = numel(shape);
  const w = 1 - decay;
  for (let i = 0; i < n; i++) v[at(out) + i] = decay * v[at(avg) + i] + w * v[at(p) + i];
  mem.retire(avg);
  return out;
};
