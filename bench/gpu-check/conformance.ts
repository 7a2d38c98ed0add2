// A kernel-vs-reference check of the gpu backend: every kernel of the Backend interface runs once
// on seeded random inputs of model-like shapes in the chosen gpu.js mode and in the float64
// reference; the worst error per kernel is printed as a table. A standalone script for machines
// where the test runner is not installed (see run.sh), not a test: the property suite is the test.
//
//   node --import tsx bench/gpu-check/conformance.ts [--mode webgpu|webasm|cpu] [--size tiny|model]

import type { Backend } from '../../src/core/backend.ts';
import { KERNEL_NAMES } from '../../src/core/backend.ts';
import { Rng } from '../../src/core/rng.ts';
import type { Shape } from '../../src/core/tensor.ts';
import { numel } from '../../src/core/tensor.ts';
import { createGpuBackend } from '../../src/accelerated/gpu/backend.ts';
import type { GpuJsMode } from '../../src/accelerated/gpu/gpujs.ts';
import { referenceBackend } from '../../src/reference/backend.ts';

type AnyBackend = Backend<unknown>;

/** Worst |a − r| / (atol + |r|) over all outputs, and where. */
interface Err { readonly worst: number; readonly index: number; readonly got: number; readonly want: number }

const compare = (got: Float64Array, want: Float64Array, atol: number): Err => {
  let worst = 0;
  let index = -1;
  if (got.length !== want.length) return { worst: Infinity, index: -1, got: got.length, want: want.length };
  for (let i = 0; i < got.length; i++) {
    const e = Math.abs(got[i] - want[i]) / (atol + Math.abs(want[i]));
    if (!(e <= worst)) { worst = e; index = i; }
  }
  return { worst, index, got: index >= 0 ? got[index] : 0, want: index >= 0 ? want[index] : 0 };
};

/** One kernel case: builds inputs on a backend and returns the outputs to compare. */
type Case = (b: AnyBackend, t: (shape: Shape, data: Float64Array) => unknown) => unknown[];

export interface Dims { B: number; S: number; D: number; H: number; V: number; I: number }

export const SIZES: Record<string, Dims> = {
  tiny: { B: 2, S: 9, D: 16, H: 2, V: 11, I: 32 },
  model: { B: 16, S: 81, D: 64, H: 2, V: 11, I: 256 },
};

/** Every kernel's case over dims d, inputs from a seeded generator. */
export const cases = (d: Dims, seed = 7): Record<string, Case> => {
  const rng = Rng.fromSeed(seed);
  const data = (shape: Shape, lo = -2, hi = 2): Float64Array => {
    const a = new Float64Array(numel(shape));
    for (let i = 0; i < a.length; i++) a[i] = Math.fround(lo + (hi - lo) * rng.uniform());
    return a;
  };
  const ints = (n: number, hi: number): Int32Array => Int32Array.from({ length: n }, () => Math.floor(rng.uniform() * hi));
  const { B, S, D, H, V, I } = d;
  const hd = D / H;
  const x = data([B, S, D]); const x2 = data([B, S, D]); const dy = data([B, S, D]);
  const w = data([3 * D, D], -0.3, 0.3); const bias = data([3 * D]); const dq = data([B, S, 3 * D]);
  const qkv = data([B, S, 3 * D], -1, 1);
  const cos = data([S, hd], -1, 1); const sin = data([S, hd], -1, 1);
  const gu = data([B, S, 2 * I]); const dyI = data([B, S, I]);
  const table = data([V, D]); const ids = ints(B * S, V);
  const logits = data([B, S, V], -3, 3);
  const labels = Int32Array.from(ints(B * S, V), (y, i) => (i % 5 === 3 ? -100 : y));
  const rowScale = Float64Array.from({ length: B }, (_, i) => 1 / (i + 1));
  const q = data([B, 2]); const target = data([B, 2], 0, 1);
  const p = data([D, D]); const g = data([D, D]); const m = data([D, D], -0.1, 0.1); const v = data([D, D], 0, 0.01);
  const puzzle = data([7, D]); const pg = data([B, D]); const pids = ints(B, 7);
  const mask = Uint8Array.from({ length: B }, (_, i) => i % 2);
  const init = data([D]);
  const eps = 1e-5;
  return {
    linear: (b, t) => [b.linear(t([B, S, D], x), t([3 * D, D], w), t([3 * D], bias))],
    linearBackward: (b, t) => { const r = b.linearBackward(t([B, S, 3 * D], dq), t([B, S, D], x), t([3 * D, D], w), true); return [r.dx, r.dw, r.db]; },
    add: (b, t) => [b.add(t([B, S, D], x), t([B, S, D], x2))],
    scale: (b, t) => [b.scale(t([B, S, D], x), -0.37)],
    addBroadcast: (b, t) => [b.addBroadcast(t([B, S, D], x), t([S, D], x2.subarray(0, S * D)))],
    sumBatch: (b, t) => [b.sumBatch(t([B, S, D], x))],
    rmsNorm: (b, t) => [b.rmsNorm(t([B, S, D], x), eps)],
    rmsNormBackward: (b, t) => [b.rmsNormBackward(t([B, S, D], dy), t([B, S, D], x), eps)],
    addRmsNorm: (b, t) => [b.addRmsNorm(t([B, S, D], x), t([B, S, D], x2), eps)],
    addRmsNormBackward: (b, t) => [b.addRmsNormBackward(t([B, S, D], dy), t([B, S, D], x), t([B, S, D], x2), eps)],
    rope: (b, t) => [b.rope(t([B, S, 3 * D], qkv), t([S, hd], cos), t([S, hd], sin), hd, 2 * H)],
    ropeBackward: (b, t) => [b.ropeBackward(t([B, S, 3 * D], dq), t([S, hd], cos), t([S, hd], sin), hd, 2 * H)],
    attention: (b, t) => [b.attention(t([B, S, 3 * D], qkv), H)],
    attentionBackward: (b, t) => [b.attentionBackward(t([B, S, D], dy), t([B, S, 3 * D], qkv), H)],
    swiglu: (b, t) => [b.swiglu(t([B, S, 2 * I], gu))],
    swigluBackward: (b, t) => [b.swigluBackward(t([B, S, I], dyI), t([B, S, 2 * I], gu))],
    embedding: (b, t) => [b.embedding(t([V, D], table), ids, [B, S])],
    embeddingBackward: (b, t) => [b.embeddingBackward(t([B, S, D], dy), ids, V)],
    concatSeq: (b, t) => [b.concatSeq(t([B, 1, D], x.subarray(0, B * D)), t([B, S, D], x2))],
    sliceSeq: (b, t) => [b.sliceSeq(t([B, S, D], x), 1, S - 1)],
    sliceSeqBackward: (b, t) => [b.sliceSeqBackward(t([B, S - 1, D], dy.subarray(0, B * (S - 1) * D)), S, 1)],
    resetRows: (b, t) => [b.resetRows(t([B, S, D], x), t([D], init), mask)],
    transpose: (b, t) => [b.transpose(t([B, S, D], x))],
    crossEntropy: (b, t) => [b.crossEntropy(t([B, S, V], logits), labels, 'stablemax_cross_entropy'), b.crossEntropy(t([B, S, V], logits), labels, 'softmax_cross_entropy')],
    crossEntropyBackward: (b, t) => [
      b.crossEntropyBackward(t([B, S, V], logits), labels, 'stablemax_cross_entropy', rowScale),
      b.crossEntropyBackward(t([B, S, V], logits), labels, 'softmax_cross_entropy', rowScale),
    ],
    argmax: (b, t) => [b.argmax(t([B, S, V], logits))],
    sigmoid: (b, t) => [b.sigmoid(t([B, 2], q))],
    bceWithLogits: (b, t) => [b.bceWithLogits(t([B, 2], q), t([B, 2], target))],
    bceWithLogitsBackward: (b, t) => [b.bceWithLogitsBackward(t([B, 2], q), t([B, 2], target), 0.5)],
    adamAtan2: (b, t) => {
      const s = b.adamAtan2({ param: t([D, D], p), m: t([D, D], m), v: t([D, D], v) }, t([D, D], g), { lr: 1e-3, weightDecay: 0.1, beta1: 0.9, beta2: 0.95, step: 3 });
      return [s.param, s.m, s.v];
    },
    signSgdRows: (b, t) => [b.signSgdRows(t([7, D], puzzle), t([B, D], pg), pids, 1e-2, 0.1)],
    ema: (b, t) => [b.ema(t([D, D], p), t([D, D], g), 0.999)],
  };
};

/** Runs every case on `backend` and the reference; returns the worst error per kernel. */
export const checkAll = async (backend: AnyBackend, dims: Dims, atol = 1e-4): Promise<{ kernel: string; err: Err; ms: number }[]> => {
  const all = cases(dims);
  const rows: { kernel: string; err: Err; ms: number }[] = [];
  for (const kernel of KERNEL_NAMES) {
    const c = all[kernel];
    if (c === undefined) throw new Error(`conformance: no case for kernel '${kernel}'`);
    const ref = referenceBackend as unknown as AnyBackend;
    const want = c(ref, (s, a) => ref.fromArray(s, a));
    const t0 = performance.now();
    const got = c(backend, (s, a) => backend.fromArray(s, a));
    let err: Err = { worst: 0, index: -1, got: 0, want: 0 };
    for (let i = 0; i < got.length; i++) {
      const g = await backend.read(got[i]);
      const r = await ref.read(want[i]);
      const e = compare(g.data, r.data, atol);
      if (!(e.worst <= err.worst)) err = e;
      backend.dispose(got[i]);
    }
    rows.push({ kernel, err, ms: performance.now() - t0 });
  }
  return rows;
};

const main = async (): Promise<number> => {
  const argv = process.argv.slice(2);
  const flag = (name: string): string | undefined => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : undefined; };
  const mode = flag('--mode') as GpuJsMode | undefined;
  const size = flag('--size') ?? 'model';
  const dims = SIZES[size];
  if (dims === undefined) throw new Error(`--size: expected one of ${Object.keys(SIZES).join(', ')}, got '${size}'`);
  const tol = Number(flag('--tol') ?? '1e-3');
  const backend = await createGpuBackend({ gpuMode: mode });
  const rows = await checkAll(backend as unknown as AnyBackend, dims);
  await backend.close();
  let bad = 0;
  console.log(`\n${backend.description}; dims ${JSON.stringify(dims)}; error = |gpu − ref| / (1e-4 + |ref|), limit ${tol}`);
  console.log('| kernel | worst error | at | gpu | reference | ms |\n|---|---|---|---|---|---|');
  for (const r of rows) {
    if (!(r.err.worst <= tol)) bad++;
    console.log(`| ${r.kernel} | ${r.err.worst.toExponential(2)}${r.err.worst <= tol ? '' : ' FAIL'} | ${r.err.index} | ${r.err.got.toPrecision(7)} | ${r.err.want.toPrecision(7)} | ${r.ms.toFixed(1)} |`);
  }
  console.log(bad === 0 ? `all ${rows.length} kernels within ${tol}` : `${bad} kernel(s) over ${tol}`);
  return bad === 0 ? 0 : 1;
};

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then((code) => process.exit(code), (e) => { console.error(e); process.exit(2); });
}
