// The Q-head's sigmoid and binary cross-entropy with logits on the CPU engine, in JS over the shared
// memory (elementwise, any shape).

import { sigmoidScalar } from '../../core/formulas.ts';
import { shapes } from '../../core/shapes.ts';
import type { Shape } from '../../core/tensor.ts';
import { numel } from '../../core/tensor.ts';
import type { Engine } from './engine.ts';
import type { SimdTensor } from './memory.ts';
import { at } from './memory.ts';

const f = Math.fround;

/** y = fn(a, b) elementwise into a fresh tensor of `shape`. */
const map2 = (e: Engine, a: SimdTensor, b: SimdTensor, shape: Shape, fn: (x: number, y: number) => number): SimdTensor => {
  const y = e.mem.alloc(shape);
  const x = e.mem.f32;
  const n = numel(shape);
  const ia = at(a);
  const ib = at(b);
  const iy = at(y);
  for (let i = 0; i < n; i++) x[iy + i] = fn(x[ia + i], x[ib + i]);
  return y;
};

/** y = σ(x). */
export const sigmoid = (e: Engine, x: SimdTensor): SimdTensor => {
  e.mem.check('sigmoid', 'x', x);
  const shape = shapes.sigmoid(x.shape);
  const y = e.mem.alloc(shape);
  const v = e.mem.f32;
  const n = numel(shape);
  for (let i = 0; i < n; i++) v[at(y) + i] = sigmoidScalar(v[at(x) + i]);
  return y;
};

/** loss = max(x, 0) − x·t + log(1 + e^−|x|) elementwise. */
export const bceWithLogits = (e: Engine, x: SimdTensor, target: SimdTensor): SimdTensor => {
  e.mem.check('bceWithLogits', 'x', x);
  e.mem.check('bceWithLogits', 'target', target);
  return map2(e, x, target, shapes.bceWithLogits(x.shape, target.shape), (p, q) => Math.max(p, 0) - p * q + Math.log1p(Math.exp(-Math.abs(p))));
};

/** dx = s·(σ(x) − t); σ is rounded to float32 exactly as `sigmoid` stores it, so σ(x) − sigmoid(x) is exactly 0. */
export const bceWithLogitsBackward = (e: Engine, x: SimdTensor, target: SimdTensor, s: number): SimdTensor => {
  e.mem.check('bceWithLogitsBackward', 'x', x);
  e.mem.check('bceWithLogitsBackward', 'target', target);
  return map2(e, x, target, shapes.bceWithLogitsBackward(x.shape, target.shape), (p, q) => s * (f(sigmoidScalar(p)) - q));
};
