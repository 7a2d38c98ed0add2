// Two versions of the CPU engine side by side in one process: the training step of another
// checkout's whole stack (`--old DIR`: its src/ engine and model, e.g. a `git worktree` of main)
// and this checkout's, on the same configuration and thread count, alternating turns of a few
// steps (old first in odd rounds, new first in even ones) so that drifting load on a shared machine
// falls on both. Per round it takes each side's median step; the ratio old/new (> 1: this checkout
// is faster) is the median over rounds. Also the process CPU time per step of each side (the median
// over rounds, and the median of the per-round ratios: what a loaded machine still lets one compare,
// at one thread), the load average and the process CPU per wall second over the run (≈ threads
// busy; lower means other work took the cores).
//   npx tsx bench/simd-ab.ts --old DIR [--configs tiny,small] [--threads 1,2] [--rounds 3] [--steps 3] [--json FILE]

import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AnchorName } from '../src/bench/anchors.ts';
import { ANCHORS, ANCHOR_NAMES } from '../src/bench/anchors.ts';
import { summarize } from '../src/bench/stats.ts';
import { benchBatch, benchConfig } from '../src/bench/workload.ts';
import { parseFlags } from '../src/cli/args.ts';

const { flags } = parseFlags('simd-ab', process.argv.slice(2), {
  old: { kind: 'string', help: 'the other checkout (its src/ engine and model are the "old" side)' },
  configs: { kind: 'string', help: `comma-separated anchor configurations (${ANCHOR_NAMES.join(', ')})` },
  threads: { kind: 'string', help: 'comma-separated thread counts (e.g. 1,2)' },
  rounds: { kind: 'int', help: 'alternating rounds (1..20)', min: 1, max: 20 },
  steps: { kind: 'int', help: 'timed steps per side and round (1..50)', min: 1, max: 50 },
  json: { kind: 'string', help: 'also write the results as JSON lines to this file' },
});
const flag = (name: string): string | undefined => (flags[name] === undefined ? undefined : String(flags[name]));
const oldRoot = flag('old');
if (oldRoot === undefined) throw new Error('simd-ab: --old DIR is required (a checkout of the version to compare against)');
const configs = (flag('configs') ?? 'tiny,small').split(',') as AnchorName[];
for (const c of configs) if (!ANCHOR_NAMES.includes(c)) throw new Error(`--configs: unknown '${c}', expected some of ${ANCHOR_NAMES.join(', ')}`);
const threadsList = (flag('threads') ?? '1').split(',').map(Number);
for (const t of threadsList) if (!(Number.isInteger(t) && t >= 1 && t <= 64)) throw new Error(`--threads: expected integers 1..64, got ${flag('threads')}`);
const rounds = Number(flag('rounds') ?? 3);
const steps = Number(flag('steps') ?? 3);

interface Side {
  readonly label: 'old' | 'new';
  readonly root: string;
  // the checkout's own modules (typed loosely: the two versions' types need not agree)
  readonly createSimdBackend: (o: { threads: number }) => Promise<{ close(): Promise<void> }>;
  readonly createHrm: (config: unknown, o: { backend: unknown; seed: number }) => Hrm;
}
interface Hrm {
  initialCarry(batch: number, seqLen: number): unknown;
  trainStep(carry: unknown, batch: unknown, rates: unknown, globalBatch: number): Promise<{ carry: unknown }>;
  disposeCarry(carry: unknown): void;
  dispose(): Promise<void>;
}

const load = async (label: 'old' | 'new', root: string): Promise<Side> => {
  const url = (p: string): string => pathToFileURL(resolve(root, p)).href;
  const { createSimdBackend } = await import(url('src/accelerated/simd/backend.ts'));
  const { createHrm } = await import(url('src/model/hrm.ts'));
  return { label, root, createSimdBackend, createHrm };
};

const sides = [await load('old', resolve(oldRoot)), await load('new', resolve(import.meta.dirname, '..'))];
const rates = { lr: 1e-4, puzzleEmbLr: 1e-2 };
const lines: string[] = [];
console.log(`old = ${sides[0].root}, new = ${sides[1].root}; ${rounds} rounds × ${steps} steps per side (after 2 warm-up steps each)\n`);
console.log('| config | threads | old median step | new median step | old/new per round | old/new (median) | CPU per step old / new, old/new | load avg start → end | CPU/wall |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const threads of threadsList) {
  const backends = await Promise.all(sides.map((s) => s.createSimdBackend({ threads })));
  for (const name of configs) {
    const z = ANCHORS[name].sizes;
    const batch = benchBatch(z);
    const runs = sides.map((s, i) => {
      const hrm = s.createHrm(benchConfig(z), { backend: backends[i], seed: 3 });
      return { hrm, carry: hrm.initialCarry(z.batchSize, batch.seqLen), times: [] as number[] };
    });
    /** n steps of side i: their wall times, and the process CPU per step over the turn */
    const turn = async (i: number, n: number, keep: boolean): Promise<{ wall: number[]; cpuMs: number }> => {
      const r = runs[i];
      const t: number[] = [];
      const c0 = process.cpuUsage();
      for (let k = 0; k < n; k++) {
        const t0 = performance.now();
        r.carry = (await r.hrm.trainStep(r.carry, batch, rates, z.batchSize)).carry;
        t.push(performance.now() - t0);
      }
      const c = process.cpuUsage(c0);
      if (keep) r.times.push(...t);
      return { wall: t, cpuMs: (c.user + c.system) / 1000 / n };
    };
    for (const i of [0, 1]) await turn(i, 2, false);
    const load0 = os.loadavg()[0];
    const c0 = process.cpuUsage();
    const w0 = performance.now();
    const perRound: { old: number; new: number; oldCpu: number; newCpu: number }[] = [];
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? [0, 1] : [1, 0];
      const med: number[] = [];
      const cpu: number[] = [];
      for (const i of order) {
        const r = await turn(i, steps, true);
        med[i] = summarize(r.wall).medianMs;
        cpu[i] = r.cpuMs;
      }
      perRound.push({ old: med[0], new: med[1], oldCpu: cpu[0], newCpu: cpu[1] });
    }
    const c = process.cpuUsage(c0);
    const cpuPerWall = (c.user + c.system) / 1000 / (performance.now() - w0);
    const load1 = os.loadavg()[0];
    const ratios = perRound.map((r) => r.old / r.new);
    const ratio = summarize(ratios).medianMs;
    const cpuRatio = summarize(perRound.map((r) => r.oldCpu / r.newCpu)).medianMs;
    const [o, n] = runs.map((r) => summarize(r.times).medianMs);
    const [oc, nc] = [summarize(perRound.map((r) => r.oldCpu)).medianMs, summarize(perRound.map((r) => r.newCpu)).medianMs];
    console.log(
      `| ${name} | ${threads} | ${o.toFixed(1)} ms | ${n.toFixed(1)} ms | ${ratios.map((x) => `×${x.toFixed(2)}`).join(' ')} | **×${ratio.toFixed(2)}** | ` +
        `${oc.toFixed(0)} / ${nc.toFixed(0)} ms, **×${cpuRatio.toFixed(2)}** | ${load0.toFixed(2)} → ${load1.toFixed(2)} | ${cpuPerWall.toFixed(2)} |`,
    );
    lines.push(JSON.stringify({ config: name, threads, rounds: perRound, oldMedianMs: o, newMedianMs: n, ratio, oldCpuMs: oc, newCpuMs: nc, cpuRatio, load: [load0, load1], cpuPerWall }));
    for (const r of runs) {
      r.hrm.disposeCarry(r.carry);
      await r.hrm.dispose();
    }
  }
  await Promise.all(backends.map((b) => b.close()));
}
const out = flag('json');
if (out !== undefined) writeFileSync(out, `${lines.join('\n')}\n`);
