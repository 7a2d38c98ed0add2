// A TRM training step beside an HRM step of equal width on one backend: the anchor configuration's
// HRM (H and L modules of `layers` blocks, H_cycles 2 × L_cycles 2, with the Q-target segment)
// against TRM with one network of the same `layers` blocks and TRM's Sudoku cycles (H_cycles 3 ×
// L_cycles 6, the last cycle back-propagated, no Q-target segment), with attention and with mlp_t
// blocks. Rounds interleave the three models so that a busy machine slows them alike; reported are
// the median wall time per step, the process CPU time per step, and the ratios to HRM.
// Usage: node --import tsx bench/trm-step.ts [configs=tiny] [backend=simd] [rounds=3] [reps=3] [out=bench/trm-step.json]

import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { createBackend } from '../src/backends/registry.ts';
import { ANCHORS, type AnchorName } from '../src/bench/anchors.ts';
import { benchSteps } from '../src/bench/steps.ts';
import { benchConfig, type BenchModel } from '../src/bench/workload.ts';
import { buildLayout, parameterCount } from '../src/model/layout.ts';

const configs = (process.argv[2] ?? 'tiny').split(',') as AnchorName[];
const backendName = process.argv[3] ?? 'simd';
const rounds = Number(process.argv[4] ?? 3);
const reps = Number(process.argv[5] ?? 3);
const out = process.argv[6] ?? 'bench/trm-step.json';
const MODELS: readonly BenchModel[] = ['hrm', 'trm-att', 'trm-mlp'];

const backend = await createBackend(backendName, {});
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const rows: { config: string; model: BenchModel; params: number; calls: string; medianMs: number; cpuMs: number; samples: number[] }[] = [];
const load0 = os.loadavg()[0];
for (const name of configs) {
  const z = ANCHORS[name].sizes;
  const samples = new Map<BenchModel, { wall: number[]; cpu: number[] }>(MODELS.map((m) => [m, { wall: [], cpu: [] }]));
  for (let r = 0; r < rounds; r++) {
    for (const model of MODELS) {
      const c0 = process.cpuUsage();
      const res = await benchSteps(backend, z, { trainGflop: 0, evalGflop: 0 }, { warmup: 1, reps, budgetMs: 120_000 }, null, 0, false, model);
      const c = process.cpuUsage(c0);
      const s = samples.get(model)!;
      s.wall.push(res.train.medianMs);
      s.cpu.push((c.user + c.system) / 1000 / (reps + 1));
    }
  }
  for (const model of MODELS) {
    const a = benchConfig(z, model).arch;
    const calls = model === 'hrm' ? `${a.H_cycles * a.L_cycles}+${a.H_cycles} module calls (+ the same again for the Q target), gradient through 2` : `${a.H_cycles * (a.L_cycles + 1)} network calls, gradient through ${a.L_cycles + 1}`;
    const s = samples.get(model)!;
    rows.push({ config: name, model, params: parameterCount(buildLayout(a)), calls, medianMs: median(s.wall), cpuMs: median(s.cpu), samples: s.wall });
  }
}
await backend.close?.();
const load1 = os.loadavg()[0];
writeFileSync(out, `${JSON.stringify({ backend: `${backend.name} (${backend.description})`, rounds, reps, loadavg: [load0, load1], rows }, null, 1)}\n`);
console.log(`| config | model | trainable params | per segment | step median (ms) | × HRM | CPU per step (ms) | × HRM |`);
console.log(`| --- | --- | --- | --- | --- | --- | --- | --- |`);
for (const r of rows) {
  const h = rows.find((x) => x.config === r.config && x.model === 'hrm')!;
  console.log(`| ${r.config} | ${r.model} | ${r.params.toLocaleString('en')} | ${r.calls} | ${r.medianMs.toFixed(0)} | ${(r.medianMs / h.medianMs).toFixed(2)} | ${r.cpuMs.toFixed(0)} | ${(r.cpuMs / h.cpuMs).toFixed(2)} |`);
}
console.log(`(${backend.name}: ${backend.description}; ${rounds} interleaved rounds × ${reps} steps after 1 warm-up; load average ${load0.toFixed(1)} → ${load1.toFixed(1)} on ${os.cpus().length} cores)`);
