// Kernels on webgpu past 2^24 cells, where a float32 flat index is no longer exact (and past 2^23,
// where floor((i + 0.5)/W) already fails): each case runs one kernel on a tensor of more than 2^24
// cells (its output, or an input for reductions such as sumBatch) and compares every output cell
// with the float64 reference backend on the same inputs (the same tolerance shape as the
// conformance suite: atol + rtol·|ref|). Skipped with the reason when no WebGPU adapter answers
// here. Sizes stay under lavapipe's 128 MiB binding limit.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../core/backend.ts';
import type { Shape, Tensor } from '../../core/tensor.ts';
import { numel, tensor64 } from '../../core/tensor.ts';
import { Rng } from '../../core/rng.ts';
import { referenceBackend } from '../../reference/backend.ts';
import type { GpuBackend } from './backend.ts';
import { openWebgpu } from '../../../spec/support/webgpu.ts';

let gpu: GpuBackend | null = null;
let why = '';

beforeAll(async () => {
  ({ backend: gpu, why } = await openWebgpu('indexed.test'));
}, 120_000);

afterAll(async () => {
  await gpu?.close();
});

/** Float32-representable values in [-1, 1) (so both backends start from the same numbers). */
const host = (shape: Shape, seed: number): Tensor<Float64Array> => {
  const rng = Rng.fromSeed(seed);
  const t = tensor64(shape);
  for (let i = 0; i < t.data.length; i++) t.data[i] = Math.fround(rng.uniform() * 2 - 1);
  return t;
};

interface Case {
  readonly name: string;
  /** the host inputs (tensors; other arguments are closed over by `call`) */
  readonly inputs: () => Tensor<Float64Array>[];
  readonly call: <T>(b: Backend<T>, ts: T[]) => T;
}

/** Batches that put B·S·W past 2^24 cells at the paper's sequence length and qkv width. */
const S = 82;
const HD = 16;
const W_QKV = 3 * 4 * HD * 8; // 1536: the paper's qkv width
const B_BIG = Math.ceil(2 ** 24 / (S * W_QKV)) + 1; // 135 → 17.0M cells
/** The paper's hidden width and a batch that puts B·S·D past 2^24 cells (420 → 17.6M). */
const D = 512;
const B_ACT = Math.ceil(2 ** 24 / (S * D)) + 20;

/** A reset mask over B rows: about one in three set, with values other than 1 among them. */
const maskOf = (B: number, seed: number): Uint8Array => {
  const rng = Rng.fromSeed(seed);
  return Uint8Array.from({ length: B }, () => [0, 0, 1, 0, 0, 255][Math.floor(rng.uniform() * 6)]);
};
const RESET_MASK = maskOf(B_ACT, 12);

/** Ids in [0, rows), n of them. */
const idsOf = (n: number, rows: number, seed: number): Int32Array => {
  const rng = Rng.fromSeed(seed);
  return Int32Array.from({ length: n }, () => Math.floor(rng.uniform() * rows));
};
/** A puzzle-like table of 1000 rows looked up at every position; a vocabulary of 12 for the backward. */
const LOOKUP_ROWS = 1000;
const LOOKUP_IDS = idsOf(B_ACT * S, LOOKUP_ROWS, 18);
const VOCAB = 12;
const TOKEN_IDS = idsOf(B_ACT * (S - 1), VOCAB, 20);
/** A one-column table of more than 2^24 rows and ids past 2^24 (odd ones are not float32 numbers). */
const TALL_ROWS = 2 ** 24 + 4096;
const TALL_IDS = Int32Array.from([...idsOf(2048, TALL_ROWS, 22), ...Array.from({ length: 2048 }, (_, k) => 2 ** 24 + 1 + 2 * k)]);
/** SwiGLU at the paper's inner size: gate_up [B,S,2I] past 2^24 cells (68 → 17.1M). */
const I_SW = 1536;
const B_SW = Math.ceil(2 ** 24 / (S * 2 * I_SW)) + 1;
/** Logits [B,T,V] past 2^24 cells at ARC's sequence and vocabulary (1555 → 16.8M), labels with ~1 in 8 ignored. */
const T_CE = 900;
const V_CE = 12;
const B_CE = Math.ceil(2 ** 24 / (T_CE * V_CE)) + 1;
const labelsOf = (n: number, V: number, seed: number): Int32Array => {
  const rng = Rng.fromSeed(seed);
  return Int32Array.from({ length: n }, () => (rng.uniform() < 0.125 ? -100 : rng.int(0, V - 1)));
};
const CE_LABELS = labelsOf(B_CE * T_CE, V_CE, 40);
/** Per-row gradient scales in [0.5, 2.5), float32-representable (so a wrong cell shows). */
const CE_SCALE = Float64Array.from({ length: B_CE }, (_, b) => Math.fround(0.5 + ((b * 7919) % 1000) / 500));

const BIG_CASES: Case[] = [
  {
    name: 'ropeBackward',
    inputs: () => [host([B_BIG, S, W_QKV], 1), host([S, HD], 2), host([S, HD], 3)],
    call: (b, [dy, cos, sin]) => b.ropeBackward(dy, cos, sin, HD, W_QKV / HD - 8),
  },
  {
    name: 'rope',
    inputs: () => [host([B_BIG, S, W_QKV], 4), host([S, HD], 5), host([S, HD], 6)],
    call: (b, [x, cos, sin]) => b.rope(x, cos, sin, HD, W_QKV / HD - 8),
  },
  {
    name: 'concatSeq',
    inputs: () => [host([B_ACT, 1, D], 7), host([B_ACT, S - 1, D], 8)],
    call: (b, [a, c]) => b.concatSeq(a, c),
  },
  {
    name: 'sliceSeq',
    inputs: () => [host([B_ACT, S, D], 9)],
    call: (b, [x]) => b.sliceSeq(x, 1, S - 1),
  },
  {
    name: 'sliceSeqBackward',
    inputs: () => [host([B_ACT, S - 1, D], 10)],
    call: (b, [dy]) => b.sliceSeqBackward(dy, S, 1),
  },
  {
    name: 'resetRows',
    inputs: () => [host([B_ACT, S, D], 11), host([D], 13)],
    call: (b, [state, init]) => b.resetRows(state, init, RESET_MASK),
  },
  {
    name: 'transpose',
    inputs: () => [host([B_ACT, S, D], 14)],
    call: (b, [x]) => b.transpose(x),
  },
  {
    name: 'addBroadcast',
    inputs: () => [host([B_ACT, S, D], 15), host([S, D], 16)],
    call: (b, [x, p]) => b.addBroadcast(x, p),
  },
  {
    name: 'sumBatch',
    inputs: () => [host([B_ACT, S, D], 17)],
    call: (b, [x]) => b.sumBatch(x),
  },
  {
    name: 'embedding',
    inputs: () => [host([LOOKUP_ROWS, D], 19)],
    call: (b, [table]) => b.embedding(table, LOOKUP_IDS, [B_ACT, S]),
  },
  {
    name: 'embedding (ids past 2^24)',
    inputs: () => [host([TALL_ROWS, 1], 23)],
    call: (b, [table]) => b.embedding(table, TALL_IDS, [TALL_IDS.length]),
  },
  {
    name: 'embeddingBackward',
    inputs: () => [host([B_ACT, S - 1, D], 21)],
    call: (b, [dy]) => b.embeddingBackward(dy, TOKEN_IDS, VOCAB),
  },
  {
    name: 'swiglu',
    inputs: () => [host([B_SW, S, 2 * I_SW], 41)],
    call: (b, [gu]) => b.swiglu(gu),
  },
  {
    name: 'swigluBackward',
    inputs: () => [host([B_SW, S, I_SW], 42), host([B_SW, S, 2 * I_SW], 43)],
    call: (b, [dy, gu]) => b.swigluBackward(dy, gu),
  },
  ...(['softmax_cross_entropy', 'stablemax_cross_entropy'] as const).flatMap((kind, j): Case[] => [
    {
      name: `crossEntropy ${kind}`,
      inputs: () => [host([B_CE, T_CE, V_CE], 44 + j)],
      call: (b, [logits]) => b.crossEntropy(logits, CE_LABELS, kind),
    },
    {
      name: `crossEntropyBackward ${kind}`,
      inputs: () => [host([B_CE, T_CE, V_CE], 46 + j)],
      call: (b, [logits]) => b.crossEntropyBackward(logits, CE_LABELS, kind, CE_SCALE),
    },
  ]),
  {
    name: 'argmax',
    inputs: () => [host([B_CE, T_CE, V_CE], 48)],
    call: (b, [x]) => b.argmax(x),
  },
  {
    // a puzzle-embedding table of 32800 rows of 512 (16.8M cells); ema consumes e
    name: 'ema',
    inputs: () => [host([32800, D], 49), host([32800, D], 50)],
    call: (b, [e, p]) => b.ema(e, p, 0.999),
  },
];

describe('kernels past 2^24 cells on webgpu match the reference in every cell', () => {
  for (const c of BIG_CASES) {
    it(c.name, async (ctx) => {
      if (gpu === null) return ctx.skip(why);
      const g = gpu;
      const inputs = c.inputs();
      const want = c.call(referenceBackend, inputs);
      expect(Math.max(numel(want.shape), ...inputs.map((t) => numel(t.shape)))).toBeGreaterThan(2 ** 24);
      const handles = inputs.map((t) => g.fromArray(t.shape, t.data));
      const out = c.call(g, handles);
      const got = await g.read(out);
      for (const h of [...handles, out]) if (!h.disposed) g.dispose(h); // a consumed input is disposed
      expect(got.shape).toEqual(want.shape);
      let bad = 0;
      let first = -1;
      for (let i = 0; i < want.data.length; i++) {
        if (!(Math.abs(got.data[i] - want.data[i]) <= 1e-6 + 1e-5 * Math.abs(want.data[i]))) {
          bad++;
          if (first < 0) first = i;
        }
      }
      expect(bad, `${bad} cells differ, the first at ${first}: ${got.data[first]} vs ${want.data[first]}`).toBe(0);
    }, 120_000);
  }
});
