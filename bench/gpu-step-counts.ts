// Device work of one training step on the gpu backend's webgpu mode: dispatches, queue submits,
// buffer / bind-group / pipeline creations and bytes each way per step after warm-up, and the
// median step time. The counts depend only on the model's structure (layers, cycles, puzzle
// embedding), not on the batch or the adapter, so a software adapter (lavapipe) gives the figures
// a GPU will show. `--root DIR` runs the engine of another checkout's src/ (e.g. an exported older
// commit), so that two versions alternate in one run and their ratios are taken side by side.
// `--fusion-ab` measures the fused products (linearRope, linearSwiglu) against their composition
// from the unfused kernels (src/core/fused.ts: the kernel sequence before the fusion) in one
// process on one device: two models from the same seed, their steps alternating (fused, unfused,
// fused, …), so both see the same load; it prints each variant's counts, its median step and the
// median of the per-round time ratios.
// `--by-kernel` adds each kernel's launches per step (by launch name: the gpu.js body or the WGSL
// kernel), to see where the dispatches of a step go.
//   npx tsx bench/gpu-step-counts.ts [--root DIR] [--sizes tiny-shape,steady] [--steps N] [--fusion-ab] [--by-kernel] [--json FILE]
// Prints one JSON line per configuration (and variant; and writes them to --json).

import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BenchSizes } from '../src/bench/anchors.ts';
import { parseFlags } from '../src/cli/args.ts';

/** The structures measured: tiny's layers and cycles at batch 1 (its counts, lavapipe-sized), and the steady-state test's two. */
const SIZES: Readonly<Record<string, BenchSizes>> = {
  'tiny-shape': { name: 'tiny-shape', batchSize: 1, hidden: 64, heads: 2, layers: 2, hCycles: 2, lCycles: 2 },
  'paper-shape': { name: 'paper-shape', batchSize: 1, hidden: 64, heads: 2, layers: 4, hCycles: 2, lCycles: 2, puzzleEmb: true },
  steady: { name: 'steady', batchSize: 2, hidden: 32, heads: 2, layers: 1, hCycles: 1, lCycles: 2 },
};

const { flags } = parseFlags('gpu-step-counts', process.argv.slice(2), {
  root: { kind: 'string', help: "another checkout whose src/ engine is measured" },
  sizes: { kind: 'string', help: `comma-separated structures (${Object.keys(SIZES).join(', ')})` },
  steps: { kind: 'int', help: 'timed steps after warm-up (1..100)', min: 1, max: 100 },
  'fusion-ab': { kind: 'boolean', help: 'alternate the fused products with their unfused composition in one process' },
  'by-kernel': { kind: 'boolean', help: "also count each kernel's launches per step" },
  json: { kind: 'string', help: 'also write the JSON lines to this file' },
});
const flag = (name: string): string | undefined => (flags[name] === undefined ? undefined : String(flags[name]));
const main = async (): Promise<void> => {
  const root = resolve(flag('root') ?? resolve(import.meta.dirname, '..'));
  const names = (flag('sizes') ?? 'tiny-shape').split(',');
  const steps = Number(flag('steps') ?? 3);
  const warmup = 6;
  if (!(Number.isInteger(steps) && steps >= 1 && steps <= 100)) throw new Error(`--steps: expected an integer 1..100, got ${flag('steps')}`);
  const url = (p: string): string => pathToFileURL(resolve(root, p)).href;
  const { createGpuBackend } = await import(url('src/accelerated/gpu/backend.ts'));
  const { createHrm } = await import(url('src/model/hrm.ts'));
  const { benchBatch, benchConfig } = await import(url('src/bench/workload.ts'));
  const lines: string[] = [];
  const emit = (line: string): void => {
    console.log(line);
    lines.push(line);
  };
  for (const name of names) {
    const z = SIZES[name];
    if (z === undefined) throw new Error(`--sizes: unknown '${name}', expected some of ${Object.keys(SIZES).join(', ')}`);
    if (flags['fusion-ab'] === true) {
      await fusionAb(url, z, steps, warmup, emit);
      continue;
    }
    const b = await createGpuBackend({ gpuMode: 'webgpu', log: () => {} });
    const hrm = createHrm(benchConfig(z), { backend: b, seed: 3 });
    const batch = benchBatch(z);
    const rates = { lr: 1e-4, puzzleEmbLr: 1e-2 };
    let carry = hrm.initialCarry(z.batchSize, batch.seqLen);
    const times: number[] = [];
    const step = async (): Promise<void> => {
      const t0 = performance.now();
      const r = await hrm.trainStep(carry, batch, rates, z.batchSize);
      times.push(performance.now() - t0);
      carry = r.carry;
    };
    for (let i = 0; i < warmup; i++) await step();
    times.length = 0;
    const launches = flags['by-kernel'] === true ? countLaunches(b.device) : null;
    const before = b.device.counters();
    for (let i = 0; i < steps; i++) await step();
    const after = b.device.counters();
    const per: Record<string, number> = {};
    for (const k of Object.keys(after)) per[k] = (after[k] - before[k]) / steps;
    times.sort((x, y) => x - y);
    const byKernel = launches === null ? {} : { launchesByKernel: Object.fromEntries([...launches].sort((x, y) => y[1] - x[1]).map(([k, n]) => [k, n / steps])) };
    emit(JSON.stringify({ root, config: name, steps, ...per, medianStepMs: Math.round(times[times.length >> 1]), ...byKernel }));
    hrm.disposeCarry(carry);
    await hrm.dispose();
    await b.close();
  }
  const out = flag('json');
  if (out !== undefined) writeFileSync(out, `${lines.join('\n')}\n`);
};

/** Counts the device's launches by name from now on (wraps its run, runWgsl and runWgslPacks). */
const countLaunches = (dev: Record<string, unknown>): Map<string, number> => {
  const counts = new Map<string, number>();
  for (const method of ['run', 'runWgsl', 'runWgslPacks']) {
    const f = dev[method];
    if (typeof f !== 'function') continue;
    dev[method] = (launch: { name: string }, ...rest: unknown[]): unknown => {
      counts.set(launch.name, (counts.get(launch.name) ?? 0) + 1);
      return (f as (...a: unknown[]) => unknown).call(dev, launch, ...rest);
    };
  }
  return counts;
};

/**
 * The fused products against their unfused composition: two models (same seed, same device), warmed
 * up, then `steps` rounds of one step each, fused first. Emits one line per variant (counts per
 * step, median step ms) and one with the median of the per-round ratios unfused / fused.
 */
const fusionAb = async (url: (p: string) => string, z: BenchSizes, steps: number, warmup: number, emit: (line: string) => void): Promise<void> => {
  const { createGpuBackend } = await import(url('src/accelerated/gpu/backend.ts'));
  const { createHrm } = await import(url('src/model/hrm.ts'));
  const { benchBatch, benchConfig } = await import(url('src/bench/workload.ts'));
  const fused = await import(url('src/core/fused.ts'));
  const b = await createGpuBackend({ gpuMode: 'webgpu', log: () => {} });
  const unfused = {
    ...b,
    linearRope: (...a: unknown[]) => fused.composedLinearRope(b, ...a),
    linearRopeBackward: (...a: unknown[]) => fused.composedLinearRopeBackward(b, ...a),
    linearSwiglu: (...a: unknown[]) => fused.composedLinearSwiglu(b, ...a),
    linearSwigluBackward: (...a: unknown[]) => fused.composedLinearSwigluBackward(b, ...a),
  };
  const batch = benchBatch(z);
  const rates = { lr: 1e-4, puzzleEmbLr: 1e-2 };
  const variants = [
    { variant: 'fused', hrm: createHrm(benchConfig(z), { backend: b, seed: 3 }) },
    { variant: 'unfused', hrm: createHrm(benchConfig(z), { backend: unfused, seed: 3 }) },
  ].map((v) => ({ ...v, carry: v.hrm.initialCarry(z.batchSize, batch.seqLen), times: [] as number[], counts: new Map<string, number>() }));
  type V = (typeof variants)[number];
  const step = async (v: V, record: boolean): Promise<void> => {
    const before = b.device.counters();
    const t0 = performance.now();
    const r = await v.hrm.trainStep(v.carry, batch, rates, z.batchSize);
    const ms = performance.now() - t0;
    v.carry = r.carry;
    if (!record) return;
    v.times.push(ms);
    const after = b.device.counters();
    for (const k of Object.keys(after)) v.counts.set(k, (v.counts.get(k) ?? 0) + (after[k] - before[k]));
  };
  for (let i = 0; i < warmup; i++) for (const v of variants) await step(v, false);
  for (let i = 0; i < steps; i++) for (const v of variants) await step(v, true);
  const median = (xs: readonly number[]): number => [...xs].sort((x, y) => x - y)[xs.length >> 1];
  for (const v of variants) {
    const per = Object.fromEntries([...v.counts].map(([k, n]) => [k, n / steps]));
    emit(JSON.stringify({ config: z.name, variant: v.variant, steps, ...per, medianStepMs: Math.round(median(v.times)) }));
  }
  const ratios = variants[0].times.map((t, i) => variants[1].times[i] / t);
  emit(JSON.stringify({ config: z.name, unfusedOverFused: { medianOfRoundRatios: Number(median(ratios).toFixed(3)), rounds: ratios.map((r) => Number(r.toFixed(2))) } }));
  for (const v of variants) {
    v.hrm.disposeCarry(v.carry);
    await v.hrm.dispose();
  }
  await b.close();
};

await main();
