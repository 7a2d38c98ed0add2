// The dense products on webgpu, the tiled WGSL kernels (vec4 loads where the sizes allow) against the
// same kernels reading one float at a time and against the older gpu.js kernels (four cells per
// thread over wᵀ), side by side in one process: for each shape, forward (y = x·wᵀ) and backward
// (dx, dw) of the three paths in alternation (A B C A B C …), each sample a batch of calls waited
// for with the device's flush, so a busy machine slows all alike and the ratios stay meaningful.
// Prints a markdown table (median ms per call, GFLOP/s, old/new ratios) and optionally writes JSON.
// `--fused` instead times the fused products of a block (linearRope on qkv, linearSwiglu on gate_up)
// at B·S × D with Hh heads, alternating in the same way: the forward (activation in the product's
// epilogue) against its composition from the unfused kernels (src/core/fused.ts: the product, then
// the activation's own pass); the backward's one-pass alternative (activation backward in the
// products' tile loads) against the backward the backend runs (its own pass, then the products).
//   npx tsx bench/gpu-linear.ts [--reps N] [--shapes N×K×M,…] [--json FILE]
//   npx tsx bench/gpu-linear.ts --fused [--reps N] [--blocks B×S×D×Hh,…]

import { writeFileSync } from 'node:fs';
import { createGpuBackend } from '../src/accelerated/gpu/backend.ts';
import type { Device, GpuTensor } from '../src/accelerated/gpu/device.ts';
import { linear, linearBackward, linearBackwardGpuJs, linearGpuJs, product } from '../src/accelerated/gpu/linear.ts';
import { now, summarize } from '../src/bench/stats.ts';
import { swigluInner } from '../src/bench/anchors.ts';
import { linearRopeBackward, linearSwigluBackward } from '../src/accelerated/gpu/fused.ts';
import { composedLinearRope, composedLinearSwiglu } from '../src/core/fused.ts';
import { ropeTables } from '../src/model/rope-tables.ts';

/** [N, K, M]: y[N,M] = x[N,K]·w[M,K]ᵀ. The defaults are the step's products at tiny, small and paper width (N = 32·81). */
const DEFAULT_SHAPES: readonly (readonly [number, number, number])[] = [
  [1296, 64, 192],
  [2592, 128, 512],
  [2592, 512, 1536],
];

interface Row {
  readonly shape: string;
  readonly direction: 'forward' | 'backward';
  readonly gflop: number;
  readonly tiledMs: number;
  /** the tiled kernel with every operand read one float at a time (the kernel before vec4 loads) */
  readonly scalarMs: number;
  readonly gpujsMs: number;
  /** gpu.js time / tiled time (> 1: the tiled kernel is faster) */
  readonly ratio: number;
  /** scalar-load time / tiled time (> 1: vec4 loads are faster) */
  readonly vecRatio: number;
  readonly samples: number;
}

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const reps = Number(flag('reps') ?? 5);
const shapes = flag('shapes')?.split(',').map((s) => s.split(/[x×]/).map(Number) as unknown as readonly [number, number, number]) ?? DEFAULT_SHAPES;
for (const s of shapes) {
  if (s.length !== 3 || s.some((d) => !Number.isInteger(d) || d < 1)) throw new Error(`--shapes: expected N×K×M with positive integers, got ${s.join('×')}`);
}

const b = await createGpuBackend({ gpuMode: 'webgpu' });
const dev: Device = b.device;
const rnd = (n: number, seed: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed));

/** Per-call ms samples of each path (each sample: `inner` calls, then a device flush), the paths alternating. */
const timeAll = async (paths: readonly (() => GpuTensor[])[], inner: number): Promise<number[][]> => {
  const out = paths.map((): number[] => []);
  for (let r = 0; r < reps; r++) {
    for (let p = 0; p < paths.length; p++) {
      const t0 = now();
      const made: GpuTensor[] = [];
      for (let i = 0; i < inner; i++) made.push(...paths[p]());
      await dev.flush();
      out[p].push((now() - t0) / inner);
      for (const t of made) b.dispose(t);
    }
  }
  return out;
};

/** --fused: the block's fused products against their composition, per [B, S, D, Hh]; prints a table and exits. */
/** Runs each path once (pipelines compiled, pool filled), then times `probe` once: calls per sample
 * so that a sample takes about 200 ms (1–50). */
const warmUp = async (paths: readonly (() => GpuTensor[])[], probe: () => GpuTensor[]): Promise<number> => {
  for (const call of paths) {
    const out = call();
    await dev.flush();
    for (const t of out) b.dispose(t);
  }
  const t0 = now();
  const out = probe();
  await dev.flush();
  for (const t of out) b.dispose(t);
  return Math.max(1, Math.min(50, Math.floor(200 / Math.max(1, now() - t0))));
};

const fusedBench = async (blocks: readonly (readonly number[])[]): Promise<void> => {
  const lines = [
    `Fused products on ${b.description}: one pass (forward: activation in the tiled product's epilogue; backward: in its tile loads) vs the activation's own pass and the product(s), median of ${reps} alternating samples.`,
    '',
    '| product | direction | one pass ms | own pass + product(s) ms | own pass / one pass |',
    '|---|---|---|---|---|',
  ];
  for (const [B, S, D, Hh] of blocks) {
    const hd = D / Hh;
    const I = swigluInner(D, 4);
    const tables = ropeTables(S, hd, 10000);
    const x = b.fromArray([B, S, D], rnd(B * S * D, 1));
    const wQkv = b.fromArray([3 * D, D], rnd(3 * D * D, 2));
    const wGu = b.fromArray([2 * I, D], rnd(2 * I * D, 3));
    const dQkv = b.fromArray([B, S, 3 * D], rnd(B * S * 3 * D, 4));
    const dS = b.fromArray([B, S, I], rnd(B * S * I, 5));
    const cos = b.fromArray([S, hd], tables.cos.data);
    const sin = b.fromArray([S, hd], tables.sin.data);
    const gu = b.linear(x, wGu);
    const two = (g: { dx: GpuTensor; dw: GpuTensor }): GpuTensor[] => [g.dx, g.dw];
    const pairs = [
      { name: `qkv + RoPE [${B * S}×${D}]·[${D}×${3 * D}]`, direction: 'forward', fused: () => [b.linearRope(x, wQkv, cos, sin, hd, 2 * Hh)], unfused: () => [composedLinearRope(b, x, wQkv, cos, sin, hd, 2 * Hh)] },
      { name: `qkv + RoPE [${B * S}×${D}]·[${D}×${3 * D}]`, direction: 'backward', fused: () => two(linearRopeBackward(dev, b, dQkv, x, wQkv, cos, sin, hd, 2 * Hh, true)), unfused: () => two(b.linearRopeBackward(dQkv, x, wQkv, cos, sin, hd, 2 * Hh)) },
      { name: `gate_up + SwiGLU [${B * S}×${D}]·[${D}×${2 * I}]`, direction: 'forward', fused: () => Object.values(b.linearSwiglu(x, wGu)), unfused: () => Object.values(composedLinearSwiglu(b, x, wGu)) },
      { name: `gate_up + SwiGLU [${B * S}×${D}]·[${D}×${2 * I}]`, direction: 'backward', fused: () => two(linearSwigluBackward(dev, b, dS, x, wGu, gu, true)), unfused: () => two(b.linearSwigluBackward(dS, x, wGu, gu)) },
    ];
    for (const pr of pairs) {
      const inner = await warmUp([pr.fused, pr.unfused], pr.unfused);
      const [f, u] = (await timeAll([pr.fused, pr.unfused], inner)).map((ms) => summarize(ms).medianMs);
      lines.push(`| ${pr.name} | ${pr.direction} | ${f.toFixed(2)} | ${u.toFixed(2)} | ×${(u / f).toFixed(2)} |`);
      process.stderr.write(`${lines[lines.length - 1]}\n`);
    }
    for (const t of [x, wQkv, wGu, dQkv, dS, cos, sin, gu]) b.dispose(t);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
};

if (args.includes('--fused')) {
  const blocks = flag('blocks')?.split(',').map((s) => s.split(/[x×]/).map(Number)) ?? [[16, 81, 64, 2], [32, 81, 128, 4]];
  for (const k of blocks) {
    if (k.length !== 4 || k.some((d) => !Number.isInteger(d) || d < 1) || k[2] % k[3] !== 0 || (k[2] / k[3]) % 2 !== 0) {
      throw new Error(`--blocks: expected B×S×D×Hh with positive integers and an even D/Hh, got ${k.join('×')}`);
    }
  }
  try {
    await fusedBench(blocks);
  } finally {
    await b.close();
  }
  process.exit(0);
}

const rows: Row[] = [];
try {
  for (const [N, K, M] of shapes) {
    const x = b.fromArray([N, K], rnd(N * K, 1));
    const w = b.fromArray([M, K], rnd(M * K, 2));
    const dy = b.fromArray([N, M], rnd(N * M, 3));
    const fwd = {
      tiled: () => [linear(dev, x, w)],
      scalar: () => product(dev, 'nt', x, w, N, M, K, [N, M], undefined, true),
      gpujs: () => [linearGpuJs(dev, x, w)],
    };
    const grads = (g: { dx: GpuTensor; dw: GpuTensor }): GpuTensor[] => [g.dx, g.dw];
    const bwd = {
      tiled: () => grads(linearBackward(dev, dy, x, w, false)),
      scalar: () => [...product(dev, 'nn', dy, w, N, K, M, [N, K], undefined, true), ...product(dev, 'tn', dy, x, M, K, N, [M, K], undefined, true)],
      gpujs: () => grads(linearBackwardGpuJs(dev, dy, x, w, false)),
    };
    const gflop = (2 * N * K * M) / 1e9;
    for (const [direction, set, work] of [['forward', fwd, gflop], ['backward', bwd, 2 * gflop]] as const) {
      const paths = [set.tiled, set.scalar, set.gpujs];
      const inner = await warmUp(paths, set.gpujs);
      const [tiled, scalar, gpujs] = (await timeAll(paths, inner)).map((ms) => summarize(ms).medianMs);
      rows.push({ shape: `[${N}×${K}]·[${K}×${M}]`, direction, gflop: work, tiledMs: tiled, scalarMs: scalar, gpujsMs: gpujs, ratio: gpujs / tiled, vecRatio: scalar / tiled, samples: reps });
      process.stderr.write(`${rows[rows.length - 1].shape} ${direction}: tiled ${tiled.toFixed(2)} ms, scalar loads ${scalar.toFixed(2)} ms, gpu.js ${gpujs.toFixed(2)} ms\n`);
    }
    for (const t of [x, w, dy]) b.dispose(t);
  }
} finally {
  await b.close();
}

const lines = [
  `Dense products on ${b.description}: tiled WGSL (vec4 loads where aligned) vs the same kernel with scalar loads vs gpu.js (four cells per thread), median of ${reps} alternating samples per path.`,
  '',
  '| product | direction | GFLOP | tiled WGSL ms (GFLOP/s) | scalar loads ms | gpu.js ms (GFLOP/s) | scalar / tiled | gpu.js / tiled |',
  '|---|---|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.shape} | ${r.direction} | ${r.gflop.toFixed(3)} | ${r.tiledMs.toFixed(2)} (${(r.gflop / r.tiledMs * 1000).toFixed(1)}) | ${r.scalarMs.toFixed(2)} | ${r.gpujsMs.toFixed(2)} (${(r.gflop / r.gpujsMs * 1000).toFixed(1)}) | ×${r.vecRatio.toFixed(2)} | ×${r.ratio.toFixed(2)} |`),
];
process.stdout.write(`${lines.join('\n')}\n`);
const json = flag('json');
if (json !== undefined) writeFileSync(json, `${JSON.stringify({ device: b.description, reps, rows }, null, 1)}\n`);
