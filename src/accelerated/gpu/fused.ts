// The fused products on the gpu backend (float32): the QKV projection with RoPE and the gate_up
// projection with SwiGLU, forward and backward. webgpu forward: the tiled WGSL product of linear.ts
// with the activation in its epilogue (the pair a thread holds in registers is rotated, or gated,
// before it is stored): one pass and no buffer between the product and the activation; the sums
// are the plain product's, in the same order. Backward: the activation's backward as its own pass,
// then the two products with their vec4 loads. The one-pass alternative (`prologue`: dy's
// activation backward computed while each product loads its A tile, 2 dispatches instead of 3) is
// kept for the side-by-side benchmark (bench/gpu-linear.ts --fused): it recomputes each element
// once per output column tile of each product, with integer index arithmetic inside the reduction
// loop, and measured slower on lavapipe (bench/RESULTS.md). cpu/webasm: the composition of this
// backend's own kernels (src/core/fused.ts).
// Legend: B batch, S sequence, K input width, W = heads·hd, I SwiGLU inner size, N = B·S rows.

import type { Backend, LinearGrads } from '../../core/backend.ts';
import { composedLinearRope, composedLinearRopeBackward, composedLinearSwiglu, composedLinearSwigluBackward } from '../../core/fused.ts';
import { shapes } from '../../core/shapes.ts';
import { numel } from '../../core/tensor.ts';
import type { Device, GpuTensor } from './device.ts';
import { product } from './linear.ts';

/** The unfused kernels the composition uses (the backend itself). */
type Parts = Parameters<typeof composedLinearRope<GpuTensor>>[0] & Pick<Backend<GpuTensor>, 'shape'>;

/** y[B,S,W] = rope(x·wᵀ) for x[B,S,K], w[W,K], cos/sin [S,hd]. */
export const linearRope = (dev: Device, parts: Parts, x: GpuTensor, w: GpuTensor, cos: GpuTensor, sin: GpuTensor, headDim: number, rotatedHeads: number): GpuTensor => {
  const shape = shapes.linearRope(x.shape, w.shape, cos.shape, sin.shape, headDim, rotatedHeads);
  if (dev.mode !== 'webgpu') return composedLinearRope(parts, x, w, cos, sin, headDim, rotatedHeads);
  const [W, K] = w.shape;
  const N = shape[0] * shape[1];
  const fused = { fusion: 'rope' as const, extra: [cos, sin], S: shape[1], H: headDim / 2, rot: rotatedHeads };
  return product(dev, 'nt', x, w, N, W, K, shape, undefined, false, fused)[0];
};

/** dx[B,S,K], dw[W,K] of linearRope for dy[B,S,W] (`prologue`: the one-pass alternative, webgpu). */
export const linearRopeBackward = (
  dev: Device, parts: Parts, dy: GpuTensor, x: GpuTensor, w: GpuTensor, cos: GpuTensor, sin: GpuTensor, headDim: number, rotatedHeads: number, prologue = false,
): LinearGrads<GpuTensor> => {
  const out = shapes.linearRopeBackward(dy.shape, x.shape, w.shape, cos.shape, sin.shape, headDim, rotatedHeads);
  if (dev.mode !== 'webgpu' || !prologue) return composedLinearRopeBackward(parts, dy, x, w, cos, sin, headDim, rotatedHeads);
  const [W, K] = w.shape;
  const N = dy.shape[0] * dy.shape[1];
  const fused = { fusion: 'ropeBackward' as const, extra: [cos, sin], S: dy.shape[1], H: headDim / 2, rot: rotatedHeads, W };
  const [dx] = product(dev, 'nn', dy, w, N, K, W, out.dx, undefined, false, fused);
  const [dw] = product(dev, 'tn', dy, x, W, K, N, out.dw, undefined, false, fused);
  return { dx, dw };
};

/** gu[...,2I] = x·wᵀ and y[...,I] = silu(gate)·up, for x[...,K], w[2I,K]. */
export const linearSwiglu = (dev: Device, parts: Parts, x: GpuTensor, w: GpuTensor): { y: GpuTensor; gu: GpuTensor } => {
  const out = shapes.linearSwiglu(x.shape, w.shape);
  if (dev.mode !== 'webgpu') return composedLinearSwiglu(parts, x, w);
  const [twoI, K] = w.shape;
  const N = numel(out.y) / (twoI / 2);
  const [gu, y] = product(dev, 'nt', x, w, N, twoI, K, out.gu, undefined, false, { fusion: 'swiglu', extra: [], H: twoI / 2, outputs: [out.y] });
  return { y, gu };
};

/** dx[...,K], dw[2I,K] of linearSwiglu for dy[...,I] and its gu[...,2I] (`prologue`: the one-pass alternative, webgpu). */
export const linearSwigluBackward = (dev: Device, parts: Parts, dy: GpuTensor, x: GpuTensor, w: GpuTensor, gu: GpuTensor, prologue = false): LinearGrads<GpuTensor> => {
  const out = shapes.linearSwigluBackward(dy.shape, x.shape, w.shape, gu.shape);
  if (dev.mode !== 'webgpu' || !prologue) return composedLinearSwigluBackward(parts, dy, x, w, gu);
  const [twoI, K] = w.shape;
  const N = numel(dy.shape) / (twoI / 2);
  const fused = { fusion: 'swigluBackward' as const, extra: [gu], H: twoI / 2, W: twoI };
  const [dx] = product(dev, 'nn', dy, w, N, K, twoI, out.dx, undefined, false, fused);
  const [dw] = product(dev, 'tn', dy, x, twoI, K, N, out.dw, undefined, false, fused);
  return { dx, dw };
};
