// The gpu backend: every kernel of src/core/backend.ts on gpu.js in float32, in one explicitly
// chosen and verified mode (webgpu on GPUs, webasm elsewhere, cpu/headlessgl on request).
// Graph building is synchronous; on webgpu results stay in device buffers and only `read` waits.
// This file only wires the named kernels (one file each, as in src/reference) to the device layer.

import type { Backend } from '../../core/backend.ts';
import type { Shape } from '../../core/tensor.ts';
import { numel, shapeToString, wrap64 } from '../../core/tensor.ts';
import { adamAtan2, adamAtan2Many } from './adam-atan2.ts';
import { attention, attentionBackward } from './attention.ts';
import { bceWithLogits, bceWithLogitsBackward, sigmoid } from './bce.ts';
import { argmax, crossEntropy, crossEntropyBackward } from './cross-entropy.ts';
import type { GpuTensor } from './device.ts';
import { Device } from './device.ts';
import { add, addBroadcast, scale, sumBatch } from './elementwise.ts';
import { withoutPacks } from '../../core/fused.ts';
import { ema, emaMany } from './ema.ts';
import { embedding, embeddingBackward } from './embedding.ts';
import { linearRope, linearRopeBackward, linearSwiglu, linearSwigluBackward } from './fused.ts';
import type { GpuMode } from './gpujs.ts';
import { linear, linearBackward } from './linear.ts';
import { selectMode } from './mode.ts';
import { addRmsNorm, addRmsNormBackward, rmsNorm, rmsNormBackward } from './rms-norm.ts';
import { rope, ropeBackward } from './rope.ts';
import { concatSeq, resetRows, sliceSeq, sliceSeqBackward, transpose } from './sequence.ts';
import { signSgdRows } from './sign-sgd.ts';
import { swiglu, swigluBackward } from './swiglu.ts';

export type { GpuTensor } from './device.ts';
export type { GpuMode } from './gpujs.ts';

export interface GpuBackendOptions {
  /** gpu.js mode; default: webgpu when an adapter answers, else webasm */
  readonly gpuMode?: GpuMode;
  /** refuse software WebGPU adapters (lavapipe, llvmpipe, SwiftShader); used by `--backend auto` */
  readonly requireHardwareAdapter?: boolean;
  /** where the chosen mode is reported (default: stderr) */
  readonly log?: (message: string) => void;
}

/** The gpu backend plus what the tests and benchmarks inspect (mode, launches, live tensors). */
export interface GpuBackend extends Backend<GpuTensor> {
  readonly mode: GpuMode;
  readonly device: Device;
  close(): Promise<void>;
}

/** Creates the backend in the selected mode after proving that mode runs (see mode.ts). */
export const createGpuBackend = async (options: GpuBackendOptions = {}): Promise<GpuBackend> => {
  const log = options.log ?? ((m: string) => console.error(m));
  const chosen = await selectMode(options, log);
  const dev = new Device(chosen.mode, chosen.gpu, chosen.device, chosen.context);
  const arg = (t: GpuTensor, kernel: string, name: string): GpuTensor => dev.check(t, kernel, name);
  let closed = false;
  const unpacked = withoutPacks<GpuTensor>({ shape: (t) => t.shape, zeros: (s) => dev.zeros(s), dispose: (t) => dev.release(t) });
  // packs on webgpu, of non-empty tensors, when the whole pack fits one binding (else one tensor per buffer)
  const packable = (shapes: readonly Shape[]): boolean =>
    dev.mode === 'webgpu' && shapes.length > 0 && shapes.every((s) => numel(s) > 0) && Device.packLayout(shapes).total * 4 <= dev.maxBindingBytes();

  const backend: GpuBackend = {
    name: 'gpu',
    description: `gpu.js ${chosen.description}, float32`,
    dtype: 'float32',
    mode: chosen.mode,
    device: dev,

    fromArray: (shape: Shape, data: ArrayLike<number>) => dev.upload(shape, data),
    zeros: (shape: Shape) => dev.zeros(shape),
    shape: (t) => t.shape,
    read: async (t) => {
      const data = await dev.download(t);
      return wrap64(t.shape, Float64Array.from(data));
    },
    dispose: (t) => dev.release(t),
    reshape: (t, shape) => {
      if (numel(shape) !== numel(t.shape)) {
        throw new Error(`reshape: cannot view ${shapeToString(t.shape)} (${numel(t.shape)} elements) as ${shapeToString(shape)}`);
      }
      return dev.alias(arg(t, 'reshape', 't'), shape);
    },
    pack: (ts) => (packable(ts.map((t) => t.shape)) ? dev.packed(ts.map((t) => t.shape), ts) : unpacked.pack(ts)),
    packedZeros: (shapes) => (packable(shapes) ? dev.packed(shapes, shapes.map(() => null)) : unpacked.packedZeros(shapes)),
    place: (g, slot) => (dev.mode === 'webgpu' && numel(g.shape) > 0 && dev.writableInPlace(slot) ? dev.place(g, slot) : unpacked.place(g, slot)),
    close: async () => {
      if (closed) return;
      closed = true;
      await dev.close();
    },

    linear: (x, w, b) => linear(dev, x, w, b),
    linearBackward: (dy, x, w, withBias) => linearBackward(dev, dy, x, w, withBias),
    add: (a, b) => add(dev, a, b),
    scale: (a, s) => scale(dev, a, s),
    addBroadcast: (x, y) => addBroadcast(dev, x, y),
    sumBatch: (x) => sumBatch(dev, x),

    rmsNorm: (x, eps) => rmsNorm(dev, x, eps),
    rmsNormBackward: (dy, x, eps) => rmsNormBackward(dev, dy, x, eps),
    addRmsNorm: (a, b, eps) => addRmsNorm(dev, a, b, eps),
    addRmsNormBackward: (dy, a, b, eps) => addRmsNormBackward(dev, dy, a, b, eps),

    rope: (x, cos, sin, hd, rotated) => rope(dev, x, cos, sin, hd, rotated),
    ropeBackward: (dy, cos, sin, hd, rotated) => ropeBackward(dev, dy, cos, sin, hd, rotated),
    attention: (qkv, heads) => attention(dev, qkv, heads),
    attentionBackward: (dy, qkv, heads) => attentionBackward(dev, dy, qkv, heads),
    swiglu: (gu) => swiglu(dev, gu),
    swigluBackward: (dy, gu) => swigluBackward(dev, dy, gu),
    linearRope: (x, w, cos, sin, hd, rotated) => linearRope(dev, backend, x, w, cos, sin, hd, rotated),
    linearRopeBackward: (dy, x, w, cos, sin, hd, rotated) => linearRopeBackward(dev, backend, dy, x, w, cos, sin, hd, rotated),
    linearSwiglu: (x, w) => linearSwiglu(dev, backend, x, w),
    linearSwigluBackward: (dy, x, w, gu) => linearSwigluBackward(dev, backend, dy, x, w, gu),

    embedding: (table, ids, idsShape) => embedding(dev, table, ids, idsShape),
    embeddingBackward: (dy, ids, rows) => embeddingBackward(dev, dy, ids, rows),
    concatSeq: (a, b) => concatSeq(dev, a, b),
    sliceSeq: (x, start, len) => sliceSeq(dev, x, start, len),
    sliceSeqBackward: (dy, fullLen, start) => sliceSeqBackward(dev, dy, fullLen, start),
    resetRows: (state, init, mask) => resetRows(dev, state, init, mask),
    transpose: (x) => transpose(dev, x),

    crossEntropy: (logits, labels, kind) => crossEntropy(dev, logits, labels, kind),
    crossEntropyBackward: (logits, labels, kind, rowScale) => crossEntropyBackward(dev, logits, labels, kind, rowScale),
    argmax: (x) => argmax(dev, x),
    sigmoid: (x) => sigmoid(dev, x),
    bceWithLogits: (x, t) => bceWithLogits(dev, x, t),
    bceWithLogitsBackward: (x, t, s) => bceWithLogitsBackward(dev, x, t, s),

    adamAtan2: (state, grad, hyper) => adamAtan2(dev, state, grad, hyper),
    adamAtan2Many: (states, grads, hyper) => adamAtan2Many(dev, (s, g) => adamAtan2(dev, s, g, hyper), states, grads, hyper),
    signSgdRows: (table, grads, ids, lr, wd) => signSgdRows(dev, table, grads, ids, lr, wd),
    ema: (e, p, decay) => ema(dev, e, p, decay),
    emaMany: (es, ps, decay) => emaMany(dev, es, ps, decay),
  };
  return backend;
};
