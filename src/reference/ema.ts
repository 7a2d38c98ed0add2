// Reference exponential moving average of weights (float64): e ← decay·e + (1 − decay)·p,
// elementwise (TRM keeps such a copy of the trainable parameters). Returns a fresh tensor.

import type { Tensor } from '../core/tensor.ts';
import { wrap64 } from '../core/tensor.ts';
import { shapes } from '../core/shapes.ts';

type T64 = Tensor<Float64Array>;

/** e'[...] = decay·e + (1 − decay)·p. */
export const ema = (e: T64, p: T64, decay: number): T64 => {
  const shape = shapes.ema(e.shape, p.shape);
  const y = new Float64Array(e.data.length);
  const w = 1 - decay;
  for (let i = 0; i < y.length; i++) y[i] = decay * e.data[i] + w * p.data[i];
  return wrap64(shape, y);
};
