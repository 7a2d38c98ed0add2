// Token losses on the CPU engine in JS over the shared memory (float64 inside a row): stablemax or
// softmax cross-entropy per position with ignored labels, its gradient scaled per batch row, and
// argmax. Legend: B batch, T positions, V vocabulary.

import type { LossKind } from '../../core/backend.ts';
import { IGNORE_LABEL } from '../../core/batch.ts';
import { stablemaxS, stablemaxSPrime } from '../../core/formulas.ts';
import { checkLabels, shapes } from '../../core/shapes.ts';
import { numel } from '../../core/tensor.ts';
import type { Engine } from './engine.ts';
import type { SimdTensor } from './memory.ts';
import { at } from './memory.ts';

const checkKind = (kernel: string, kind: string): void => {
  if (kind !== 'stablemax_cross_entropy' && kind !== 'softmax_cross_entropy') {
    throw new RangeError(`${kernel}: argument 'kind' is '${kind}', expected 'stablemax_cross_entropy' or 'softmax_cross_entropy'`);
  }
};

/** ce[B,T] = −log p(label) of logits[B,T,V] (0 where the label is ignored). */
export const crossEntropy = (e: Engine, logits: SimdTensor, labels: Int32Array, kind: LossKind): SimdTensor => {
  e.mem.check('crossEntropy', 'logits', logits);
  const shape = shapes.crossEntropy(logits.shape, labels.length);
  checkKind('crossEntropy', kind);
  const V = logits.shape[2];
  checkLabels('crossEntropy', labels, V);
  const ce = e.mem.alloc(shape);
  const v = e.mem.f32;
  const ix = at(logits);
  const ic = at(ce);
  for (let n = 0; n < labels.length; n++) {
    const y = labels[n];
    if (y === IGNORE_LABEL) {
      v[ic + n] = 0;
      continue;
    }
    const o = ix + n * V; // logits[(b*T + t)*V + v]
    if (kind === 'stablemax_cross_entropy') {
      let sum = 0;
      for (let j = 0; j < V; j++) sum += stablemaxS(v[o + j]);
      v[ic + n] = -Math.log(stablemaxS(v[o + y]) / sum);
    } else {
      let max = -Infinity;
      for (let j = 0; j < V; j++) if (v[o + j] > max) max = v[o + j];
      let sum = 0;
      for (let j = 0; j < V; j++) sum += Math.exp(v[o + j] - max);
      v[ic + n] = max + Math.log(sum) - v[o + y];
    }
  }
  return ce;
};

/** g[B,T,V] = rowScale[b]·∂ce/∂logits (0 rows where the label is ignored). */
export const crossEntropyBackward = (e: Engine, logits: SimdTensor, labels: Int32Array, kind: LossKind, rowScale: Float64Array): SimdTensor => {
  e.mem.check('crossEntropyBackward', 'logits', logits);
  const shape = shapes.crossEntropyBackward(logits.shape, labels.length, rowScale.length);
  checkKind('crossEntropyBackward', kind);
  const [, T, V] = shape;
  checkLabels('crossEntropyBackward', labels, V);
  const g = e.mem.alloc(shape);
  const v = e.mem.f32;
  const ix = at(logits);
  const ig = at(g);
  const p = new Float64Array(V);
  for (let n = 0; n < labels.length; n++) {
    const y = labels[n];
    const o = n * V;
    if (y === IGNORE_LABEL) {
      v.fill(0, ig + o, ig + o + V);
      continue;
    }
    const r = rowScale[Math.floor(n / T)];
    if (kind === 'stablemax_cross_entropy') {
      let sum = 0;
      for (let j = 0; j < V; j++) sum += stablemaxS(v[ix + o + j]);
      for (let j = 0; j < V; j++) p[j] = (r * stablemaxSPrime(v[ix + o + j])) / sum;
      p[y] -= (r * stablemaxSPrime(v[ix + o + y])) / stablemaxS(v[ix + o + y]);
    } else {
      let max = -Infinity;
      for (let j = 0; j < V; j++) if (v[ix + o + j] > max) max = v[ix + o + j];
      let sum = 0;
      for (let j = 0; j < V; j++) {
        p[j] = Math.exp(v[ix + o + j] - max);
        sum += p[j];
      }
      for (let j = 0; j < V; j++) p[j] = (r * p[j]) / sum;
      p[y] -= r;
    }
    for (let j = 0; j < V; j++) v[ig + o + j] = p[j];
  }
  return g;
};

/** y[...] = index of the largest value along the last axis (first one on ties). */
export const argmax = (e: Engine, x: SimdTensor): SimdTensor => {
  e.mem.check('argmax', 'x', x);
  const shape = shapes.argmax(x.shape);
  const V = x.shape[x.shape.length - 1];
  const N = numel(shape);
  const y = e.mem.alloc(shape);
  const v = e.mem.f32;
  const ix = at(x);
  for (let n = 0; n < N; n++) {
    let best = 0;
    for (let j = 1; j < V; j++) if (v[ix + n * V + j] > v[ix + n * V + best]) best = j;
    v[at(y) + n] = best;
  }
  return y;
};
