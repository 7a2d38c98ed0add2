// The AdamATan2 update on the CPU engine, WebAssembly SIMD in blocks of 4096 parameters
// (adam-atan2.wat.ts): float64 lanes rounded to float32 where the formula rounds, atan2 by a series
// within ≈1e−14. The old param, m and v handles are consumed (their blocks reused when unaliased).

import type { AdamAtan2Hyper, AdamState } from '../../core/backend.ts';
import { shapes } from '../../core/shapes.ts';
import { numel } from '../../core/tensor.ts';
import type { Engine } from './engine.ts';
import type { SimdTensor } from './memory.ts';

const f = Math.fround;

/** The next (param, m, v) of any one shape from the gradient. */
export const adamAtan2 = (e: Engine, state: AdamState<SimdTensor>, grad: SimdTensor, hyper: AdamAtan2Hyper): AdamState<SimdTensor> => {
  const { mem } = e;
  mem.check('adamAtan2', 'param', state.param);
  mem.check('adamAtan2', 'm', state.m);
  mem.check('adamAtan2', 'v', state.v);
  mem.check('adamAtan2', 'grad', grad);
  const shape = shapes.adamAtan2(state.param.shape, state.m.shape, state.v.shape, grad.shape);
  const { lr, weightDecay, beta1, beta2, step } = hyper;
  if (!(step >= 1)) throw new RangeError(`adamAtan2: hyper 'step' is ${step}, expected ≥ 1 (1 on the first update)`);
  const stepSize = f(lr / (1 - Math.pow(beta1, step)));
  const wdAlpha = f(1 - lr * weightDecay);
  const bc2Sqrt = f(Math.sqrt(1 - Math.pow(beta2, step)));
  const w1 = f(1 - beta1);
  const w2 = f(1 - beta2);
  const p = mem.consume(state.param, shape);
  const m = mem.consume(state.m, shape);
  const vv = mem.consume(state.v, shape);
  const n = numel(shape);
  e.pool.run(
    'adam',
    [state.param.offset, state.m.offset, state.v.offset, grad.offset, p.offset, m.offset, vv.offset, n, stepSize, wdAlpha, bc2Sqrt, w1, w2],
    Math.ceil(n / 4096),
    0,
    60 * n,
  );
  mem.retire(state.param);
  mem.retire(state.m);
  mem.retire(state.v);
  return { param: p, m, v: vv };
};
