// One conformance case per kernel of the Backend interface: an arbitrary of host inputs (shapes
// first, then data) and how to call that kernel on any backend. The runner (runner.ts) uploads the
// tensors, calls, reads the outputs back and compares them with the reference; the same cases
// drive properties/ and `hrm verify`. Cases call exactly one kernel each.

import fc from 'fast-check';
import type { Backend, KernelName, LossKind } from '../core/backend.ts';
import { KERNEL_NAMES } from '../core/backend.ts';
import type { Shape } from '../core/tensor.ts';
import { ropeTables } from '../model/rope-tables.ts';
import type { HostTensor } from './arbitraries.ts';
import { dim, f32, ids, labels, leading, tensorIn, tensorOf, zeroBelow } from './arbitraries.ts';

export type HostArray = Int32Array | Uint8Array | Float64Array;

export interface CaseInput<P> {
  /** tensor arguments, uploaded with `fromArray` */
  readonly tensors: Readonly<Record<string, HostTensor>>;
  /** host integer/float arrays passed as they are (ids, labels, masks, row scales) */
  readonly host: Readonly<Record<string, HostArray>>;
  /** scalar arguments */
  readonly params: P;
}

export interface KernelCase<P = unknown> {
  readonly kernel: KernelName;
  readonly arbitrary: fc.Arbitrary<CaseInput<P>>;
  /** tensor arguments the kernel may consume (CONSUMES in the contract): not checked for immutability */
  readonly consumed: readonly string[];
  /** Calls the kernel; returns its outputs by name. */
  call<T>(b: Backend<T>, t: Readonly<Record<string, T>>, input: CaseInput<P>): Readonly<Record<string, T>>;
  /**
   * Extra error allowed per output element where the result is decided by cancellation or a tie
   * that float32 cannot resolve (a sum of large terms that is tiny; the sign of such a sum): the
   * tolerance table's scale is the output's own largest value, which a fully cancelled reduction
   * does not have. Absent: no extra allowance.
   */
  slack?(input: CaseInput<P>, dtype: 'float32' | 'float64'): Readonly<Record<string, Float64Array>>;
}

/** Relative size of a sum's rounding against the sum of its terms' magnitudes: a few K·2⁻²⁴ in float32 for K ≤ 16 terms (K·2⁻⁵³ in float64). */
export const SUM_SLACK = { float32: 1e-6, float64: 1e-12 } as const;

/** Σ|terms| of a scatter-add: for each of R rows of width E, the magnitudes of the `rows` (N×E) whose id is that row. */
const scatterMagnitude = (rows: ArrayLike<number>, ids: Int32Array, R: number, E: number): Float64Array => {
  const m = new Float64Array(R * E);
  for (let n = 0; n < ids.length; n++) for (let e = 0; e < E; e++) m[ids[n] * E + e] += Math.abs(rows[n * E + e]);
  return m;
};

const make = <P>(c: KernelCase<P>): KernelCase<unknown> => c as unknown as KernelCase<unknown>;

type Tensors = Record<string, fc.Arbitrary<HostTensor>>;
const tensors = (r: Tensors): fc.Arbitrary<Record<string, HostTensor>> => fc.record(r);
const only = (r: Tensors) => tensors(r).map((t) => ({ tensors: t, host: {}, params: {} }));

const EPS = fc.constantFrom(1e-5, 1e-6, 1e-3, 0.1);
const LOSS: fc.Arbitrary<LossKind> = fc.constantFrom('stablemax_cross_entropy' as const, 'softmax_cross_entropy' as const);

/** [B,S,D] with each axis in 1..4. */
const bsd = () => fc.tuple(dim(1, 3), dim(1, 4), dim(1, 4));

/** RoPE inputs: width = heads·hd, rotatedHeads ≤ heads, real tables for S positions. */
const ropeArb = () =>
  fc
    .record({ B: dim(1, 2), S: dim(1, 5), heads: dim(1, 3), half: dim(1, 3), rot: dim(0, 3), theta: fc.constantFrom(10000, 100) })
    .chain(({ B, S, heads, half, rot, theta }) => {
      const hd = 2 * half;
      const rotatedHeads = Math.min(rot, heads);
      const { cos, sin } = ropeTables(S, hd, theta);
      return tensorOf([B, S, heads * hd]).map((x) => ({
        tensors: { x, cos: { shape: cos.shape, data: cos.data }, sin: { shape: sin.shape, data: sin.data } },
        host: {},
        params: { hd, rotatedHeads },
      }));
    });

/** Fused qkv [B,S,3·Hh·hd]. */
const qkvArb = () =>
  fc.record({ B: dim(1, 2), S: dim(1, 5), Hh: dim(1, 3), hd: dim(1, 4) }).chain(({ B, S, Hh, hd }) =>
    fc.record({ qkv: tensorOf([B, S, 3 * Hh * hd]), dy: tensorOf([B, S, Hh * hd]) }).map((t) => ({ tensors: t, host: {}, params: { Hh } })),
  );

/** Fused QKV + RoPE inputs: x[B,S,K], w[heads·hd, K], dy[B,S,heads·hd], real tables for S positions. */
const linearRopeArb = () =>
  fc
    .record({ B: dim(1, 2), S: dim(1, 5), K: dim(1, 8), heads: dim(1, 3), half: dim(1, 3), rot: dim(0, 3), theta: fc.constantFrom(10000, 100) })
    .chain(({ B, S, K, heads, half, rot, theta }) => {
      const hd = 2 * half;
      const { cos, sin } = ropeTables(S, hd, theta);
      return fc.record({ x: tensorOf([B, S, K]), w: tensorOf([heads * hd, K], 1), dy: tensorOf([B, S, heads * hd]) }).map((t) => ({
        tensors: { ...t, cos: { shape: cos.shape, data: cos.data }, sin: { shape: sin.shape, data: sin.data } },
        host: {},
        params: { hd, rotatedHeads: Math.min(rot, heads) },
      }));
    });

/** Fused gate_up + SwiGLU inputs: x[...,K], w[2I,K], gu[...,2I] (for the backward), dy[...,I]. */
const linearSwigluArb = () =>
  fc.record({ lead: leading(), K: dim(1, 8), I: dim(1, 6) }).chain(({ lead, K, I }) =>
    only({ x: tensorOf([...lead, K]), w: tensorOf([2 * I, K], 1), gu: tensorOf([...lead, 2 * I], 4), dy: tensorOf([...lead, I]) }),
  );

/** AdamATan2 inputs: one tensor's param, grad, m and v, and a hyper. */
const adamArb = () =>
  fc
    .record({
      shape: fc.array(dim(1, 4), { minLength: 1, maxLength: 2 }),
      lr: fc.constantFrom(1e-4, 5e-4, 1e-3, 1e-2),
      weightDecay: fc.constantFrom(0, 0.1, 1),
      beta1: fc.constant(0.9),
      beta2: fc.constantFrom(0.95, 0.999),
      step: dim(1, 6),
      fresh: fc.boolean(),
    })
    .chain(({ shape, fresh, ...hyper }) =>
      tensors({
        param: tensorOf(shape),
        grad: tensorOf(shape).map((t) => zeroBelow(t, 2 ** -50)),
        m: fresh ? tensorIn(shape, 0, 0) : tensorOf(shape, 0.5).map((t) => zeroBelow(t, 2 ** -50)),
        v: fresh ? tensorIn(shape, 0, 0) : tensorIn(shape, 0, 0.5).map((t) => zeroBelow(t, 2 ** -100)),
      })
        // g² and (1 − β2)·g² stay normal (≥ 2^−110) for |g| ≥ 2^−50: see zeroBelow
        .map((t) => ({ tensors: t, host: {}, params: hyper })),
  );

const ceArb = (withScale: boolean) =>
  fc.record({ B: dim(1, 3), T: dim(1, 4), V: dim(1, 6), kind: LOSS }).chain(({ B, T, V, kind }) =>
    fc
      .record({
        logits: tensorOf([B, T, V], 4),
        labels: labels(B * T, V),
        rowScale: withScale ? tensorIn([B], -2, 2) : fc.constant({ shape: [B], data: new Float64Array(B) }),
      })
      .map(({ logits, labels: y, rowScale }) => ({ tensors: { logits }, host: { labels: y, rowScale: rowScale.data }, params: { kind } })),
  );

const embArb = () =>
  fc.record({ R: dim(1, 5), D: dim(1, 4), idsShape: leading() }).chain(({ R, D, idsShape }) => {
    const n = idsShape.reduce((a, b) => a * b, 1);
    return fc
      .record({ table: tensorOf([R, D]), dy: tensorOf([...idsShape, D]), ids: ids(n, R) })
      .map(({ table, dy, ids: i }) => ({ tensors: { table, dy }, host: { ids: i }, params: { idsShape: idsShape as Shape, R } }));
  });

export const KERNEL_CASES: readonly KernelCase<unknown>[] = [
  make({
    kernel: 'linear',
    arbitrary: fc.record({ lead: leading(), K: dim(1, 8), M: dim(1, 6), bias: fc.boolean() }).chain(({ lead, K, M, bias }) =>
      tensors({ x: tensorOf([...lead, K]), w: tensorOf([M, K]), ...(bias ? { b: tensorOf([M]) } : {}) }).map((t) => ({
        tensors: t,
        host: {},
        params: {},
      })),
    ),
    consumed: [],
    call: (b, t) => ({ y: b.linear(t.x, t.w, t.b) }),
  }),
  make({
    kernel: 'linearBackward',
    arbitrary: fc.record({ lead: leading(), K: dim(1, 8), M: dim(1, 6), withBias: fc.boolean() }).chain(({ lead, K, M, withBias }) =>
      tensors({ x: tensorOf([...lead, K]), w: tensorOf([M, K]), dy: tensorOf([...lead, M]) }).map((t) => ({
        tensors: t,
        host: {},
        params: { withBias },
      })),
    ),
    consumed: [],
    call: <T>(b: Backend<T>, t: Readonly<Record<string, T>>, i: CaseInput<{ withBias: boolean }>) => {
      const g = b.linearBackward(t.dy, t.x, t.w, i.params.withBias);
      if (i.params.withBias && g.db === undefined) throw new Error('linearBackward: withBias = true but no db returned');
      const out: Record<string, T> = { dx: g.dx, dw: g.dw };
      if (g.db !== undefined) out.db = g.db;
      return out;
    },
  }),
  make({
    kernel: 'add',
    arbitrary: fc
      .array(dim(1, 4), { minLength: 1, maxLength: 3 })
      .chain((shape) => only({ a: tensorOf(shape), b: tensorOf(shape) })),
    consumed: [],
    call: (b, t) => ({ y: b.add(t.a, t.b) }),
  }),
  make({
    kernel: 'scale',
    arbitrary: fc.record({ shape: fc.array(dim(1, 4), { minLength: 1, maxLength: 3 }), s: f32(-4, 4) }).chain(({ shape, s }) =>
      tensorOf(shape).map((a) => ({ tensors: { a }, host: {}, params: { s } })),
    ),
    consumed: [],
    call: (b, t, i) => ({ y: b.scale(t.a, i.params.s) }),
  }),
  make({
    kernel: 'addBroadcast',
    arbitrary: bsd().chain(([B, S, D]) => only({ x: tensorOf([B, S, D]), y: tensorOf([S, D]) })),
    consumed: [],
    call: (b, t) => ({ y: b.addBroadcast(t.x, t.y) }),
  }),
  make({
    kernel: 'sumBatch',
    arbitrary: fc.array(dim(1, 4), { minLength: 1, maxLength: 3 }).chain((shape) => only({ x: tensorOf(shape) })),
    consumed: [],
    call: (b, t) => ({ y: b.sumBatch(t.x) }),
    // y[i] = Σ_b x[b, i]: rounding of the order of SUM_SLACK·Σ_b |x[b, i]|
    slack: (i, dtype) => {
      const x = i.tensors.x;
      const B = x.shape[0];
      const n = x.data.length / B;
      const mag = new Float64Array(n);
      for (let b = 0; b < B; b++) for (let k = 0; k < n; k++) mag[k] += Math.abs(x.data[b * n + k]);
      return { y: mag.map((m) => SUM_SLACK[dtype] * m) };
    },
  }),
  make({
    kernel: 'rmsNorm',
    arbitrary: fc.record({ lead: leading(), D: dim(1, 8), eps: EPS }).chain(({ lead, D, eps }) =>
      tensorOf([...lead, D]).map((x) => ({ tensors: { x }, host: {}, params: { eps } })),
    ),
    consumed: [],
    call: (b, t, i) => ({ y: b.rmsNorm(t.x, i.params.eps) }),
  }),
  make({
    kernel: 'rmsNormBackward',
    arbitrary: fc.record({ lead: leading(), D: dim(1, 8), eps: EPS }).chain(({ lead, D, eps }) =>
      tensors({ x: tensorOf([...lead, D]), dy: tensorOf([...lead, D]) }).map((t) => ({ tensors: t, host: {}, params: { eps } })),
    ),
    consumed: [],
    call: (b, t, i) => ({ dx: b.rmsNormBackward(t.dy, t.x, i.params.eps) }),
  }),
  make({
    kernel: 'addRmsNorm',
    arbitrary: fc.record({ lead: leading(), D: dim(1, 8), eps: EPS }).chain(({ lead, D, eps }) =>
      tensors({ a: tensorOf([...lead, D]), b: tensorOf([...lead, D]) }).map((t) => ({ tensors: t, host: {}, params: { eps } })),
    ),
    consumed: [],
    call: (b, t, i) => ({ y: b.addRmsNorm(t.a, t.b, i.params.eps) }),
  }),
  make({
    kernel: 'addRmsNormBackward',
    arbitrary: fc.record({ lead: leading(), D: dim(1, 8), eps: EPS }).chain(({ lead, D, eps }) =>
      tensors({ a: tensorOf([...lead, D]), b: tensorOf([...lead, D]), dy: tensorOf([...lead, D]) }).map((t) => ({
        tensors: t,
        host: {},
        params: { eps },
      })),
    ),
    consumed: [],
    call: (b, t, i) => ({ dx: b.addRmsNormBackward(t.dy, t.a, t.b, i.params.eps) }),
  }),
  make({
    kernel: 'rope',
    arbitrary: ropeArb(),
    consumed: [],
    call: (b, t, i) => ({ y: b.rope(t.x, t.cos, t.sin, i.params.hd, i.params.rotatedHeads) }),
  }),
  make({
    kernel: 'ropeBackward',
    arbitrary: ropeArb(),
    consumed: [],
    call: (b, t, i) => ({ dx: b.ropeBackward(t.x, t.cos, t.sin, i.params.hd, i.params.rotatedHeads) }),
  }),
  make({
    kernel: 'attention',
    arbitrary: qkvArb(),
    consumed: [],
    call: (b, t, i) => ({ y: b.attention(t.qkv, i.params.Hh) }),
  }),
  make({
    kernel: 'attentionBackward',
    arbitrary: qkvArb(),
    consumed: [],
    call: (b, t, i) => ({ dqkv: b.attentionBackward(t.dy, t.qkv, i.params.Hh) }),
  }),
  make({
    kernel: 'swiglu',
    arbitrary: fc.record({ lead: leading(), I: dim(1, 6) }).chain(({ lead, I }) => only({ gu: tensorOf([...lead, 2 * I], 4) })),
    consumed: [],
    call: (b, t) => ({ y: b.swiglu(t.gu) }),
  }),
  make({
    kernel: 'swigluBackward',
    arbitrary: fc
      .record({ lead: leading(), I: dim(1, 6) })
      .chain(({ lead, I }) => only({ gu: tensorOf([...lead, 2 * I], 4), dy: tensorOf([...lead, I]) })),
    consumed: [],
    call: (b, t) => ({ dgu: b.swigluBackward(t.dy, t.gu) }),
  }),
  make({
    kernel: 'linearRope',
    arbitrary: linearRopeArb(),
    consumed: [],
    call: (b, t, i) => ({ y: b.linearRope(t.x, t.w, t.cos, t.sin, i.params.hd, i.params.rotatedHeads) }),
  }),
  make({
    kernel: 'linearRopeBackward',
    arbitrary: linearRopeArb(),
    consumed: [],
    call: (b, t, i) => {
      const g = b.linearRopeBackward(t.dy, t.x, t.w, t.cos, t.sin, i.params.hd, i.params.rotatedHeads);
      return { dx: g.dx, dw: g.dw };
    },
  }),
  make({
    kernel: 'linearSwiglu',
    arbitrary: linearSwigluArb(),
    consumed: [],
    call: (b, t) => {
      const { y, gu } = b.linearSwiglu(t.x, t.w);
      return { y, gu };
    },
  }),
  make({
    kernel: 'linearSwigluBackward',
    arbitrary: linearSwigluArb(),
    consumed: [],
    call: (b, t) => {
      const g = b.linearSwigluBackward(t.dy, t.x, t.w, t.gu);
      return { dx: g.dx, dw: g.dw };
    },
  }),
  make({
    kernel: 'embedding',
    arbitrary: embArb(),
    consumed: [],
    call: (b, t, i) => ({ y: b.embedding(t.table, i.host.ids as Int32Array, i.params.idsShape) }),
  }),
  make({
    kernel: 'embeddingBackward',
    arbitrary: embArb(),
    consumed: [],
    call: (b, t, i) => ({ dtable: b.embeddingBackward(t.dy, i.host.ids as Int32Array, i.params.R) }),
    // dtable[r] = Σ dy rows with id r: rounding of the order of SUM_SLACK·Σ|those rows|
    slack: (i, dtype) => {
      const E = i.tensors.table.shape[1];
      return { dtable: scatterMagnitude(i.tensors.dy.data, i.host.ids as Int32Array, i.params.R, E).map((m) => SUM_SLACK[dtype] * m) };
    },
  }),
  make({
    kernel: 'concatSeq',
    arbitrary: fc
      .record({ B: dim(1, 3), P: dim(0, 2), T: dim(1, 4), D: dim(1, 4) })
      .chain(({ B, P, T, D }) => only({ a: tensorOf([B, P, D]), b: tensorOf([B, T, D]) })),
    consumed: [],
    call: (b, t) => ({ y: b.concatSeq(t.a, t.b) }),
  }),
  make({
    kernel: 'sliceSeq',
    arbitrary: fc
      .record({ B: dim(1, 3), S: dim(1, 5), D: dim(1, 4), u: fc.double({ min: 0, max: 1, noNaN: true }), v: fc.double({ min: 0, max: 1, noNaN: true }) })
      .chain(({ B, S, D, u, v }) => {
        const start = Math.min(S - 1, Math.floor(u * S));
        const len = Math.min(S - start, Math.floor(v * (S - start + 1)));
        return tensorOf([B, S, D]).map((x) => ({ tensors: { x }, host: {}, params: { start, len } }));
      }),
    consumed: [],
    call: (b, t, i) => ({ y: b.sliceSeq(t.x, i.params.start, i.params.len) }),
  }),
  make({
    kernel: 'sliceSeqBackward',
    arbitrary: fc
      .record({ B: dim(1, 3), len: dim(0, 4), extra: dim(0, 3), u: fc.double({ min: 0, max: 1, noNaN: true }), D: dim(1, 4) })
      .chain(({ B, len, extra, u, D }) => {
        const start = Math.min(extra, Math.floor(u * (extra + 1)));
        return tensorOf([B, len, D]).map((dy) => ({ tensors: { dy }, host: {}, params: { fullLen: len + extra, start } }));
      }),
    consumed: [],
    call: (b, t, i) => ({ dx: b.sliceSeqBackward(t.dy, i.params.fullLen, i.params.start) }),
  }),
  make({
    kernel: 'transpose',
    arbitrary: fc.record({ B: dim(1, 3), M: dim(1, 6), N: dim(1, 6) }).chain(({ B, M, N }) => only({ x: tensorOf([B, M, N]) })),
    consumed: [],
    call: (b, t) => ({ y: b.transpose(t.x) }),
  }),
  make({
    kernel: 'resetRows',
    arbitrary: bsd().chain(([B, S, D]) =>
      fc
        .record({
          state: tensorOf([B, S, D]),
          init: tensorOf([D]),
          mask: fc.array(fc.constantFrom(0, 1, 2, 255), { minLength: B, maxLength: B }),
        })
        .map(({ state, init, mask }) => ({ tensors: { state, init }, host: { mask: Uint8Array.from(mask) }, params: {} })),
    ),
    consumed: [],
    call: (b, t, i) => ({ y: b.resetRows(t.state, t.init, i.host.mask as Uint8Array) }),
  }),
  make({
    kernel: 'crossEntropy',
    arbitrary: ceArb(false),
    consumed: [],
    call: (b, t, i) => ({ ce: b.crossEntropy(t.logits, i.host.labels as Int32Array, i.params.kind) }),
  }),
  make({
    kernel: 'crossEntropyBackward',
    arbitrary: ceArb(true),
    consumed: [],
    call: (b, t, i) => ({
      dlogits: b.crossEntropyBackward(t.logits, i.host.labels as Int32Array, i.params.kind, i.host.rowScale as Float64Array),
    }),
  }),
  make({
    kernel: 'argmax',
    arbitrary: fc
      .record({ lead: leading(), V: dim(1, 6), coarse: fc.boolean() })
      // coarse values (multiples of 1/2 in [−2, 2]) make ties frequent: the first index must win
      .chain(({ lead, V, coarse }) =>
        coarse
          ? fc
              .array(fc.integer({ min: -4, max: 4 }), { minLength: lead.reduce((a, b) => a * b, 1) * V, maxLength: lead.reduce((a, b) => a * b, 1) * V })
              .map((a) => ({ tensors: { x: { shape: [...lead, V], data: Float64Array.from(a, (k) => k / 2) } }, host: {}, params: {} }))
          : only({ x: tensorOf([...lead, V]) }),
      ),
    consumed: [],
    call: (b, t) => ({ index: b.argmax(t.x) }),
  }),
  make({
    kernel: 'sigmoid',
    arbitrary: fc.array(dim(1, 4), { minLength: 1, maxLength: 3 }).chain((shape) => only({ x: tensorOf(shape, 12) })),
    consumed: [],
    call: (b, t) => ({ y: b.sigmoid(t.x) }),
  }),
  make({
    kernel: 'bceWithLogits',
    arbitrary: fc
      .array(dim(1, 4), { minLength: 1, maxLength: 2 })
      .chain((shape) => only({ x: tensorOf(shape, 8), target: tensorIn(shape, 0, 1) })),
    consumed: [],
    call: (b, t) => ({ loss: b.bceWithLogits(t.x, t.target) }),
  }),
  make({
    kernel: 'bceWithLogitsBackward',
    arbitrary: fc.record({ shape: fc.array(dim(1, 4), { minLength: 1, maxLength: 2 }), scale: f32(-2, 2) }).chain(({ shape, scale }) =>
      tensors({ x: tensorOf(shape, 8), target: tensorIn(shape, 0, 1) }).map((t) => ({ tensors: t, host: {}, params: { scale } })),
    ),
    consumed: [],
    call: (b, t, i) => ({ dx: b.bceWithLogitsBackward(t.x, t.target, i.params.scale) }),
  }),
  make({
    kernel: 'adamAtan2',
    arbitrary: adamArb(),
    consumed: ['param', 'm', 'v'],
    call: (b, t, i) => {
      const s = b.adamAtan2({ param: t.param, m: t.m, v: t.v }, t.grad, i.params);
      return { param: s.param, m: s.m, v: s.v };
    },
  }),
  make({
    kernel: 'adamAtan2Many',
    // 1–3 tensors of their own shapes, one hyper (the first tensor's draw)
    arbitrary: fc.array(adamArb(), { minLength: 1, maxLength: 3 }).map((list) => ({
      tensors: Object.fromEntries(list.flatMap((c, k) => Object.entries(c.tensors).map(([name, t]) => [`${name}${k}`, t]))),
      host: {},
      params: { ...list[0].params, count: list.length },
    })),
    consumed: [0, 1, 2].flatMap((k) => [`param${k}`, `m${k}`, `v${k}`]),
    call: (b, t, i) => {
      const ks = Array.from({ length: i.params.count }, (_, k) => k);
      const next = b.adamAtan2Many(ks.map((k) => ({ param: t[`param${k}`], m: t[`m${k}`], v: t[`v${k}`] })), ks.map((k) => t[`grad${k}`]), i.params);
      return Object.fromEntries(next.flatMap((st, k) => [[`param${k}`, st.param], [`m${k}`, st.m], [`v${k}`, st.v]]));
    },
  }),
  make({
    kernel: 'signSgdRows',
    arbitrary: fc
      .record({ R: dim(1, 5), E: dim(1, 4), B: dim(1, 6), lr: fc.constantFrom(1e-4, 5e-3, 1e-2), weightDecay: fc.constantFrom(0, 0.1, 1) })
      .chain(({ R, E, B, lr, weightDecay }) =>
        fc
          .record({ table: tensorOf([R, E]), grads: tensorOf([B, E]), ids: ids(B, R) })
          .map(({ table, grads, ids: i }) => ({ tensors: { table, grads }, host: { ids: i }, params: { lr, weightDecay } })),
      ),
    consumed: ['table'],
    call: (b, t, i) => ({ table: b.signSgdRows(t.table, t.grads, i.host.ids as Int32Array, i.params.lr, i.params.weightDecay) }),
    // an element whose summed gradient is zero up to float32 rounding (|Σg| ≤ SUM_SLACK·Σ|g|) steps by
    // a sign float32 cannot decide: any of −lr, 0, +lr (a difference of up to 2·lr)
    slack: (i, dtype) => {
      const [R, E] = i.tensors.table.shape;
      const ids = i.host.ids as Int32Array;
      const g = i.tensors.grads.data;
      const mag = scatterMagnitude(g, ids, R, E);
      const sum = new Float64Array(R * E);
      for (let n = 0; n < ids.length; n++) for (let e = 0; e < E; e++) sum[ids[n] * E + e] += g[n * E + e];
      return { table: sum.map((v, k) => (mag[k] > 0 && Math.abs(v) <= SUM_SLACK[dtype] * mag[k] ? 2 * i.params.lr : 0)) };
    },
  }),
  make({
    kernel: 'ema',
    arbitrary: fc
      .record({ shape: fc.array(dim(1, 4), { minLength: 1, maxLength: 2 }), decay: fc.constantFrom(0, 0.5, 0.9, 0.999) })
      .chain(({ shape, decay }) => tensors({ e: tensorOf(shape), p: tensorOf(shape) }).map((t) => ({ tensors: t, host: {}, params: { decay } }))),
    consumed: ['e'],
    call: (b, t, i) => ({ e: b.ema(t.e, t.p, i.params.decay) }),
  }),
  make({
    kernel: 'emaMany',
    // 1–3 pairs of their own shapes, one decay
    arbitrary: fc
      .record({ shapes: fc.array(fc.array(dim(1, 4), { minLength: 1, maxLength: 2 }), { minLength: 1, maxLength: 3 }), decay: fc.constantFrom(0, 0.5, 0.9, 0.999) })
      .chain(({ shapes: ss, decay }) =>
        tensors(Object.fromEntries(ss.flatMap((s, k) => [[`e${k}`, tensorOf(s)], [`p${k}`, tensorOf(s)]]))).map((t) => ({ tensors: t, host: {}, params: { decay, count: ss.length } })),
      ),
    consumed: ['e0', 'e1', 'e2'],
    call: (b, t, i) => {
      const ks = Array.from({ length: i.params.count }, (_, k) => k);
      const next = b.emaMany(ks.map((k) => t[`e${k}`]), ks.map((k) => t[`p${k}`]), i.params.decay);
      return Object.fromEntries(next.map((e, k) => [`e${k}`, e]));
    },
  }),
];

/** The case of one kernel (every kernel has exactly one). */
export const caseFor = (kernel: KernelName): KernelCase<unknown> => {
  const c = KERNEL_CASES.find((k) => k.kernel === kernel);
  if (c === undefined) throw new Error(`no conformance case for kernel '${kernel}'`);
  return c;
};

// Every kernel of the contract has a case (checked at load so a new kernel cannot be forgotten).
for (const k of KERNEL_NAMES) caseFor(k);
