// Reference elementwise and broadcast kernels (float64): add, scale, addBroadcast, sumBatch.
// Their backwards are each other (add: dy to both; scale: s·dy; addBroadcast's y: sumBatch(dy)),
// so there is no separate backward kernel here. Fresh outputs, arguments never written.

import type { Tensor } from '../core/tensor.ts';
import { numel, wrap64 } from '../core/tensor.ts';
import { shapes } from '../core/shapes.ts';

type T64 = Tensor<Float64Array>;

/** a + b elementwise, same shapes. */
export const add = (a: T64, b: T64): T64 => {
  const shape = shapes.add(a.shape, b.shape);
  const y = new Float64Array(a.data.length);
  for (let i = 0; i < y.length; i++) y[i] = a.data[i] + b.data[i];
  return wrap64(shape, y);
};

/** s·a elementwise. */
export const scale = (a: T64, s: number): T64 => {
  const shape = shapes.scale(a.shape);
  const y = new Float64Array(a.data.length);
  for (let i = 0; i < y.length; i++) y[i] = s * a.data[i];
  return wrap64(shape, y);
};

/** y[b,s,d] = x[b,s,d] + p[s,d] for every b (x[B,S,D], p[S,D]). */
export const addBroadcast = (x: T64, p: T64): T64 => {
  const shape = shapes.addBroadcast(x.shape, p.shape);
  const [B] = shape;
  const SD = p.data.length;
  const y = new Float64Array(x.data.length);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < SD; i++) y[b * SD + i] = x.data[b * SD + i] + p.data[i]; // x[(b*S+s)*D+d] + p[s*D+d]
  }
  return wrap64(shape, y);
};

/** y[...] = Σ_b x[b, ...] over the leading axis. */
export const sumBatch = (x: T64): T64 => {
  const shape = shapes.sumBatch(x.shape);
  const B = x.shape[0];
  const R = numel(shape);
  const y = new Float64Array(R);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < R; i++) y[i] += x.data[b * R + i];
  }
  return wrap64(shape, y);
};
