// Shape checkers: one per kernel of the Backend interface. Each takes the argument shapes (and the
// host integer arrays' lengths) and returns the output shape, or throws a ShapeError naming the
// kernel, the argument, the shape it got and the shape it expected. Every backend calls these same
// functions, so a mismatched call fails identically everywhere. No arithmetic happens here.

import { ShapeError } from './backend.ts';
import { IGNORE_LABEL } from './batch.ts';
import type { Shape } from './tensor.ts';
import { numel, sameShape, shapeToString } from './tensor.ts';

const s = shapeToString;

const rankAtLeast = (kernel: string, arg: string, got: Shape, rank: number, what: string): void => {
  if (got.length < rank) throw new ShapeError(kernel, arg, got, what);
};

const rankExactly = (kernel: string, arg: string, got: Shape, rank: number, what: string): void => {
  if (got.length !== rank) throw new ShapeError(kernel, arg, got, what);
};

const same = (kernel: string, arg: string, got: Shape, expected: Shape): void => {
  if (!sameShape(got, expected)) throw new ShapeError(kernel, arg, got, s(expected));
};

const last = (shape: Shape): number => shape[shape.length - 1];

const positiveInt = (kernel: string, arg: string, value: number): void => {
  if (!Number.isInteger(value) || value <= 0) {
    throw new RangeError(`${kernel}: argument '${arg}' is ${value}, expected a positive integer`);
  }
};

/** Host array lengths are reported as a one-axis shape. */
const length = (kernel: string, arg: string, got: number, expected: number, what: string): void => {
  if (got !== expected) throw new ShapeError(kernel, arg, [got], `[${expected}] (${what})`);
};

/** Every id must name a row of a table with `rows` rows. */
export const checkIds = (kernel: string, arg: string, ids: Int32Array, rows: number): void => {
  for (let i = 0; i < ids.length; i++) {
    if (!(ids[i] >= 0 && ids[i] < rows)) {
      throw new RangeError(`${kernel}: argument '${arg}'[${i}] = ${ids[i]} is outside [0, ${rows})`);
    }
  }
};

/** Labels are −100 (ignored) or a class in [0, V). */
export const checkLabels = (kernel: string, labels: Int32Array, vocab: number): void => {
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (y !== IGNORE_LABEL && !(y >= 0 && y < vocab)) {
      throw new RangeError(`${kernel}: argument 'labels'[${i}] = ${y} is neither ${IGNORE_LABEL} nor in [0, ${vocab})`);
    }
  }
};

export const shapes = {
  /** x[...,K], w[M,K], b[M] → [...,M] */
  linear(x: Shape, w: Shape, b?: Shape, kernel = 'linear'): Shape {
    rankAtLeast(kernel, 'x', x, 1, '[..., K]');
    rankExactly(kernel, 'w', w, 2, `[M, ${last(x)}]`);
    if (w[1] !== last(x)) throw new ShapeError(kernel, 'w', w, `[M, ${last(x)}] (K of x)`);
    if (b !== undefined) same(kernel, 'b', b, [w[0]]);
    return [...x.slice(0, -1), w[0]];
  },
  /** dy[...,M], x[...,K], w[M,K] → dx = x's shape, dw = w's shape, db [M] */
  linearBackward(dy: Shape, x: Shape, w: Shape): { dx: Shape; dw: Shape; db: Shape } {
    const y = shapes.linear(x, w);
    same('linearBackward', 'dy', dy, y);
    return { dx: x, dw: w, db: [w[0]] };
  },
  add(a: Shape, b: Shape): Shape {
    same('add', 'b', b, a);
    return a;
  },
  scale(a: Shape): Shape {
    return a;
  },
  /** x[B,S,D], y[S,D] → [B,S,D] */
  addBroadcast(x: Shape, y: Shape): Shape {
    rankExactly('addBroadcast', 'x', x, 3, '[B, S, D]');
    same('addBroadcast', 'y', y, x.slice(1));
    return x;
  },
  /** x[B,...] → [...] */
  sumBatch(x: Shape): Shape {
    rankAtLeast('sumBatch', 'x', x, 1, '[B, ...]');
    return x.slice(1);
  },
  /** x[...,D] → x's shape */
  rmsNorm(x: Shape): Shape {
    rankAtLeast('rmsNorm', 'x', x, 1, '[..., D]');
    return x;
  },
  rmsNormBackward(dy: Shape, x: Shape): Shape {
    rankAtLeast('rmsNormBackward', 'x', x, 1, '[..., D]');
    same('rmsNormBackward', 'dy', dy, x);
    return x;
  },
  addRmsNorm(a: Shape, b: Shape): Shape {
    rankAtLeast('addRmsNorm', 'a', a, 1, '[..., D]');
    same('addRmsNorm', 'b', b, a);
    return a;
  },
  addRmsNormBackward(dy: Shape, a: Shape, b: Shape): Shape {
    shapes.addRmsNorm(a, b);
    same('addRmsNormBackward', 'dy', dy, a);
    return a;
  },
  /** x[B,S,W], cos/sin [S,hd], W ≥ rotatedHeads·hd, W divisible by hd, hd even → x's shape */
  rope(x: Shape, cos: Shape, sin: Shape, headDim: number, rotatedHeads: number, kernel = 'rope', xName = 'x'): Shape {
    positiveInt(kernel, 'headDim', headDim);
    if (headDim % 2 !== 0) throw new RangeError(`${kernel}: argument 'headDim' is ${headDim}, expected an even number`);
    if (!Number.isInteger(rotatedHeads) || rotatedHeads < 0) {
      throw new RangeError(`${kernel}: argument 'rotatedHeads' is ${rotatedHeads}, expected an integer ≥ 0`);
    }
    rankExactly(kernel, xName, x, 3, '[B, S, W]');
    if (x[2] % headDim !== 0 || x[2] < rotatedHeads * headDim) {
      throw new ShapeError(kernel, xName, x, `[B, S, W] with W a multiple of headDim ${headDim} and ≥ ${rotatedHeads}·${headDim}`);
    }
    same(kernel, 'cos', cos, [x[1], headDim]);
    same(kernel, 'sin', sin, [x[1], headDim]);
    return x;
  },
  ropeBackward(dy: Shape, cos: Shape, sin: Shape, headDim: number, rotatedHeads: number): Shape {
    return shapes.rope(dy, cos, sin, headDim, rotatedHeads, 'ropeBackward', 'dy');
  },
  /** qkv[B,S,3·Hh·hd] → [B,S,Hh·hd] */
  attention(qkv: Shape, numHeads: number, kernel = 'attention'): Shape {
    positiveInt(kernel, 'numHeads', numHeads);
    rankExactly(kernel, 'qkv', qkv, 3, '[B, S, 3·Hh·hd]');
    if (qkv[2] % (3 * numHeads) !== 0 || qkv[2] === 0) {
      throw new ShapeError(kernel, 'qkv', qkv, `[B, S, 3·${numHeads}·hd] (last axis a positive multiple of ${3 * numHeads})`);
    }
    return [qkv[0], qkv[1], qkv[2] / 3];
  },
  attentionBackward(dy: Shape, qkv: Shape, numHeads: number): Shape {
    const y = shapes.attention(qkv, numHeads, 'attentionBackward');
    same('attentionBackward', 'dy', dy, y);
    return qkv;
  },
  /** gu[...,2I] → [...,I] */
  swiglu(gu: Shape, kernel = 'swiglu'): Shape {
    rankAtLeast(kernel, 'gu', gu, 1, '[..., 2I]');
    if (last(gu) % 2 !== 0 || last(gu) === 0) throw new ShapeError(kernel, 'gu', gu, '[..., 2I] (last axis even and positive)');
    return [...gu.slice(0, -1), last(gu) / 2];
  },
  swigluBackward(dy: Shape, gu: Shape): Shape {
    const y = shapes.swiglu(gu, 'swigluBackward');
    same('swigluBackward', 'dy', dy, y);
    return gu;
  },
  /** x[B,S,K], w[W,K] (W a multiple of headDim, ≥ rotatedHeads·headDim), cos/sin [S,hd] → [B,S,W] */
  linearRope(x: Shape, w: Shape, cos: Shape, sin: Shape, headDim: number, rotatedHeads: number, kernel = 'linearRope'): Shape {
    rankExactly(kernel, 'x', x, 3, '[B, S, K]');
    const y = shapes.linear(x, w, undefined, kernel);
    positiveInt(kernel, 'headDim', headDim);
    if (w[0] % headDim !== 0 || w[0] < rotatedHeads * headDim) {
      throw new ShapeError(kernel, 'w', w, `[W, K] with W a multiple of headDim ${headDim} and ≥ ${rotatedHeads}·${headDim}`);
    }
    return shapes.rope(y, cos, sin, headDim, rotatedHeads, kernel, 'x');
  },
  /** dy[B,S,W] and linearRope's arguments → dx = x's shape, dw = w's shape */
  linearRopeBackward(dy: Shape, x: Shape, w: Shape, cos: Shape, sin: Shape, headDim: number, rotatedHeads: number): { dx: Shape; dw: Shape } {
    const y = shapes.linearRope(x, w, cos, sin, headDim, rotatedHeads, 'linearRopeBackward');
    same('linearRopeBackward', 'dy', dy, y);
    return { dx: x, dw: w };
  },
  /** x[...,K], w[2I,K] → gu [...,2I], y [...,I] */
  linearSwiglu(x: Shape, w: Shape, kernel = 'linearSwiglu'): { y: Shape; gu: Shape } {
    const gu = shapes.linear(x, w, undefined, kernel);
    if (w[0] % 2 !== 0 || w[0] === 0) throw new ShapeError(kernel, 'w', w, `[2I, ${w[1]}] (2I even and positive)`);
    return { y: [...gu.slice(0, -1), last(gu) / 2], gu };
  },
  /** dy[...,I], x[...,K], w[2I,K], gu[...,2I] → dx = x's shape, dw = w's shape */
  linearSwigluBackward(dy: Shape, x: Shape, w: Shape, gu: Shape): { dx: Shape; dw: Shape } {
    const out = shapes.linearSwiglu(x, w, 'linearSwigluBackward');
    same('linearSwigluBackward', 'gu', gu, out.gu);
    same('linearSwigluBackward', 'dy', dy, out.y);
    return { dx: x, dw: w };
  },
  /** table[R,D], ids of length numel(idsShape) → [...idsShape, D] */
  embedding(table: Shape, idsLength: number, idsShape: Shape): Shape {
    rankExactly('embedding', 'table', table, 2, '[R, D]');
    length('embedding', 'ids', idsLength, numel(idsShape), `the number of elements of idsShape ${s(idsShape)}`);
    return [...idsShape, table[1]];
  },
  /** dy[...,D] with numel(dy)/D = ids length → [rows, D] */
  embeddingBackward(dy: Shape, idsLength: number, rows: number): Shape {
    rankAtLeast('embeddingBackward', 'dy', dy, 1, '[..., D]');
    positiveInt('embeddingBackward', 'rows', rows);
    const d = last(dy);
    length('embeddingBackward', 'ids', idsLength, d === 0 ? 0 : numel(dy) / d, `one id per row of dy ${s(dy)}`);
    return [rows, d];
  },
  /** a[B,P,D], b[B,T,D] → [B,P+T,D] */
  concatSeq(a: Shape, b: Shape): Shape {
    rankExactly('concatSeq', 'a', a, 3, '[B, P, D]');
    rankExactly('concatSeq', 'b', b, 3, `[${a[0]}, T, ${a[2]}]`);
    if (b[0] !== a[0] || b[2] !== a[2]) throw new ShapeError('concatSeq', 'b', b, `[${a[0]}, T, ${a[2]}]`);
    return [a[0], a[1] + b[1], a[2]];
  },
  /** x[B,S,D] → [B,len,D], 0 ≤ start, start+len ≤ S */
  sliceSeq(x: Shape, start: number, len: number): Shape {
    rankExactly('sliceSeq', 'x', x, 3, '[B, S, D]');
    if (!Number.isInteger(start) || !Number.isInteger(len) || start < 0 || len < 0 || start + len > x[1]) {
      throw new ShapeError('sliceSeq', 'x', x, `[B, S, D] with S ≥ start + len = ${start} + ${len}`);
    }
    return [x[0], len, x[2]];
  },
  /** dy[B,len,D] → [B,fullLen,D] */
  /** x[B,M,N] → [B,N,M] */
  transpose(x: Shape): Shape {
    rankExactly('transpose', 'x', x, 3, '[B, M, N]');
    return [x[0], x[2], x[1]];
  },
  sliceSeqBackward(dy: Shape, fullLen: number, start: number): Shape {
    rankExactly('sliceSeqBackward', 'dy', dy, 3, '[B, len, D]');
    if (!Number.isInteger(start) || !Number.isInteger(fullLen) || start < 0 || start + dy[1] > fullLen) {
      throw new ShapeError('sliceSeqBackward', 'dy', dy, `[B, len, D] with start + len ≤ fullLen (${start} + len ≤ ${fullLen})`);
    }
    return [dy[0], fullLen, dy[2]];
  },
  /** state[B,S,D], init[D], mask of length B → state's shape */
  resetRows(state: Shape, init: Shape, maskLength: number): Shape {
    rankExactly('resetRows', 'state', state, 3, '[B, S, D]');
    same('resetRows', 'init', init, [state[2]]);
    length('resetRows', 'mask', maskLength, state[0], 'one flag per batch row');
    return state;
  },
  /** logits[B,T,V], labels of length B·T → [B,T] */
  crossEntropy(logits: Shape, labelsLength: number, kernel = 'crossEntropy'): Shape {
    rankExactly(kernel, 'logits', logits, 3, '[B, T, V]');
    if (logits[2] === 0) throw new ShapeError(kernel, 'logits', logits, '[B, T, V] with V ≥ 1');
    length(kernel, 'labels', labelsLength, logits[0] * logits[1], 'B·T');
    return [logits[0], logits[1]];
  },
  crossEntropyBackward(logits: Shape, labelsLength: number, rowScaleLength: number): Shape {
    shapes.crossEntropy(logits, labelsLength, 'crossEntropyBackward');
    length('crossEntropyBackward', 'rowScale', rowScaleLength, logits[0], 'B');
    return logits;
  },
  /** x[...,V] → [...] */
  argmax(x: Shape): Shape {
    rankAtLeast('argmax', 'x', x, 1, '[..., V]');
    if (last(x) === 0) throw new ShapeError('argmax', 'x', x, '[..., V] with V ≥ 1');
    return x.slice(0, -1);
  },
  sigmoid(x: Shape): Shape {
    return x;
  },
  bceWithLogits(x: Shape, target: Shape, kernel = 'bceWithLogits'): Shape {
    same(kernel, 'target', target, x);
    return x;
  },
  bceWithLogitsBackward(x: Shape, target: Shape): Shape {
    return shapes.bceWithLogits(x, target, 'bceWithLogitsBackward');
  },
  /** param, m, v, grad all of one shape → that shape */
  adamAtan2(param: Shape, m: Shape, v: Shape, grad: Shape, kernel = 'adamAtan2', at = ''): Shape {
    same(kernel, `m${at}`, m, param);
    same(kernel, `v${at}`, v, param);
    same(kernel, `grad${at}`, grad, param);
    return param;
  },
  /** adamAtan2's shapes for each of as many states as grads → the params' shapes */
  adamAtan2Many(states: readonly { param: Shape; m: Shape; v: Shape }[], grads: readonly Shape[]): Shape[] {
    length('adamAtan2Many', 'grads', grads.length, states.length, 'one gradient per state');
    return states.map((s, i) => shapes.adamAtan2(s.param, s.m, s.v, grads[i], 'adamAtan2Many', `[${i}]`));
  },
  /** table[R,E], grads[B,E], ids of length B → [R,E] */
  signSgdRows(table: Shape, grads: Shape, idsLength: number): Shape {
    rankExactly('signSgdRows', 'table', table, 2, '[R, E]');
    rankExactly('signSgdRows', 'grads', grads, 2, `[B, ${table[1]}]`);
    if (grads[1] !== table[1]) throw new ShapeError('signSgdRows', 'grads', grads, `[B, ${table[1]}]`);
    length('signSgdRows', 'ids', idsLength, grads[0], 'one id per row of grads');
    return table;
  },
  ema(e: Shape, p: Shape, kernel = 'ema', at = ''): Shape {
    same(kernel, `p${at}`, p, e);
    return e;
  },
  /** es[i] and ps[i] of equal shapes, as many of each → es' shapes */
  emaMany(es: readonly Shape[], ps: readonly Shape[]): Shape[] {
    length('emaMany', 'ps', ps.length, es.length, 'one parameter per EMA copy');
    return es.map((e, i) => shapes.ema(e, ps[i], 'emaMany', `[${i}]`));
  },
} as const;
