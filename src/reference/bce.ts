// Reference logistic sigmoid and binary cross-entropy with logits (float64). One scalar sigmoid,
// `sigmoidScalar`, is used by every kernel here (and by SwiGLU), so σ(x) − σ(x) is exactly 0
// wherever a target is itself a sigmoid of the same value: the Q-continue gradient at
// initialization must be exactly 0 (see fixtures/official-parity/README.md).

import type { Tensor } from '../core/tensor.ts';
import { wrap64 } from '../core/tensor.ts';
import { shapes } from '../core/shapes.ts';
import { sigmoidScalar } from '../core/formulas.ts';

type T64 = Tensor<Float64Array>;

/** Elementwise σ. */
export const sigmoid = (x: T64): T64 => {
  const shape = shapes.sigmoid(x.shape);
  const y = new Float64Array(x.data.length);
  for (let i = 0; i < y.length; i++) y[i] = sigmoidScalar(x.data[i]);
  return wrap64(shape, y);
};

/** ℓ(x, y) = max(x, 0) − x·y + log(1 + e^−|x|), elementwise (the stable form of −y·log σ(x) − (1−y)·log(1−σ(x))). */
export const bceWithLogits = (x: T64, target: T64): T64 => {
  const shape = shapes.bceWithLogits(x.shape, target.shape);
  const l = new Float64Array(x.data.length);
  for (let i = 0; i < l.length; i++) {
    const v = x.data[i];
    l[i] = Math.max(v, 0) - v * target.data[i] + Math.log1p(Math.exp(-Math.abs(v)));
  }
  return wrap64(shape, l);
};

/** dℓ/dx · scale = scale·(σ(x) − y), with the same σ as `sigmoid`. */
export const bceWithLogitsBackward = (x: T64, target: T64, scale: number): T64 => {
  const shape = shapes.bceWithLogitsBackward(x.shape, target.shape);
  const dx = new Float64Array(x.data.length);
  for (let i = 0; i < dx.length; i++) dx[i] = scale * (sigmoidScalar(x.data[i]) - target.data[i]);
  return wrap64(shape, dx);
};
