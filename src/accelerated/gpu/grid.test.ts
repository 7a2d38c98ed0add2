// The hand-written WGSL kernels past WebGPU's 65535 workgroups per grid dimension
// (maxComputeWorkgroupsPerDimension). A dispatch past the limit is refused by validation, and with
// it every dispatch of the same submit, silently: outputs never written. Two sets of cases, each
// comparing every cell with the float64 reference backend under the conformance tolerance table:
// - at the real limit: sizes whose grid passes 65535 workgroups (rows for RMSNorm, 64-row tiles for
//   the dense products, batch·heads for attention). The products run there with K = 0 (y = bias,
//   no reduction: 16.8M invocations of the full kernel take lavapipe tens of seconds), and db then
//   sums a dy of more than 2^24 cells (the float32 index n·M + m of a gpu.js body is inexact there);
// - folded at a lowered limit (gridLimit.perDimension = 5): every kernel family with its real
//   reductions, loads and epilogues, at small sizes whose grid is folded, idle tail included.
// Skipped with the reason when no WebGPU adapter answers here. Every binding stays under 128 MiB.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend, KernelName } from '../../core/backend.ts';
import type { Shape, Tensor } from '../../core/tensor.ts';
import { tensor64 } from '../../core/tensor.ts';
import { Rng } from '../../core/rng.ts';
import { referenceBackend } from '../../reference/backend.ts';
import { compareTensor, describeWorst } from '../../verify/compare.ts';
import { toleranceFor } from '../../verify/tolerances.ts';
import type { GpuBackend, GpuTensor } from './backend.ts';
import { openWebgpu } from '../../../spec/support/webgpu.ts';
import { linearRopeBackward, linearSwigluBackward } from './fused.ts';
import { gridLimit } from './linear.ts';

let gpu: GpuBackend | null = null;
let why = '';

beforeAll(async () => {
  ({ backend: gpu, why } = await openWebgpu('grid.test'));
}, 120_000);

afterAll(async () => {
  await gpu?.close();
});

/** WebGPU's default (and lavapipe's) maxComputeWorkgroupsPerDimension. */
const MAX_GROUPS = 65535;

/** Float32-representable values in [-1, 1). */
const uniform = (shape: Shape, seed: number): Tensor<Float64Array> => {
  const rng = Rng.fromSeed(seed);
  const t = tensor64(shape);
  for (let i = 0; i < t.data.length; i++) t.data[i] = Math.fround(rng.uniform() * 2 - 1);
  return t;
};

/** Values in {−1, 0, 1}: sums of products over fewer than 2^24 rows are exact in float32. */
const small = (shape: Shape, seed: number): Tensor<Float64Array> => {
  const rng = Rng.fromSeed(seed);
  const t = tensor64(shape);
  for (let i = 0; i < t.data.length; i++) t.data[i] = Math.floor(rng.uniform() * 3) - 1;
  return t;
};

interface Case {
  readonly name: string;
  /** the kernel whose tolerance applies */
  readonly kernel: KernelName;
  /** the launch's workgroups (the real-limit cases assert that it passes 65535) */
  readonly groups: number;
  readonly inputs: () => Tensor<Float64Array>[];
  /** the outputs, named */
  readonly call: <T>(b: Backend<T>, ts: T[]) => Record<string, T>;
  /** the gpu backend's call where it differs from `call` (a variant not on the Backend record) */
  readonly onGpu?: (g: GpuBackend, ts: GpuTensor[]) => Record<string, GpuTensor>;
}

const EPS = 1e-5;

/** The four RMSNorm kernels on [rows, d] (one workgroup per row). */
const rmsNormCases = (rows: number, d: number, seed: number): Case[] => [
  {
    name: `rmsNorm [${rows}, ${d}]`,
    kernel: 'rmsNorm',
    groups: rows,
    inputs: () => [uniform([rows, d], seed)],
    call: (b, [x]) => ({ y: b.rmsNorm(x, EPS) }),
  },
  {
    name: `rmsNormBackward [${rows}, ${d}]`,
    kernel: 'rmsNormBackward',
    groups: rows,
    inputs: () => [uniform([rows, d], seed + 1), uniform([rows, d], seed + 2)],
    call: (b, [dy, x]) => ({ dx: b.rmsNormBackward(dy, x, EPS) }),
  },
  {
    name: `addRmsNorm [${rows}, ${d}]`,
    kernel: 'addRmsNorm',
    groups: rows,
    inputs: () => [uniform([rows, d], seed + 3), uniform([rows, d], seed + 4)],
    call: (b, [x, y]) => ({ y: b.addRmsNorm(x, y, EPS) }),
  },
  {
    name: `addRmsNormBackward [${rows}, ${d}]`,
    kernel: 'addRmsNormBackward',
    groups: rows,
    inputs: () => [uniform([rows, d], seed + 5), uniform([rows, d], seed + 6), uniform([rows, d], seed + 7)],
    call: (b, [dy, x, y]) => ({ dh: b.addRmsNormBackward(dy, x, y, EPS) }),
  },
];

/** Attention and its backward on qkv[batch, seq, 3·heads·hd] (one workgroup per batch, head, block of 64 rows). */
const attentionCases = (batch: number, seq: number, heads: number, hd: number, seed: number): Case[] => {
  const groups = batch * heads * Math.ceil(seq / 64);
  const qkv: Shape = [batch, seq, 3 * heads * hd];
  return [
    {
      name: `attention qkv [${qkv.join(', ')}], ${heads} heads`,
      kernel: 'attention',
      groups,
      inputs: () => [uniform(qkv, seed)],
      call: (b, [x]) => ({ out: b.attention(x, heads) }),
    },
    {
      name: `attentionBackward qkv [${qkv.join(', ')}], ${heads} heads`,
      kernel: 'attentionBackward',
      groups,
      inputs: () => [uniform([batch, seq, heads * hd], seed + 1), uniform(qkv, seed + 2)],
      call: (b, [dy, x]) => ({ dqkv: b.attentionBackward(dy, x, heads) }),
    },
  ];
};

/** 64-row tiles of the dense products; N passes 65535 of them. */
const TILE = 64;
const N_BIG = (MAX_GROUPS + 2) * TILE;
const M_BIG = 4;

const AT_LIMIT: Case[] = [
  ...rmsNormCases(70_000, 16, 1),
  ...attentionCases(Math.ceil((MAX_GROUPS + 1) / 8) + 1, 3, 8, 2, 11),
  {
    name: `linear with bias, x [${N_BIG}, 0] (y = bias)`,
    kernel: 'linear',
    groups: N_BIG / TILE,
    inputs: () => [uniform([N_BIG, 0], 21), uniform([M_BIG, 0], 22), uniform([M_BIG], 23)],
    call: (b, [x, w, bias]) => ({ y: b.linear(x, w, bias) }),
  },
  {
    name: `linearBackward's db over dy [${N_BIG}, ${M_BIG}] (past 2^24 cells)`,
    kernel: 'linearBackward',
    groups: N_BIG / TILE,
    inputs: () => [small([N_BIG, M_BIG], 24), uniform([N_BIG, 0], 25), uniform([M_BIG, 0], 26)],
    call: (b, [dy, x, w]) => {
      const r = b.linearBackward(dy, x, w, true);
      return { db: r.db as (typeof r)['dx'] };
    },
  },
];

// folded: every kernel family at sizes whose grid passes a limit of 5 workgroups per dimension
const LIMIT = 5;
const N = 7 * TILE + 5; // 8 row tiles
const S = 82;
const B = 6; // B·S = 492 rows: 8 row tiles
const HD = 8;
const W_ROPE = 12 * HD; // 48 column pairs: 2 column tiles
const ROTATED = 8;
const I = 40; // SwiGLU inner width: 2 column tiles of pairs

const FOLDED: Case[] = [
  ...rmsNormCases(23, 70, 31),
  ...attentionCases(3, 130, 2, 4, 41),
  ...[5, 8].map((k): Case => ({
    name: `linear with bias [${N}, ${k}]·[70, ${k}]ᵀ`,
    kernel: 'linear',
    groups: 2 * 8,
    inputs: () => [uniform([N, k], 51 + k), uniform([70, k], 52 + k), uniform([70], 53 + k)],
    call: (b, [x, w, bias]) => ({ y: b.linear(x, w, bias) }),
  })),
  {
    name: `linearBackward with bias, dy [${N}, 330], x [${N}, 8]`,
    kernel: 'linearBackward',
    groups: 8,
    inputs: () => [uniform([N, 330], 61), uniform([N, 8], 62), uniform([330, 8], 63)],
    call: (b, [dy, x, w]) => {
      const r = b.linearBackward(dy, x, w, true);
      return { dx: r.dx, dw: r.dw, db: r.db as (typeof r)['dx'] };
    },
  },
  {
    name: 'linearRope',
    kernel: 'linearRope',
    groups: 2 * 8,
    inputs: () => [uniform([B, S, 8], 71), uniform([W_ROPE, 8], 72), uniform([S, HD], 73), uniform([S, HD], 74)],
    call: (b, [x, w, cos, sin]) => ({ y: b.linearRope(x, w, cos, sin, HD, ROTATED) }),
  },
  {
    name: 'linearRopeBackward (dy·ropeᵀ computed while the tiles load)',
    kernel: 'linearRopeBackward',
    groups: 8,
    inputs: () => [uniform([B, S, W_ROPE], 75), uniform([B, S, 8], 76), uniform([W_ROPE, 8], 77), uniform([S, HD], 78), uniform([S, HD], 79)],
    call: (b, [dy, x, w, cos, sin]) => {
      const r = b.linearRopeBackward(dy, x, w, cos, sin, HD, ROTATED);
      return { dx: r.dx, dw: r.dw };
    },
    onGpu: (g, [dy, x, w, cos, sin]) => {
      const r = linearRopeBackward(g.device, g, dy, x, w, cos, sin, HD, ROTATED, true);
      return { dx: r.dx, dw: r.dw };
    },
  },
  {
    name: 'linearSwiglu',
    kernel: 'linearSwiglu',
    groups: 2 * 8,
    inputs: () => [uniform([B, S, 8], 81), uniform([2 * I, 8], 82)],
    call: (b, [x, w]) => {
      const r = b.linearSwiglu(x, w);
      return { y: r.y, gu: r.gu };
    },
  },
  {
    name: 'linearSwigluBackward (dy·swiglu′ computed while the tiles load)',
    kernel: 'linearSwigluBackward',
    groups: 8,
    inputs: () => [uniform([B, S, I], 83), uniform([B, S, 8], 84), uniform([2 * I, 8], 85), uniform([B, S, 2 * I], 86)],
    call: (b, [dy, x, w, gu]) => {
      const r = b.linearSwigluBackward(dy, x, w, gu);
      return { dx: r.dx, dw: r.dw };
    },
    onGpu: (g, [dy, x, w, gu]) => {
      const r = linearSwigluBackward(g.device, g, dy, x, w, gu, true);
      return { dx: r.dx, dw: r.dw };
    },
  },
];

/** The cells of `got` outside the tolerance of `kernel` against `want` (max|ref| over the tensor). */
const badCells = (kernel: KernelName, want: ArrayLike<number>, got: ArrayLike<number>): number => {
  const tol = toleranceFor(kernel, 'float32');
  let maxAbs = 0;
  for (let i = 0; i < want.length; i++) maxAbs = Math.max(maxAbs, Math.abs(want[i]));
  let bad = 0;
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i] - want[i]) <= tol.atol + tol.rtol * Math.abs(want[i]) + tol.ntol * maxAbs)) bad++;
  }
  return bad;
};

/** Runs `c` on both backends and expects every output within the kernel's tolerance. */
const check = async (g: GpuBackend, c: Case): Promise<void> => {
  const inputs = c.inputs();
  const want = c.call(referenceBackend, inputs);
  const handles = inputs.map((t) => g.fromArray(t.shape, t.data));
  const outs = c.onGpu ? c.onGpu(g, handles) : c.call(g, handles);
  for (const [name, w] of Object.entries(want)) {
    const got = await g.read(outs[name]);
    const cmp = compareTensor(name, w.shape, w.data, got.shape, got.data, toleranceFor(c.kernel, 'float32'));
    const detail = cmp.shapeMismatch ?? (cmp.worst === undefined ? '' : describeWorst(cmp.worst));
    expect(cmp.ok, `${name}: ${cmp.ok ? 0 : badCells(c.kernel, w.data, got.data)} of ${w.data.length} cells differ; ${detail}`).toBe(true);
  }
  for (const h of [...handles, ...Object.values(outs)]) g.dispose(h);
};

describe('WGSL kernels whose grid passes 65535 workgroups match the reference in every cell', () => {
  for (const c of AT_LIMIT) {
    it(c.name, async (ctx) => {
      if (gpu === null) return ctx.skip(why);
      expect(c.groups).toBeGreaterThan(MAX_GROUPS);
      await check(gpu, c);
    }, 60_000);
  }
});

describe(`WGSL kernels with their grid folded at ${LIMIT} workgroups per dimension match the reference in every cell`, () => {
  beforeAll(() => {
    gridLimit.perDimension = LIMIT;
  });
  afterAll(() => {
    gridLimit.perDimension = MAX_GROUPS;
  });
  for (const c of FOLDED) {
    it(c.name, async (ctx) => {
      if (gpu === null) return ctx.skip(why);
      expect(c.groups).toBeGreaterThan(LIMIT);
      await check(gpu, c);
    }, 60_000);
  }
});
