// The TRM paper's presets (configs/trm-*) train and evaluate from the command line: each one, by
// name, with its sizes reduced through overrides (width, depth, cycles, segments, batch) and the rest
// kept (TRM's model, token mixer, positions, puzzle slots, halting, EMA, learning rates), runs
// `hrm train` for a few steps on a small dataset of its task (4×4 Sudoku; generated 5×5 mazes; the
// committed ARC tasks) and `hrm eval` on the checkpoint it saved. Seconds, not the paper's days.

import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capture } from './support/capture.ts';
import { generateSudokuDataset } from '../src/data/sudoku/build.ts';
import { generateMazeDataset } from '../src/data/maze/build.ts';
import { buildArcDataset } from '../src/data/arc/build.ts';
import { readMetadata, readSplit } from '../src/data/format.ts';
import { parseConfigText } from '../src/model/config.ts';
import { decodeCheckpoint } from '../src/train/checkpoint.ts';
import { resolveCheckpoint } from '../src/train/load-model.ts';
import { readRecords } from '../src/train/metrics-log.ts';
import * as trainCmd from '../src/cli/commands/train.ts';
import * as evalCmd from '../src/cli/commands/eval.ts';

const ROOT = path.join(import.meta.dirname, '..');
const root = mkdtempSync(path.join(os.tmpdir(), 'hrm-trm-presets-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const data = { sudoku: path.join(root, 'sudoku4'), maze: path.join(root, 'maze5'), arc: path.join(root, 'arc') };
beforeAll(async () => {
  await generateSudokuDataset({ out: data.sudoku, size: 4, trainSize: 16, testSize: 4, minRating: 0, numAug: 0, seed: 3, threads: 1 });
  generateMazeDataset({ out: data.maze, n: 5, trainSize: 8, testSize: 4, minPathLength: 2, aug: false, seed: 3 });
  buildArcDataset({ inputs: [path.join(ROOT, 'fixtures/arc/arc-agi-1/data')], out: data.arc, numAug: 0, seed: 3 });
});

const PRESETS = [
  ['trm-sudoku-extreme-1k-mlp', 'sudoku'],
  ['trm-sudoku-extreme-1k-att', 'sudoku'],
  ['trm-maze-30x30-hard-1k', 'maze'],
  ['trm-arc-1', 'arc'],
  ['trm-arc-2', 'arc'],
] as const;

/** Smaller network and fewer cycles and segments; everything else is the preset's. */
const REDUCED = [
  '--arch.hidden_size=16', '--arch.num_heads=2', '--arch.expansion=1', '--arch.puzzle_emb_ndim=16', '--arch.L_layers=1',
  '--arch.H_cycles=2', '--arch.L_cycles=2', '--arch.halt_max_steps=2', '--train.global_batch_size=4', '--train.epochs=1',
  '--train.eval_interval=1', '--train.lr_warmup_steps=1',
];

it('every configs/trm-* preset is exercised here', () => {
  const presets = readdirSync(path.join(ROOT, 'configs')).filter((f) => f.startsWith('trm-')).map((f) => f.replace(/\.json$/, ''));
  expect(presets.sort()).toEqual(PRESETS.map(([p]) => p).sort());
});

describe('the TRM presets train and evaluate from the CLI', () => {
  for (const [preset, task] of PRESETS) {
    it(`${preset} on ${task}: hrm train (2 steps) then hrm eval of its checkpoint`, async () => {
      const own = parseConfigText(readFileSync(path.join(ROOT, 'configs', `${preset}.json`), 'utf8'), `${preset}.json`);
      const run = path.join(root, preset);
      const t = await capture(trainCmd, ['--config', preset, '--data', data[task], '--backend', 'simd', '--threads', '1', '--out', run, '--stop-after', '2', '--quiet', ...REDUCED]);
      expect(t.code, t.text).toBe(0);
      const train = readRecords(path.join(run, 'metrics.jsonl')).filter((r) => r.kind === 'train') as Array<{ step: number; loss: number }>;
      expect(train.map((r) => r.step)).toEqual([1, 2]);
      for (const r of train) expect(Number.isFinite(r.loss)).toBe(true);

      const file = resolveCheckpoint(run);
      const ck = decodeCheckpoint(new Uint8Array(readFileSync(file)), file);
      expect(ck.progress.step).toBe(2);
      const m = readMetadata(data[task], 'train');
      // the overrides and the dataset's sizes, and otherwise the preset's own model and training
      expect(ck.config.arch).toEqual({
        ...own.arch, hidden_size: 16, num_heads: 2, expansion: 1, puzzle_emb_ndim: 16, L_layers: 1, H_cycles: 2, L_cycles: 2, halt_max_steps: 2,
        seq_len: m.seq_len, vocab_size: m.vocab_size, num_puzzle_identifiers: m.num_puzzle_identifiers, batch_size: 4,
      });
      expect(ck.config.train).toEqual({ ...own.train, global_batch_size: 4, epochs: 1, eval_interval: 1, lr_warmup_steps: 1 });
      expect(ck.state.ema?.size).toBeGreaterThan(0); // TRM's EMA, saved with the checkpoint

      const out = path.join(root, `${preset}-eval`);
      const e = await capture(evalCmd, ['--checkpoint', run, '--data', data[task], '--backend', 'simd', '--threads', '1', '--out', out]);
      expect(e.code, e.text).toBe(0);
      const level = (JSON.parse(readFileSync(path.join(out, 'eval.json'), 'utf8')) as { levels: Array<{ count: number; steps: number; accuracy: number }> }).levels[0];
      expect(level.count).toBe(readSplit(data[task], 'test').sets.all.numExamples); // every test puzzle, each with labels
      expect(level.steps).toBe(2);
      if (task === 'arc') expect(e.text).toMatch(/ARC @ halt_max_steps 2: \d+ tasks; pass@1/); // the voting over augmentations
      expect(level.accuracy).toBeGreaterThanOrEqual(0);
    }, 120_000);
  }
});
