// The CPU engine `simd`: every kernel of the Backend interface in float32 on one shared
// WebAssembly.Memory. Heavy kernels (the three products of a linear layer, attention forward and
// backward, residual + RMSNorm, SwiGLU, RoPE, AdamATan2, and the fused products linearRope and
// linearSwiglu as one task each) run as WebAssembly SIMD on the worker pool (pool.ts); the small
// ones (sequence plumbing, losses, sparse optimizer, EMA) run in JS over Float32Array views of the
// same memory, without host copies. This file only wires the named
// kernels (one file each, as in src/reference, with their WebAssembly text beside them in
// `<family>.wat.ts`) to the engine (engine.ts: memory, pool, variant) and holds the memory kernels.

import type { Backend } from '../../core/backend.ts';
import { ShapeError } from '../../core/backend.ts';
import { composedAdamAtan2Many, composedEmaMany, withoutPacks } from '../../core/fused.ts';
import type { Shape, Tensor } from '../../core/tensor.ts';
import { numel, shapeToString, wrap64 } from '../../core/tensor.ts';
import { adamAtan2 } from './adam-atan2.ts';
import { attention, attentionBackward } from './attention.ts';
import { bceWithLogits, bceWithLogitsBackward, sigmoid } from './bce.ts';
import { argmax, crossEntropy, crossEntropyBackward } from './cross-entropy.ts';
import { add, addBroadcast, scale, sumBatch } from './elementwise.ts';
import { ema } from './ema.ts';
import { embedding, embeddingBackward } from './embedding.ts';
import { linearRope, linearRopeBackward, linearSwiglu, linearSwigluBackward } from './fused.ts';
import type { SimdOptions } from './engine.ts';
import { startEngine } from './engine.ts';
import { linear, linearBackward } from './linear.ts';
import type { SimdTensor } from './memory.ts';
import { at } from './memory.ts';
import { addRmsNorm, addRmsNormBackward, rmsNorm, rmsNormBackward } from './rms-norm.ts';
import { rope, ropeBackward } from './rope.ts';
import { concatSeq, resetRows, sliceSeq, sliceSeqBackward, transpose } from './sequence.ts';
import { signSgdRows } from './sign-sgd.ts';
import { swiglu, swigluBackward } from './swiglu.ts';
import type { PoolProfile } from './pool.ts';
import type { SimdVariant } from './wat.ts';

export type { SimdOptions } from './engine.ts';
export type { SimdTensor } from './memory.ts';
export type { PoolProfile } from './pool.ts';

export interface SimdBackend extends Backend<SimdTensor> {
  readonly variant: SimdVariant;
  readonly threads: number;
  /** bytes held by live tensors and caches */
  liveBytes(): number;
  /** where the WebAssembly kernels' time went since the last reset (per dispatched kernel; workers' busy time) */
  profile(): PoolProfile;
  resetProfile(): void;
  close(): Promise<void>;
}

const checkShape = (kernel: string, shape: Shape): void => {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new ShapeError(kernel, 'shape', shape, 'non-negative integer dimensions');
  }
};

/** Creates the engine: picks the SIMD variant, compiles the module, starts the workers. */
export const createSimdBackend = async (options: SimdOptions = {}): Promise<SimdBackend> => {
  const e = await startEngine(options);
  const { mem, pool } = e;

  const backend: SimdBackend = {
    name: 'simd',
    description: e.description,
    dtype: 'float32',
    variant: e.variant,
    threads: pool.threads,
    liveBytes: () => mem.liveBytes,
    profile: () => pool.profile(),
    resetProfile: () => pool.resetProfile(),

    // ---- memory -------------------------------------------------------------------------------
    fromArray(shape: Shape, data: ArrayLike<number>): SimdTensor {
      checkShape('fromArray', shape);
      if (data.length !== numel(shape)) {
        throw new ShapeError('fromArray', 'data', [data.length], `${numel(shape)} values for shape ${shapeToString(shape)}`);
      }
      const t = mem.alloc(shape);
      mem.f32.set(data as ArrayLike<number>, at(t));
      return t;
    },
    zeros(shape: Shape): SimdTensor {
      checkShape('zeros', shape);
      const t = mem.alloc(shape);
      mem.f32.fill(0, at(t), at(t) + numel(shape));
      return t;
    },
    shape: (t: SimdTensor): Shape => t.shape,
    async read(t: SimdTensor): Promise<Tensor<Float64Array>> {
      mem.check('read', 't', t);
      const n = numel(t.shape);
      const out = new Float64Array(n);
      const x = mem.f32;
      const o = at(t);
      for (let i = 0; i < n; i++) out[i] = x[o + i];
      return wrap64(t.shape, out);
    },
    dispose(t: SimdTensor): void {
      mem.release(t);
    },
    reshape(t: SimdTensor, shape: Shape): SimdTensor {
      mem.check('reshape', 't', t);
      checkShape('reshape', shape);
      if (numel(shape) !== numel(t.shape)) {
        throw new ShapeError('reshape', 't', t.shape, `${numel(shape)} elements to become ${shapeToString(shape)}`);
      }
      return mem.alias(t, shape);
    },
    ...withoutPacks<SimdTensor>({ shape: (t) => t.shape, zeros: (s) => backend.zeros(s), dispose: (t) => backend.dispose(t) }),
    async close(): Promise<void> {
      if (mem.closed) return;
      mem.closed = true;
      await pool.close();
    },

    linear: (x, w, b) => linear(e, x, w, b),
    linearBackward: (dy, x, w, withBias) => linearBackward(e, dy, x, w, withBias),
    add: (a, b) => add(e, a, b),
    scale: (a, s) => scale(e, a, s),
    addBroadcast: (x, y) => addBroadcast(e, x, y),
    sumBatch: (x) => sumBatch(e, x),

    rmsNorm: (x, eps) => rmsNorm(e, x, eps),
    rmsNormBackward: (dy, x, eps) => rmsNormBackward(e, dy, x, eps),
    addRmsNorm: (a, b, eps) => addRmsNorm(e, a, b, eps),
    addRmsNormBackward: (dy, a, b, eps) => addRmsNormBackward(e, dy, a, b, eps),

    rope: (x, cos, sin, hd, rotated) => rope(e, x, cos, sin, hd, rotated),
    ropeBackward: (dy, cos, sin, hd, rotated) => ropeBackward(e, dy, cos, sin, hd, rotated),
    attention: (qkv, heads) => attention(e, qkv, heads),
    attentionBackward: (dy, qkv, heads) => attentionBackward(e, dy, qkv, heads),
    swiglu: (gu) => swiglu(e, gu),
    swigluBackward: (dy, gu) => swigluBackward(e, dy, gu),
    linearRope: (x, w, cos, sin, hd, rotated) => linearRope(e, x, w, cos, sin, hd, rotated),
    linearRopeBackward: (dy, x, w, cos, sin, hd, rotated) => linearRopeBackward(e, dy, x, w, cos, sin, hd, rotated),
    linearSwiglu: (x, w) => linearSwiglu(e, x, w),
    linearSwigluBackward: (dy, x, w, gu) => linearSwigluBackward(e, dy, x, w, gu),

    embedding: (table, ids, idsShape) => embedding(e, table, ids, idsShape),
    embeddingBackward: (dy, ids, rows) => embeddingBackward(e, dy, ids, rows),
    concatSeq: (a, b) => concatSeq(e, a, b),
    sliceSeq: (x, start, len) => sliceSeq(e, x, start, len),
    sliceSeqBackward: (dy, fullLen, start) => sliceSeqBackward(e, dy, fullLen, start),
    resetRows: (state, init, mask) => resetRows(e, state, init, mask),
    transpose: (x) => transpose(e, x),

    crossEntropy: (logits, labels, kind) => crossEntropy(e, logits, labels, kind),
    crossEntropyBackward: (logits, labels, kind, rowScale) => crossEntropyBackward(e, logits, labels, kind, rowScale),
    argmax: (x) => argmax(e, x),
    sigmoid: (x) => sigmoid(e, x),
    bceWithLogits: (x, t) => bceWithLogits(e, x, t),
    bceWithLogitsBackward: (x, t, s) => bceWithLogitsBackward(e, x, t, s),

    adamAtan2: (state, grad, hyper) => adamAtan2(e, state, grad, hyper),
    adamAtan2Many: (states, grads, hyper) => composedAdamAtan2Many(backend, states, grads, hyper),
    signSgdRows: (table, grads, ids, lr, wd) => signSgdRows(e, table, grads, ids, lr, wd),
    ema: (avg, p, decay) => ema(e, avg, p, decay),
    emaMany: (es, ps, decay) => composedEmaMany(backend, es, ps, decay),
  };
  return backend;
};
