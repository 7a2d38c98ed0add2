// Elementwise and broadcast kernels on gpu.js (float32): add, scale, addBroadcast, sumBatch.
// Their backwards are each other (add: dy to both; scale: s·dy; addBroadcast's y: sumBatch(dy)).
// webgpu: addBroadcast and sumBatch, whose bodies compute indices, as cell-wise WGSL with u32
// indices (indexed.ts), exact at any size; add and scale read cell i only (exact there as they are).
// Legend: B the leading (batch) axis, R the number of cells after it.

import { shapes } from '../../core/shapes.ts';
import { numel } from '../../core/tensor.ts';
import type { Device, GpuTensor } from './device.ts';
import type { KernelThis } from './gpujs.ts';
import type { IndexedKernel } from './indexed.ts';
import { runIndexed } from './indexed.ts';

/** y[i] = a[i] + b[i]. */
function addBody(this: KernelThis<object>, a: Float32Array, b: Float32Array): number {
  return a[this.thread.x] + b[this.thread.x];
}

/** y[i] = s·a[i]. */
function scaleBody(this: KernelThis<object>, a: Float32Array, s: number): number {
  return s * a[this.thread.x];
}

/** y[b·R + r] = x[b·R + r] + p[r]; thread i = b·R + r. */
function addBroadcastBody(this: KernelThis<{ R: number }>, x: Float32Array, p: Float32Array): number {
  const i = this.thread.x;
  const b = Math.floor((i + 0.5) / this.constants.R);
  return x[i] + p[i - b * this.constants.R];
}

/**
 * y[r] = Σ_b x[b·R + r], compensated (2Sum per addition, errors added at the end) so cancellation
 * costs about one rounding. `one` is 1 at run time: multiplying each partial sum by it keeps shader
 * compilers that treat float algebra as exact ((a + x) − a → x: Mesa's NIR, NVIDIA's Vulkan driver)
 * from deleting the error terms.
 */
function sumBatchBody(this: KernelThis<{ R: number; B: number }>, x: Float32Array, one: number): number {
  const r = this.thread.x;
  let acc = 0;
  let err = 0;
  for (let b = 0; b < this.constants.B; b++) {
    const v = x[b * this.constants.R + r];
    const s = (acc + v) * one;
    const bv = s - acc;
    err += (acc - (s - bv)) + (v - bv);
    acc = s;
  }
  return acc + err;
}

/** addBroadcastBody in WGSL (p is `bias`). */
const ADD_BROADCAST: IndexedKernel = {
  name: 'addBroadcast.cells',
  inputs: ['x', 'bias'],
  sizes: ['R'],
  body: `  let b = i / p.R;
  return x[i] + bias[i - b * p.R];`,
};

/** sumBatchBody in WGSL: the same compensated sum, b ascending. */
const SUM_BATCH: IndexedKernel = {
  name: 'sumBatch.cells',
  inputs: ['x'],
  sizes: ['R', 'B'],
  scalars: ['one'],
  body: `  var acc = 0.0;
  var err = 0.0;
  for (var b = 0u; b < p.B; b++) {
    let v = x[b * p.R + i];
    let s = (acc + v) * p.one;
    let bv = s - acc;
    err = err + ((acc - (s - bv)) + (v - bv));
    acc = s;
  }
  return acc + err;`,
};

/** a + b, same shapes. */
export const add = (dev: Device, a: GpuTensor, b: GpuTensor): GpuTensor =>
  dev.run({ name: 'add', body: addBody, args: [a, b], shape: shapes.add(a.shape, b.shape) });

/** s·a. */
export const scale = (dev: Device, a: GpuTensor, s: number): GpuTensor =>
  dev.run({ name: 'scale', body: scaleBody, args: [a, s], shape: shapes.scale(a.shape) });

/** x[B,S,D] + p[S,D] broadcast over B. */
export const addBroadcast = (dev: Device, x: GpuTensor, p: GpuTensor): GpuTensor => {
  const shape = shapes.addBroadcast(x.shape, p.shape);
  const constants = { R: numel(p.shape) };
  if (dev.mode === 'webgpu') return runIndexed(dev, ADD_BROADCAST, [x, p], shape, constants);
  return dev.run({ name: 'addBroadcast', body: addBroadcastBody, constants, args: [x, p], shape });
};

/** Σ over the leading axis: x[B,...] → [...]. */
export const sumBatch = (dev: Device, x: GpuTensor): GpuTensor => {
  const shape = shapes.sumBatch(x.shape);
  const constants = { R: numel(shape), B: x.shape[0] };
  if (dev.mode === 'webgpu') return runIndexed(dev, SUM_BATCH, [x], shape, constants, { one: 1 });
  return dev.run({ name: 'sumBatch', body: sumBatchBody, constants, args: [x, 1], shape });
};
