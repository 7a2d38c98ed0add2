// Algebraic laws of the kernels, as named fast-check properties on the float64 reference:
// RMSNorm's row RMS, probability rows summing to 1, stablemax's continuity at 0, attention's
// permutation equivariance/invariance, RoPE's norm preservation and relative-position dot products.

import fc from 'fast-check';
import { referenceBackend as R } from '../src/reference/backend.ts';
import { probabilities } from '../src/reference/cross-entropy.ts';
import { stablemaxS, stablemaxSPrime } from '../src/core/formulas.ts';
import { ropeTables } from '../src/model/rope-tables.ts';
import { wrap64 } from '../src/core/tensor.ts';
import { dim, tensorOf, values } from '../src/verify/arbitraries.ts';

const fail = (msg: string): never => {
  throw new Error(msg);
};

/** Rows with mean square m: RMS(y) = sqrt(m/(m + eps)), which is 1 for eps = 0. */
const rmsUnit = () =>
  fc
    .record({ N: dim(1, 4), D: dim(1, 16), eps: fc.constantFrom(0, 1e-5, 1e-2) })
    .chain(({ N, D, eps }) => fc.tuple(tensorOf([N, D], 4), fc.constant(eps)))
    .map(([x, eps]) => ({ x, eps }))
    .filter(({ x, eps }) => eps > 0 || x.data.some((v) => v !== 0))
    .map((i) => i);

export const LAW_PROPERTIES: Record<string, () => fc.IPropertyWithHooks<never> | fc.IProperty<never> | fc.IAsyncProperty<never>> = {
  'rmsNorm-unit-rms': () =>
    fc.property(rmsUnit(), ({ x, eps }) => {
      const [N, D] = x.shape;
      const y = R.rmsNorm(wrap64(x.shape, x.data), eps).data;
      for (let n = 0; n < N; n++) {
        let mx = 0;
        let my = 0;
        for (let d = 0; d < D; d++) {
          mx += x.data[n * D + d] ** 2 / D;
          my += y[n * D + d] ** 2 / D;
        }
        if (eps === 0 && mx === 0) continue; // 0/0: a zero row without eps has no RMS
        const expected = Math.sqrt(mx / (mx + eps));
        if (!(Math.abs(Math.sqrt(my) - expected) <= 1e-12)) fail(`row ${n}: RMS ${Math.sqrt(my)}, expected ${expected}`);
      }
    }) as never,
  'probabilities-sum-to-1': () =>
    fc.property(
      fc.record({ N: dim(1, 4), V: dim(1, 12), kind: fc.constantFrom('softmax_cross_entropy' as const, 'stablemax_cross_entropy' as const) }).chain(
        ({ N, V, kind }) => fc.tuple(tensorOf([1, N, V], 30), fc.constant(kind), fc.integer({ min: 0, max: V - 1 })),
      ),
      ([x, kind, y]) => {
        const [, N, V] = x.shape;
        const p = probabilities(wrap64(x.shape, x.data), kind).data;
        const ce = R.crossEntropy(wrap64(x.shape, x.data), new Int32Array(N).fill(y), kind).data;
        for (let n = 0; n < N; n++) {
          let s = 0;
          for (let v = 0; v < V; v++) {
            if (!(p[n * V + v] >= 0)) fail(`${kind} row ${n}: p[${v}] = ${p[n * V + v]} is negative`);
            s += p[n * V + v];
          }
          if (!(Math.abs(s - 1) <= 1e-14)) fail(`${kind} row ${n} sums to ${s}`);
          // the loss is −log of the same probability
          if (!(Math.abs(Math.exp(-ce[n]) - p[n * V + y]) <= 1e-12)) fail(`${kind} row ${n}: exp(−ce) ${Math.exp(-ce[n])} ≠ p_y ${p[n * V + y]}`);
        }
      },
    ) as never,
  'stablemax-continuous-at-0': () =>
    fc.property(fc.double({ min: 1e-12, max: 1e-3, noNaN: true }), (d) => {
      if (stablemaxS(0) !== 1 || stablemaxSPrime(0) !== 1) fail('s(0) or s′(0) is not 1');
      // s(±d) = 1 ± d + O(d²) and s′(±d) = 1 + O(d): both sides meet at 0
      if (!(Math.abs(stablemaxS(-d) - (1 - d)) <= 1.01 * d * d + 4 * Number.EPSILON)) fail(`s(−${d}) = ${stablemaxS(-d)}`);
      if (stablemaxS(d) !== 1 + d) fail(`s(${d}) = ${stablemaxS(d)}`);
      if (!(Math.abs(stablemaxSPrime(-d) - 1) <= 2.01 * d)) fail(`s′(−${d}) = ${stablemaxSPrime(-d)}`);
      if (stablemaxSPrime(d) !== 1) fail(`s′(${d}) = ${stablemaxSPrime(d)}`);
    }) as never,
  'stablemax-loss-continuous-at-0': () =>
    // the kernel's loss and gradient move by O(d) when one logit crosses 0 by ±d
    fc.property(
      fc.record({ V: dim(2, 6), d: fc.double({ min: 1e-9, max: 1e-4, noNaN: true }) }).chain(({ V, d }) =>
        fc.tuple(values(V, -3, 3), fc.integer({ min: 0, max: V - 1 }), fc.integer({ min: 0, max: V - 1 }), fc.constant(d)),
      ),
      ([x, at, y, d]) => {
        const V = x.length;
        const with_ = (v: number) => {
          const a = Float64Array.from(x);
          a[at] = v;
          return wrap64([1, 1, V], a);
        };
        const lbl = new Int32Array([y]);
        const k = 'stablemax_cross_entropy' as const;
        const [lm, lp] = [R.crossEntropy(with_(-d), lbl, k).data[0], R.crossEntropy(with_(d), lbl, k).data[0]];
        if (!(Math.abs(lp - lm) <= 4 * d)) fail(`loss jumps by ${lp - lm} across 0 (d = ${d})`);
        const one = new Float64Array([1]);
        const [gm, gp] = [R.crossEntropyBackward(with_(-d), lbl, k, one).data, R.crossEntropyBackward(with_(d), lbl, k, one).data];
        for (let v = 0; v < V; v++) if (!(Math.abs(gp[v] - gm[v]) <= 8 * d)) fail(`gradient[${v}] jumps by ${gp[v] - gm[v]} across 0`);
      },
    ) as never,
  'attention-query-equivariant': () =>
    fc.property(
      fc.record({ S: dim(1, 6), Hh: dim(1, 3), hd: dim(1, 4) }).chain(({ S, Hh, hd }) =>
        fc.tuple(tensorOf([1, S, 3 * Hh * hd]), fc.shuffledSubarray([...Array(S).keys()], { minLength: S, maxLength: S }), fc.constant(Hh)),
      ),
      ([qkv, perm, Hh]) => {
        // Q rows permuted by π (K, V untouched) ⇒ output rows permuted by π
        const [, S, W] = qkv.shape;
        const C = W / 3;
        const q2 = Float64Array.from(qkv.data);
        for (let s = 0; s < S; s++) for (let c = 0; c < C; c++) q2[s * W + c] = qkv.data[perm[s] * W + c];
        const y = R.attention(wrap64(qkv.shape, qkv.data), Hh).data;
        const y2 = R.attention(wrap64(qkv.shape, q2), Hh).data;
        for (let s = 0; s < S; s++) {
          for (let c = 0; c < C; c++) {
            if (!(Math.abs(y2[s * C + c] - y[perm[s] * C + c]) <= 1e-12)) fail(`row ${s} is not row π(s) = ${perm[s]} of the original`);
          }
        }
      },
    ) as never,
  'attention-key-value-invariant': () =>
    fc.property(
      fc.record({ S: dim(1, 6), Hh: dim(1, 3), hd: dim(1, 4) }).chain(({ S, Hh, hd }) =>
        fc.tuple(tensorOf([1, S, 3 * Hh * hd]), fc.shuffledSubarray([...Array(S).keys()], { minLength: S, maxLength: S }), fc.constant(Hh)),
      ),
      ([qkv, perm, Hh]) => {
        // K and V rows permuted together by σ (Q untouched) ⇒ output unchanged
        const [, S, W] = qkv.shape;
        const C = W / 3;
        const kv = Float64Array.from(qkv.data);
        for (let s = 0; s < S; s++) for (let c = C; c < W; c++) kv[s * W + c] = qkv.data[perm[s] * W + c];
        const y = R.attention(wrap64(qkv.shape, qkv.data), Hh).data;
        const y2 = R.attention(wrap64(qkv.shape, kv), Hh).data;
        for (let i = 0; i < y.length; i++) if (!(Math.abs(y2[i] - y[i]) <= 1e-12)) fail(`output[${i}] changed: ${y[i]} → ${y2[i]}`);
      },
    ) as never,
  'rope-preserves-head-norm': () =>
    fc.property(
      fc.record({ S: dim(1, 12), heads: dim(1, 3), half: dim(1, 8) }).chain(({ S, heads, half }) =>
        fc.tuple(tensorOf([1, S, heads * 2 * half]), fc.constant(2 * half), fc.constant(heads)),
      ),
      ([x, hd, heads]) => {
        const S = x.shape[1];
        const { cos, sin } = ropeTables(S, hd, 10000);
        const y = R.rope(wrap64(x.shape, x.data), cos, sin, hd, heads).data;
        for (let s = 0; s < S; s++) {
          for (let j = 0; j < heads; j++) {
            let nx = 0;
            let ny = 0;
            for (let i = 0; i < hd; i++) {
              nx += x.data[(s * heads + j) * hd + i] ** 2;
              ny += y[(s * heads + j) * hd + i] ** 2;
            }
            // the float32 tables satisfy cos² + sin² = 1 to about 1e−7
            if (!(Math.abs(Math.sqrt(ny) - Math.sqrt(nx)) <= 3e-7 * Math.sqrt(nx) + 1e-300)) fail(`position ${s} head ${j}: norm ${Math.sqrt(nx)} → ${Math.sqrt(ny)}`);
          }
        }
      },
    ) as never,
  'rope-dot-depends-on-offset': () =>
    fc.property(
      fc.record({ half: dim(1, 8), m: dim(0, 10), n: dim(0, 10), t: dim(0, 10) }).chain(({ half, m, n, t }) =>
        fc.tuple(values(2 * half, -2, 2), values(2 * half, -2, 2), fc.constant({ m, n, t })),
      ),
      ([q, k, { m, n, t }]) => {
        // ⟨rope(q at m), rope(k at n)⟩ = ⟨rope(q at m+t), rope(k at n+t)⟩
        const hd = q.length;
        const S = Math.max(m, n) + t + 1;
        const { cos, sin } = ropeTables(S, hd, 10000);
        const dot = (a: number, b: number): number => {
          const x = new Float64Array(S * hd);
          x.set(k, b * hd);
          x.set(q, a * hd); // if a = b, q overwrites k: only a ≠ b or q·k at one slot is compared below
          const y = R.rope(wrap64([1, S, hd], x), cos, sin, hd, 1).data;
          const yk = R.rope(wrap64([1, S, hd], (() => { const z = new Float64Array(S * hd); z.set(k, b * hd); return z; })()), cos, sin, hd, 1).data;
          let d = 0;
          for (let i = 0; i < hd; i++) d += y[a * hd + i] * yk[b * hd + i];
          return d;
        };
        const d0 = dot(m, n);
        const d1 = dot(m + t, n + t);
        let scale = 0;
        for (let i = 0; i < hd; i++) scale += Math.abs(q[i]) * Math.abs(k[i]);
        if (!(Math.abs(d1 - d0) <= 2e-6 * (scale + Math.hypot(...q) * Math.hypot(...k)) + 1e-300)) fail(`q·k at (${m}, ${n}) = ${d0} but at (${m + t}, ${n + t}) = ${d1}`);
      },
    ) as never,
};
