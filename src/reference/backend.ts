// The reference backend: every kernel of the Backend interface on host float64 tensors, assembled
// from the per-family files of this folder. It defines the semantics the accelerated backends are
// held to. Handles are plain immutable Tensors: `dispose` does nothing, `read` resolves a copy,
// `reshape` shares the data under the new shape.

import type { AdamAtan2Hyper, AdamState, Backend } from '../core/backend.ts';
import { ShapeError } from '../core/backend.ts';
import type { Shape, Tensor } from '../core/tensor.ts';
import { numel, shapeToString, tensor64, wrap64 } from '../core/tensor.ts';
import { composedAdamAtan2Many, composedLinearRope, composedLinearRopeBackward, composedLinearSwiglu, composedLinearSwigluBackward, composedEmaMany, withoutPacks } from '../core/fused.ts';
import { add, addBroadcast, scale, sumBatch } from './elementwise.ts';
import { adamAtan2 } from './adam-atan2.ts';
import { attention, attentionBackward } from './attention.ts';
import { bceWithLogits, bceWithLogitsBackward, sigmoid } from './bce.ts';
import { argmax, crossEntropy, crossEntropyBackward } from './cross-entropy.ts';
import { ema } from './ema.ts';
import { embedding, embeddingBackward } from './embedding.ts';
import { linear, linearBackward } from './linear.ts';
import { addRmsNorm, addRmsNormBackward, rmsNorm, rmsNormBackward } from './rms-norm.ts';
import { rope, ropeBackward } from './rope.ts';
import { concatSeq, resetRows, sliceSeq, sliceSeqBackward, transpose } from './sequence.ts';
import { signSgdRows } from './sign-sgd.ts';
import { swiglu, swigluBackward } from './swiglu.ts';

type T64 = Tensor<Float64Array>;

/** The kernels the fused products are defined by (src/core/fused.ts). */
const parts = { shape: (t: T64) => t.shape, dispose: (): void => {}, linear, linearBackward, rope, ropeBackward, swiglu, swigluBackward };

const checkShape = (kernel: string, shape: Shape): void => {
  if (!shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new ShapeError(kernel, 'shape', shape, 'non-negative integer dimensions');
  }
};

export const referenceBackend: Backend<T64> = Object.freeze({
  name: 'reference',
  description: 'float64 reference, plain loops on the main thread',
  dtype: 'float64' as const,

  fromArray(shape: Shape, data: ArrayLike<number>): T64 {
    checkShape('fromArray', shape);
    if (data.length !== numel(shape)) {
      throw new ShapeError('fromArray', 'data', [data.length], `${numel(shape)} values for shape ${shapeToString(shape)}`);
    }
    return tensor64(shape, data);
  },
  zeros(shape: Shape): T64 {
    checkShape('zeros', shape);
    return tensor64(shape);
  },
  shape: (t: T64): Shape => t.shape,
  read: async (t: T64): Promise<T64> => tensor64(t.shape, t.data),
  dispose: (): void => {},
  reshape(t: T64, shape: Shape): T64 {
    checkShape('reshape', shape);
    if (numel(shape) !== t.data.length) {
      throw new ShapeError('reshape', 't', t.shape, `${numel(shape)} elements to become ${shapeToString(shape)}`);
    }
    return wrap64(shape, t.data);
  },
  ...withoutPacks<T64>({ shape: (t) => t.shape, zeros: (s) => tensor64(s), dispose: () => {} }),

  linear,
  linearBackward,
  add,
  scale,
  addBroadcast,
  sumBatch,
  rmsNorm,
  rmsNormBackward,
  addRmsNorm,
  addRmsNormBackward,
  rope,
  ropeBackward,
  attention,
  attentionBackward,
  swiglu,
  swigluBackward,
  linearRope: (x: T64, w: T64, cos: T64, sin: T64, hd: number, rotated: number) => composedLinearRope(parts, x, w, cos, sin, hd, rotated),
  linearRopeBackward: (dy: T64, x: T64, w: T64, cos: T64, sin: T64, hd: number, rotated: number) =>
    composedLinearRopeBackward(parts, dy, x, w, cos, sin, hd, rotated),
  linearSwiglu: (x: T64, w: T64) => composedLinearSwiglu(parts, x, w),
  linearSwigluBackward: (dy: T64, x: T64, w: T64, gu: T64) => composedLinearSwigluBackward(parts, dy, x, w, gu),
  embedding,
  embeddingBackward,
  concatSeq,
  sliceSeq,
  sliceSeqBackward,
  resetRows,
  transpose,
  crossEntropy,
  crossEntropyBackward,
  argmax,
  sigmoid,
  bceWithLogits,
  bceWithLogitsBackward,
  adamAtan2,
  adamAtan2Many: (states: readonly AdamState<T64>[], grads: readonly T64[], hyper: AdamAtan2Hyper) =>
    composedAdamAtan2Many({ shape: (t: T64) => t.shape, adamAtan2 }, states, grads, hyper),
  signSgdRows,
  ema,
  emaMany: (es: readonly T64[], ps: readonly T64[], decay: number) => composedEmaMany({ shape: (t: T64) => t.shape, ema }, es, ps, decay),
});
