// Per-token cross-entropy on gpu.js (float32) with the stablemax or softmax normalizer, its
// gradient (scaled per batch row), and argmax over the last axis. Labels come from the host
// (−100 = ignored: loss and gradient 0). Legend: B batch, T tokens, V vocab, N = B·T rows.

import type { LossKind } from '../../core/backend.ts';
import { checkLabels, shapes } from '../../core/shapes.ts';
import type { Device, GpuTensor } from './device.ts';
import type { KernelThis } from './gpujs.ts';

type Dims = KernelThis<{ V: number; T: number }>;

/** ce[n] = log Σ_v s(x_v) − log s(x_y), s(x) = x+1 (x ≥ 0) or 1/(1−x); 0 where y < 0. */
function stablemaxBody(this: Dims, logits: Float32Array, labels: Float32Array): number {
  const n = this.thread.x;
  const y = labels[n];
  if (y < 0) {
    return 0;
  }
  const base = n * this.constants.V;
  let sum = 0;
  for (let v = 0; v < this.constants.V; v++) {
    const x = logits[base + v];
    if (x >= 0) {
      sum += x + 1;
    } else {
      sum += 1 / (1 - x);
    }
  }
  const xy = logits[base + y];
  let sy = 0;
  if (xy >= 0) {
    sy = xy + 1;
  } else {
    sy = 1 / (1 - xy);
  }
  return Math.log(sum) - Math.log(sy);
}

/** ce[n] = logsumexp(x) − x_y; 0 where y < 0. */
function softmaxBody(this: Dims, logits: Float32Array, labels: Float32Array): number {
  const n = this.thread.x;
  const y = labels[n];
  if (y < 0) {
    return 0;
  }
  const base = n * this.constants.V;
  let mx = logits[base];
  for (let v = 1; v < this.constants.V; v++) {
    mx = Math.max(mx, logits[base + v]);
  }
  let sum = 0;
  for (let u = 0; u < this.constants.V; u++) {
    sum += Math.exp(logits[base + u] - mx);
  }
  return mx + Math.log(sum) - logits[base + y];
}

/** g[n,v] = rowScale[b]·(s'(x_v)/Σ s − [v = y]·s'(x_y)/s(x_y)), s'(x) = 1 (x ≥ 0) or 1/(1−x)²; thread i = n·V + v. */
function stablemaxGradBody(this: Dims, logits: Float32Array, labels: Float32Array, rowScale: Float32Array): number {
  const i = this.thread.x;
  const n = Math.floor((i + 0.5) / this.constants.V);
  const v = i - n * this.constants.V;
  const y = labels[n];
  if (y < 0) {
    return 0;
  }
  const base = n * this.constants.V;
  let sum = 0;
  for (let u = 0; u < this.constants.V; u++) {
    const x = logits[base + u];
    if (x >= 0) {
      sum += x + 1;
    } else {
      sum += 1 / (1 - x);
    }
  }
  const x = logits[base + v];
  let ds = 1;
  let s = x + 1;
  if (x < 0) {
    s = 1 / (1 - x);
    ds = s * s;
  }
  let g = ds / sum;
  if (Math.abs(v - y) < 0.5) {
    g -= ds / s;
  }
  return g * rowScale[Math.floor((n + 0.5) / this.constants.T)];
}

/** g[n,v] = rowScale[b]·(softmax(x)_v − [v = y]). */
function softmaxGradBody(this: Dims, logits: Float32Array, labels: Float32Array, rowScale: Float32Array): number {
  const i = this.thread.x;
  const n = Math.floor((i + 0.5) / this.constants.V);
  const v = i - n * this.constants.V;
  const y = labels[n];
  if (y < 0) {
    return 0;
  }
  const base = n * this.constants.V;
  let mx = logits[base];
  for (let u = 1; u < this.constants.V; u++) {
    mx = Math.max(mx, logits[base + u]);
  }
  let sum = 0;
  for (let w = 0; w < this.constants.V; w++) {
    sum += Math.exp(logits[base + w] - mx);
  }
  let g = Math.exp(logits[i] - mx) / sum;
  if (Math.abs(v - y) < 0.5) {
    g -= 1;
  }
  return g * rowScale[Math.floor((n + 0.5) / this.constants.T)];
}

/** Index of the largest x[n,:] (first on ties). */
function argmaxBody(this: KernelThis<{ V: number }>, x: Float32Array): number {
  const base = this.thread.x * this.constants.V;
  let best = x[base];
  let arg = 0;
  for (let v = 1; v < this.constants.V; v++) {
    if (x[base + v] > best) {
      best = x[base + v];
      arg = v;
    }
  }
  return arg;
}

/** ce[B,T] of logits[B,T,V] against labels (length B·T). */
export const crossEntropy = (dev: Device, logits: GpuTensor, labels: Int32Array, kind: LossKind): GpuTensor => {
  const shape = shapes.crossEntropy(logits.shape, labels.length);
  checkLabels('crossEntropy', labels, logits.shape[2]);
  const constants = { V: logits.shape[2], T: logits.shape[1] };
  const body = kind === 'stablemax_cross_entropy' ? stablemaxBody : softmaxBody;
  return dev.run({ name: `crossEntropy.${kind}`, body, constants, args: [logits, Float32Array.from(labels)], shape });
};

/** dlogits[B,T,V] = rowScale[b]·∂ce[b,t]/∂logits[b,t,:]. */
export const crossEntropyBackward = (dev: Device, logits: GpuTensor, labels: Int32Array, kind: LossKind, rowScale: Float64Array): GpuTensor => {
  const shape = shapes.crossEntropyBackward(logits.shape, labels.length, rowScale.length);
  checkLabels('crossEntropyBackward', labels, logits.shape[2]);
  const constants = { V: logits.shape[2], T: logits.shape[1] };
  const body = kind === 'stablemax_cross_entropy' ? stablemaxGradBody : softmaxGradBody;
  const args = [logits, Float32Array.from(labels), Float32Array.from(rowScale)];
  return dev.run({ name: `crossEntropyBackward.${kind}`, body, constants, args, shape });
};

/** argmax over the last axis, as float values of a tensor [...]. */
export const argmax = (dev: Device, x: GpuTensor): GpuTensor => {
  const shape = shapes.argmax(x.shape);
  return dev.run({ name: 'argmax', body: argmaxBody, constants: { V: x.shape[x.shape.length - 1] }, args: [x], shape });
};
