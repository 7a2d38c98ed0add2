// Reference AdamATan2 step as released (spec §5.1), elementwise, with float32 rounding f(·) at each
// point of the original CUDA kernel (fixtures/official-parity/README.md):
//   step_size = f(lr/(1 − β1^t)), wd_alpha = f(1 − lr·wd), bc2_sqrt = f(sqrt(1 − β2^t)),
//   w1 = f(1 − β1), w2 = f(1 − β2),
//   θ = f(θ·wd_alpha); m = f(w1·g + f(m − w1·m)); v = f(w2·f(g·g) + f(v − w2·v));
//   denom = f(f(sqrt(v))/bc2_sqrt); θ = f(θ − f(step_size·f(atan2(m, denom)))).
// So the reference reproduces a float32 optimizer to within an ulp. Returns a fresh state.

import type { AdamAtan2Hyper, AdamState } from '../core/backend.ts';
import type { Tensor } from '../core/tensor.ts';
import { wrap64 } from '../core/tensor.ts';
import { shapes } from '../core/shapes.ts';

type T64 = Tensor<Float64Array>;
const f = Math.fround;

/** One update of every element of param/m/v (any one shape) by grad of the same shape. */
export const adamAtan2 = (state: AdamState<T64>, grad: T64, hyper: AdamAtan2Hyper): AdamState<T64> => {
  const shape = shapes.adamAtan2(state.param.shape, state.m.shape, state.v.shape, grad.shape);
  const { lr, weightDecay, beta1, beta2, step } = hyper;
  if (!(step >= 1)) throw new RangeError(`adamAtan2: hyper 'step' is ${step}, expected ≥ 1 (1 on the first update)`);
  const stepSize = f(lr / (1 - Math.pow(beta1, step)));
  const wdAlpha = f(1 - lr * weightDecay);
  const bc2Sqrt = f(Math.sqrt(1 - Math.pow(beta2, step)));
  const w1 = f(1 - beta1);
  const w2 = f(1 - beta2);
  const n = grad.data.length;
  const p = new Float64Array(n);
  const m = new Float64Array(n);
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const g = grad.data[i];
    const theta = f(state.param.data[i] * wdAlpha);
    const mi = f(w1 * g + f(state.m.data[i] - w1 * state.m.data[i]));
    const vi = f(w2 * f(g * g) + f(state.v.data[i] - w2 * state.v.data[i]));
    const denom = f(f(Math.sqrt(vi)) / bc2Sqrt);
    p[i] = f(theta - f(stepSize * f(Math.atan2(mi, denom))));
    m[i] = mi;
    v[i] = vi;
  }
  return { param: wrap64(shape, p), m: wrap64(shape, m), v: wrap64(shape, v) };
};
