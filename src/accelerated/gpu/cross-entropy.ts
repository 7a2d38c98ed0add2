// Per-token cross-entropy on gpu.js (float32) with the stablemax or softmax normalizer, its
// gradient (scaled per batch row), and argmax over the last axis. Labels come from the host
// (−100 = ignored: loss and gradient 0). webgpu: the same arithmetic as cell-wise WGSL with u32
// indices (indexed.ts), exact at any size (ARC's logits at batch 768 are 8.3M cells, where the
// gpu.js bodies' float32 row split already has no margin); the gpu.js bodies serve cpu/webasm.
// Labels travel as float32 on both paths: they lie in [−100, V) and V < 2^24, so each is exact.
// Legend: B batch, T tokens, V vocab, N = B·T rows.

import type { LossKind } from '../../core/backend.ts';
import { checkLabels, shapes } from '../../core/shapes.ts';
import type { Device, GpuTensor } from './device.ts';
import type { KernelThis } from './gpujs.ts';
import type { IndexedKernel } from './indexed.ts';
import { runIndexed } from './indexed.ts';

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

/** Row n's label (ignored rows return 0), the base of its logits, and s(x) (stablemax). */
const ROW = `  let y = labels[n];
  if (y < 0.0) { return 0.0; }
  let base = n * p.V;`;
const STABLE_S = `fn stableS(x: f32) -> f32 {
  if (x >= 0.0) { return x + 1.0; }
  return 1.0 / (1.0 - x);
}`;
/** sum = Σ_u s(x_u) of row n, in u order. */
const STABLE_SUM = `  var sum = 0.0;
  for (var u = 0u; u < p.V; u++) { sum += stableS(logits[base + u]); }`;
/** mx = max_u x_u, then sum = Σ_u e^(x_u − mx), each in u order. */
const SOFT_SUM = `  var mx = logits[base];
  for (var u = 1u; u < p.V; u++) { mx = max(mx, logits[base + u]); }
  var sum = 0.0;
  for (var u = 0u; u < p.V; u++) { sum += exp(logits[base + u] - mx); }`;
/** The cell's row n and column v (the backward kernels). */
const CELL = `  let n = i / p.V;
  let v = i - n * p.V;`;

/** The WGSL kernels by loss kind, one thread per row (forward) or per logit (backward). */
const CE: Record<LossKind, { readonly forward: IndexedKernel; readonly backward: IndexedKernel }> = {
  stablemax_cross_entropy: {
    forward: {
      name: 'crossEntropy.stablemax.cells',
      inputs: ['logits', 'labels'],
      sizes: ['V'],
      helpers: STABLE_S,
      body: `  let n = i;
${ROW}
${STABLE_SUM}
  return log(sum) - log(stableS(logits[base + u32(y)]));`,
    },
    backward: {
      name: 'crossEntropyBackward.stablemax.cells',
      inputs: ['logits', 'labels', 'rowScale'],
      sizes: ['V', 'T'],
      helpers: STABLE_S,
      body: `${CELL}
${ROW}
${STABLE_SUM}
  let x = logits[base + v];
  var ds = 1.0;
  var s = x + 1.0;
  if (x < 0.0) {
    s = 1.0 / (1.0 - x);
    ds = s * s;
  }
  var g = ds / sum;
  if (v == u32(y)) { g -= ds / s; }
  return g * rowScale[n / p.T];`,
    },
  },
  softmax_cross_entropy: {
    forward: {
      name: 'crossEntropy.softmax.cells',
      inputs: ['logits', 'labels'],
      sizes: ['V'],
      body: `  let n = i;
${ROW}
${SOFT_SUM}
  return mx + log(sum) - logits[base + u32(y)];`,
    },
    backward: {
      name: 'crossEntropyBackward.softmax.cells',
      inputs: ['logits', 'labels', 'rowScale'],
      sizes: ['V', 'T'],
      body: `${CELL}
${ROW}
${SOFT_SUM}
  var g = exp(logits[i] - mx) / sum;
  if (v == u32(y)) { g -= 1.0; }
  return g * rowScale[n / p.T];`,
    },
  },
};

/** argmaxBody in WGSL. */
const ARGMAX: IndexedKernel = {
  name: 'argmax.cells',
  inputs: ['x'],
  sizes: ['V'],
  body: `  let base = i * p.V;
  var best = x[base];
  var arg = 0u;
  for (var v = 1u; v < p.V; v++) {
    if (x[base + v] > best) {
      best = x[base + v];
      arg = v;
    }
  }
  return f32(arg);`,
};

/** ce[B,T] of logits[B,T,V] against labels (length B·T). */
export const crossEntropy = (dev: Device, logits: GpuTensor, labels: Int32Array, kind: LossKind): GpuTensor => {
  const shape = shapes.crossEntropy(logits.shape, labels.length);
  checkLabels('crossEntropy', labels, logits.shape[2]);
  const constants = { V: logits.shape[2], T: logits.shape[1] };
  const y = Float32Array.from(labels);
  if (dev.mode === 'webgpu') return runIndexed(dev, CE[kind].forward, [logits, y], shape, constants);
  const body = kind === 'stablemax_cross_entropy' ? stablemaxBody : softmaxBody;
  return dev.run({ name: `crossEntropy.${kind}`, body, constants, args: [logits, y], shape });
};

/** dlogits[B,T,V] = rowScale[b]·∂ce[b,t]/∂logits[b,t,:]. */
export const crossEntropyBackward = (dev: Device, logits: GpuTensor, labels: Int32Array, kind: LossKind, rowScale: Float64Array): GpuTensor => {
  const shape = shapes.crossEntropyBackward(logits.shape, labels.length, rowScale.length);
  checkLabels('crossEntropyBackward', labels, logits.shape[2]);
  const constants = { V: logits.shape[2], T: logits.shape[1] };
  const args = [logits, Float32Array.from(labels), Float32Array.from(rowScale)];
  if (dev.mode === 'webgpu') return runIndexed(dev, CE[kind].backward, args, shape, constants);
  const body = kind === 'stablemax_cross_entropy' ? stablemaxGradBody : softmaxGradBody;
  return dev.run({ name: `crossEntropyBackward.${kind}`, body, constants, args, shape });
};

/** argmax over the last axis, as float values of a tensor [...]. */
export const argmax = (dev: Device, x: GpuTensor): GpuTensor => {
  const shape = shapes.argmax(x.shape);
  const constants = { V: x.shape[x.shape.length - 1] };
  if (dev.mode === 'webgpu') return runIndexed(dev, ARGMAX, [x], shape, constants);
  return dev.run({ name: 'argmax', body: argmaxBody, constants, args: [x], shape });
};
