// The gradient oracle: each backward of the contract against central finite differences of its
// forward, in float64, through a random projection L(x) = ⟨dy, f(x)⟩ (so ∂L/∂x is exactly what a
// backward returns for that dy). Where the forward is affine in an argument the check is exact:
// ∂L/∂x_j = L(e_j) − L(0), with no truncation error. Runs on any float64 backend (the reference by
// default), so a planted sign error in a reference backward is caught here.

import fc from 'fast-check';
import type { Backend, KernelName, LossKind } from '../core/backend.ts';
import type { Tensor } from '../core/tensor.ts';
import { wrap64 } from '../core/tensor.ts';
import type { HostTensor } from './arbitraries.ts';
import { dim, f32, ids, labels, leading, tensorOf } from './arbitraries.ts';
import type { CaseInput } from './cases.ts';

type T64 = Tensor<Float64Array>;
type B64 = Backend<T64>;

export interface GradCase<P = unknown> {
  /** a short name for test titles: the forward kernel (and variant) */
  readonly name: string;
  /** the kernels this check covers (forward and backward) */
  readonly kernels: readonly KernelName[];
  /** inputs; tensors include the projection `dy` (shape of the forward's output) */
  readonly arbitrary: fc.Arbitrary<CaseInput<P>>;
  /** the arguments differentiated */
  readonly wrt: readonly string[];
  /** the subset of `wrt` in which the forward is affine (checked exactly) */
  readonly linearIn: readonly string[];
  forward(b: B64, t: Readonly<Record<string, T64>>, input: CaseInput<P>): T64;
  /** the contract's backward rule for this forward, as kernels of `b` */
  backward(b: B64, t: Readonly<Record<string, T64>>, dy: T64, input: CaseInput<P>): Readonly<Record<string, T64>>;
}

const make = <P>(c: GradCase<P>): GradCase<unknown> => c as unknown as GradCase<unknown>;

/** Finite-difference settings: step h, pass when |g − fd| ≤ atol + rtol·max|g|. */
export interface FdOptions {
  readonly h: number;
  readonly atol: number;
  readonly rtol: number;
  /** relative tolerance of the exact (affine) check */
  readonly exactRtol: number;
}

export const FD_DEFAULTS: FdOptions = { h: 1e-6, atol: 1e-6, rtol: 1e-5, exactRtol: 1e-10 };

export interface GradMismatch {
  readonly argument: string;
  readonly index: number;
  readonly analytic: number;
  readonly numeric: number;
  readonly allowed: number;
  readonly method: 'central difference' | 'exact (affine)';
}

export interface GradResult {
  readonly ok: boolean;
  readonly mismatch?: GradMismatch;
  /** largest |g − numeric| / allowed seen */
  readonly worstRatio: number;
}

const toT64 = (t: HostTensor): T64 => wrap64(t.shape, Float64Array.from(t.data));

/** ⟨dy, f(args)⟩ in float64. */
const project = (b: B64, c: GradCase<unknown>, args: Record<string, T64>, dy: T64, input: CaseInput<unknown>): number => {
  const y = c.forward(b, args, input);
  if (y.data.length !== dy.data.length) {
    throw new Error(`${c.name}: forward output has ${y.data.length} values, projection dy ${dy.data.length}`);
  }
  let s = 0;
  for (let i = 0; i < y.data.length; i++) s += dy.data[i] * y.data[i];
  return s;
};

/** Checks one input: every differentiated argument, every element. */
export const gradCheck = (b: B64, c: GradCase<unknown>, input: CaseInput<unknown>, o: FdOptions = FD_DEFAULTS): GradResult => {
  const args: Record<string, T64> = {};
  for (const [k, t] of Object.entries(input.tensors)) if (k !== 'dy') args[k] = toT64(t);
  const dy = toT64(input.tensors.dy);
  const grads = c.backward(b, args, dy, input);
  let worstRatio = 0;
  for (const w of c.wrt) {
    const x = args[w];
    if (x === undefined) continue; // an optional argument this input does not have
    const g = grads[w];
    if (g === undefined || g.data.length !== x.data.length) {
      return { ok: false, worstRatio: Infinity, mismatch: { argument: w, index: -1, analytic: NaN, numeric: NaN, allowed: 0, method: 'central difference' } };
    }
    let gmax = 0;
    for (let j = 0; j < g.data.length; j++) gmax = Math.max(gmax, Math.abs(g.data[j]));
    const exact = c.linearIn.includes(w);
    const at = (data: Float64Array): number => project(b, c, { ...args, [w]: wrap64(x.shape, data) }, dy, input);
    const base = exact ? at(new Float64Array(x.data.length)) : 0;
    for (let j = 0; j < x.data.length; j++) {
      let numeric: number;
      let allowed: number;
      if (exact) {
        const e = new Float64Array(x.data.length);
        e[j] = 1;
        numeric = at(e) - base;
        allowed = o.exactRtol * (1 + gmax);
      } else {
        const plus = Float64Array.from(x.data);
        const minus = Float64Array.from(x.data);
        plus[j] += o.h;
        minus[j] -= o.h;
        numeric = (at(plus) - at(minus)) / (plus[j] - minus[j]);
        allowed = o.atol + o.rtol * gmax;
      }
      const err = Math.abs(g.data[j] - numeric);
      const ratio = Number.isNaN(err) ? Infinity : err / allowed;
      if (ratio > worstRatio) worstRatio = ratio;
      if (!(err <= allowed)) {
        return {
          ok: false,
          worstRatio,
          mismatch: { argument: w, index: j, analytic: g.data[j], numeric, allowed, method: exact ? 'exact (affine)' : 'central difference' },
        };
      }
    }
  }
  return { ok: true, worstRatio };
};

export const describeGradMismatch = (c: GradCase<unknown>, m: GradMismatch): string =>
  m.index < 0
    ? `${c.name}: backward returned no gradient of the right size for '${m.argument}'`
    : `${c.name}: ∂/∂${m.argument}[${m.index}] backward ${m.analytic}, ${m.method} ${m.numeric}, |difference| ${Math.abs(m.analytic - m.numeric).toExponential(3)} > ${m.allowed.toExponential(3)}`;

// ---- the cases ---------------------------------------------------------------------------------

const plain = (t: Record<string, HostTensor>) => ({ tensors: t, host: {}, params: {} });
const shapeArb = (minRank: number, maxRank: number) => fc.array(dim(1, 4), { minLength: minRank, maxLength: maxRank });
const FD_EPS = fc.constantFrom(1e-3, 0.1, 1);

export const GRAD_CASES: readonly GradCase<unknown>[] = [
  make({
    name: 'linear',
    kernels: ['linear', 'linearBackward'],
    arbitrary: fc.record({ lead: leading(), K: dim(1, 6), M: dim(1, 5), bias: fc.boolean() }).chain(({ lead, K, M, bias }) =>
      fc
        .record({ x: tensorOf([...lead, K]), w: tensorOf([M, K]), dy: tensorOf([...lead, M]), ...(bias ? { b: tensorOf([M]) } : {}) })
        .map(plain),
    ),
    wrt: ['x', 'w', 'b'], // 'b' only when the case drew a bias
    linearIn: ['x', 'w', 'b'],
    forward: (b, t) => b.linear(t.x, t.w, t.b),
    backward: (b, t, dy) => {
      const g = b.linearBackward(dy, t.x, t.w, t.b !== undefined);
      const out: Record<string, T64> = { x: g.dx, w: g.dw };
      if (g.db !== undefined) out.b = g.db;
      return out;
    },
  }),
  make({
    name: 'add',
    kernels: ['add'],
    arbitrary: shapeArb(1, 3).chain((s) => fc.record({ a: tensorOf(s), b: tensorOf(s), dy: tensorOf(s) }).map(plain)),
    wrt: ['a', 'b'],
    linearIn: ['a', 'b'],
    forward: (b, t) => b.add(t.a, t.b),
    backward: (_b, _t, dy) => ({ a: dy, b: dy }),
  }),
  make({
    name: 'scale',
    kernels: ['scale'],
    arbitrary: fc
      .record({ s: shapeArb(1, 3), k: f32(-4, 4) })
      .chain(({ s, k }) => fc.record({ a: tensorOf(s), dy: tensorOf(s) }).map((t) => ({ tensors: t, host: {}, params: { k } }))),
    wrt: ['a'],
    linearIn: ['a'],
    forward: (b, t, i) => b.scale(t.a, i.params.k),
    backward: (b, _t, dy, i) => ({ a: b.scale(dy, i.params.k) }),
  }),
  make({
    name: 'addBroadcast',
    kernels: ['addBroadcast', 'sumBatch'],
    arbitrary: fc
      .tuple(dim(1, 3), dim(1, 4), dim(1, 4))
      .chain(([B, S, D]) => fc.record({ x: tensorOf([B, S, D]), y: tensorOf([S, D]), dy: tensorOf([B, S, D]) }).map(plain)),
    wrt: ['x', 'y'],
    linearIn: ['x', 'y'],
    forward: (b, t) => b.addBroadcast(t.x, t.y),
    backward: (b, _t, dy) => ({ x: dy, y: b.sumBatch(dy) }),
  }),
  make({
    name: 'sumBatch',
    kernels: ['sumBatch', 'addBroadcast'],
    arbitrary: fc
      .tuple(dim(1, 3), dim(1, 4), dim(1, 4))
      .chain(([B, S, D]) => fc.record({ x: tensorOf([B, S, D]), dy: tensorOf([S, D]) }).map(plain)),
    wrt: ['x'],
    linearIn: ['x'],
    forward: (b, t) => b.sumBatch(t.x),
    backward: (b, t, dy) => ({ x: b.addBroadcast(b.zeros(t.x.shape), dy) }),
  }),
  make({
    name: 'concatSeq',
    kernels: ['concatSeq', 'sliceSeq'],
    arbitrary: fc
      .record({ B: dim(1, 3), P: dim(0, 2), T: dim(1, 4), D: dim(1, 3) })
      .chain(({ B, P, T, D }) => fc.record({ a: tensorOf([B, P, D]), b: tensorOf([B, T, D]), dy: tensorOf([B, P + T, D]) }).map(plain)),
    wrt: ['a', 'b'],
    linearIn: ['a', 'b'],
    forward: (b, t) => b.concatSeq(t.a, t.b),
    backward: (b, t, dy) => ({ a: b.sliceSeq(dy, 0, t.a.shape[1]), b: b.sliceSeq(dy, t.a.shape[1], t.b.shape[1]) }),
  }),
  make({
    name: 'sliceSeq',
    kernels: ['sliceSeq', 'sliceSeqBackward'],
    arbitrary: fc.record({ B: dim(1, 3), S: dim(1, 5), D: dim(1, 3), a: dim(0, 4), l: dim(0, 5) }).chain(({ B, S, D, a, l }) => {
      const start = Math.min(a, S - 1);
      const len = Math.min(l, S - start);
      return fc.record({ x: tensorOf([B, S, D]), dy: tensorOf([B, len, D]) }).map((t) => ({ tensors: t, host: {}, params: { start, len } }));
    }),
    wrt: ['x'],
    linearIn: ['x'],
    forward: (b, t, i) => b.sliceSeq(t.x, i.params.start, i.params.len),
    backward: (b, t, dy, i) => ({ x: b.sliceSeqBackward(dy, t.x.shape[1], i.params.start) }),
  }),
  make({
    name: 'transpose',
    kernels: ['transpose'],
    arbitrary: fc
      .tuple(dim(1, 3), dim(1, 5), dim(1, 5))
      .chain(([B, M, N]) => fc.record({ x: tensorOf([B, M, N]), dy: tensorOf([B, N, M]) }).map(plain)),
    wrt: ['x'],
    linearIn: ['x'],
    forward: (b, t) => b.transpose(t.x),
    backward: (b, _t, dy) => ({ x: b.transpose(dy) }),
  }),
  make({
    name: 'rmsNorm',
    kernels: ['rmsNorm', 'rmsNormBackward'],
    arbitrary: fc
      .record({ lead: leading(), D: dim(1, 8), eps: FD_EPS })
      .chain(({ lead, D, eps }) => fc.record({ x: tensorOf([...lead, D]), dy: tensorOf([...lead, D]) }).map((t) => ({ tensors: t, host: {}, params: { eps } }))),
    wrt: ['x'],
    linearIn: [],
    forward: (b, t, i) => b.rmsNorm(t.x, i.params.eps),
    backward: (b, t, dy, i) => ({ x: b.rmsNormBackward(dy, t.x, i.params.eps) }),
  }),
  make({
    name: 'addRmsNorm',
    kernels: ['addRmsNorm', 'addRmsNormBackward'],
    arbitrary: fc.record({ lead: leading(), D: dim(1, 8), eps: FD_EPS }).chain(({ lead, D, eps }) =>
      fc
        .record({ a: tensorOf([...lead, D]), b: tensorOf([...lead, D]), dy: tensorOf([...lead, D]) })
        .map((t) => ({ tensors: t, host: {}, params: { eps } })),
    ),
    wrt: ['a', 'b'],
    linearIn: [],
    forward: (b, t, i) => b.addRmsNorm(t.a, t.b, i.params.eps),
    backward: (b, t, dy, i) => {
      const g = b.addRmsNormBackward(dy, t.a, t.b, i.params.eps);
      return { a: g, b: g };
    },
  }),
  make({
    name: 'rope',
    kernels: ['rope', 'ropeBackward'],
    arbitrary: fc
      .record({ B: dim(1, 2), S: dim(1, 4), heads: dim(1, 3), half: dim(1, 3), rot: dim(0, 3) })
      .chain(({ B, S, heads, half, rot }) => {
        const hd = 2 * half;
        return fc
          .record({ x: tensorOf([B, S, heads * hd]), dy: tensorOf([B, S, heads * hd]), cos: tensorOf([S, hd], 1), sin: tensorOf([S, hd], 1) })
          .map((t) => ({ tensors: t, host: {}, params: { hd, rotatedHeads: Math.min(rot, heads) } }));
      }),
    wrt: ['x'],
    linearIn: ['x'],
    forward: (b, t, i) => b.rope(t.x, t.cos, t.sin, i.params.hd, i.params.rotatedHeads),
    backward: (b, t, dy, i) => ({ x: b.ropeBackward(dy, t.cos, t.sin, i.params.hd, i.params.rotatedHeads) }),
  }),
  make({
    name: 'attention',
    kernels: ['attention', 'attentionBackward'],
    arbitrary: fc
      .record({ B: dim(1, 2), S: dim(1, 4), Hh: dim(1, 2), hd: dim(1, 3) })
      .chain(({ B, S, Hh, hd }) =>
        fc.record({ qkv: tensorOf([B, S, 3 * Hh * hd]), dy: tensorOf([B, S, Hh * hd]) }).map((t) => ({ tensors: t, host: {}, params: { Hh } })),
      ),
    wrt: ['qkv'],
    linearIn: [],
    forward: (b, t, i) => b.attention(t.qkv, i.params.Hh),
    backward: (b, t, dy, i) => ({ qkv: b.attentionBackward(dy, t.qkv, i.params.Hh) }),
  }),
  make({
    name: 'swiglu',
    kernels: ['swiglu', 'swigluBackward'],
    arbitrary: fc
      .record({ lead: leading(), I: dim(1, 5) })
      .chain(({ lead, I }) => fc.record({ gu: tensorOf([...lead, 2 * I], 4), dy: tensorOf([...lead, I]) }).map(plain)),
    wrt: ['gu'],
    linearIn: [],
    forward: (b, t) => b.swiglu(t.gu),
    backward: (b, t, dy) => ({ gu: b.swigluBackward(dy, t.gu) }),
  }),
  make({
    name: 'linearRope',
    kernels: ['linearRope', 'linearRopeBackward'],
    arbitrary: fc
      .record({ B: dim(1, 2), S: dim(1, 3), K: dim(1, 4), heads: dim(1, 2), half: dim(1, 2), rot: dim(0, 2) })
      .chain(({ B, S, K, heads, half, rot }) => {
        const hd = 2 * half;
        return fc
          .record({ x: tensorOf([B, S, K]), w: tensorOf([heads * hd, K]), dy: tensorOf([B, S, heads * hd]), cos: tensorOf([S, hd], 1), sin: tensorOf([S, hd], 1) })
          .map((t) => ({ tensors: t, host: {}, params: { hd, rotatedHeads: Math.min(rot, heads) } }));
      }),
    wrt: ['x', 'w'],
    linearIn: ['x', 'w'],
    forward: (b, t, i) => b.linearRope(t.x, t.w, t.cos, t.sin, i.params.hd, i.params.rotatedHeads),
    backward: (b, t, dy, i) => {
      const g = b.linearRopeBackward(dy, t.x, t.w, t.cos, t.sin, i.params.hd, i.params.rotatedHeads);
      return { x: g.dx, w: g.dw };
    },
  }),
  make({
    name: 'linearSwiglu',
    kernels: ['linearSwiglu', 'linearSwigluBackward'],
    arbitrary: fc
      .record({ lead: leading(), K: dim(1, 4), I: dim(1, 3) })
      .chain(({ lead, K, I }) => fc.record({ x: tensorOf([...lead, K]), w: tensorOf([2 * I, K]), dy: tensorOf([...lead, I]) }).map(plain)),
    wrt: ['x', 'w'],
    linearIn: [],
    forward: (b, t) => b.linearSwiglu(t.x, t.w).y,
    backward: (b, t, dy) => {
      const g = b.linearSwigluBackward(dy, t.x, t.w, b.linearSwiglu(t.x, t.w).gu);
      return { x: g.dx, w: g.dw };
    },
  }),
  make({
    name: 'embedding',
    kernels: ['embedding', 'embeddingBackward'],
    arbitrary: fc.record({ R: dim(1, 5), D: dim(1, 3), idsShape: leading() }).chain(({ R, D, idsShape }) => {
      const n = idsShape.reduce((a, c) => a * c, 1);
      return fc
        .record({ table: tensorOf([R, D]), dy: tensorOf([...idsShape, D]), ids: ids(n, R) })
        .map(({ table, dy, ids: i }) => ({ tensors: { table, dy }, host: { ids: i }, params: { idsShape, R } }));
    }),
    wrt: ['table'],
    linearIn: ['table'],
    forward: (b, t, i) => b.embedding(t.table, i.host.ids as Int32Array, i.params.idsShape),
    backward: (b, _t, dy, i) => ({ table: b.embeddingBackward(dy, i.host.ids as Int32Array, i.params.R) }),
  }),
  ...(['stablemax_cross_entropy', 'softmax_cross_entropy'] as const).map((kind: LossKind) =>
    make({
      name: `crossEntropy (${kind})`,
      kernels: ['crossEntropy', 'crossEntropyBackward'],
      // dy[b,t] = rowScale[b]: the backward's contract is a per-row scale
      arbitrary: fc.record({ B: dim(1, 3), T: dim(1, 4), V: dim(1, 6) }).chain(({ B, T, V }) =>
        fc.record({ logits: tensorOf([B, T, V], 4), labels: labels(B * T, V), scale: tensorOf([B]) }).map(({ logits, labels: y, scale }) => {
          const dy = new Float64Array(B * T);
          for (let b = 0; b < B; b++) dy.fill(scale.data[b], b * T, (b + 1) * T);
          return { tensors: { logits, dy: { shape: [B, T], data: dy } }, host: { labels: y, rowScale: scale.data }, params: { kind } };
        }),
      ),
      wrt: ['logits'],
      linearIn: [],
      forward: (b, t, i) => b.crossEntropy(t.logits, i.host.labels as Int32Array, i.params.kind),
      backward: (b, t, _dy, i) => ({
        logits: b.crossEntropyBackward(t.logits, i.host.labels as Int32Array, i.params.kind, i.host.rowScale as Float64Array),
      }),
    }),
  ),
  make({
    name: 'bceWithLogits',
    kernels: ['bceWithLogits', 'bceWithLogitsBackward'],
    // dy is one constant: the backward's contract is a single scale
    arbitrary: fc.record({ s: shapeArb(1, 2), k: f32(-2, 2) }).chain(({ s, k }) =>
      fc.record({ x: tensorOf(s, 8), target: tensorOf(s, 1).map((t) => ({ shape: t.shape, data: t.data.map(Math.abs) })) }).map((t) => ({
        tensors: { ...t, dy: { shape: s, data: new Float64Array(t.x.data.length).fill(k) } },
        host: {},
        params: { k },
      })),
    ),
    wrt: ['x'],
    linearIn: [],
    forward: (b, t) => b.bceWithLogits(t.x, t.target),
    backward: (b, t, _dy, i) => ({ x: b.bceWithLogitsBackward(t.x, t.target, i.params.k) }),
  }),
];
