// TRM's own run folders in every command, and `hrm export` for TRM's trainer. A TRM run folder is
// all_config.yaml (as TRM's pretrain.py dumps it: its arch name, its model fields, `data_paths`,
// `ema`) beside `step_N` files (torch.save of the state dict; with `ema: true` the EMA copy: the
// averaged parameters with the live buffers). Built here from the committed TRM parity fixtures:
// `step_0` is the torch-written `checkpoint` (TRM's initial weights), `step_3` is the EMA copy after
// the fixture's three training steps, saved under the compiled model's `_orig_mod.model.inner.`
// keys. `hrm eval` on them reproduces TRM's own evaluation of those weights (eval.json, eval_ema.json),
// and an export of a TRM checkpoint loads back with TRM's config and evaluates the same.

import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capture } from './support/capture.ts';
import type { Tensor } from '../src/core/tensor.ts';
import { wrap64 } from '../src/core/tensor.ts';
import { readSplit, writeSplit, type DatasetMetadata } from '../src/data/format.ts';
import { readSafetensors, type SafeTensor } from '../src/io/safetensors.ts';
import { writeFileAtomic } from '../src/io/atomic-file.ts';
import { readTorchStateDict, writeTorchCheckpoint } from '../src/io/torch-checkpoint.ts';
import { configFromTrmFixture, type HrmConfig } from '../src/model/config.ts';
import { buildLayout, layoutModules } from '../src/model/layout.ts';
import { allConfigYaml, configFromAllConfigYaml, TRM_ARCH_NAME } from '../src/model/original-config.ts';
import { encodeCheckpoint } from '../src/train/checkpoint.ts';
import { loadWeights } from '../src/train/load-model.ts';
import * as evalCmd from '../src/cli/commands/eval.ts';
import * as solveCmd from '../src/cli/commands/solve.ts';
import * as analyzeCmd from '../src/cli/commands/analyze.ts';
import * as exportCmd from '../src/cli/commands/export.ts';
import * as traceCmd from '../src/cli/commands/trace.ts';
import * as trainCmd from '../src/cli/commands/train.ts';
import { readRecords } from '../src/train/metrics-log.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/official-parity-trm/', import.meta.url));
const root = mkdtempSync(path.join(os.tmpdir(), 'hrm-trm-interop-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const tensors = (file: string): ReadonlyMap<string, SafeTensor> => readSafetensors(new Uint8Array(readFileSync(file)), file).tensors;
const f64 = (t: SafeTensor): Tensor<Float64Array> => wrap64(t.shape, Float64Array.from(t.data as Float32Array));

/** all_config.yaml as TRM's pretrain.py writes it (yaml.dump of PretrainConfig, keys sorted) for a fixture case. */
const trmYaml = (fixture: Record<string, any>, dataPath: string): string => {
  const a = fixture.arch;
  const p = fixture.pretrain;
  const archLines = [
    `  H_cycles: ${a.H_cycles}`, `  H_layers: ${a.H_layers}`, `  L_cycles: ${a.L_cycles}`, `  L_layers: ${a.L_layers}`,
    '  expansion: 4', `  forward_dtype: ${a.forward_dtype}`, `  halt_exploration_prob: ${a.halt_exploration_prob.toFixed(1)}`,
    `  halt_max_steps: ${a.halt_max_steps}`, `  hidden_size: ${a.hidden_size}`,
    '  loss:', `    loss_type: ${fixture.loss.loss_type}`, `    name: ${fixture.loss.name}`,
    `  mlp_t: ${a.mlp_t}`, `  name: ${fixture.arch_name}`, `  no_ACT_continue: ${a.no_ACT_continue}`, `  num_heads: ${a.num_heads}`,
    `  pos_encodings: ${a.pos_encodings}`, `  puzzle_emb_len: ${a.puzzle_emb_len}`, `  puzzle_emb_ndim: ${a.puzzle_emb_ndim}`,
  ];
  return [
    'arch:', ...archLines,
    `beta1: ${p.beta1}`, `beta2: ${p.beta2}`, 'checkpoint_every_eval: true',
    `checkpoint_path: checkpoints/${fixture.case} ACT-torch/TinyRecursiveReasoningModel_ACTV1 quiet-otter`,
    'data_paths:', `- ${dataPath}`, 'data_paths_test: []', `ema: ${p.ema}`, `ema_rate: ${p.ema_rate}`, 'epochs: 3', 'eval_interval: 1',
    'eval_save_outputs: []', 'evaluators: []', 'freeze_weights: false', `global_batch_size: ${p.global_batch_size}`, 'load_checkpoint: null',
    `lr: ${p.lr}`, `lr_min_ratio: ${p.lr_min_ratio.toFixed(1)}`, `lr_warmup_steps: ${p.lr_warmup_steps}`, 'min_eval_interval: 0',
    `project_name: ${fixture.case} ACT-torch`, `puzzle_emb_lr: ${p.puzzle_emb_lr}`, `puzzle_emb_weight_decay: ${p.puzzle_emb_weight_decay}`,
    'run_name: TinyRecursiveReasoningModel_ACTV1 quiet-otter', 'seed: 0', `weight_decay: ${p.weight_decay}`, '',
  ].join('\n');
};

/** A dataset (TRM's layout: dataset.json with total_puzzles) whose test split is the fixture's step-1 batch, one puzzle per row. */
const datasetOfBatch = (dir: string, caseDir: string, fixture: Record<string, any>): void => {
  const b = tensors(path.join(caseDir, 'batch.safetensors'));
  const inputs = b.get('inputs')!.data as Int32Array;
  const labels = b.get('labels')!.data as Int32Array;
  const ids = b.get('puzzle_identifiers')!.data as Int32Array;
  const n = ids.length;
  const { seq_len: T, vocab_size: V, num_puzzle_identifiers: K } = fixture.arch as Record<string, number>;
  const meta: DatasetMetadata = {
    pad_id: 0, ignore_label_id: 0, blank_identifier_id: 0, vocab_size: V, seq_len: T, num_puzzle_identifiers: K,
    total_groups: n, mean_puzzle_examples: 1, sets: ['all'], total_puzzles: n,
  };
  const set = {
    inputs: Uint8Array.from(inputs), labels: Uint8Array.from(labels, (y) => (y === -100 ? 0 : y)), puzzleIdentifiers: Int32Array.from(ids),
    puzzleIndices: Int32Array.from({ length: n + 1 }, (_, i) => i), groupIndices: Int32Array.from({ length: n + 1 }, (_, i) => i),
    numExamples: n, seqLen: T,
  };
  for (const split of ['train', 'test'] as const) writeSplit(dir, split, meta, { all: set });
};

/** TRM's EMA copy after step 3 (ema.* of the parameters; the live puzzle table after step 3; H_init/L_init), by name. */
const emaCopy = (caseDir: string, config: HrmConfig): Map<string, Tensor<Float64Array>> => {
  const init = tensors(path.join(caseDir, 'weights.safetensors'));
  const step3 = tensors(path.join(caseDir, 'train_step3.safetensors'));
  return new Map(
    buildLayout(config.arch).map((e) => {
      const t = e.kind === 'parameter' ? step3.get(`ema.${e.name}`) : e.name === 'puzzle_emb.weights' ? step3.get('after.puzzle_emb.weights') : init.get(e.name);
      return [e.name, f64(t!)];
    }),
  );
};

/** The last segment's metrics of a fixture evaluation, per counted row as `hrm eval` reports them. */
const fixtureMetrics = (file: string) => {
  const segs = JSON.parse(readFileSync(file, 'utf8')).segments as Array<{ metrics: Record<string, number> }>;
  const m = segs[segs.length - 1].metrics;
  return { count: m.count, accuracy: m.accuracy / m.count, exact_accuracy: m.exact_accuracy / m.count, q_halt_accuracy: m.q_halt_accuracy / m.count, lm_loss: m.lm_loss / m.count, q_halt_loss: m.q_halt_loss / m.count };
};
const evalMetrics = (dir: string) => (JSON.parse(readFileSync(path.join(dir, 'eval.json'), 'utf8')) as { levels: Array<Record<string, number>> }).levels[0];

const expectMetrics = (got: Record<string, number>, want: ReturnType<typeof fixtureMetrics>): void => {
  expect(got.count).toBe(want.count);
  expect(got.exact_accuracy).toBe(want.exact_accuracy);
  expect(got.q_halt_accuracy).toBe(want.q_halt_accuracy);
  expect(Math.abs(got.accuracy - want.accuracy)).toBeLessThanOrEqual(1e-6);
  expect(Math.abs(got.lm_loss - want.lm_loss) / want.lm_loss).toBeLessThanOrEqual(1e-5);
  expect(Math.abs(got.q_halt_loss - want.q_halt_loss) / want.q_halt_loss).toBeLessThanOrEqual(1e-4);
};

for (const c of ['trm-sudoku-mlp', 'trm-arc-att']) {
  describe(`a TRM run folder (${c}): all_config.yaml + step_0 + step_3`, () => {
    const caseDir = path.join(FIXTURES, c);
    const fixture = JSON.parse(readFileSync(path.join(caseDir, 'config.json'), 'utf8')) as Record<string, any>;
    const config = configFromTrmFixture(fixture, 'config.json');
    const data = path.join(root, `${c}-data`);
    const run = path.join(root, `${c}-run`);
    beforeAll(() => {
      datasetOfBatch(data, caseDir, fixture);
      mkdirSync(run, { recursive: true });
      writeFileSync(path.join(run, 'all_config.yaml'), trmYaml(fixture, data));
      copyFileSync(path.join(caseDir, 'checkpoint'), path.join(run, 'step_0'));
      const ema = emaCopy(caseDir, config);
      const prefix = '_orig_mod.model.inner.';
      writeFileAtomic(path.join(run, 'step_3'), (sink) =>
        writeTorchCheckpoint(
          sink,
          buildLayout(config.arch).map((e) => ({ key: prefix + e.name, shape: e.shape, data: ema.get(e.name)!.data, dtype: 'float32' })),
          { stem: 'step_3', modules: layoutModules(config.arch, prefix.slice(0, -1)) },
        ),
      );
    });

    it("TRM's all_config.yaml reads as the fixture's TRM config; the dataset sizes come from its data_paths", () => {
      const loaded = loadWeights(run);
      expect(loaded.file).toBe(path.join(run, 'step_3'));
      expect(loaded.source).toBe('torch');
      expect(loaded.checkpoint.progress.step).toBe(3);
      expect(loaded.checkpoint.config.arch).toEqual({ ...config.arch, batch_size: null });
      expect(loaded.checkpoint.config.train).toMatchObject({ ...config.train, data_path: data, epochs: 3, eval_interval: 1, checkpoint_every_eval: true });
      expect(loaded.notes.join('\n')).toMatch(/keys saved under '_orig_mod\.model\.inner\.'/);
      const ema = emaCopy(caseDir, config);
      for (const [k, t] of loaded.checkpoint.state.parameters) expect(t.data, k).toEqual(ema.get(k)!.data);
    });

    it("hrm eval on step_3 (TRM's EMA copy) gives TRM's eval_ema numbers, on step_0 TRM's eval numbers", async () => {
      const a = await capture(evalCmd, ['--checkpoint', run, '--backend', 'reference', '--out', path.join(root, `${c}-eval3`)]);
      expect(a.code, a.text).toBe(0);
      expect(a.text).toMatch(/step_3 \(step 3\)/);
      expectMetrics(evalMetrics(path.join(root, `${c}-eval3`)), fixtureMetrics(path.join(caseDir, 'eval_ema.json')));
      const b = await capture(evalCmd, ['--checkpoint', path.join(run, 'step_0'), '--backend', 'simd', '--threads', '1', '--out', path.join(root, `${c}-eval0`)]);
      expect(b.code, b.text).toBe(0);
      expectMetrics(evalMetrics(path.join(root, `${c}-eval0`)), fixtureMetrics(path.join(caseDir, 'eval.json')));
    });

    it('hrm trace --checkpoint step_0 meets the fixture tolerances (the same weights as the case)', async () => {
      const out = path.join(root, `${c}-trace`);
      const r = await capture(traceCmd, [caseDir, '--checkpoint', path.join(run, 'step_0'), '--out', out, '--backend', 'reference', '--compare', '--no-probe']);
      expect(r.text.split('\n').filter((l) => l.startsWith('FAIL'))).toEqual([]);
      expect(r.text).toMatch(/weights from .*step_0/);
      expect(r.code, r.text).toBe(0);
      // and the EMA copy's weights are not the case's: the trace says so
      const bad = await capture(traceCmd, [caseDir, '--checkpoint', run, '--out', `${out}-ema`, '--backend', 'reference', '--compare', '--no-probe']);
      expect(bad.code).toBe(1);
      expect(bad.text).toMatch(/^FAIL/m);
    });

    it("hrm train --init-from the TRM run folder starts from TRM's EMA copy with TRM's config", async () => {
      const out = path.join(root, `${c}-fine-tune`);
      const r = await capture(trainCmd, ['--init-from', run, '--data', data, '--backend', 'reference', '--out', out, '--stop-after', '1', '--quiet']);
      expect(r.code, r.text).toBe(0);
      const saved = JSON.parse(readFileSync(path.join(out, 'config.json'), 'utf8'));
      expect(saved.initFrom).toBe(path.resolve(run, 'step_3'));
      expect(saved.config.arch).toMatchObject({ name: 'trm', mlp_t: config.arch.mlp_t, puzzle_emb_len: config.arch.puzzle_emb_len, no_ACT_continue: true });
      expect(saved.config.train).toMatchObject({ ema: true, ema_rate: config.train.ema_rate });
      expect(readRecords(path.join(out, 'metrics.jsonl')).filter((x) => x.kind === 'train').length).toBe(1);
    });

    it('hrm analyze runs on the TRM run folder', async () => {
      const out = path.join(root, `${c}-analysis`);
      const r = await capture(analyzeCmd, ['--checkpoint', run, '--data', data, '--backend', 'reference', '--bootstrap', '10', '--out', out, '--quiet']);
      expect(r.code, r.text).toBe(0);
      const report = JSON.parse(readFileSync(path.join(out, 'analysis.json'), 'utf8'));
      expect(report.config.arch.name).toBe('trm');
    });
  });
}

describe('hrm solve on a TRM step_N', () => {
  it('gives the same segments as the same weights from weights.safetensors with the fixture config', async () => {
    const caseDir = path.join(FIXTURES, 'trm-sudoku-mlp');
    const fixture = JSON.parse(readFileSync(path.join(caseDir, 'config.json'), 'utf8')) as Record<string, any>;
    const run = path.join(root, 'solve-run');
    mkdirSync(run, { recursive: true });
    writeFileSync(path.join(run, 'all_config.yaml'), trmYaml(fixture, '/nowhere'));
    copyFileSync(path.join(caseDir, 'checkpoint'), path.join(run, 'step_0'));
    const puzzle = '1.3..2...4.....1';
    const a = await capture(solveCmd, ['--checkpoint', run, '--puzzle', puzzle, '--json', '--backend', 'reference']);
    const b = await capture(solveCmd, ['--checkpoint', path.join(caseDir, 'weights.safetensors'), '--config', path.join(caseDir, 'config.json'), '--puzzle', puzzle, '--json', '--backend', 'reference']);
    expect(a.code, a.text).toBe(0);
    expect(b.code, b.text).toBe(0);
    const json = (t: string) => JSON.parse(t.split('\n').find((l) => l.startsWith('{'))!);
    expect(json(a.text).segments.length).toBe(2); // q_halt ≈ −5 never halts: halt_max_steps 2
    expect(json(a.text).segments).toEqual(json(b.text).segments);
  });
});

describe("TRM's all_config.yaml", () => {
  const fixture = JSON.parse(readFileSync(path.join(FIXTURES, 'trm-arc-att', 'config.json'), 'utf8')) as Record<string, any>;
  const yaml = trmYaml(fixture, 'data/arc1concept-aug-1000');
  const sizes = { seq_len: 25, vocab_size: 12, num_puzzle_identifiers: 6 };

  it("fills TRM's defaults (16 puzzle slots, no_ACT_continue, bfloat16) for fields the file leaves out", () => {
    const bare = yaml.split('\n').filter((l) => !/^ {2}(puzzle_emb_len|no_ACT_continue|forward_dtype):/.test(l)).join('\n');
    const { config, notes } = configFromAllConfigYaml(bare, 'all_config.yaml', sizes);
    expect(config.arch).toMatchObject({ name: 'trm', puzzle_emb_len: 16, no_ACT_continue: true, mlp_t: false, forward_dtype: 'bfloat16', H_layers: 0 });
    expect(notes.join('\n')).toMatch(/forward_dtype bfloat16/);
  });
  it("reads mlp_t with TRM's default rope as 'none' (TRM's mlp_t blocks never apply it), saying so", () => {
    const { config, notes } = configFromAllConfigYaml(yaml.replace('  mlp_t: false', '  mlp_t: true'), 'a.yaml', sizes);
    expect(config.arch).toMatchObject({ mlp_t: true, pos_encodings: 'none' });
    expect(notes.join('\n')).toMatch(/mlp_t.*read as 'none'/);
  });
  it('takes the first of several data_paths and says so; names fields TRM does not have', () => {
    const two = configFromAllConfigYaml(yaml.replace('- data/arc1concept-aug-1000', '- data/arc1concept-aug-1000\n- data/arc2-aug-1000'), 'b.yaml', sizes);
    expect(two.config.train.data_path).toBe('data/arc1concept-aug-1000');
    expect(two.dataPaths).toEqual(['data/arc1concept-aug-1000', 'data/arc2-aug-1000']);
    expect(two.notes.join('\n')).toMatch(/data_paths: 2 datasets/);
    expect(() => configFromAllConfigYaml(yaml.replace('  num_heads: 2', '  num_heads: 2\n  H_init_std: 1'), 'c.yaml', sizes)).toThrow(/c\.yaml: field 'arch\.H_init_std': not a field of the original TRM config/);
    expect(() => configFromAllConfigYaml(yaml.replace('ema: true', 'ema: true\ndata_path: x'), 'd.yaml', sizes)).toThrow(/d\.yaml: fields 'data_path' and 'data_paths'/);
    expect(() => configFromAllConfigYaml(yaml.replace('evaluators: []', 'evaluators: 3'), 'e.yaml', sizes)).toThrow(/e\.yaml: field 'evaluators'/);
    expect(() => configFromAllConfigYaml(yaml.replace('  puzzle_emb_ndim: 32', '  puzzle_emb_ndim: 0'), 'f.yaml', sizes)).toThrow(/f\.yaml: field 'arch\.puzzle_emb_len': 4 slots without a puzzle embedding/);
  });
  it("round-trips through the writer, which writes TRM's names and fields", () => {
    const { config } = configFromAllConfigYaml(yaml, 'all_config.yaml', sizes);
    const text = allConfigYaml(config, 'bfloat16', 'data/arc1concept-aug-1000');
    expect(text).toContain(`name: "${TRM_ARCH_NAME}"`);
    for (const field of ['mlp_t: false', 'no_ACT_continue: true', 'puzzle_emb_len: 4', 'data_paths: ["data/arc1concept-aug-1000"]', 'ema: true', 'ema_rate: 0.9']) expect(text).toContain(field);
    expect(text).not.toMatch(/^data_path:/m);
    const again = configFromAllConfigYaml(text, 'exported.yaml', sizes).config;
    expect(again.arch).toEqual({ ...config.arch, forward_dtype: 'bfloat16' });
    expect(again.train).toEqual(config.train);
  });
});

describe('hrm export of a TRM checkpoint', () => {
  const caseDir = path.join(FIXTURES, 'trm-sudoku-mlp');
  const fixture = JSON.parse(readFileSync(path.join(caseDir, 'config.json'), 'utf8')) as Record<string, any>;
  const config = configFromTrmFixture(fixture, 'config.json');

  it("re-exports TRM's torch-written checkpoints byte for byte (prefix plain, float32)", async () => {
    for (const c of ['trm-sudoku-mlp', 'trm-arc-att']) {
      const out = path.join(root, `reexport-${c}`);
      const r = await capture(exportCmd, [path.join(FIXTURES, c, 'checkpoint'), '--format', 'torch', '--prefix', 'plain', '--dtype', 'float32', '--out', out]);
      expect(r.code, r.text).toBe(0);
      expect(Buffer.from(readFileSync(path.join(out, 'checkpoint'))).equals(readFileSync(path.join(FIXTURES, c, 'checkpoint'))), c).toBe(true);
    }
  });

  it("writes TRM's EMA copy and TRM's config; it loads back as the same model and evaluates as TRM's eval_ema", async () => {
    // an hrm-ts TRM checkpoint after the fixture's three steps: live weights after.*, EMA shadow ema.*
    const step3 = tensors(path.join(caseDir, 'train_step3.safetensors'));
    const init = tensors(path.join(caseDir, 'weights.safetensors'));
    const layout = buildLayout(config.arch);
    const parameters = new Map(layout.map((e) => [e.name, f64(step3.get(`after.${e.name}`) ?? init.get(e.name)!)]));
    const ema = new Map(layout.filter((e) => e.kind === 'parameter').map((e) => [e.name, f64(step3.get(`ema.${e.name}`)!)]));
    const data = path.join(root, 'export-data');
    datasetOfBatch(data, caseDir, fixture);
    const ckpt = path.join(root, 'trm-run', 'step_0000003.safetensors');
    mkdirSync(path.dirname(ckpt), { recursive: true });
    writeFileSync(
      ckpt,
      encodeCheckpoint({
        config,
        state: { parameters, adamM: new Map(), adamV: new Map(), ema, optimizerStep: 3, rng: { s: [1, 0, 0, 0] } },
        progress: { step: 3, iteration: 0, data: null, dataPath: data },
        dtype: 'F64',
      }),
    );
    const want = emaCopy(caseDir, config);
    for (const [format, prefix] of [['torch', 'compiled'], ['safetensors', 'none']] as const) {
      const out = path.join(root, `export-${format}`);
      const r = await capture(exportCmd, [ckpt, '--format', format, '--prefix', prefix, '--dtype', 'float32', '--out', out]);
      expect(r.code, r.text).toBe(0);
      expect(r.text).toMatch(/EMA weights/);
      const yamlText = readFileSync(path.join(out, 'all_config.yaml'), 'utf8');
      expect(yamlText).toContain(`name: "${TRM_ARCH_NAME}"`);
      expect(yamlText).toContain(`data_paths: ["${data}"]`);
      const back = loadWeights(format === 'torch' ? out : path.join(out, 'weights.safetensors'), format === 'torch' ? {} : { config: path.join(out, 'all_config.yaml') });
      expect(back.checkpoint.config.arch).toEqual({ ...config.arch, batch_size: null });
      expect(back.checkpoint.config.train).toEqual({ ...config.train, data_path: data });
      for (const e of layout) expect(back.checkpoint.state.parameters.get(e.name)!.data, `${format} ${e.name}`).toEqual(want.get(e.name)!.data);
      if (format === 'torch') {
        // the keys TRM's compiled model loads (its state_dict_keys under _orig_mod.)
        const keys = readTorchKeys(path.join(out, 'checkpoint'));
        expect(keys).toEqual((fixture.state_dict_keys as string[]).map((k) => `_orig_mod.model.inner.${k}`));
        const ev = path.join(root, 'export-eval');
        const e = await capture(evalCmd, ['--checkpoint', out, '--backend', 'reference', '--out', ev]);
        expect(e.code, e.text).toBe(0);
        expectMetrics(evalMetrics(ev), fixtureMetrics(path.join(caseDir, 'eval_ema.json')));
      }
    }
    // TRM's bf16 training keeps H_init/L_init in bfloat16: the default export does the same, and it loads back widened
    const out = path.join(root, 'export-bf16');
    const r = await capture(exportCmd, [ckpt, '--format', 'torch', '--out', out]);
    expect(r.code, r.text).toBe(0);
    expect(readFileSync(path.join(out, 'all_config.yaml'), 'utf8')).toContain('forward_dtype: "bfloat16"');
    const back = loadWeights(out);
    expect(back.checkpoint.config.arch.forward_dtype).toBe('bfloat16');
    expect(back.notes.join('\n')).toMatch(/H_init \(bfloat16\), L_init \(bfloat16\) stored in reduced precision/);
    const h = back.checkpoint.state.parameters.get('H_init')!.data;
    const h0 = want.get('H_init')!.data;
    for (let i = 0; i < h.length; i++) expect(Math.abs(h[i] - h0[i])).toBeLessThanOrEqual(Math.abs(h0[i]) * 2 ** -8);
    expect(back.checkpoint.state.parameters.get('lm_head.weight')!.data).toEqual(want.get('lm_head.weight')!.data);
  });
});

/** The keys of a torch checkpoint's state dict, in file order, with the prefix they were saved under. */
const readTorchKeys = (file: string): string[] => {
  const sd = readTorchStateDict(new Uint8Array(readFileSync(file)), file);
  return [...sd.tensors.keys()].map((k) => sd.prefix + k);
};

describe("TRM's dataset layout (dataset.json with total_puzzles)", () => {
  // 2 groups of 1 and 2 puzzles (ids 1, 2, 2) with 1, 1 and 2 examples
  const withMean: DatasetMetadata = { pad_id: 0, ignore_label_id: 0, blank_identifier_id: 0, vocab_size: 6, seq_len: 2, num_puzzle_identifiers: 3, total_groups: 2, mean_puzzle_examples: 4 / 3, sets: ['all'] };
  const set = {
    inputs: Uint8Array.of(1, 2, 3, 4, 5, 1, 2, 3), labels: Uint8Array.of(2, 3, 4, 5, 1, 2, 0, 0), puzzleIdentifiers: Int32Array.of(1, 2, 2),
    puzzleIndices: Int32Array.of(0, 1, 2, 4), groupIndices: Int32Array.of(0, 1, 3), numExamples: 4, seqLen: 2,
  };

  it("reads like HRM's layout, with total_puzzles checked against the arrays", () => {
    const hrm = path.join(root, 'layout-hrm');
    const trm = path.join(root, 'layout-trm');
    writeSplit(hrm, 'train', withMean, { all: set });
    writeSplit(trm, 'train', { ...withMean, total_puzzles: 3 }, { all: set });
    expect(readFileSync(path.join(trm, 'train', 'dataset.json'), 'utf8')).toMatch(/"total_puzzles": 3, "sets": \["all"\]\}$/);
    const a = readSplit(hrm, 'train');
    const b = readSplit(trm, 'train');
    expect(a.metadata.total_puzzles).toBeUndefined();
    expect(b.metadata.total_puzzles).toBe(3);
    expect(b.sets).toEqual(a.sets);
    writeFileSync(path.join(trm, 'train', 'dataset.json'), JSON.stringify({ ...withMean, total_puzzles: 4 }));
    expect(() => readSplit(trm, 'train')).toThrow(/layout-trm\/train\/dataset\.json: field 'total_puzzles' is 4, but the puzzle_identifiers arrays hold 3 puzzles/);
    writeFileSync(path.join(trm, 'train', 'dataset.json'), JSON.stringify({ ...withMean, total_puzzles: -1 }));
    expect(() => readSplit(trm, 'train')).toThrow(/layout-trm\/train\/dataset\.json: .*total_puzzles/);
  });
});
