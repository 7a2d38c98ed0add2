// The engine's blocked paths at sizes the conformance arbitraries do not reach: full 6-row panels
// packed four contraction steps at a time with a leftover (K mod 4 ≠ 0), several 4×4 transpose
// blocks with leftover rows and columns (S, hd not multiples of 4), several KC-deep blocks. Each
// result is compared with the float64 reference: |got − ref| ≤ 3e-5·max|ref| (a wrong index, sign
// or lane order is off by O(max|ref|)).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../core/rng.ts';
import { wrap64, type Shape } from '../../core/tensor.ts';
import { referenceBackend as R } from '../../reference/backend.ts';
import { createSimdBackend, type SimdBackend } from './backend.ts';

const rng = Rng.fromSeed(7);
const data = (shape: Shape): Float64Array => Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => Math.fround(rng.uniform() * 2 - 1));

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

    for (const [N, K, M] of [[13, 11, 9], [37, 30, 17], [25, 523, 10]]) {
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
