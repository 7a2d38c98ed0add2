// Elementwise kernels on the CPU engine: a + b and s·a as WebAssembly SIMD in blocks of 4096 floats
// (elementwise.wat.ts); the batch broadcast add and the batch sum in JS over the shared memory (sums
// in float64). Legend: B batch, S sequence, D hidden.

import { shapes } from '../../core/shapes.ts';
import { numel } from '../../core/tensor.ts';
import type { Engine } from './engine.ts';
import type { SimdTensor } from './memory.ts';
import { at } from './memory.ts';

/** y = a + b (same shape). */
export const add = (e: Engine, a: SimdTensor, b: SimdTensor): SimdTensor => {
  e.mem.check('add', 'a', a);
  e.mem.check('add', 'b', b);
  const shape = shapes.add(a.shape, b.shape);
  const y = e.mem.alloc(shape);
  const n = numel(shape);
  e.pool.run('ewAxpb', [a.offset, b.offset, y.offset, 0, n], Math.ceil(n / 4096), 0, n);
  return y;
};

/** y = s·a. */
export const scale = (e: Engine, a: SimdTensor, s: number): SimdTensor => {
  e.mem.check('scale', 'a', a);
  const shape = shapes.scale(a.shape);
  const y = e.mem.alloc(shape);
  const n = numel(shape);
  e.pool.run('ewAxpb', [a.offset, 0, y.offset, s, n], Math.ceil(n / 4096), 0, n);
  return y;
};

/** out[B,S,D] = x[B,S,D] + y[1,S,D] broadcast over the batch. */
export const addBroadcast = (e: Engine, x: SimdTensor, yb: SimdTensor): SimdTensor => {
  e.mem.check('addBroadcast', 'x', x);
  e.mem.check('addBroadcast', 'y', yb);
  const shape = shapes.addBroadcast(x.shape, yb.shape);
  const out = e.mem.alloc(shape);
  const v = e.mem.f32;
  const per = shape[1] * shape[2];
  const ix = at(x);
  const iy = at(yb);
  const io = at(out);
  for (let b = 0; b < shape[0]; b++) {
    for (let i = 0; i < per; i++) v[io + b * per + i] = v[ix + b * per + i] + v[iy + i];
  }
  return out;
};

/** y[1,S,D] = Σ_b x[b,S,D] (accumulated in float64). */
export const sumBatch = (e: Engine, x: SimdTensor): SimdTensor => {
  e.mem.check('sumBatch', 'x', x);
  const shape = shapes.sumBatch(x.shape);
  const per = numel(shape);
  const acc = new Float64Array(per);
  const v = e.mem.f32;
  const ix = at(x);
  for (let b = 0; b < x.shape[0]; b++) for (let i = 0; i < per; i++) acc[i] += v[ix + b * per + i];
  const y = e.mem.alloc(shape);
  e.mem.f32.set(acc, at(y));
  return y;
};
