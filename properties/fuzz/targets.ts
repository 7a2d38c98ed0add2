// The loaders under fuzz: for each, valid seed files, the load itself (the public entry point a
// command uses), an oracle that re-checks an accepted result independently of the loader, and the
// memory a load may use (stated here, checked by the harness). A mutated input must either load
// into something the oracle accepts or fail with an InputError naming the file.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { wrap64, type Tensor } from '../../src/core/tensor.ts';
import { IGNORE_LABEL } from '../../src/core/batch.ts';
import { decodeNpy, encodeNpy } from '../../src/data/npy.ts';
import { readBytes, readIdentifiers, readSplit, writeIdentifiers, writeSplit, type DatasetMetadata, type DatasetSplit, type PuzzleSet } from '../../src/data/format.ts';
import { readArcTask, type ArcTask } from '../../src/data/arc/task.ts';
import { importSudokuCsv } from '../../src/data/sudoku/build.ts';
import { importMazeCsv } from '../../src/data/maze/build.ts';
import { isSolutionOf, shapeForSize } from '../../src/data/sudoku/grid.ts';
import { checkMazeLabel } from '../../src/data/maze/maze.ts';
import { readZip, writeZip, crc32, memorySink, type ZipArchive } from '../../src/io/zip.ts';
import { readTorchCheckpoint, writeTorchCheckpoint, type CheckpointTensor } from '../../src/io/torch-checkpoint.ts';
import { writeSafetensors } from '../../src/io/safetensors.ts';
import { configFromFixture, decodeConfig, deriveSizes, type HrmConfig } from '../../src/model/config.ts';
import { allConfigYaml } from '../../src/model/original-config.ts';
import { loadWeights, type LoadedCheckpoint } from '../../src/train/load-model.ts';
import { buildLayout } from '../../src/model/layout.ts';
import { decodeCheckpoint, encodeCheckpoint, type Checkpoint } from '../../src/train/checkpoint.ts';
import { assembleConfig, sizeProblems } from '../../src/train/run-config.ts';
import { applyJson, type JsonEdit } from './mutate.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A set of files, relative path → bytes. */
export type FileSet = Readonly<Record<string, Uint8Array>>;

export interface FuzzTarget {
  readonly name: string;
  /** the bound on memory one load may allocate, in words (checked through `maxExtraBytes`) */
  readonly memoryBound: string;
  readonly maxExtraBytes: (inputBytes: number) => number;
  /** valid inputs */
  seeds(): FileSet[];
  /** loads the files written under `dir`; throws on a rejected input */
  load(dir: string): unknown;
  /** what is wrong with an accepted result (checked independently of the loader); [] if valid */
  invalid(result: unknown, dir: string): string[];
  /** JSON nested in a binary file (e.g. a safetensors header): edits it, or returns undefined */
  editNestedJson?(bytes: Uint8Array, edits: readonly JsonEdit[], pick: number): Uint8Array | undefined;
}

const MiB = 1 << 20;
const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const readDir = (dir: string): Record<string, Uint8Array> => {
  const out: Record<string, Uint8Array> = {};
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = new Uint8Array(fs.readFileSync(p));
    }
  };
  walk(dir);
  return out;
};
const withTemp = <A>(f: (dir: string) => A): A => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hrm-fuzz-seed-'));
  try {
    return f(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
};
const product = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

// ---- npy -----------------------------------------------------------------------------------

const npy: FuzzTarget = {
  name: 'npy',
  memoryBound: '≤ 2 × the file size + 1 MiB (the bytes, one decoded copy)',
  maxExtraBytes: (n) => 2 * n + MiB,
  seeds: () => [
    { 'a.npy': encodeNpy('uint8', [3, 5], Array.from({ length: 15 }, (_, i) => i)) },
    { 'a.npy': encodeNpy('int32', [7], [0, -1, 2, 2147483647, -2147483648, 5, 6]) },
    { 'a.npy': encodeNpy('int32', [0], []) },
    {
      'a.npy': (() => {
        // a Fortran-order int64 array as other tools write it
        const head = "{'descr': '<i8', 'fortran_order': True, 'shape': (2, 3), }";
        const pad = 64 - ((10 + head.length + 1) % 64);
        const h = text(head + ' '.repeat(pad) + '\n');
        const out = new Uint8Array(10 + h.length + 48);
        out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
        new DataView(out.buffer).setUint16(8, h.length, true);
        out.set(h, 10);
        const v = new DataView(out.buffer, 10 + h.length);
        for (let i = 0; i < 6; i++) v.setBigInt64(8 * i, BigInt(i * 3 - 4), true);
        return out;
      })(),
    },
  ],
  load: (dir) => {
    const f = path.join(dir, 'a.npy');
    return decodeNpy(readBytes(f), f);
  },
  invalid: (r) => {
    const a = r as ReturnType<typeof decodeNpy>;
    const p: string[] = [];
    if (!a.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) p.push(`shape ${a.shape}`);
    if (a.data.length !== product(a.shape)) p.push(`${a.data.length} values for shape [${a.shape}]`);
    return p;
  },
};

// ---- dataset.json + arrays -------------------------------------------------------------------

const seedSet = (groups: number[][], T: number, vocab: number, ids: number): PuzzleSet => {
  const puzzleIndices = [0];
  const groupIndices = [0];
  const idList: number[] = [];
  for (const g of groups) {
    for (const examples of g) {
      puzzleIndices.push(puzzleIndices.at(-1)! + examples);
      idList.push(1 + (idList.length % (ids - 1)));
    }
    groupIndices.push(idList.length);
  }
  const N = puzzleIndices.at(-1)!;
  return {
    inputs: Uint8Array.from({ length: N * T }, (_, i) => (i * 7) % vocab),
    labels: Uint8Array.from({ length: N * T }, (_, i) => (i * 5 + 1) % vocab),
    puzzleIdentifiers: Int32Array.from(idList),
    puzzleIndices: Int32Array.from(puzzleIndices),
    groupIndices: Int32Array.from(groupIndices),
    numExamples: N,
    seqLen: T,
  };
};
const metaOf = (s: PuzzleSet, vocab: number, ids: number, ignore: number | null): DatasetMetadata => ({
  pad_id: 0,
  ignore_label_id: ignore,
  blank_identifier_id: 0,
  vocab_size: vocab,
  seq_len: s.seqLen,
  num_puzzle_identifiers: ids,
  total_groups: s.groupIndices.length - 1,
  mean_puzzle_examples: s.numExamples / s.puzzleIdentifiers.length,
  sets: ['all'],
});

const datasetSeed = (train: number[][], test: number[][], T: number, vocab: number, ids: number, ignore: number | null): FileSet =>
  withTemp((dir) => {
    for (const [split, groups] of [['train', train], ['test', test]] as const) {
      const s = seedSet(groups, T, vocab, ids);
      writeSplit(dir, split, metaOf(s, vocab, ids, ignore), { all: s });
    }
    writeIdentifiers(dir, Array.from({ length: ids }, (_, i) => (i === 0 ? '<blank>' : `p${i}`)));
    return readDir(dir);
  });

/** Every invariant of a loaded split, checked from scratch. */
const splitProblems = (s: DatasetSplit, training: boolean): string[] => {
  const m = s.metadata;
  const p: string[] = [];
  if (!(m.pad_id >= 0 && m.pad_id < m.vocab_size)) p.push('pad_id');
  if (m.ignore_label_id !== null && !(m.ignore_label_id >= 0 && m.ignore_label_id < m.vocab_size)) p.push('ignore_label_id');
  if (!(m.blank_identifier_id >= 0 && m.blank_identifier_id < m.num_puzzle_identifiers)) p.push('blank_identifier_id');
  if (m.sets.some((n) => !/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(n))) p.push('set name');
  let G = 0;
  let P = 0;
  let N = 0;
  for (const name of m.sets) {
    const set = s.sets[name];
    if (set === undefined) {
      p.push(`set ${name} missing`);
      continue;
    }
    const T = m.seq_len;
    if (set.seqLen !== T || set.inputs.length !== set.numExamples * T || set.labels.length !== set.numExamples * T) p.push('array sizes');
    for (const a of [set.inputs, set.labels]) for (let i = 0; i < a.length; i++) if (!(a[i] >= 0 && a[i] < m.vocab_size)) p.push(`token ${a[i]}`);
    const pi = set.puzzleIndices;
    const gi = set.groupIndices;
    if (pi.length !== set.puzzleIdentifiers.length + 1 || pi[0] !== 0 || pi.at(-1) !== set.numExamples) p.push('puzzle_indices ends');
    for (let i = 1; i < pi.length; i++) if (pi[i] < pi[i - 1]) p.push('puzzle_indices order');
    if (gi[0] !== 0 || gi.at(-1) !== set.puzzleIdentifiers.length) p.push('group_indices ends');
    for (let i = 1; i < gi.length; i++) if (gi[i] < gi[i - 1] || (training && gi[i] === gi[i - 1])) p.push('group_indices order or empty group');
    for (const id of set.puzzleIdentifiers) if (!(id >= 0 && id < m.num_puzzle_identifiers)) p.push(`identifier ${id}`);
    G += gi.length - 1;
    P += set.puzzleIdentifiers.length;
    N += set.numExamples;
  }
  if (m.total_groups !== G) p.push(`total_groups ${m.total_groups} vs ${G}`);
  if (Math.abs(m.mean_puzzle_examples - (P ? N / P : 0)) > 1e-9 * Math.max(1, N / Math.max(P, 1))) p.push('mean_puzzle_examples');
  return p.slice(0, 5);
};

const dataset: FuzzTarget = {
  name: 'dataset.json + arrays',
  memoryBound: '≤ 2 × the files’ total size + 1 MiB (each array read once, index arrays widened to int32)',
  maxExtraBytes: (n) => 2 * n + MiB,
  seeds: () => [datasetSeed([[1], [1], [1, 1]], [[1], [1]], 16, 6, 1 + 3, 0), datasetSeed([[2, 3], [1]], [[2], [3, 1]], 9, 11, 1 + 5, null)],
  load: (dir) => ({ train: readSplit(dir, 'train'), test: readSplit(dir, 'test'), identifiers: readIdentifiers(dir) }),
  invalid: (r) => {
    const d = r as { train: DatasetSplit; test: DatasetSplit; identifiers: string[] };
    return [...splitProblems(d.train, true), ...splitProblems(d.test, false), ...(d.identifiers.every((s) => typeof s === 'string') ? [] : ['identifiers'])];
  },
};

// ---- safetensors + checkpoint metadata --------------------------------------------------------

const TINY: HrmConfig = decodeConfig(
  {
    description: 'fuzz seed',
    arch: { seq_len: 4, num_puzzle_identifiers: 3, vocab_size: 5, H_cycles: 1, L_cycles: 1, H_layers: 1, L_layers: 1, hidden_size: 4, expansion: 0.2, num_heads: 1, pos_encodings: 'rope', halt_max_steps: 3, halt_exploration_prob: 0.1 },
    train: { global_batch_size: 2, epochs: 2, eval_interval: 1 },
  },
  'fuzz seed',
);

const checkpointSeed = (withCarry: boolean, dtype: 'F32' | 'F64'): FileSet => {
  const layout = buildLayout(TINY.arch);
  let k = 0;
  const t = (shape: readonly number[], scale: number, positive = false): Tensor<Float64Array> =>
    wrap64(shape, Float64Array.from({ length: product(shape) }, () => (positive ? 1 : -0.5) * scale * Math.fround(Math.sin(++k) ** 2 + (positive ? 0 : 0.25))));
  const params = new Map(layout.map((e) => [e.name, t(e.shape, 1)] as const));
  const names = layout.filter((e) => e.kind === 'parameter');
  const S = deriveSizes(TINY.arch).totalSeqLen;
  const B = 2;
  const T = TINY.arch.seq_len;
  const c: Checkpoint = {
    config: TINY,
    state: {
      parameters: params,
      adamM: new Map(names.map((e) => [e.name, t(e.shape, 0.01)] as const)),
      adamV: new Map(names.map((e) => [e.name, t(e.shape, 0.001, true)] as const)),
      optimizerStep: 7,
      rng: { s: [1, 2, 3, 4] },
    },
    progress: { step: 7, iteration: 1, data: { seed: 0, iteration: 2, cursor: 1, rng: { s: [5, 6, 7, 8] } }, dataPath: '/data/sudoku', lastEval: { exact_accuracy: 0.5, accuracy: 0.75 } },
    carry: withCarry
      ? {
          zH: t([B, S, TINY.arch.hidden_size], 1),
          zL: t([B, S, TINY.arch.hidden_size], 1),
          steps: Int32Array.of(1, 3),
          halted: Uint8Array.of(0, 1),
          currentData: {
            inputs: Int32Array.from({ length: B * T }, (_, i) => i % 5),
            labels: Int32Array.from({ length: B * T }, (_, i) => (i % 3 === 0 ? IGNORE_LABEL : i % 5)),
            puzzleIdentifiers: Int32Array.of(1, 2),
            batchSize: B,
            seqLen: T,
          },
        }
      : undefined,
    dtype,
  };
  return { 'step_0000007.safetensors': encodeCheckpoint(c) };
};

/** Edits the JSON header of a safetensors file (pick 0) or one JSON string of its metadata. */
const editSafetensorsJson = (bytes: Uint8Array, edits: readonly JsonEdit[], pick: number): Uint8Array | undefined => {
  if (bytes.length < 8) return undefined;
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (8 + n > bytes.length) return undefined;
  const headerText = new TextDecoder().decode(bytes.subarray(8, 8 + n));
  let edited: string;
  const keys = ['config', 'progress', 'rng', 'optimizer_step'];
  if (pick % 5 === 0) edited = applyJson(headerText, edits);
  else {
    let header: { __metadata__?: Record<string, string> };
    try {
      header = JSON.parse(headerText);
    } catch {
      return undefined;
    }
    const meta = header.__metadata__;
    const key = keys[(pick % 5) - 1];
    if (meta === undefined || typeof meta[key] !== 'string') return undefined;
    meta[key] = applyJson(meta[key], edits);
    edited = JSON.stringify(header);
  }
  const h = text(edited);
  const out = new Uint8Array(8 + h.length + bytes.length - 8 - n);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(bytes.subarray(8 + n), 8 + h.length);
  return out;
};

const checkpoint: FuzzTarget = {
  name: 'safetensors + checkpoint metadata',
  editNestedJson: editSafetensorsJson,
  memoryBound: '≤ 4 × the file size + 1 MiB (the bytes, one copy per tensor, float32 widened to float64)',
  maxExtraBytes: (n) => 4 * n + MiB,
  seeds: () => [checkpointSeed(false, 'F32'), checkpointSeed(true, 'F64')],
  load: (dir) => {
    const f = path.join(dir, 'step_0000007.safetensors');
    return decodeCheckpoint(readBytes(f), f);
  },
  invalid: (r) => {
    const c = r as Checkpoint;
    const p: string[] = [];
    const finite = (m: ReadonlyMap<string, Tensor<Float64Array>>, what: string, min = -Infinity): void => {
      for (const [n, x] of m) for (const v of x.data) if (!(Number.isFinite(v) && v >= min)) p.push(`${what} ${n} holds ${v}`);
    };
    finite(c.state.parameters, 'parameter');
    finite(c.state.adamM, 'adam_m');
    finite(c.state.adamV, 'adam_v', 0);
    const pr = c.progress;
    if (!(Number.isSafeInteger(pr.step) && pr.step >= 0 && pr.step === c.state.optimizerStep)) p.push(`step ${pr.step} / optimizer_step ${c.state.optimizerStep}`);
    if (!(Number.isSafeInteger(pr.iteration) && pr.iteration >= 0)) p.push(`iteration ${pr.iteration}`);
    const u32 = (s: readonly number[]): boolean => s.length === 4 && s.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff) && s.some((w) => w !== 0);
    if (!u32(c.state.rng.s)) p.push('rng');
    const d = pr.data as { seed: number; iteration: number; cursor: number; rng: { s: number[] } | null } | null;
    if (d !== null && !(Number.isSafeInteger(d.seed) && Number.isSafeInteger(d.iteration) && d.iteration >= 0 && Number.isSafeInteger(d.cursor) && d.cursor >= 0 && (d.rng === null || u32(d.rng.s)))) p.push('data state');
    try {
      decodeConfig(JSON.parse(JSON.stringify(c.config)), 'config');
    } catch (e) {
      p.push(`config ${(e as Error).message}`);
    }
    const k = c.carry;
    if (k !== undefined) {
      const a = c.config.arch;
      if (![...k.halted].every((v) => v === 0 || v === 1)) p.push('halted');
      if (![...k.steps].every((v) => v >= 0 && v <= a.halt_max_steps)) p.push('steps');
      if (![...k.currentData.inputs].every((v) => v >= 0 && v < a.vocab_size)) p.push('carry inputs');
      if (![...k.currentData.labels].every((v) => v === IGNORE_LABEL || (v >= 0 && v < a.vocab_size))) p.push('carry labels');
      if (![...k.currentData.puzzleIdentifiers].every((v) => v >= 0 && v < a.num_puzzle_identifiers)) p.push('carry identifiers');
      if (![...k.zH.data, ...k.zL.data].every(Number.isFinite)) p.push('carry states');
    }
    return p.slice(0, 5);
  },
};

// ---- zip ---------------------------------------------------------------------------------------

const zipSeed = (deflate: boolean, zip64: boolean): FileSet => ({
  'archive.zip': writeZip(
    [
      { name: 'archive/data.pkl', data: text('pickle bytes '.repeat(20)), deflate },
      { name: 'archive/data/0', data: Uint8Array.from({ length: 256 }, (_, i) => i), deflate },
      { name: 'archive/version', data: text('3\n') },
    ],
    { align: zip64 ? 64 : 1, zip64EndRecords: zip64 },
  ),
});

const zip: FuzzTarget = {
  name: 'zip',
  memoryBound: '≤ 2 × the file size + the declared entry sizes (capped by the reader) + 1 MiB',
  maxExtraBytes: (n) => 2 * n + 16 * MiB,
  seeds: () => [zipSeed(false, false), zipSeed(true, false), zipSeed(false, true), zipSeed(true, true)],
  load: (dir) => {
    const f = path.join(dir, 'archive.zip');
    const z = readZip(readBytes(f), f);
    return { z, data: z.entries.map((e) => z.read(e)) };
  },
  invalid: (r) => {
    const { z, data } = r as { z: ZipArchive; data: Uint8Array[] };
    const p: string[] = [];
    z.entries.forEach((e, i) => {
      if (data[i].length !== e.size) p.push(`${e.name}: ${data[i].length} bytes, declared ${e.size}`);
      if (crc32(data[i]) !== e.crc32 >>> 0) p.push(`${e.name}: CRC`);
    });
    return p;
  },
};

// ---- pickle / torch checkpoint -------------------------------------------------------------------

const torch: FuzzTarget = {
  name: 'pickle/torch checkpoint',
  memoryBound: '≤ 2 × the file size + the declared tensors (capped by the reader) + 1 MiB',
  maxExtraBytes: (n) => 3 * n + 16 * MiB,
  seeds: () => [{ checkpoint: new Uint8Array(fs.readFileSync(path.join(ROOT, 'fixtures/official-parity/arc-learned/checkpoint'))) }],
  load: (dir) => {
    const f = path.join(dir, 'checkpoint');
    return readTorchCheckpoint(readBytes(f), f);
  },
  invalid: (r) => {
    const p: string[] = [];
    for (const [k, t] of r as Map<string, CheckpointTensor>) {
      if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) p.push(`${k}: shape`);
      if (t.data.length !== product(t.shape)) p.push(`${k}: ${t.data.length} values for [${t.shape}]`);
    }
    return p;
  },
};

// ---- Sudoku / maze CSV ----------------------------------------------------------------------------

const SOLVED = '1234341221434321';
const sudokuCsv = (rows: number): string =>
  'source,question,answer,rating\n' +
  Array.from({ length: rows }, (_, i) => `gen,${[...SOLVED].map((c, k) => ((k * 7 + i) % 3 === 0 ? c : '.')).join('')},${SOLVED},${i}`).join('\n') +
  '\n';
const MAZE_Q = '#####' + '#S  #' + '### #' + '#G  #' + '#####';
const MAZE_A = '#####' + '#Soo#' + '###o#' + '#Goo#' + '#####';
const mazeCsv = (rows: number): string => 'source,question,answer,rating\n' + Array.from({ length: rows }, (_, i) => `m,${MAZE_Q},${MAZE_A},${i}`).join('\n') + '\n';

const csvProblems = (dir: string, kind: 'sudoku' | 'maze'): string[] => {
  const p: string[] = [];
  for (const split of ['train', 'test'] as const) {
    const s = readSplit(path.join(dir, 'out'), split).sets.all;
    const T = s.seqLen;
    for (let e = 0; e < s.numExamples; e++) {
      const input = Array.from(s.inputs.subarray(e * T, (e + 1) * T));
      const label = Array.from(s.labels.subarray(e * T, (e + 1) * T));
      if (kind === 'sudoku') {
        const shape = shapeForSize(Math.round(Math.sqrt(T)));
        if (!isSolutionOf(shape, input.map((v) => v - 1), label.map((v) => v - 1))) p.push(`${split} example ${e}: not a solution`);
      } else if (checkMazeLabel(Math.round(Math.sqrt(T)), input, label) !== null) p.push(`${split} example ${e}: not the shortest path`);
    }
  }
  return p.slice(0, 5);
};

const csv: FuzzTarget = {
  name: 'Sudoku/maze CSV',
  memoryBound: '≤ 64 KiB + one line (≤ 1 MiB) while reading, the rows kept (≤ 4 × the file size), two 1 MiB write buffers',
  maxExtraBytes: (n) => 4 * n + 4 * MiB,
  seeds: (): FileSet[] => [
    { 'sudoku/train.csv': text(sudokuCsv(4)), 'sudoku/test.csv': text(sudokuCsv(2)) },
    { 'maze/train.csv': text(mazeCsv(3)), 'maze/test.csv': text(mazeCsv(1)) },
  ],
  load: async (dir) => {
    const kind = fs.existsSync(path.join(dir, 'sudoku')) ? 'sudoku' : 'maze';
    const input = path.join(dir, kind);
    const out = path.join(dir, 'out');
    if (kind === 'sudoku') await importSudokuCsv({ input, out, numAug: 0, seed: 0 });
    else await importMazeCsv({ input, out, aug: false, seed: 0 });
    return kind;
  },
  invalid: (r, dir) => csvProblems(dir, r as 'sudoku' | 'maze'),
};

// ---- ARC task JSON ------------------------------------------------------------------------------

const arcFiles = (): string[] => {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(d, e.name));
      else if (e.name.endsWith('.json')) out.push(path.join(d, e.name));
    }
  };
  walk(path.join(ROOT, 'fixtures/arc'));
  return out.sort();
};

const arc: FuzzTarget = {
  name: 'ARC JSON',
  memoryBound: '≤ 16 MiB file cap × the JSON expansion (checked: ≤ 64 × the file size + 1 MiB)',
  maxExtraBytes: (n) => 64 * n + MiB,
  seeds: () => arcFiles().map((f) => ({ 'task.json': new Uint8Array(fs.readFileSync(f)) })),
  load: (dir) => readArcTask(path.join(dir, 'task.json')),
  invalid: (r) => {
    const t = r as ArcTask;
    const p: string[] = [];
    for (const pair of [...t.train, ...t.test]) {
      for (const g of [pair.input, pair.output]) {
        if (!(g.rows >= 1 && g.rows <= 30 && g.cols >= 1 && g.cols <= 30 && g.data.length === g.rows * g.cols)) p.push('grid size');
        for (const c of g.data) if (!(c >= 0 && c <= 9)) p.push(`colour ${c}`);
      }
    }
    if (typeof t.name !== 'string') p.push('name');
    return p.slice(0, 5);
  },
};

// ---- config ---------------------------------------------------------------------------------------

const SUDOKU_META: DatasetMetadata = { pad_id: 0, ignore_label_id: 0, blank_identifier_id: 0, vocab_size: 11, seq_len: 81, num_puzzle_identifiers: 1, total_groups: 100, mean_puzzle_examples: 1, sets: ['all'] };

const config: FuzzTarget = {
  name: 'config',
  memoryBound: '≤ 1 MiB file cap × the JSON expansion (checked: ≤ 64 × the file size + 1 MiB)',
  maxExtraBytes: (n) => 64 * n + MiB,
  seeds: () =>
    fs
      .readdirSync(path.join(ROOT, 'configs'))
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => ({ 'config.json': new Uint8Array(fs.readFileSync(path.join(ROOT, 'configs', f))) })),
  load: (dir) => {
    const c = assembleConfig(path.join(dir, 'config.json'), SUDOKU_META, []);
    return { c, sizes: sizeProblems(c, 4, 64 * 2 ** 30) };
  },
  invalid: (r) => {
    const { c } = r as { c: HrmConfig };
    const a = c.arch;
    const p: string[] = [];
    if (!a.mlp_t && a.hidden_size % a.num_heads !== 0) p.push('heads'); // with mlp_t there is no attention: num_heads is not read
    if (deriveSizes(a).swigluInter < 1) p.push('mlp');
    if (c.train.epochs % c.train.eval_interval !== 0) p.push('eval_interval');
    if (a.seq_len !== 81 || a.vocab_size !== 11) p.push('injected fields');
    for (const v of [...Object.values(a), ...Object.values(c.train)]) if (typeof v === 'number' && !Number.isFinite(v)) p.push('non-finite');
    if (Object.getPrototypeOf(a) !== Object.prototype || Object.getPrototypeOf(c.train) !== Object.prototype) p.push('prototype');
    return p;
  },
};

// ---- the one weights loader: plain safetensors or a torch checkpoint, with the config beside it ----

const FIXTURE = path.join(ROOT, 'fixtures/official-parity/arc-learned');
const fixtureConfig = (): HrmConfig => configFromFixture(JSON.parse(fs.readFileSync(path.join(FIXTURE, 'config.json'), 'utf8')), 'config.json');

/** TINY's parameters as float32 (what an exported or original file holds), deterministic values. */
const tinyWeights = (): { key: string; shape: readonly number[]; data: Float32Array }[] =>
  buildLayout(TINY.arch).map((e, j) => ({ key: e.name, shape: e.shape, data: Float32Array.from({ length: product(e.shape) }, (_, i) => Math.sin(1 + i + 97 * j) / 2) }));

/** Every invariant of loaded weights, checked from scratch: the config decodes, the parameters are its layout exactly, finite. */
const weightsProblems = (r: unknown): string[] => {
  const { checkpoint: c } = r as LoadedCheckpoint;
  const p: string[] = [];
  try {
    decodeConfig(JSON.parse(JSON.stringify(c.config)), 'config');
  } catch (e) {
    return [`config ${(e as Error).message.slice(0, 200)}`];
  }
  const layout = buildLayout(c.config.arch);
  if (c.state.parameters.size !== layout.length) p.push(`${c.state.parameters.size} parameters, layout has ${layout.length}`);
  for (const e of layout) {
    const t = c.state.parameters.get(e.name);
    if (t === undefined) p.push(`${e.name} missing`);
    else if (t.shape.join() !== e.shape.join() || t.data.length !== product(e.shape)) p.push(`${e.name}: shape [${t.shape}], layout [${e.shape}]`);
    else if (!t.data.every(Number.isFinite)) p.push(`${e.name}: not finite`);
  }
  if (!(Number.isSafeInteger(c.progress.step) && c.progress.step >= 0 && c.progress.step === c.state.optimizerStep)) p.push(`step ${c.progress.step}`);
  return p.slice(0, 5);
};

const weightsSafetensors: FuzzTarget = {
  name: 'weights loader: safetensors + config JSON',
  memoryBound: '≤ 4 × the files’ size + 1 MiB (the bytes, float32 tensors widened to float64)',
  maxExtraBytes: (n) => 4 * n + MiB,
  seeds: () => [
    {
      'weights.safetensors': writeSafetensors(tinyWeights().map((t) => [t.key, { dtype: 'F32', shape: t.shape, data: t.data }] as const), {}),
      'config.json': text(JSON.stringify({ description: 'fuzz seed', arch: TINY.arch, train: TINY.train }, null, 2)),
    },
    { 'weights.safetensors': new Uint8Array(fs.readFileSync(path.join(FIXTURE, 'weights.safetensors'))), 'config.json': new Uint8Array(fs.readFileSync(path.join(FIXTURE, 'config.json'))) },
  ],
  load: (dir) => loadWeights(path.join(dir, 'weights.safetensors')),
  invalid: weightsProblems,
};

const weightsTorch: FuzzTarget = {
  name: 'weights loader: torch checkpoint + all_config.yaml',
  memoryBound: '≤ 4 × the files’ size + 16 MiB (entries inflated one at a time within their declared sizes, float32 widened to float64)',
  maxExtraBytes: (n) => 4 * n + 16 * MiB,
  seeds: (): FileSet[] => {
    const sink = memorySink();
    writeTorchCheckpoint(sink, tinyWeights().map((t) => ({ ...t, key: `_orig_mod.model.inner.${t.key}`, dtype: 'float32' as const })), { stem: 'step_7' });
    return [
      { step_7: sink.bytes(), 'all_config.yaml': text(allConfigYaml(TINY, 'float32', '/nowhere/data')) },
      { step_5: new Uint8Array(fs.readFileSync(path.join(FIXTURE, 'checkpoint'))), 'all_config.yaml': text(allConfigYaml(fixtureConfig(), 'bfloat16', '/nowhere/data')) },
    ];
  },
  load: (dir) => {
    // the sizes the original takes from its dataset (seq_len is in no weight; without a puzzle table, neither is the identifier count)
    const a = fs.existsSync(path.join(dir, 'step_7')) ? TINY.arch : fixtureConfig().arch;
    return loadWeights(dir, { sizes: { seq_len: a.seq_len, ...(a.puzzle_emb_ndim === 0 ? { num_puzzle_identifiers: a.num_puzzle_identifiers } : {}) } });
  },
  invalid: weightsProblems,
};

export const TARGETS: readonly FuzzTarget[] = [npy, dataset, checkpoint, zip, torch, weightsSafetensors, weightsTorch, csv, arc, config];
