// TRM through the command line: `hrm train` with a TRM config (arch.name 'trm', mlp_t, EMA) trains,
// evaluates the EMA copy, and saves the EMA shadow in its checkpoints; `hrm eval` and `hrm solve`
// load such a checkpoint; the TRM paper's presets decode with the paper's parameter counts; TRM's
// own PyTorch checkpoint (model.inner.* keys) loads into the TRM layout with the same values as
// the safetensors copy.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateSudokuDataset } from '../src/data/sudoku/build.ts';
import * as trainCmd from '../src/cli/commands/train.ts';
import * as evalCmd from '../src/cli/commands/eval.ts';
import * as solveCmd from '../src/cli/commands/solve.ts';
import { readRecords } from '../src/train/metrics-log.ts';
import { decodeCheckpoint } from '../src/train/checkpoint.ts';
import { resolveCheckpoint } from '../src/train/load-model.ts';
import { parseConfigText } from '../src/model/config.ts';
import { buildLayout, parameterCount } from '../src/model/layout.ts';
import { readWeights } from '../src/verify/parity/trace.ts';
import { readTrmTraceCase } from '../src/verify/parity/trm-trace.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'hrm-trm-cli-'));
const data = path.join(root, 'd4');
const ROOT = path.join(import.meta.dirname, '..');

beforeAll(async () => {
  await generateSudokuDataset({ out: data, size: 4, trainSize: 24, testSize: 4, minRating: 0, numAug: 0, seed: 2, threads: 1 });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const capture = async (cmd: { run(argv: readonly string[]): Promise<number> }, argv: string[]): Promise<{ code: number; text: string }> => {
  const lines: string[] = [];
  const err = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
  try {
    return { code: await cmd.run(argv), text: lines.join('\n') };
  } finally {
    err.mockRestore();
    log.mockRestore();
  }
};

const tinyTrm = {
  description: 'tiny TRM for the CLI test',
  arch: {
    name: 'trm', seq_len: 16, vocab_size: 6, num_puzzle_identifiers: 1, puzzle_emb_ndim: 16, puzzle_emb_len: 2,
    H_cycles: 2, L_cycles: 2, H_layers: 0, L_layers: 1, hidden_size: 16, expansion: 2, num_heads: 2,
    pos_encodings: 'none', mlp_t: true, no_ACT_continue: true, halt_max_steps: 2, halt_exploration_prob: 0.1,
  },
  train: { global_batch_size: 8, epochs: 2, eval_interval: 1, lr: 1e-3, lr_warmup_steps: 2, ema: true, ema_rate: 0.9 },
};

describe('hrm train / eval / solve with TRM', () => {
  it('trains, evaluates the EMA copy, and the checkpoint holds the EMA shadow', async () => {
    const cfg = path.join(root, 'trm.json');
    writeFileSync(cfg, JSON.stringify(tinyTrm));
    const run = path.join(root, 'run');
    const t = await capture(trainCmd, ['--config', cfg, '--data', data, '--backend', 'simd', '--threads', '1', '--out', run, '--quiet']);
    expect(t.code, t.text).toBe(0);
    const records = readRecords(path.join(run, 'metrics.jsonl'));
    expect(records.filter((r) => r.kind === 'train').length).toBe(6); // 24 puzzles / 8 × 2 epochs
    expect(records.filter((r) => r.kind === 'eval').length).toBe(2);
    const file = resolveCheckpoint(run);
    const ck = decodeCheckpoint(new Uint8Array(readFileSync(file)), file);
    expect(ck.config.arch.name).toBe('trm');
    const names = buildLayout(ck.config.arch).filter((e) => e.kind === 'parameter').map((e) => e.name);
    expect(names).toContain('L_level.layers.0.mlp_t.gate_up_proj.weight');
    expect([...(ck.state.ema?.keys() ?? [])].sort()).toEqual([...names].sort());
    // the shadow lags the live weights: it is neither the initial nor the final value
    const live = ck.state.parameters.get('lm_head.weight')!.data;
    const shadow = ck.state.ema!.get('lm_head.weight')!.data;
    expect(live.some((v, i) => v !== shadow[i])).toBe(true);

    const e = await capture(evalCmd, ['--checkpoint', run, '--backend', 'reference']);
    expect(e.code, e.text).toBe(0);
    expect(e.text).toMatch(/exact/);
    const s = await capture(solveCmd, ['--checkpoint', run, '--puzzle', '1.3..2...4.....1', '--trace', '--backend', 'reference']);
    expect(s.code, s.text).toBe(0);
    expect(s.text).toMatch(/segment 1: q_halt/);
  }, 300_000);
});

describe('TRM presets and checkpoints', () => {
  const preset = (n: string) => parseConfigText(readFileSync(path.join(ROOT, 'configs', `${n}.json`), 'utf8'), `${n}.json`);
  it("the paper's runs decode with TRM's sizes: ≈5.0M (mlp_t) and ≈6.8M (attention) trainable parameters", () => {
    const mlp = preset('trm-sudoku-extreme-1k-mlp');
    expect(mlp.arch).toMatchObject({ name: 'trm', mlp_t: true, pos_encodings: 'none', L_layers: 2, H_cycles: 3, L_cycles: 6, puzzle_emb_len: 16, no_ACT_continue: true });
    expect(mlp.train).toMatchObject({ ema: true, ema_rate: 0.999, lr: 1e-4, weight_decay: 1.0 });
    // 2 blocks: mlp_t over S = 81 + 16 (I_t 512) and the channel SwiGLU (I 1536), plus embeddings and heads
    expect(parameterCount(buildLayout(mlp.arch))).toBe(5_028_866);
    for (const n of ['trm-sudoku-extreme-1k-att', 'trm-maze-30x30-hard-1k', 'trm-arc-1', 'trm-arc-2']) {
      const c = preset(n);
      expect(c.arch).toMatchObject({ name: 'trm', mlp_t: false, pos_encodings: 'rope', L_layers: 2, H_cycles: 3 });
      expect(parameterCount(buildLayout(c.arch))).toBeGreaterThan(6_800_000);
      expect(parameterCount(buildLayout(c.arch))).toBeLessThan(6_850_000);
    }
  });
  it("TRM's PyTorch checkpoint (model.inner.* keys) loads with the values of weights.safetensors", () => {
    for (const c of ['trm-sudoku-mlp', 'trm-arc-att']) {
      const dir = path.join(ROOT, 'fixtures', 'official-parity-trm', c);
      const { config, weights } = readTrmTraceCase(dir);
      const fromTorch = readWeights(path.join(dir, 'checkpoint'), config);
      expect([...fromTorch.keys()]).toEqual([...weights.keys()]);
      for (const [k, v] of weights) expect(Array.from(fromTorch.get(k)!.data)).toEqual(Array.from(v.data));
    }
  });
});
