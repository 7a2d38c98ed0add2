// Reference per-token cross-entropy (float64) for the two losses of the original: stablemax
// (spec §4.1, the default) and softmax (§4.2); its backward scaled per batch row; argmax over the
// vocabulary. Ignored tokens (label −100) give ce = 0 and a zero gradient.
// Legend: B batch, T tokens, V vocabulary.

import type { LossKind } from '../core/backend.ts';
import type { Tensor } from '../core/tensor.ts';
import { wrap64 } from '../core/tensor.ts';
import { checkLabels, shapes } from '../core/shapes.ts';
import { IGNORE_LABEL } from '../core/batch.ts';
import { stablemaxS, stablemaxSPrime } from '../core/formulas.ts';

type T64 = Tensor<Float64Array>;

/** Row-normalized probabilities p[n,v] of logits[N,V] (softmax or stablemax s(x)/Σ s). */
export const probabilities = (logits: T64, kind: LossKind): T64 => {
  const V = logits.shape[logits.shape.length - 1];
  const N = logits.data.length / V;
  const p = new Float64Array(logits.data.length);
  for (let n = 0; n < N; n++) rowProbabilities(logits.data, n * V, V, kind, p);
  return wrap64(logits.shape, p);
};

/** Writes p[o..o+V) for the row x[o..o+V). */
const rowProbabilities = (x: Float64Array, o: number, V: number, kind: LossKind, p: Float64Array): void => {
  let sum = 0;
  if (kind === 'stablemax_cross_entropy') {
    for (let v = 0; v < V; v++) {
      p[o + v] = stablemaxS(x[o + v]);
      sum += p[o + v];
    }
  } else {
    let max = -Infinity;
    for (let v = 0; v < V; v++) if (x[o + v] > max) max = x[o + v];
    for (let v = 0; v < V; v++) {
      p[o + v] = Math.exp(x[o + v] - max);
      sum += p[o + v];
    }
  }
  for (let v = 0; v < V; v++) p[o + v] /= sum;
};

const checkKind = (kernel: string, kind: string): void => {
  if (kind !== 'stablemax_cross_entropy' && kind !== 'softmax_cross_entropy') {
    throw new RangeError(`${kernel}: argument 'kind' is '${kind}', expected 'stablemax_cross_entropy' or 'softmax_cross_entropy'`);
  }
};

/**
 * ce[b,t] = −log p_y for y = labels[b·T + t] (0 where y = −100). Stablemax: −log(s(x_y)/Σ_v s(x_v))
 * in float64 with the 1e−30 of the original; softmax: logsumexp(x) − x_y.
 */
export const crossEntropy = (logits: T64, labels: Int32Array, kind: LossKind): T64 => {
  const shape = shapes.crossEntropy(logits.shape, labels.length);
  checkKind('crossEntropy', kind);
  const V = logits.shape[2];
  checkLabels('crossEntropy', labels, V);
  const x = logits.data;
  const ce = new Float64Array(labels.length);
  for (let n = 0; n < labels.length; n++) {
    const y = labels[n];
    if (y === IGNORE_LABEL) continue;
    const o = n * V; // logits[(b*T + t)*V + v], n = b*T + t
    if (kind === 'stablemax_cross_entropy') {
      let sum = 0;
      for (let v = 0; v < V; v++) sum += stablemaxS(x[o + v]);
      ce[n] = -Math.log(stablemaxS(x[o + y]) / sum);
    } else {
      let max = -Infinity;
      for (let v = 0; v < V; v++) if (x[o + v] > max) max = x[o + v];
      let sum = 0;
      for (let v = 0; v < V; v++) sum += Math.exp(x[o + v] - max);
      ce[n] = max + Math.log(sum) - x[o + y];
    }
  }
  return wrap64(shape, ce);
};

/**
 * dlogits[b,t,v] = rowScale[b]·∂ce[b,t]/∂x[b,t,v]:
 * stablemax: s′(x_v)/Σ s − [v = y]·s′(x_y)/s(x_y); softmax: p_v − [v = y]. Zero rows where y = −100.
 */
export const crossEntropyBackward = (logits: T64, labels: Int32Array, kind: LossKind, rowScale: Float64Array): T64 => {
  const shape = shapes.crossEntropyBackward(logits.shape, labels.length, rowScale.length);
  checkKind('crossEntropyBackward', kind);
  const [, T, V] = shape;
  checkLabels('crossEntropyBackward', labels, V);
  const x = logits.data;
  const g = new Float64Array(x.length);
  for (let n = 0; n < labels.length; n++) {
    const y = labels[n];
    if (y === IGNORE_LABEL) continue;
    const r = rowScale[Math.floor(n / T)];
    const o = n * V;
    if (kind === 'stablemax_cross_entropy') {
      let sum = 0;
      for (let v = 0; v < V; v++) sum += stablemaxS(x[o + v]);
      for (let v = 0; v < V; v++) g[o + v] = (r * stablemaxSPrime(x[o + v])) / sum;
      g[o + y] -= (r * stablemaxSPrime(x[o + y])) / stablemaxS(x[o + y]);
    } else {
      rowProbabilities(x, o, V, kind, g);
      for (let v = 0; v < V; v++) g[o + v] *= r;
      g[o + y] -= r;
    }
  }
  return wrap64(shape, g);
};

/** i[...] = the first index of the largest value over the last axis (as a float). */
export const argmax = (x: T64): T64 => {
  const shape = shapes.argmax(x.shape);
  const V = x.shape[x.shape.length - 1];
  const N = x.data.length / V;
  const idx = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    let best = 0;
    for (let v = 1; v < V; v++) if (x.data[n * V + v] > x.data[n * V + best]) best = v;
    idx[n] = best;
  }
  return wrap64(shape, idx);
};
