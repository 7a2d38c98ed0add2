// Untrusted inputs and hard stops: each case is a reproducer of a way a careless user or an
// attacker could break a run (decompression bombs, inconsistent dataset.json, dead-end run folders,
// forged checkpoint metadata, poisoned weights, deep JSON, configs that cannot run, clashing ARC
// names, half-written imports, raw OS errors, signals), and what the program must do instead: a
// clear error naming the file and the field, or the correct behaviour, with nothing saved lost.
// Elsewhere: the stride-0 view (src/io/torch-checkpoint.test.ts, 'bounded before allocating'), a
// lying deflate size (src/io/zip.test.ts, 'decompression bombs'), checkpoints ordered by the step
// inside and pruning that touches only step_<N> files (src/train/checkpoint-store.test.ts).

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateSudokuDataset, importSudokuCsv } from '../src/data/sudoku/build.ts';
import { buildDatasetAtomically, readSplit, writeSplit, type DatasetMetadata } from '../src/data/format.ts';
import { encodeNpy } from '../src/data/npy.ts';
import { buildArcDataset } from '../src/data/arc/build.ts';
import { readArcTask } from '../src/data/arc/task.ts';
import { ConfigError, InputError } from '../src/io/codec.ts';
import { ensureDir, FileSystemError } from '../src/io/files.ts';
import { readSafetensors, writeSafetensors } from '../src/io/safetensors.ts';
import { stateDictPickle } from '../src/io/torch-checkpoint.ts';
import { writeZip } from '../src/io/zip.ts';
import { appendRecords } from '../src/train/metrics-log.ts';
import { loadWeights } from '../src/train/load-model.ts';
import { applyOverrides, parseConfigText } from '../src/model/config.ts';
import { configFromAllConfigYaml } from '../src/model/original-config.ts';
import { decodeCheckpoint } from '../src/train/checkpoint.ts';
import { readRunConfig, resumeDataDir } from '../src/train/session.ts';
import { sizeProblems } from '../src/train/run-config.ts';
import { parseSudoku } from '../src/train/solve.ts';
import * as trainCmd from '../src/cli/commands/train.ts';
import * as evalCmd from '../src/cli/commands/eval.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hrm-untrusted-'));
const data = path.join(root, 'd4');
const other = path.join(root, 'd4-other');
const bin = path.resolve('bin/hrm.mjs');

beforeAll(async () => {
  await generateSudokuDataset({ out: data, size: 4, trainSize: 24, testSize: 4, minRating: 0, numAug: 0, seed: 2, threads: 1 });
  await generateSudokuDataset({ out: other, size: 4, trainSize: 24, testSize: 4, minRating: 0, numAug: 0, seed: 3, threads: 1 });
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const capture = async (cmd: { run(argv: readonly string[]): Promise<number> }, argv: string[]): Promise<{ code: number; text: string }> => {
  const lines: string[] = [];
  const spies = [
    vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void lines.push(a.join(' '))),
    vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' '))),
    vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (lines.push(String(s)), true)),
  ];
  try {
    return { code: await cmd.run(argv), text: lines.join('\n') };
  } finally {
    for (const s of spies) s.mockRestore();
  }
};

/** A copy of the 4×4 dataset with train/dataset.json edited by `edit`. */
const editedDataset = (name: string, edit: (m: Record<string, unknown>) => void): string => {
  const dir = path.join(root, name);
  fs.cpSync(data, dir, { recursive: true });
  const f = path.join(dir, 'train', 'dataset.json');
  const m = JSON.parse(fs.readFileSync(f, 'utf8'));
  edit(m);
  fs.writeFileSync(f, JSON.stringify(m));
  return dir;
};

/** Rewrites the metadata of a safetensors file (`edit` gets the parsed JSON of each value it names). */
const editMetadata = (file: string, out: string, key: string, edit: (v: Record<string, unknown>) => unknown): void => {
  const { tensors, metadata } = readSafetensors(fs.readFileSync(file), file);
  const value = key === 'optimizer_step' ? String(edit({})) : JSON.stringify(edit(JSON.parse(metadata[key])));
  fs.writeFileSync(out, writeSafetensors(tensors, { ...metadata, [key]: value }));
};

const train = (out: string, extra: string[] = []) => capture(trainCmd, ['--config', 'test-tiny', '--data', data, '--backend', 'reference', '--out', out, '--quiet', '--epochs=40', '--eval_interval=20', ...extra]);
const checkpointsOf = (run: string): string[] => fs.readdirSync(path.join(run, 'checkpoints')).filter((f) => /^step_\d+\.safetensors$/.test(f)).sort();

describe('weights files are bounded and checked before they are used', () => {
  it('a torch checkpoint whose storage entry inflates far past what its tensors need is refused before inflating, naming the file and the entry', () => {
    const file = path.join(root, 'bomb.ckpt');
    {
      const zeros = new Uint8Array(64 << 20); // deflates to ~64 KB
      fs.writeFileSync(file, writeZip([{ name: 'z/data.pkl', data: stateDictPickle([{ key: 'w', shape: [4], dtype: 'float32' }], ['']) }, { name: 'z/data/0', data: zeros, deflate: true }]));
    }
    expect(fs.statSync(file).size).toBeLessThan(1 << 20);
    const before = process.memoryUsage().arrayBuffers;
    let error: unknown;
    try {
      loadWeights(file, { config: 'configs/test-tiny.json' });
    } catch (e) {
      error = e;
    }
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 << 20);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toMatch(/bomb\.ckpt: tensor 'w': storage 'z\/data\/0' has 67108864 bytes, expected 4 × 4 = 16/);
    // the same entry declaring the 16 bytes it should hold: inflation stops at the 17th
    const bytes = new Uint8Array(fs.readFileSync(file));
    const view = new DataView(bytes.buffer);
    for (let at = bytes.length - 22; at >= 0; at--) {
      if (view.getUint32(at, true) !== 0x02014b50) continue; // a central directory record
      const name = new TextDecoder().decode(bytes.subarray(at + 46, at + 46 + view.getUint16(at + 28, true)));
      if (name === 'z/data/0') view.setUint32(at + 24, 16, true);
    }
    const lying = path.join(root, 'lying.ckpt');
    fs.writeFileSync(lying, bytes);
    const start = process.memoryUsage().arrayBuffers;
    expect(() => loadWeights(lying, { config: 'configs/test-tiny.json' })).toThrow(/lying\.ckpt: zip entry 'z\/data\/0': inflates past its declared size of 16 bytes/);
    // one inflater chunk's output (≤ 1032 × 4 KiB), never the 64 MiB the entry holds
    expect(process.memoryUsage().arrayBuffers - start).toBeLessThan(24 << 20);
  });

  it('weights that do not fit the model layout are an InputError listing every missing tensor', () => {
    const dir = path.join(root, 'weights-short');
    fs.mkdirSync(dir);
    const fixture = 'fixtures/official-parity/arc-learned';
    const { tensors } = readSafetensors(fs.readFileSync(path.join(fixture, 'weights.safetensors')), 'weights.safetensors');
    tensors.delete('lm_head.weight');
    fs.writeFileSync(path.join(dir, 'weights.safetensors'), writeSafetensors(tensors, {}));
    fs.copyFileSync(path.join(fixture, 'config.json'), path.join(dir, 'config.json'));
    expect(() => loadWeights(path.join(dir, 'weights.safetensors'))).toThrow(InputError);
    expect(() => loadWeights(path.join(dir, 'weights.safetensors'))).toThrow(/weights\.safetensors: weights do not match the model layout \(1 problem\):\n {2}missing tensor 'lm_head\.weight'/);
  });

  it('a config declaring a billion layers beside plain weights is refused by name (found by the fuzz suite: the layout exhausted the heap)', () => {
    const dir = path.join(root, 'weights-deep-config');
    fs.mkdirSync(dir);
    const fixture = 'fixtures/official-parity/arc-learned';
    fs.copyFileSync(path.join(fixture, 'weights.safetensors'), path.join(dir, 'weights.safetensors'));
    const config = JSON.parse(fs.readFileSync(path.join(fixture, 'config.json'), 'utf8'));
    config.arch.L_layers = 1e9;
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
    expect(() => loadWeights(path.join(dir, 'weights.safetensors'))).toThrow(/config\.json: field 'arch\.L_layers': expected an integer in \[1, 1024\], got 1000000000/);
  });

  it('a config given for a checkpoint that carries its own is reported as not used', () => {
    const r = loadWeights('fixtures/demo-model/model.safetensors', { config: 'configs/test-tiny.json' });
    expect(r.notes.join('\n')).toMatch(/model\.safetensors: carries its own config; the one given was not used/);
  });
});

describe('dataset.json is cross-checked with the arrays', () => {
  it.each([
    ['pad_id ≥ vocab', (m: Record<string, unknown>) => void (m.pad_id = 99), /dataset\.json: field 'pad_id': 99 outside \[0, 6\)/],
    ['blank_identifier_id ≥ num_puzzle_identifiers', (m: Record<string, unknown>) => void (m.blank_identifier_id = 1), /field 'blank_identifier_id': 1 outside \[0, 1\)/],
    ['total_groups inconsistent', (m: Record<string, unknown>) => void (m.total_groups = 5_000_000), /field 'total_groups' is 5000000, but the group_indices arrays hold 24 groups/],
    ['mean_puzzle_examples inconsistent', (m: Record<string, unknown>) => void (m.mean_puzzle_examples = 3), /field 'mean_puzzle_examples' is 3, but the arrays hold 24 examples in 24 puzzles/],
    ['a set name that is a path', (m: Record<string, unknown>) => void (m.sets = ['../../x']), /field 'sets': "\.\.\/\.\.\/x" is not a set name/],
  ])('%s → an error naming dataset.json and the field', (name, edit, message) => {
    const dir = editedDataset(`bad-${name.replace(/\W+/g, '-')}`, edit);
    expect(() => readSplit(dir, 'train')).toThrow(InputError);
    expect(() => readSplit(dir, 'train')).toThrow(message);
  });

  it('an empty training group is refused by name (training draws a puzzle from every group)', () => {
    const dir = editedDataset('bad-empty-group', () => undefined);
    const f = path.join(dir, 'train', 'all__group_indices.npy');
    const groups = Int32Array.from({ length: 25 }, (_, i) => i);
    groups[1] = 0; // group 0 empty, group 1 holds two puzzles; still 24 groups over 24 puzzles
    fs.writeFileSync(f, encodeNpy('int32', [25], groups));
    expect(() => readSplit(dir, 'train')).toThrow(/all__group_indices\.npy: group_indices: group 0 is empty/);
  });

  it('a deeply nested dataset.json, or a folder in its place, is an error naming it', () => {
    const deep = editedDataset('bad-deep', () => undefined);
    fs.writeFileSync(path.join(deep, 'train', 'dataset.json'), `{"sets": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
    expect(() => readSplit(deep, 'train')).toThrow(/train\/dataset\.json: not valid JSON: nested more than 4 levels/);
    const folder = editedDataset('bad-folder', () => undefined);
    fs.rmSync(path.join(folder, 'train', 'dataset.json'));
    fs.mkdirSync(path.join(folder, 'train', 'dataset.json'));
    expect(() => readSplit(folder, 'train')).toThrow(/train\/dataset\.json: is a folder, expected a JSON file/);
  });
});

describe('training runs never dead-end', () => {
  it('a run that died before its first checkpoint resumes from step 0; a fresh start may reuse its folder; its metrics are kept', async () => {
    const run = path.join(root, 'run-dead');
    expect((await train(run, ['--stop-after', '2'])).code).toBe(0);
    // simulate a death before the first save: no checkpoint, a config and a partial log
    fs.rmSync(path.join(run, 'checkpoints'), { recursive: true });
    const r = await capture(trainCmd, ['--resume', '--out', run, '--backend', 'reference', '--quiet', '--stop-after', '2']);
    expect(r.text).toMatch(/no checkpoint in .*starting from step 0 with the run's saved config/);
    expect(r.code).toBe(0);
    expect(checkpointsOf(run)).toEqual(['step_0000002.safetensors']);
    expect(fs.readdirSync(run).some((f) => f.startsWith('metrics.jsonl.before-'))).toBe(true);
    // a folder whose run has checkpoints is protected; one without is not
    expect((await train(run)).text).toMatch(/already holds a run with checkpoints; continue it with `hrm train --resume --out/);
  });

  it('resume skips a poisoned newest checkpoint (NaN weights, forged step) for the older valid one, and eval refuses the poisoned file', async () => {
    const run = path.join(root, 'run-poison');
    expect((await train(run, ['--stop-after', '2', '--checkpoint-every', '1'])).code).toBe(0);
    const [first, second] = checkpointsOf(run).map((f) => path.join(run, 'checkpoints', f));
    const { tensors, metadata } = readSafetensors(fs.readFileSync(second), second);
    const w = tensors.get('lm_head.weight')!;
    const bad = Float64Array.from(w.data as Float64Array);
    bad[3] = NaN;
    tensors.set('lm_head.weight', { ...w, data: bad });
    fs.writeFileSync(second, writeSafetensors(tensors, metadata));
    expect(() => decodeCheckpoint(fs.readFileSync(second), second)).toThrow(/tensor 'lm_head\.weight' holds NaN at index 3/);
    const e = await capture(evalCmd, ['--checkpoint', second, '--backend', 'reference']);
    expect(e.code).not.toBe(0);
    expect(e.text).toMatch(/lm_head\.weight' holds NaN/);
    const r = await capture(trainCmd, ['--resume', '--out', run, '--backend', 'reference', '--quiet', '--stop-after', '3']);
    expect(r.text).toMatch(/step_0000002\.safetensors cannot be resumed from .*trying an older checkpoint/);
    expect(r.text).toMatch(/resuming from .*step_0000001\.safetensors at step 1/);
    expect(r.code).toBe(0);
    expect(fs.existsSync(first) || checkpointsOf(run).includes('step_0000003.safetensors')).toBe(true);
  });

  it('forged checkpoint metadata is refused by name (negative, fractional or mismatched steps, zero generator, negative cursor)', async () => {
    const run = path.join(root, 'run-forged');
    expect((await train(run, ['--stop-after', '1'])).code).toBe(0);
    const file = path.join(run, 'checkpoints', checkpointsOf(run)[0]);
    const forged = path.join(root, 'forged.safetensors');
    const cases: [string, (v: Record<string, unknown>) => unknown, RegExp][] = [
      ['progress', (v) => ({ ...v, step: -1000 }), /field 'step': expected an integer ≥ 0, got -1000/],
      ['progress', (v) => ({ ...v, step: 1.5 }), /field 'step': expected an integer ≥ 0, got 1\.5/],
      ['progress', (v) => ({ ...v, step: 1e300 }), /field 'step': expected an integer ≥ 0, got 1e\+300/],
      ['progress', (v) => ({ ...v, step: 7 }), /'optimizer_step' is 1 but 'progress' records step 7/],
      ['progress', (v) => ({ ...v, data: { ...(v.data as object), cursor: -3 } }), /cursor/],
      ['rng', () => ({ s: [0, 0, 0, 0] }), /generator state is all zero/],
      ['optimizer_step', () => '1e3', /'optimizer_step' must be a non-negative integer/],
    ];
    for (const [key, edit, message] of cases) {
      editMetadata(file, forged, key, edit);
      expect(() => decodeCheckpoint(fs.readFileSync(forged), forged), `${key}`).toThrow(message);
    }
    const { tensors, metadata } = readSafetensors(fs.readFileSync(file), file);
    const name = [...tensors.keys()].find((k) => k.startsWith('optimizer.adam_v.'))!;
    const v = tensors.get(name)!;
    tensors.set(name, { ...v, data: Float64Array.from(v.data as Float64Array, (x, i) => (i === 0 ? -1 : x)) });
    fs.writeFileSync(forged, writeSafetensors(tensors, metadata));
    expect(() => decodeCheckpoint(fs.readFileSync(forged), forged)).toThrow(/Adam second moments are ≥ 0/);
  });

  it('--resume decodes config.json and checks the dataset it is given against the one the run trained on', async () => {
    const run = path.join(root, 'run-resume-data');
    expect((await train(run, ['--stop-after', '1'])).code).toBe(0);
    const saved = readRunConfig(run);
    expect(() => resumeDataDir(saved, run, other)).toThrow(/--data .*d4-other is not the dataset this run trained on/);
    const moved = path.join(root, 'd4-moved');
    fs.cpSync(data, moved, { recursive: true });
    expect(resumeDataDir(saved, run, moved)).toBe(moved);
    const broken = path.join(root, 'run-broken-config');
    fs.mkdirSync(broken);
    fs.writeFileSync(path.join(broken, 'config.json'), '{}');
    const r = await capture(trainCmd, ['--resume', '--out', broken]);
    expect(r.code).toBe(2);
    expect(r.text).toMatch(/config\.json: field 'config'.*missing required field|config\.json: field 'dataDir'|missing required field 'config'/);
  });
});

describe('configs and flags that cannot run are refused before anything is created', () => {
  it('an MLP of zero units, a model beyond memory, a scaling level beyond the cap', async () => {
    expect(() => applyOverrides(parseConfigText(fs.readFileSync('configs/test-tiny.json', 'utf8'), 'test-tiny.json'), ['--arch.expansion=0.01'])).toThrow(/arch\.expansion': 0\.01 × hidden_size 16 gives an MLP of 0 units/);
    const big = applyOverrides(parseConfigText(fs.readFileSync('configs/test-tiny.json', 'utf8'), 'test-tiny.json'), ['--arch.hidden_size=65536', '--arch.num_heads=2']);
    expect(sizeProblems(big, 4, 128 * 2 ** 30).join('\n')).toMatch(/training would need at least .* GiB/);
    const run = path.join(root, 'run-too-big');
    const r = await train(run, ['--arch.hidden_size=65536']);
    expect(r.code).toBe(2);
    expect(fs.existsSync(run)).toBe(false);
    const e = await capture(evalCmd, ['--checkpoint', root, '--scaling', '1,100000000']);
    expect(e.code).toBe(2);
    expect(e.text).toMatch(/halt_max_steps 100000000 exceeds 4096/);
  });

  it('__proto__ and other unknown override keys are named, not dropped', () => {
    const c = parseConfigText(fs.readFileSync('configs/test-tiny.json', 'utf8'), 'test-tiny.json');
    expect(() => applyOverrides(c, ['--arch.__proto__={"hidden_size":64}'])).toThrow(/unknown key 'arch\.__proto__'/);
  });

  it('deeply nested JSON is an error naming the file, not a stack overflow', () => {
    const deep = `{"arch": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    expect(() => parseConfigText(deep, 'deep.json')).toThrow(ConfigError);
    expect(() => parseConfigText(deep, 'deep.json')).toThrow(/deep\.json: not valid JSON: nested more than 8 levels/);
    const f = path.join(root, 'deep-task.json');
    fs.writeFileSync(f, `{"train": ${'['.repeat(100_000)}${']'.repeat(100_000)}, "test": []}`);
    expect(() => readArcTask(f)).toThrow(/deep-task\.json \(task deep-task\): not valid JSON: nested more than 8 levels/);
    const header = new TextEncoder().encode(`{"w": {"dtype": "F32", "shape": ${'['.repeat(50)}${']'.repeat(50)}, "data_offsets": [0, 0]}}`);
    const st = new Uint8Array(8 + header.length);
    new DataView(st.buffer).setBigUint64(0, BigInt(header.length), true);
    st.set(header, 8);
    expect(() => readSafetensors(st, 'deep.safetensors')).toThrow(/deep\.safetensors: safetensors header: not valid JSON: nested more than 8 levels/);
  });

  it('an all_config.yaml with an unresolved tag is refused by name (found by the fuzz suite: it was a process warning)', () => {
    const warnings: string[] = [];
    const listen = (w: Error): void => void warnings.push(w.message);
    process.on('warning', listen);
    try {
      expect(() => configFromAllConfigYaml('!rch: 1\n', 'all_config.yaml')).toThrow(/all_config\.yaml: not valid YAML: Unresolved tag: !rch:/);
    } finally {
      process.off('warning', listen);
    }
    expect(warnings).toEqual([]);
  });

  it('a safetensors header that names a tensor twice is refused', () => {
    const header = new TextEncoder().encode('{"w": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}, "w": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}}');
    const st = new Uint8Array(8 + header.length + 1);
    new DataView(st.buffer).setBigUint64(0, BigInt(header.length), true);
    st.set(header, 8);
    expect(() => readSafetensors(st, 'dup.safetensors')).toThrow(/dup\.safetensors: safetensors header: not valid JSON: key "w" appears twice/);
  });

  it('hrm solve names conflicting givens', () => {
    expect(() => parseSudoku('11..............')).toThrow(/the givens conflict: 1 twice in row 1/);
  });
});

describe('files and folders', () => {
  it('a folder that cannot be created is an error naming it (no endless loop under /proc)', () => {
    if (process.platform !== 'linux') return;
    expect(() => ensureDir('/proc/hrm-never/run')).toThrow(FileSystemError);
    expect(() => ensureDir('/proc/hrm-never/run')).toThrow(/cannot create the folder \/proc\/hrm-never/);
    const file = path.join(root, 'a-file');
    fs.writeFileSync(file, '');
    expect(() => ensureDir(path.join(file, 'x'))).toThrow(/a-file exists and is not a folder/);
  });

  it('a failed import leaves no half-written dataset', async () => {
    const input = path.join(root, 'csv-in');
    fs.mkdirSync(input);
    fs.writeFileSync(path.join(input, 'train.csv'), 'source,question,answer,rating\ng,1.3.3.1.2.4.4.2.,1234341221434321,0\n');
    fs.writeFileSync(path.join(input, 'test.csv'), 'source,question,answer,rating\ng,1.3,1234,0\n');
    const out = path.join(root, 'csv-out');
    await expect(buildDatasetAtomically(out, (dir) => importSudokuCsv({ input, out: dir, numAug: 0, seed: 0 }))).rejects.toThrow(/test\.csv:2: question has 3 characters/);
    expect(fs.existsSync(out)).toBe(false);
    expect(fs.readdirSync(root).some((f) => f.includes('.csv-out.partial-'))).toBe(false);
  });

  it('a full disk while appending to metrics.jsonl names the file and the reason', () => {
    if (!fs.existsSync('/dev/full')) return;
    const record = { kind: 'eval', step: 1 } as unknown as Parameters<typeof appendRecords>[1][number];
    expect(() => appendRecords('/dev/full', [record])).toThrow(FileSystemError);
    expect(() => appendRecords('/dev/full', [record])).toThrow(/cannot append to \/dev\/full: no space left on the device \(ENOSPC\)/);
  });

  it('hrm eval on an empty test split says so and exits 2 (not "0.00% (0 puzzles)")', async () => {
    const dir = path.join(root, 'd4-empty-test');
    fs.cpSync(data, dir, { recursive: true });
    fs.rmSync(path.join(dir, 'test'), { recursive: true });
    const meta: DatasetMetadata = { pad_id: 0, ignore_label_id: 0, blank_identifier_id: 0, vocab_size: 6, seq_len: 16, num_puzzle_identifiers: 1, total_groups: 0, mean_puzzle_examples: 0, sets: ['all'] };
    const none = new Uint8Array(0);
    writeSplit(dir, 'test', meta, { all: { inputs: none, labels: none, puzzleIdentifiers: new Int32Array(0), puzzleIndices: Int32Array.of(0), groupIndices: Int32Array.of(0), numExamples: 0, seqLen: 16 } });
    const r = await capture(evalCmd, ['--checkpoint', 'fixtures/demo-model/model.safetensors', '--data', dir, '--backend', 'reference', '--out', path.join(root, 'eval-empty')]);
    expect(r.text).toMatch(/d4-empty-test\/test holds no test examples/);
    expect(r.code).toBe(2);
  });

  it('two different ARC tasks with one name are refused (an identical repeat is kept once)', () => {
    const dir = path.join(root, 'arc-dup');
    const task = (colour: number) => JSON.stringify({ train: [{ input: [[colour]], output: [[colour]] }], test: [{ input: [[1]], output: [[1]] }] });
    for (const subset of ['a', 'b']) fs.mkdirSync(path.join(dir, subset), { recursive: true });
    fs.writeFileSync(path.join(dir, 'a', 'same.json'), task(1));
    fs.writeFileSync(path.join(dir, 'b', 'same.json'), task(2));
    expect(() => buildArcDataset({ inputs: [dir], out: path.join(root, 'arc-dup-out'), numAug: 0, seed: 0 })).toThrow(/b\/same\.json \(task same\): another task of the same name, .*a\/same\.json, holds different pairs/);
    fs.writeFileSync(path.join(dir, 'b', 'same.json'), task(1));
    const warnings: string[] = [];
    const r = buildArcDataset({ inputs: [dir], out: path.join(root, 'arc-dup-out2'), numAug: 0, seed: 0, warn: (m) => warnings.push(m) });
    expect(r.tasks).toBe(1);
    expect(warnings.join('\n')).toMatch(/repeats .*a\/same\.json exactly; kept once/);
  });

  it('hrm build … | head ends quietly (no unhandled EPIPE)', async () => {
    const child = spawn(process.execPath, [bin, 'build', 'sudoku', '--generate', '50', '--size', '4', '--out', path.join(root, 'epipe'), '--quiet'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy(); // the reader went away, as `head` does
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => void (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(stderr).not.toMatch(/EPIPE|Unhandled/);
    expect(code).toBe(0);
  });
});

describe('SIGTERM and SIGHUP save a checkpoint like Ctrl-C', () => {
  it.each([
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const)('%s → a checkpoint and exit %d', async (signal, exitCode) => {
    if (process.platform === 'win32') return;
    const run = path.join(root, `run-${signal}`);
    const child = spawn(process.execPath, [bin, 'train', '--config', 'test-tiny', '--data', data, '--backend', 'reference', '--out', run, '--epochs=40', '--eval_interval=20', '--quiet'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => void (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => {
      const poll = setInterval(() => {
        if (stderr.includes('backend:')) {
          clearInterval(poll);
          setTimeout(() => child.kill(signal), 1500);
        }
      }, 50);
      child.on('exit', (c) => {
        clearInterval(poll);
        resolve(c);
      });
    });
    expect(stderr).toMatch(new RegExp(`${signal}: finishing this step and saving a checkpoint`));
    expect(code).toBe(exitCode);
    expect(checkpointsOf(run).length).toBe(1);
  });
});
