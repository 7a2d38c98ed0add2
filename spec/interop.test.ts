// Checkpoints of the original implementation in every command: the torch-written parity fixtures
// (`checkpoint`, with the config beside it or an all_config.yaml) give the same numbers in
// `hrm eval`, `hrm solve` and `hrm train --init-from` as the same weights from
// `weights.safetensors`; `hrm export` writes what loads back bit-exactly.

import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { capture } from './support/capture.ts';
import { writeSplit, type DatasetMetadata } from '../src/data/format.ts';
import { configFromFixture } from '../src/model/config.ts';
import { allConfigYaml, configFromAllConfigYaml } from '../src/model/original-config.ts';
import { loadWeights } from '../src/train/load-model.ts';
import { readRecords } from '../src/train/metrics-log.ts';
import * as evalCmd from '../src/cli/commands/eval.ts';
import * as solveCmd from '../src/cli/commands/solve.ts';
import * as trainCmd from '../src/cli/commands/train.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/official-parity/', import.meta.url));
const root = mkdtempSync(path.join(os.tmpdir(), 'hrm-interop-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A dataset of `n` random puzzles of the fixture's sizes (one example per puzzle, one puzzle per group). */
const syntheticDataset = (dir: string, fixture: string, n: number, seed: number): void => {
  const cfg = JSON.parse(readFileSync(path.join(FIXTURES, fixture, 'config.json'), 'utf8'));
  const { seq_len: T, vocab_size: V, num_puzzle_identifiers: K } = cfg.arch as Record<string, number>;
  let s = seed;
  const rnd = (m: number): number => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s % m;
  };
  for (const split of ['train', 'test'] as const) {
    const inputs = Uint8Array.from({ length: n * T }, () => 1 + rnd(V - 1));
    const labels = Uint8Array.from({ length: n * T }, () => 1 + rnd(V - 1));
    const ids = Int32Array.from({ length: n }, () => rnd(K));
    const meta: DatasetMetadata = {
      pad_id: 0, ignore_label_id: 0, blank_identifier_id: 0, vocab_size: V, seq_len: T, num_puzzle_identifiers: K,
      total_groups: n, mean_puzzle_examples: 1, sets: ['all'],
    };
    writeSplit(dir, split, meta, {
      all: {
        inputs, labels, puzzleIdentifiers: ids,
        puzzleIndices: Int32Array.from({ length: n + 1 }, (_, i) => i),
        groupIndices: Int32Array.from({ length: n + 1 }, (_, i) => i),
        numExamples: n, seqLen: T,
      },
    });
  }
};

const evalNumbers = (dir: string): unknown => (JSON.parse(readFileSync(path.join(dir, 'eval.json'), 'utf8')) as { levels: unknown[] }).levels.map((l) => ({ ...(l as object), seconds: 0 }));

for (const fixture of ['sudoku-rope', 'arc-learned']) {
  describe(`the torch-written ${fixture}/checkpoint in every command`, () => {
    const dir = path.join(FIXTURES, fixture);
    const data = path.join(root, `${fixture}-data`);
    const original = path.join(root, `${fixture}-original`); // an original run folder: all_config.yaml + step_5
    beforeAll(() => {
      syntheticDataset(data, fixture, 6, fixture.length);
      mkdirSync(original, { recursive: true });
      copyFileSync(path.join(dir, 'checkpoint'), path.join(original, 'step_5'));
      const config = configFromFixture(JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')), 'config.json');
      writeFileSync(path.join(original, 'all_config.yaml'), allConfigYaml(config, 'float32', data));
    });

    it('loads with the config beside it: every tensor equals weights.safetensors', () => {
      const torch = loadWeights(path.join(dir, 'checkpoint'));
      const st = loadWeights(path.join(dir, 'weights.safetensors'), { config: path.join(dir, 'config.json') });
      expect(torch.source).toBe('torch');
      expect(st.source).toBe('safetensors');
      expect(torch.notes.join('\n')).toMatch(/keys saved under 'model\.inner\.'/);
      expect([...torch.checkpoint.state.parameters.keys()]).toEqual([...st.checkpoint.state.parameters.keys()]);
      for (const [k, t] of torch.checkpoint.state.parameters) expect(t.data, k).toEqual(st.checkpoint.state.parameters.get(k)!.data);
      expect(torch.checkpoint.config).toEqual(st.checkpoint.config);
    });

    it('hrm eval gives the same numbers from checkpoint, from an original run folder and from weights.safetensors', async () => {
      const outs = ['torch', 'folder', 'st'].map((n) => path.join(root, `${fixture}-eval-${n}`));
      const common = ['--data', data, '--backend', 'reference', '--halt-max-steps', '2'];
      const a = await capture(evalCmd, ['--checkpoint', path.join(dir, 'checkpoint'), '--out', outs[0], ...common]);
      expect(a.code, a.text).toBe(0);
      const b = await capture(evalCmd, ['--checkpoint', original, '--out', outs[1], ...common]);
      expect(b.code, b.text).toBe(0);
      expect(b.text).toMatch(/step_5 \(step 5\)/);
      const c = await capture(evalCmd, ['--checkpoint', path.join(dir, 'weights.safetensors'), '--config', path.join(dir, 'config.json'), '--out', outs[2], ...common]);
      expect(c.code, c.text).toBe(0);
      expect(evalNumbers(outs[0])).toEqual(evalNumbers(outs[2]));
      expect(evalNumbers(outs[1])).toEqual(evalNumbers(outs[2]));
    });

    it('hrm train --init-from gives the same losses from checkpoint and from weights.safetensors', async () => {
      const runs = ['torch', 'st'].map((n) => path.join(root, `${fixture}-run-${n}`));
      const common = ['--data', data, '--backend', 'reference', '--stop-after', '2', '--quiet', '--epochs=2'];
      const a = await capture(trainCmd, ['--init-from', path.join(dir, 'checkpoint'), '--out', runs[0], ...common]);
      expect(a.code, a.text).toBe(0);
      expect(JSON.parse(readFileSync(path.join(runs[0], 'config.json'), 'utf8')).initFrom).toBe(path.resolve(dir, 'checkpoint'));
      const b = await capture(trainCmd, ['--init-from', path.join(dir, 'weights.safetensors'), '--init-config', path.join(dir, 'config.json'), '--out', runs[1], ...common]);
      expect(b.code, b.text).toBe(0);
      const losses = (run: string) => readRecords(path.join(run, 'metrics.jsonl')).filter((r) => r.kind === 'train').map((r) => (r as { loss: number }).loss);
      expect(losses(runs[0]).length).toBe(2);
      expect(losses(runs[0])).toEqual(losses(runs[1]));
    });
  });
}

describe('hrm solve on the original run folder', () => {
  it('prints the same solution as from weights.safetensors', async () => {
    const dir = path.join(FIXTURES, 'sudoku-rope');
    const puzzle = '53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79';
    const a = await capture(solveCmd, ['--checkpoint', path.join(dir, 'checkpoint'), '--puzzle', puzzle, '--backend', 'reference']);
    const b = await capture(solveCmd, ['--checkpoint', path.join(dir, 'weights.safetensors'), '--config', path.join(dir, 'config.json'), '--puzzle', puzzle, '--backend', 'reference']);
    expect(a.code, a.text).toBe(0);
    expect(b.code, b.text).toBe(0);
    const solution = (t: string) => t.slice(t.indexOf('solution after'));
    expect(solution(a.text)).toEqual(solution(b.text));
  });
});

describe("the original's all_config.yaml", () => {
  const yaml = [
    'arch:',
    '  H_cycles: 2',
    '  H_layers: 4',
    '  L_cycles: 2',
    '  L_layers: 4',
    '  expansion: 4',
    '  halt_exploration_prob: 0.1',
    '  halt_max_steps: 16',
    '  hidden_size: 512',
    '  loss:',
    '    loss_type: stablemax_cross_entropy',
    '    name: losses@ACTLossHead',
    '  name: hrm.hrm_act_v1@HierarchicalReasoningModel_ACTV1',
    '  num_heads: 8',
    '  pos_encodings: rope',
    '  puzzle_emb_ndim: 512',
    'beta1: 0.9',
    'beta2: 0.95',
    'checkpoint_every_eval: true',
    'checkpoint_path: checkpoints/Sudoku-extreme-1k-aug-1000 ACT-torch/HierarchicalReasoningModel_ACTV1 loose-caracara',
    'data_path: data/sudoku-extreme-1k-aug-1000',
    'epochs: 20000',
    'eval_interval: 2000',
    'eval_save_outputs: []',
    'global_batch_size: 768',
    'lr: 7.0e-05',
    'lr_min_ratio: 1.0',
    'lr_warmup_steps: 2000',
    'project_name: Sudoku-extreme-1k-aug-1000 ACT-torch',
    'puzzle_emb_lr: 7.0e-05',
    'puzzle_emb_weight_decay: 1.0',
    'run_name: HierarchicalReasoningModel_ACTV1 loose-caracara',
    'seed: 0',
    'weight_decay: 1.0',
    '',
  ].join('\n');
  const sizes = { seq_len: 81, vocab_size: 11, num_puzzle_identifiers: 1 };

  it('maps to the config codec, with the original defaults (bfloat16 forward) and the dataset sizes', () => {
    const { config, notes } = configFromAllConfigYaml(yaml, 'all_config.yaml', sizes);
    expect(config.arch).toMatchObject({ hidden_size: 512, num_heads: 8, expansion: 4, puzzle_emb_ndim: 512, seq_len: 81, vocab_size: 11, forward_dtype: 'bfloat16', loss_type: 'stablemax_cross_entropy' });
    expect(config.train).toMatchObject({ lr: 7e-5, epochs: 20000, eval_interval: 2000, global_batch_size: 768, weight_decay: 1, puzzle_emb_lr: 7e-5, data_path: 'data/sudoku-extreme-1k-aug-1000' });
    expect(notes.join('\n')).toMatch(/forward_dtype bfloat16/);
  });
  it('round-trips through the writer', () => {
    const { config } = configFromAllConfigYaml(yaml, 'all_config.yaml', sizes);
    const again = configFromAllConfigYaml(allConfigYaml(config, 'bfloat16', 'data/sudoku-extreme-1k-aug-1000'), 'exported.yaml', sizes).config;
    expect(again.arch).toEqual(config.arch);
    expect(again.train).toEqual(config.train);
  });
  it('refuses an HRM with mlp_t blocks (the original HRM has attention blocks only)', () => {
    const { config } = configFromAllConfigYaml(yaml, 'all_config.yaml', sizes);
    const mlp = { ...config, arch: { ...config.arch, mlp_t: true, pos_encodings: 'none' as const } };
    expect(() => allConfigYaml(mlp, 'bfloat16', '')).toThrow(/arch\.mlp_t: the original HRM's blocks are attention blocks/);
  });
  it('names unknown fields, a missing size and a model that is neither HRM nor TRM', () => {
    expect(() => configFromAllConfigYaml(yaml.replace('seed: 0', 'seed: 0\nmystery: 3'), 'a.yaml', sizes)).toThrow(/a\.yaml: field 'mystery': not a field of the original's run config/);
    expect(() => configFromAllConfigYaml(yaml.replace('  num_heads: 8', '  num_heads: 8\n  mlp_t: true'), 'b.yaml', sizes)).toThrow(/b\.yaml: field 'arch\.mlp_t': not a field of the original HRM config/);
    expect(() => configFromAllConfigYaml(yaml, 'c.yaml', { vocab_size: 11, num_puzzle_identifiers: 1 })).toThrow(/c\.yaml: seq_len is not recorded .*--data/);
    expect(() => configFromAllConfigYaml(yaml.replace('hrm.hrm_act_v1@HierarchicalReasoningModel_ACTV1', 'recursive_reasoning.transformers_baseline@Model_ACTV2'), 'd.yaml', sizes)).toThrow(/d\.yaml: field 'arch\.name': .* is neither HRM nor TRM/);
    expect(() => configFromAllConfigYaml(yaml.replace('hidden_size: 512', 'hidden_size: -1'), 'e.yaml', sizes)).toThrow(/e\.yaml: field 'arch\.hidden_size'/);
    expect(() => configFromAllConfigYaml('a: [1, 2', 'f.yaml', sizes)).toThrow(/f\.yaml: not valid YAML/);
  });
});

describe('hrm export', () => {
  const exportCmd = () => import('../src/cli/commands/export.ts');

  it('re-exports the torch-written fixture byte for byte (prefix plain, float32)', async () => {
    const dir = path.join(FIXTURES, 'sudoku-rope');
    const out = path.join(root, 'reexport');
    const r = await capture(await exportCmd(), [path.join(dir, 'checkpoint'), '--format', 'torch', '--prefix', 'plain', '--dtype', 'float32', '--out', out]);
    expect(r.code, r.text).toBe(0);
    expect(Buffer.from(readFileSync(path.join(out, 'checkpoint'))).equals(readFileSync(path.join(dir, 'checkpoint')))).toBe(true);
  });

  it("the demo model's export loads back bit-exactly (torch and safetensors; float32, and bf16 H_init/L_init)", async () => {
    const { createHrm } = await import('../src/model/hrm.ts');
    const { createBackend } = await import('../src/backends/registry.ts');
    const { encodeCheckpoint } = await import('../src/train/checkpoint.ts');
    const { demoConfig } = await import('../src/cli/demo.ts');
    const config = demoConfig(81, 11);
    const backend = await createBackend('reference', {});
    const hrm = createHrm(config, { backend, seed: 3 });
    const state = await hrm.saveState();
    await hrm.dispose();
    const run = path.join(root, 'demo-run');
    mkdirSync(run, { recursive: true });
    const file = path.join(run, 'step_0000001.safetensors');
    // a checkpoint's optimizer_step and progress step advance together (the loader checks it)
    writeFileSync(file, encodeCheckpoint({ config, state: { ...state, optimizerStep: 1 }, progress: { step: 1, iteration: 0, data: null, dataPath: '/nowhere/sudoku' }, dtype: 'F64' }));
    const sizes = { seq_len: 81, vocab_size: 11, num_puzzle_identifiers: config.arch.num_puzzle_identifiers };
    const bf16 = (x: number): number => {
      const b = new Uint32Array(new Float32Array([x]).buffer)[0];
      return new Float32Array(new Uint32Array([((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) << 16]).buffer)[0];
    };
    for (const [format, dtype, prefix] of [['torch', 'float32', 'compiled'], ['torch', 'bfloat16', 'plain'], ['safetensors', 'float32', 'none'], ['safetensors', 'bfloat16', 'compiled']]) {
      const out = path.join(root, `demo-${format}-${dtype}-${prefix}`);
      const r = await capture(await exportCmd(), [file, '--format', format, '--dtype', dtype, '--prefix', prefix, '--out', out]);
      expect(r.code, r.text).toBe(0);
      const yamlText = readFileSync(path.join(out, 'all_config.yaml'), 'utf8');
      expect(yamlText).toContain(`forward_dtype: "${dtype}"`);
      expect(yamlText).toContain('data_path: "/nowhere/sudoku"');
      const back = loadWeights(format === 'torch' ? out : path.join(out, 'weights.safetensors'), { ...(format === 'torch' ? {} : { config: path.join(out, 'all_config.yaml') }), sizes });
      expect(back.checkpoint.config.arch).toEqual({ ...config.arch, forward_dtype: dtype, batch_size: null });
      for (const [name, t] of state.parameters) {
        const want = Float64Array.from(t.data, (x) => (dtype === 'bfloat16' && (name === 'H_init' || name === 'L_init') ? bf16(x) : Math.fround(x)));
        const got = back.checkpoint.state.parameters.get(name)!;
        expect(got.shape, name).toEqual(t.shape);
        expect(Buffer.from(got.data.buffer, got.data.byteOffset, got.data.byteLength).equals(Buffer.from(want.buffer)), `${format} ${dtype} ${name}`).toBe(true);
      }
    }
  });

  it('names what is missing', async () => {
    const r = await capture(await exportCmd(), [path.join(FIXTURES, 'sudoku-rope', 'checkpoint'), '--format', 'torch']);
    expect(r.code).toBe(2);
    expect(r.text).toMatch(/--out <dir> is required/);
  });
});
