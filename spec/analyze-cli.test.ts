// `hrm analyze` end to end on a tiny model trained here (4×4 Sudoku, H_cycles 2 × L_cycles 4):
// the command writes analysis.json and the plots and leaves the checkpoint untouched; the trained
// model shows the reset pattern (within an H-cycle the L residual falls, and right after an H
// update that moved z_H by more than L's remaining residual, the L residual jumps); and the numbers
// on every accelerated backend available here agree with the reference within float32 tolerance.

import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackend, type BackendOptions } from '../src/backends/registry.ts';
import { readSplit, type DatasetSplit } from '../src/data/format.ts';
import { generateSudokuDataset } from '../src/data/sudoku/build.ts';
import { assembleConfig, resolveConfigPath } from '../src/train/run-config.ts';
import { runSession } from '../src/train/session.ts';
import { loadModel, resolveCheckpoint } from '../src/train/load-model.ts';
import { analyzeModels, companionModels, type AnalysisResult, type ResidualStep } from '../src/analyze/analysis.ts';
import { puzzleBatches, spreadIndices } from '../src/analyze/batches.ts';
import { weightsDigest } from '../src/analyze/digest.ts';
import { decodeCheckpoint } from '../src/train/checkpoint.ts';
import { run as analyzeCommand } from '../src/cli/commands/analyze.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'hrm-analyze-'));
const dataDir = path.join(root, 'sudoku4');
const runDir = path.join(root, 'run');
let testSplit: DatasetSplit;
let checkpointFile: string;

// 256 puzzles, batch 16, 8 epochs = 128 steps on the SIMD engine (one thread): about 10 s.
beforeAll(async () => {
  await generateSudokuDataset({ out: dataDir, size: 4, trainSize: 256, testSize: 32, minRating: 0, numAug: 0, seed: 5, threads: 1 });
  const trainSplit = readSplit(dataDir, 'train');
  testSplit = readSplit(dataDir, 'test');
  const config = assembleConfig(resolveConfigPath('test-tiny'), trainSplit.metadata, [
    'train.epochs=8', 'train.eval_interval=8', 'train.global_batch_size=16', 'train.lr=3e-3', 'arch.L_cycles=4', 'arch.hidden_size=32',
  ]);
  const backend = await createBackend('simd', { threads: 1, log: () => {} });
  try {
    const r = await runSession({ config, dataDir, trainSplit, testSplit, backend, runDir, log: () => {} });
    expect(r.outcome.status).toBe('done');
  } finally {
    await backend.close?.();
  }
  checkpointFile = resolveCheckpoint(runDir);
}, 300_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const quietly = async <R>(f: () => Promise<R>): Promise<R> => {
  const [log, error] = [console.log, console.error];
  console.log = () => {};
  console.error = () => {};
  try {
    return await f();
  } finally {
    [console.log, console.error] = [log, error];
  }
};

describe('hrm analyze on a trained tiny model', () => {
  it('writes analysis.json and the three plots, and leaves the checkpoint unchanged', async () => {
    const before = sha256(checkpointFile);
    const out = path.join(root, 'analysis');
    const code = await quietly(() => analyzeCommand(['--checkpoint', runDir, '--backend', 'reference', '--bootstrap', '50', '--out', out, '--quiet']));
    expect(code).toBe(0);
    expect(sha256(checkpointFile)).toBe(before);
    for (const f of ['residuals.svg', 'trajectories.svg', 'pr-curve.svg']) expect(readFileSync(path.join(out, f), 'utf8')).toMatch(/^<svg/);
    const j = JSON.parse(readFileSync(path.join(out, 'analysis.json'), 'utf8'));
    const ckpt = decodeCheckpoint(new Uint8Array(readFileSync(checkpointFile)), checkpointFile);
    expect(j.weights_digest).toBe(weightsDigest(ckpt.state.parameters));
    expect(j.step).toBe(ckpt.progress.step);
    expect(j.puzzles).toBe(32);
    expect(j.config.arch.L_cycles).toBe(4);
    expect(j.frozen.L_cycles).toBe(8);
    expect(j.trained.residuals.length).toBe(4 * 2 * 5);
  }, 300_000);

  it('--act and --segments: puzzles stop where ACT halts', async () => {
    const out = path.join(root, 'analysis-act');
    const code = await quietly(() => analyzeCommand(['--checkpoint', checkpointFile, '--backend', 'reference', '--segments', '2', '--act', '--puzzles', '12', '--bootstrap', '20', '--out', out, '--quiet']));
    expect(code).toBe(0);
    const j = JSON.parse(readFileSync(path.join(out, 'analysis.json'), 'utf8')) as AnalysisResult;
    expect(j.mode).toBe('act');
    expect(j.segments).toBe(2);
    expect(j.puzzles).toBe(12);
    const counts = j.trained.residuals.map((s) => s.count);
    expect(counts[0]).toBe(12);
    const halted1 = 12 - counts.at(-1)!; // puzzles that stopped after segment 1
    expect(j.trained.act_segments).toBeCloseTo((halted1 * 1 + (12 - halted1) * 2) / 12, 12);
  }, 300_000);

  it('bad input is refused with the flag named', async () => {
    expect(await quietly(() => analyzeCommand(['--checkpoint', runDir, '--puzzles', '1']))).toBe(2);
    expect(await quietly(() => analyzeCommand(['--checkpoint', runDir, '--puzzles', '999']))).toBe(2);
    expect(await quietly(() => analyzeCommand(['--checkpoint', path.join(root, 'nope')]))).toBe(2);
    expect(await quietly(() => analyzeCommand(['--checkpoint', runDir, '--data', path.join(root, 'nope')]))).toBe(2);
    expect(existsSync(path.join(root, 'nope'))).toBe(false);
  });
});

/** The reset pattern on the residual curve of a model with H_cycles ≥ 2 (see the file comment). */
const resetPattern = (steps: readonly ResidualStep[]): { falls: number; jumps: number; notJumps: string[] } => {
  let falls = 0;
  let jumps = 0;
  const notJumps: string[] = [];
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i];
    if (s.module !== 'H') continue;
    // within the H-cycle that ends here
    const cycle = steps.filter((u) => u.segment === s.segment && u.module === 'L' && u.h === s.h);
    expect(cycle.at(-1)!.mean).toBeLessThan(cycle[0].mean);
    falls++;
    const before = steps[i - 1];
    const after = steps[i + 1];
    if (after === undefined || !(s.mean > 2 * before.mean)) continue;
    if (after.mean > before.mean) jumps++;
    else notJumps.push(`update ${after.index}: ${after.mean} after ${before.mean}`);
  }
  return { falls, jumps, notJumps };
};

const analyseOn = async (name: string, options: BackendOptions): Promise<AnalysisResult> => {
  const backend = await createBackend(name, { ...options, log: () => {} });
  const { hrm } = await loadModel(checkpointFile, backend);
  const { untrained, frozen } = await companionModels(hrm);
  try {
    const set = testSplit.sets.all!;
    const batches = puzzleBatches(set, testSplit.metadata, spreadIndices(set.numExamples, 32), 16);
    return await analyzeModels({ trained: hrm, untrained, frozen }, batches, { bootstrap: 40, seed: 2 });
  } finally {
    await Promise.all([hrm.dispose(), untrained.dispose(), frozen?.dispose()]);
    await backend.close?.();
  }
};

describe('the reset pattern and backend agreement', () => {
  let reference: AnalysisResult;
  beforeAll(async () => {
    reference = await analyseOn('reference', {});
  }, 300_000);

  it('trained: the L residual falls within each H-cycle and jumps after each H update that moved z_H', () => {
    const r = resetPattern(reference.trained.residuals);
    expect(r.falls).toBe(4 * 2);
    expect(r.notJumps).toEqual([]);
    expect(r.jumps).toBeGreaterThanOrEqual(2);
  });

  // float32 engines against the float64 reference: residuals are ratios of state differences, PR
  // and explained variance are ratios of sums; 1e-3 relative (plus 1e-5 absolute) covers float32
  // rounding through 4 segments of a D = 32 model
  const close = (got: number, want: number, what: string) => {
    if (!(Math.abs(got - want) <= 1e-5 + 1e-3 * Math.abs(want))) throw new Error(`${what}: ${got} vs reference ${want}`);
  };
  const compare = (got: AnalysisResult, want: AnalysisResult) => {
    for (const m of ['trained', 'untrained'] as const) {
      got[m].residuals.forEach((s, k) => {
        close(s.mean, want[m].residuals[k].mean, `${m} residual mean at update ${k + 1}`);
        close(s.p90, want[m].residuals[k].p90, `${m} residual p90 at update ${k + 1}`);
      });
      for (const kind of ['per_puzzle', 'per_token'] as const) {
        for (const z of ['z_H', 'z_L', 'ratio'] as const) {
          for (const f of ['value', 'lo', 'hi'] as const) close(got[m].pr[kind][z][f], want[m].pr[kind][z][f], `${m} PR ${kind} ${z} ${f}`);
        }
      }
    }
    got.frozen!.residuals.forEach((s, k) => close(s.mean, want.frozen!.residuals[k].mean, `H-frozen residual at update ${k + 1}`));
    for (const z of ['z_H', 'z_L'] as const) close(got.trained.trajectories[z].explained[0], want.trained.trajectories[z].explained[0], `${z} PC1 explained`);
  };

  for (const [name, options] of [['simd', { threads: 2 }], ['gpu', { gpuMode: 'webasm' }], ['gpu', { gpuMode: 'webgpu' }]] as const) {
    it(`${name} ${JSON.stringify(options)} agrees with the reference`, async (ctx) => {
      let got: AnalysisResult;
      try {
        got = await analyseOn(name, options as BackendOptions);
      } catch (e) {
        if (/unavailable|not available|no adapter|cannot/i.test((e as Error).message)) {
          console.warn(`${name}: skipped (${(e as Error).message})`);
          ctx.skip();
          return;
        }
        throw e;
      }
      compare(got, reference);
    }, 300_000);
  }
});
