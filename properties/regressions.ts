// Failing seeds found by the property suite, pinned: each entry is replayed by regressions.test.ts
// with fast-check's `{ seed, path }` against the property of the same id (see props.ts and
// regressions.test.ts for the ids). Add an entry whenever a property fails, before fixing the cause.

export interface PinnedFailure {
  /** the property id, e.g. 'conformance:reference:sliceSeq', 'grad:rmsNorm' or 'model:simd-plain-2t' (the whole-model property on a target) */
  readonly id: string;
  readonly seed: number;
  readonly path: string;
  /** what failed and what was fixed */
  readonly note: string;
}

export const PINNED_FAILURES: readonly PinnedFailure[] = [
  {
    id: 'immutable:simd-plain-1t:sliceSeq',
    seed: 1131160756,
    path: '38:0:0:0:62',
    note: 'the sliceSeq arbitrary drew len = S − start + 1 (x [1,1,1], start 0, len 2): the case must keep start + len ≤ S',
  },
  {
    id: 'conformance:reference:sliceSeq',
    seed: 1131160756,
    path: '38:0:0:0:62',
    note: 'same arbitrary fault, replayed on the reference target',
  },
  {
    id: 'law:stablemax-continuous-at-0',
    seed: 2106158198,
    path: '3:0',
    note: 's(−1e−12) is 1 − 1e−12 only to float64 rounding (1e−16 ≫ d² = 1e−24): the bound needs a few ulp besides d²',
  },
  {
    id: 'conformance:simd-plain-2t:addRmsNormBackward',
    seed: 1286406738,
    path: '17:4:23:6:0:0:0:0:0:0:0:0:0:0:30:0:0:0:0',
    note: 'a row x = [0, −0.104, 0], dy = [0, −0.642, 0]: rs·dy and rs³·x·Σ(dy·x)/D cancel (both ≈ 10.7, result ≈ 0.003), and each rounded to float32 first left 1.5e−6 > 1.3e−6 allowed; the difference now runs in float64, rounded once',
  },
  {
    id: 'conformance:gpu-webasm:sumBatch',
    seed: 317041630,
    path: '46:33:0:0:0:1:8:2:0:0:0:4:0:0:31',
    note: 'x = [2, 1e−37, −2] sums to 1e−37: the result cancels completely, so its own size cannot scale the tolerance; reductions now allow 1e−6·Σ|terms| per element (KernelCase.slack)',
  },
  {
    id: 'conformance:gpu-webasm:embeddingBackward',
    seed: -115884149,
    path: '0:5:30:0:0:1:0:4:0:0:1:0:0:5:1:0:3',
    note: 'dy rows [2, 0, 0, 0, 1e−37, −2] scatter-added into one row: the same full cancellation as sumBatch',
  },
  {
    id: 'conformance:gpu-webasm:signSgdRows',
    seed: 1833546807,
    path: '20:7:0:0:0:30:0:3:0:0:0:0:0:0:0:1:0:2:2:2:0:0:1:2:0:1:0:0:0:0:30:0',
    note: 'grads [2, 1.1e−16, 0, −2] for one element: the sum is zero or 1.1e−16 depending on the order, so its sign (the step) is undecidable in float32; such elements may step by −lr, 0 or +lr',
  },
  {
    id: 'model:simd-plain-2t',
    seed: -1433356435,
    path: '4:1:1',
    note: 'TRM mlp_t, hidden 8, B 1, seq 2: step-2 carry.z_L off by 1.75e−4 > 1e−4, but a 1e−7 nudge of the weights moves the float64 reference itself by 1.9e−4 there; tolerances now follow the nudged reference (src/verify/model.ts)',
  },
  {
    id: 'model:simd-relaxed-2t',
    seed: 463963843,
    path: '3:1:11',
    note: 'TRM mlp_t, hidden 8, B 2, seq 4: step-3 logits off by 2.3e−4 > 1e−4 where a 1e−6 nudge moves the reference by 1.4e−3; same cause and fix',
  },
];
