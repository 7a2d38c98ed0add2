// The engine's blocked paths at sizes the conformance arbitraries do not reach: full 6-row panels
// packed four contraction steps at a time with a leftover (K mod 4 ≠ 0), several 4×4 transpose
// blocks with leftover rows and columns (S, hd not multiples of 4), several KC-deep blocks (also with
// 25 column panels: forward at K 523 × M 200; dW over N 600 rows); the fused products (RoPE and
// SwiGLU applied per group of row panels right after its product) over several groups per chunk. Each
// result is compared with the float64 reference: |got − ref| ≤ 3e-5·max|ref| (a wrong index, sign
// or lane order is off by O(max|ref|)); SwiGLU rows wider than 8 (two exp chains per trip), RoPE's unrotated channels. AdamATan2 over several blocks with an odd tail against the
// float32 formula written out with Math.atan2: m and v bit-identical, parameters within 1 ulp.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../core/rng.ts';
import { wrap64, type Shape } from '../../core/tensor.ts';
import { referenceBackend as R } from '../../reference/backend.ts';
import { createSimdBackend, type SimdBackend } from './backend.ts';

const rng = Rng.fromSeed(7);
const data = (shape: Shape): Float64Array => Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => Math.fround(rng.uniform() * 2 - 1));

const f = Math.fround;
const ulp = (x: number): number => {
  const a = Math.abs(f(x));
  return a < 2 ** -126 ? 2 ** -149 : 2 ** (Math.floor(Math.log2(a)) - 23);
};

const close = (got: Float64Array, ref: Float64Array, what: string): void => {
  const max = ref.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  let worst = 0;
  for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(got[i] - ref[i]));
  expect(got.length, what).toBe(ref.length);
  expect(worst / max, what).toBeLessThanOrEqual(3e-5);
};

for (const variant of ['relaxed', 'plain'] as const) {
  describe(`simd ${variant}: blocked paths against the reference`, () => {
    let be: SimdBackend;
    beforeAll(async () => {
      be = await createSimdBackend({ threads: 2, simd: variant });
    });
    afterAll(async () => {
      await be.close();
    });

    for (const [N, K, M] of [[13, 11, 9], [37, 30, 17], [25, 523, 10], [13, 523, 200], [600, 300, 7]]) {
      it(`linear and linearBackward at N ${N}, K ${K}, M ${M}`, async () => {
        const x = data([N, K]);
        const w = data([M, K]);
        const dy = data([N, M]);
        const [tx, tw, tdy] = [be.fromArray([N, K], x), be.fromArray([M, K], w), be.fromArray([N, M], dy)];
        const y = be.linear(tx, tw);
        close((await be.read(y)).data, R.linear(wrap64([N, K], x), wrap64([M, K], w)).data, 'y');
        const g = be.linearBackward(tdy, tx, tw, false);
        const rg = R.linearBackward(wrap64([N, M], dy), wrap64([N, K], x), wrap64([M, K], w), false);
        close((await be.read(g.dx)).data, rg.dx.data, 'dx');
        close((await be.read(g.dw)).data, rg.dw.data, 'dw');
        for (const t of [tx, tw, tdy, y, g.dx, g.dw]) be.dispose(t);
      });
    }

    it('adamAtan2 over 2·4096 + 3 elements matches the float32 formula (m, v exact; parameters ≤ 1 ulp)', async () => {
      const n = 2 * 4096 + 3;
      const p = data([n]);
      const g = data([n]).map((x, i) => f(i % 7 === 0 ? 0 : i % 11 === 0 ? x * 1e-6 : x));
      const m = data([n]).map((x, i) => f(i % 7 === 0 ? 0 : i % 5 === 0 ? -x * 1e3 : x * 0.1));
      const v = data([n]).map((x, i) => f(i % 7 === 0 ? 0 : i % 13 === 0 ? 1e-12 : Math.abs(x) * 0.01));
      const hyper = { lr: 0.37, weightDecay: 0.1, beta1: 0.9, beta2: 0.95, step: 3 };
      const out = be.adamAtan2({ param: be.fromArray([n], p), m: be.fromArray([n], m), v: be.fromArray([n], v) }, be.fromArray([n], g), hyper);
      const [gp, gm, gv] = [(await be.read(out.param)).data, (await be.read(out.m)).data, (await be.read(out.v)).data];
      const stepSize = f(hyper.lr / (1 - hyper.beta1 ** hyper.step));
      const wd = f(1 - hyper.lr * hyper.weightDecay);
      const bc2 = f(Math.sqrt(1 - hyper.beta2 ** hyper.step));
      const [w1, w2] = [f(1 - hyper.beta1), f(1 - hyper.beta2)];
      let worstUlps = 0;
      for (let i = 0; i < n; i++) {
        const mi = f(w1 * g[i] + f(m[i] - w1 * m[i]));
        const vi = f(w2 * f(g[i] * g[i]) + f(v[i] - w2 * v[i]));
        const pi = f(f(p[i] * wd) - f(stepSize * f(Math.atan2(mi, f(f(Math.sqrt(vi)) / bc2)))));
        expect(gm[i], `m[${i}]`).toBe(mi);
        expect(gv[i], `v[${i}]`).toBe(vi);
        worstUlps = Math.max(worstUlps, Math.abs(gp[i] - pi) / ulp(pi));
      }
      expect(worstUlps).toBeLessThanOrEqual(1);
      for (const t of [out.param, out.m, out.v]) be.dispose(t);
    });

    it('swiglu and swigluBackward at N 5, I 21 (two 8-wide trips, a 4-wide one and a lone element per row)', async () => {
      const [N, I] = [5, 21];
      const gu = data([N, 2 * I]).map((x) => f(4 * x));
      const dy = data([N, I]);
      const [tg, td] = [be.fromArray([N, 2 * I], gu), be.fromArray([N, I], dy)];
      const y = be.swiglu(tg);
      close((await be.read(y)).data, R.swiglu(wrap64([N, 2 * I], gu)).data, 'swiglu');
      const d = be.swigluBackward(td, tg);
      close((await be.read(d)).data, R.swigluBackward(wrap64([N, I], dy), wrap64([N, 2 * I], gu)).data, 'swigluBackward');
      for (const t of [tg, td, y, d]) be.dispose(t);
    });

    it('rope and ropeBackward with 6 and 12 unrotated channels (four-wide copies and a leftover)', async () => {
      for (const [heads, rotated] of [[5, 4], [5, 3]]) {
        const [B, S, hd] = [2, 5, 6];
        const shape = [B, S, heads * hd];
        const x = data(shape);
        const angle = data([S, hd]);
        const [cos, sin] = [angle.map((a) => f(Math.cos(3 * a))), angle.map((a) => f(Math.sin(3 * a)))];
        const [tx, tc, ts] = [be.fromArray(shape, x), be.fromArray([S, hd], cos), be.fromArray([S, hd], sin)];
        const [rc, rs] = [wrap64([S, hd], cos), wrap64([S, hd], sin)];
        const y = be.rope(tx, tc, ts, hd, rotated);
        close((await be.read(y)).data, R.rope(wrap64(shape, x), rc, rs, hd, rotated).data, 'rope');
        const d = be.ropeBackward(tx, tc, ts, hd, rotated);
        close((await be.read(d)).data, R.ropeBackward(wrap64(shape, x), rc, rs, hd, rotated).data, 'ropeBackward');
        for (const t of [tx, tc, ts, y, d]) be.dispose(t);
      }
    });

    it('linearRope and its backward over 420 rows of 60 sequences (chunks of several panel groups per thread, RoPE per row in place)', async () => {
      const [B, S, K, heads, hd, rotated] = [60, 7, 200, 5, 6, 4];
      const W = heads * hd;
      const [x, w, dy] = [data([B, S, K]), data([W, K]), data([B, S, W])];
      const angle = data([S, hd]);
      const [cos, sin] = [angle.map((a) => f(Math.cos(3 * a))), angle.map((a) => f(Math.sin(3 * a)))];
      const t = [be.fromArray([B, S, K], x), be.fromArray([W, K], w), be.fromArray([S, hd], cos), be.fromArray([S, hd], sin), be.fromArray([B, S, W], dy)];
      const r = [wrap64([B, S, K], x), wrap64([W, K], w), wrap64([S, hd], cos), wrap64([S, hd], sin), wrap64([B, S, W], dy)];
      const y = be.linearRope(t[0], t[1], t[2], t[3], hd, rotated);
      close((await be.read(y)).data, R.linearRope(r[0], r[1], r[2], r[3], hd, rotated).data, 'linearRope');
      const g = be.linearRopeBackward(t[4], t[0], t[1], t[2], t[3], hd, rotated);
      const rg = R.linearRopeBackward(r[4], r[0], r[1], r[2], r[3], hd, rotated);
      close((await be.read(g.dx)).data, rg.dx.data, 'dx');
      close((await be.read(g.dw)).data, rg.dw.data, 'dw');
      for (const h of [...t, y, g.dx, g.dw]) be.dispose(h);
    });

    it('linearSwiglu and its backward over 401 rows (several panel groups per chunk, a leftover panel), K 523 (two KC blocks), inner 21', async () => {
      const [N, K, I] = [401, 523, 21];
      const [x, w, dy] = [data([N, K]), data([2 * I, K]).map((v) => f(4 * v)), data([N, I])];
      const t = [be.fromArray([N, K], x), be.fromArray([2 * I, K], w), be.fromArray([N, I], dy)];
      const r = [wrap64([N, K], x), wrap64([2 * I, K], w), wrap64([N, I], dy)];
      const out = be.linearSwiglu(t[0], t[1]);
      const ref = R.linearSwiglu(r[0], r[1]);
      close((await be.read(out.gu)).data, ref.gu.data, 'gu');
      close((await be.read(out.y)).data, ref.y.data, 'y');
      const g = be.linearSwigluBackward(t[2], t[0], t[1], out.gu);
      const rg = R.linearSwigluBackward(r[2], r[0], r[1], ref.gu);
      close((await be.read(g.dx)).data, rg.dx.data, 'dx');
      close((await be.read(g.dw)).data, rg.dw.data, 'dw');
      for (const h of [...t, out.y, out.gu, g.dx, g.dw]) be.dispose(h);
    });

    for (const [B, S, H, hd] of [[2, 13, 2, 6], [1, 9, 3, 8], [2, 21, 1, 12]]) {
      it(`attention and attentionBackward at B ${B}, S ${S}, ${H} heads of ${hd}`, async () => {
        const qkv = data([B, S, 3 * H * hd]);
        const dy = data([B, S, H * hd]);
        const tq = be.fromArray([B, S, 3 * H * hd], qkv);
        const td = be.fromArray([B, S, H * hd], dy);
        const y = be.attention(tq, H);
        close((await be.read(y)).data, R.attention(wrap64([B, S, 3 * H * hd], qkv), H).data, 'attention');
        const d = be.attentionBackward(td, tq, H);
        close((await be.read(d)).data, R.attentionBackward(wrap64([B, S, H * hd], dy), wrap64([B, S, 3 * H * hd], qkv), H).data, 'dqkv');
        for (const t of [tq, td, y, d]) be.dispose(t);
      });
    }
  });
}
