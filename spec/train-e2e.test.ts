// End to end: a tiny Sudoku dataset, a tiny HRM trained for a few dozen steps on every backend the
// registry offers here (unavailable ones are skipped with the reason printed), interrupted
// mid-iteration with a checkpoint and resumed, then evaluated from the checkpoint file. Asserts
// the loss falls, the resumed run reproduces the uninterrupted one (exactly on the reference),
// metrics.jsonl holds every step once, and `hrm eval` on the checkpoint reproduces the run's eval.

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackend } from '../src/backends/registry.ts';
import type { Backend } from '../src/core/backend.ts';
import { readSplit, type DatasetSplit } from '../src/data/format.ts';
import { generateSudokuDataset } from '../src/data/sudoku/build.ts';
import { assembleConfig, resolveConfigPath } from '../src/train/run-config.ts';
import { runSession, type SessionResult } from '../src/train/session.ts';
import { loadModel, resolveCheckpoint } from '../src/train/load-model.ts';
import { evaluate } from '../src/train/evaluate.ts';
import { testData } from '../src/train/data-source.ts';
import { readRecords } from '../src/train/metrics-log.ts';
import type { HrmConfig } from '../src/model/config.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'hrm-train-e2e-'));
const dataDir = path.join(root, 'sudoku4');
let trainSplit: DatasetSplit;
let testSplit: DatasetSplit;
let config: HrmConfig;

// 48 training puzzles, batch 8: 6 steps per epoch, 4 epochs = 24 steps, evaluations at 12 and 24.
const STOP_AT = 9; // mid-way through the first iteration

beforeAll(async () => {
  await generateSudokuDataset({ out: dataDir, size: 4, trainSize: 48, testSize: 8, minRating: 0, numAug: 0, seed: 5, threads: 1 });
  trainSplit = readSplit(dataDir, 'train');
  testSplit = readSplit(dataDir, 'test');
  config = assembleConfig(resolveConfigPath('test-tiny'), trainSplit.metadata, [
    'train.epochs=4',
    'train.eval_interval=2',
    'train.global_batch_size=8',
    'train.lr=3e-3',
    'train.lr_warmup_steps=4',
    'train.seed=7',
    'arch.halt_exploration_prob=0.3',
  ]);
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

const candidates: Array<{ name: string; options?: Record<string, unknown> }> = [
  { name: 'reference' },
  { name: 'simd', options: { threads: 1 } },
  { name: 'gpu', options: { gpuMode: 'webasm' } },
];
const available: Array<{ id: string; backend?: Backend<unknown>; reason?: string }> = [];
for (const c of candidates) {
  const id = c.options ? `${c.name} ${JSON.stringify(c.options)}` : c.name;
  try {
    available.push({ id, backend: await createBackend(c.name, { ...c.options, log: () => {} }) });
  } catch (e) {
    available.push({ id, reason: (e as Error).message });
    console.warn(`train-e2e: skipping backend ${id}: ${(e as Error).message}`);
  }
}
afterAll(async () => {
  for (const a of available) await a.backend?.close?.();
});

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

describe.each(available)('training end to end on $id', ({ id, backend, reason }) => {
  it.skipIf(backend === undefined)(`trains, resumes exactly and evaluates${reason ? ` (skipped: ${reason})` : ''}`, async () => {
    const b = backend as Backend<unknown>;
    const base = { config, dataDir, trainSplit, testSplit, backend: b, log: () => {} };
    const runA = path.join(root, `${id.replace(/\W+/g, '_')}-A`);
    const runB = path.join(root, `${id.replace(/\W+/g, '_')}-B`);

    const a: SessionResult = await runSession({ ...base, runDir: runA });
    expect(a.outcome.status).toBe('done');
    expect(a.totalSteps).toBe(24);
    expect(a.losses).toHaveLength(24);
    // the loss falls
    expect(mean(a.losses.slice(-5))).toBeLessThan(0.9 * mean(a.losses.slice(0, 5)));

    // interrupted after STOP_AT steps (a checkpoint every 5 steps as well), then resumed
    const b1 = await runSession({ ...base, runDir: runB, stopAfterSteps: STOP_AT, checkpointEvery: 5 });
    expect(b1.outcome).toMatchObject({ status: 'interrupted', step: STOP_AT });
    const b2 = await runSession({ ...base, runDir: runB, resume: true });
    expect(b2.outcome.status).toBe('done');
    const resumed = [...b1.losses, ...b2.losses];
    expect(resumed).toHaveLength(24);
    if (b.dtype === 'float64') {
      expect(resumed).toEqual(a.losses); // bit for bit
    } else {
      for (let i = 0; i < 24; i++) expect(Math.abs(resumed[i] - a.losses[i])).toBeLessThanOrEqual(1e-4 * Math.abs(a.losses[i]));
    }

    // metrics.jsonl: every step exactly once, evaluations at the end of each iteration
    const records = readRecords(path.join(runB, 'metrics.jsonl'));
    expect(records.filter((r) => r.kind === 'train').map((r) => r.step)).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
    const evals = records.filter((r) => r.kind === 'eval');
    expect(evals.map((r) => r.step)).toEqual([12, 24]);
    expect(existsSync(path.join(runB, 'curves.svg'))).toBe(true);
    expect(readFileSync(path.join(runB, 'curves.svg'), 'utf8')).toContain('<svg');

    // evaluating the final checkpoint reproduces the run's last evaluation
    const file = resolveCheckpoint(runB);
    expect(path.basename(file)).toBe('step_0000024.safetensors');
    const { hrm } = await loadModel(file, b);
    try {
      const { summary } = await evaluate(hrm, testData(testSplit, 8), { haltMaxSteps: config.arch.halt_max_steps });
      const last = evals[evals.length - 1];
      expect(summary.count).toBe(8);
      expect(summary.exact_accuracy).toBeCloseTo(last.exact_accuracy, 12);
      expect(summary.accuracy).toBeCloseTo(last.accuracy, b.dtype === 'float64' ? 12 : 5);
      expect(summary.lm_loss).toBeCloseTo(last.lm_loss, b.dtype === 'float64' ? 9 : 4);
    } finally {
      await hrm.dispose();
    }
  });
});
