// Device work of one training step on the gpu backend's webgpu mode: dispatches, queue submits,
// buffer / bind-group / pipeline creations and bytes each way per step after warm-up, and the
// median step time. The counts depend only on the model's structure (layers, cycles, puzzle
// embedding), not on the batch or the adapter, so a software adapter (lavapipe) gives the figures
// a GPU will show. `--root DIR` runs the engine of another checkout's src/ (e.g. an exported older
// commit), so that two versions alternate in one run and their ratios are taken side by side.
//   npx tsx bench/gpu-step-counts.ts [--root DIR] [--sizes tiny-shape,steady] [--steps N] [--json FILE]
// Prints one JSON line per configuration (and writes them to --json).

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
  for (const name of names) {
    const z = SIZES[name];
    if (z === undefined) throw new Error(`--sizes: unknown '${name}', expected some of ${Object.keys(SIZES).join(', ')}`);
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
    const before = b.device.counters();
    for (let i = 0; i < steps; i++) await step();
    const after = b.device.counters();
    const per: Record<string, number> = {};
    for (const k of Object.keys(after)) per[k] = (after[k] - before[k]) / steps;
    times.sort((x, y) => x - y);
    const line = JSON.stringify({ root, config: name, steps, ...per, medianStepMs: Math.round(times[times.length >> 1]) });
    console.log(line);
    lines.push(line);
    hrm.disposeCarry(carry);
    await hrm.dispose();
    await b.close();
  }
  const out = flag('json');
  if (out !== undefined) writeFileSync(out, `${lines.join('\n')}\n`);
};

await main();
