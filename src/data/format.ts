// The on-disk puzzle dataset format of the original builders (spec §6.1):
//   <out>/identifiers.json, <out>/{train,test}/dataset.json, <out>/{train,test}/<set>__{inputs,labels,
//   puzzle_identifiers,puzzle_indices,group_indices}.npy
// Reading (every file decoded through io-ts codecs and checked for consistency; errors name the file
// and the field) and writing (streamed, so multi-gigabyte ARC splits never sit in memory at once).
// Batching lives in src/data/loader.ts; the builders in src/data/{sudoku,maze,arc}.

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as t from 'io-ts';
import { isLeft } from 'fp-ts/lib/Either.js';
import { PathReporter } from 'io-ts/lib/PathReporter.js';
import { decodeNpy, encodeNpy, npyHeader, type NpyData } from './npy.ts';
import { PyFloat, pyJsonDumps } from './pyjson.ts';

export type SplitName = 'train' | 'test';
export const SET_NAME = 'all';

/**
 * dataset.json (pydantic `PuzzleDatasetMetadata`, field order as dumped). `total_puzzles` (the
 * number of puzzles in the split) is TRM's addition, which its loader requires; HRM's loader
 * ignores it (its pydantic model has no such field and pydantic ignores extra fields by default).
 */
export interface DatasetMetadata {
  readonly pad_id: number;
  readonly ignore_label_id: number | null;
  readonly blank_identifier_id: number;
  readonly vocab_size: number;
  readonly seq_len: number;
  readonly num_puzzle_identifiers: number;
  readonly total_groups: number;
  readonly mean_puzzle_examples: number;
  readonly sets: readonly string[];
  readonly total_puzzles?: number;
}

const Int = t.refinement(t.number, (n) => Number.isSafeInteger(n), 'integer');
const NonNegInt = t.refinement(t.number, (n) => Number.isSafeInteger(n) && n >= 0, 'non-negative integer');
const PosInt = t.refinement(t.number, (n) => Number.isSafeInteger(n) && n > 0, 'positive integer');

export const DatasetMetadataCodec = t.intersection([
  t.type({
    pad_id: Int,
    ignore_label_id: t.union([Int, t.null]),
    blank_identifier_id: NonNegInt,
    vocab_size: PosInt,
    seq_len: PosInt,
    num_puzzle_identifiers: PosInt,
    total_groups: NonNegInt,
    mean_puzzle_examples: t.number,
    sets: t.array(t.string),
  }),
  t.partial({ total_puzzles: NonNegInt }),
]);
const METADATA_KEYS = [
  'pad_id',
  'ignore_label_id',
  'blank_identifier_id',
  'vocab_size',
  'seq_len',
  'num_puzzle_identifiers',
  'total_groups',
  'mean_puzzle_examples',
  'sets',
  'total_puzzles',
];

export const IdentifiersCodec = t.array(t.string);

/** Token arrays keep their stored width (uint8 from the builders); collation casts to int32. */
export type TokenArray = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array;

/** One set of one split: examples [N, T], puzzles [P], groups [G]. */
export interface PuzzleSet {
  readonly inputs: TokenArray; // [N, T]
  readonly labels: TokenArray; // [N, T]
  readonly puzzleIdentifiers: Int32Array; // [P]
  readonly puzzleIndices: Int32Array; // [P + 1] example offsets
  readonly groupIndices: Int32Array; // [G + 1] puzzle offsets
  readonly numExamples: number;
  readonly seqLen: number;
}

export interface DatasetSplit {
  readonly dir: string;
  readonly metadata: DatasetMetadata;
  readonly sets: Readonly<Record<string, PuzzleSet>>;
}

/** Decodes `raw` with `codec` or throws an error naming `file` and the failing field(s). */
export const decodeOrThrow = <A>(codec: t.Type<A, unknown, unknown>, raw: unknown, file: string): A => {
  const r = codec.decode(raw);
  if (isLeft(r)) throw new Error(`${file}: ${PathReporter.report(r).join('; ')}`);
  return r.right;
};

const readJson = (file: string): unknown => {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: invalid JSON (${(e as Error).message})`);
  }
};

/** Reads a whole file into a fresh Uint8Array (chunked, so files above 2 GiB work). */
export const readBytes = (file: string): Uint8Array => {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    throw new Error(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    const size = fs.fstatSync(fd).size;
    const out = new Uint8Array(size);
    let off = 0;
    while (off < size) {
      const n = fs.readSync(fd, out, off, Math.min(1 << 30, size - off), off);
      if (n <= 0) break;
      off += n;
    }
    return off === size ? out : out.subarray(0, off);
  } finally {
    fs.closeSync(fd);
  }
};

/** Reads identifiers.json (index = puzzle identifier, 0 = "<blank>"). */
export const readIdentifiers = (datasetDir: string): string[] =>
  decodeOrThrow(IdentifiersCodec, readJson(path.join(datasetDir, 'identifiers.json')), path.join(datasetDir, 'identifiers.json'));

/** Reads and validates <dir>/<split>/dataset.json (unknown keys are rejected by name). */
export const readMetadata = (datasetDir: string, split: SplitName): DatasetMetadata => {
  const file = path.join(datasetDir, split, 'dataset.json');
  const raw = readJson(file);
  if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
    const unknown = Object.keys(raw).filter((k) => !METADATA_KEYS.includes(k));
    if (unknown.length > 0) throw new Error(`${file}: unknown field(s) ${unknown.map((k) => `'${k}'`).join(', ')}`);
  }
  return decodeOrThrow(DatasetMetadataCodec, raw, file);
};

const asInt32 = (data: NpyData, file: string): Int32Array => {
  if (data instanceof Int32Array) return data;
  const out = new Int32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v > 2147483647) throw new Error(`${file}: value ${v} at index ${i} does not fit in int32`);
    out[i] = v;
  }
  return out;
};

/** Checks that offsets start at 0, never decrease and end at `total`; names the file on failure. */
const checkOffsets = (a: Int32Array, total: number, file: string, what: string): void => {
  if (a.length < 1 || a[0] !== 0) throw new Error(`${file}: ${what} must start with 0`);
  for (let i = 1; i < a.length; i++) {
    if (a[i] < a[i - 1]) throw new Error(`${file}: ${what} decrease at index ${i} (${a[i - 1]} → ${a[i]})`);
  }
  if (a[a.length - 1] !== total) throw new Error(`${file}: ${what} end at ${a[a.length - 1]}, expected ${total}`);
};

/** Reads one set (`<set>__*.npy`) of a split directory and checks it against the metadata. */
export const readPuzzleSet = (splitDir: string, setName: string, metadata: DatasetMetadata): PuzzleSet => {
  const f = (k: string): string => path.join(splitDir, `${setName}__${k}.npy`);
  const load = (k: string) => decodeNpy(readBytes(f(k)), f(k));
  const inputs = load('inputs');
  const labels = load('labels');
  const ids = load('puzzle_identifiers');
  const pidx = load('puzzle_indices');
  const gidx = load('group_indices');
  const T = metadata.seq_len;
  for (const [k, a] of [
    ['inputs', inputs],
    ['labels', labels],
  ] as const) {
    if (a.shape.length !== 2 || a.shape[1] !== T) {
      throw new Error(`${f(k)}: shape [${a.shape.join(', ')}], expected [N, ${T}] (seq_len from dataset.json)`);
    }
  }
  const N = inputs.shape[0];
  if (labels.shape[0] !== N) throw new Error(`${f('labels')}: ${labels.shape[0]} rows, ${f('inputs')} has ${N}`);
  for (const [k, a] of [
    ['puzzle_identifiers', ids],
    ['puzzle_indices', pidx],
    ['group_indices', gidx],
  ] as const) {
    if (a.shape.length !== 1) throw new Error(`${f(k)}: shape [${a.shape.join(', ')}], expected one dimension`);
  }
  const puzzleIdentifiers = asInt32(ids.data, f('puzzle_identifiers'));
  const puzzleIndices = asInt32(pidx.data, f('puzzle_indices'));
  const groupIndices = asInt32(gidx.data, f('group_indices'));
  const P = puzzleIdentifiers.length;
  if (puzzleIndices.length !== P + 1) {
    throw new Error(`${f('puzzle_indices')}: length ${puzzleIndices.length}, expected ${P + 1} (puzzle_identifiers has ${P})`);
  }
  checkOffsets(puzzleIndices, N, f('puzzle_indices'), 'puzzle_indices');
  checkOffsets(groupIndices, P, f('group_indices'), 'group_indices');
  for (let i = 0; i < P; i++) {
    const id = puzzleIdentifiers[i];
    if (id < 0 || id >= metadata.num_puzzle_identifiers) {
      throw new Error(`${f('puzzle_identifiers')}: identifier ${id} at index ${i} outside [0, ${metadata.num_puzzle_identifiers}) (num_puzzle_identifiers)`);
    }
  }
  for (const [k, a] of [
    ['inputs', inputs],
    ['labels', labels],
  ] as const) {
    const d = a.data;
    for (let i = 0; i < d.length; i++) {
      const v = d[i];
      if (v < 0 || v >= metadata.vocab_size) {
        throw new Error(`${f(k)}: token ${v} at example ${Math.floor(i / T)}, position ${i % T} outside [0, ${metadata.vocab_size}) (vocab_size)`);
      }
    }
  }
  return {
    inputs: inputs.data,
    labels: labels.data,
    puzzleIdentifiers,
    puzzleIndices,
    groupIndices,
    numExamples: N,
    seqLen: T,
  };
};

/** Reads one split (metadata + every set it lists). */
export const readSplit = (datasetDir: string, split: SplitName): DatasetSplit => {
  const metadata = readMetadata(datasetDir, split);
  const dir = path.join(datasetDir, split);
  const sets: Record<string, PuzzleSet> = {};
  for (const s of metadata.sets) sets[s] = readPuzzleSet(dir, s, metadata);
  return { dir, metadata, sets };
};

// ---------------------------------------------------------------------------------------------
// Writing

/** Writes a file in one go, creating its directory. */
const writeFile = (file: string, data: string | Uint8Array): void => {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, data);
};

/** identifiers.json as Python's json.dump writes it. */
export const writeIdentifiers = (datasetDir: string, identifiers: readonly string[]): void =>
  writeFile(path.join(datasetDir, 'identifiers.json'), pyJsonDumps(identifiers));

/** dataset.json as pydantic's model_dump + json.dump write it (mean_puzzle_examples is a float). */
export const metadataJson = (m: DatasetMetadata): string =>
  pyJsonDumps({
    pad_id: m.pad_id,
    ignore_label_id: m.ignore_label_id,
    blank_identifier_id: m.blank_identifier_id,
    vocab_size: m.vocab_size,
    seq_len: m.seq_len,
    num_puzzle_identifiers: m.num_puzzle_identifiers,
    total_groups: m.total_groups,
    mean_puzzle_examples: new PyFloat(m.mean_puzzle_examples),
    ...(m.total_puzzles === undefined ? {} : { total_puzzles: m.total_puzzles }),
    sets: m.sets,
  });

/** Writes a whole in-memory set (and the split's dataset.json) in the original layout. */
export const writeSplit = (datasetDir: string, split: SplitName, metadata: DatasetMetadata, sets: Readonly<Record<string, PuzzleSet>>): void => {
  const dir = path.join(datasetDir, split);
  for (const [name, s] of Object.entries(sets)) {
    const P = s.puzzleIdentifiers.length;
    const G = s.groupIndices.length - 1;
    writeFile(path.join(dir, `${name}__inputs.npy`), encodeNpy('uint8', [s.numExamples, s.seqLen], s.inputs));
    writeFile(path.join(dir, `${name}__labels.npy`), encodeNpy('uint8', [s.numExamples, s.seqLen], s.labels));
    writeFile(path.join(dir, `${name}__puzzle_identifiers.npy`), encodeNpy('int32', [P], s.puzzleIdentifiers));
    writeFile(path.join(dir, `${name}__puzzle_indices.npy`), encodeNpy('int32', [P + 1], s.puzzleIndices));
    writeFile(path.join(dir, `${name}__group_indices.npy`), encodeNpy('int32', [G + 1], s.groupIndices));
  }
  writeFile(path.join(dir, 'dataset.json'), metadataJson(metadata));
};

/** Appends uint8 rows to a .npy file whose first-axis length is patched in at close. */
class NpyRowWriter {
  private readonly fd: number;
  private rows = 0;
  private readonly buf: Uint8Array;
  private fill = 0;
  private offset: number;
  private readonly headerLength: number;

  constructor(
    private readonly file: string,
    private readonly rowLength: number,
  ) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.fd = fs.openSync(file, 'w');
    const header = npyHeader('uint8', [0, rowLength]);
    this.headerLength = header.length;
    fs.writeSync(this.fd, header, 0, header.length, 0);
    this.offset = header.length;
    this.buf = new Uint8Array(Math.max(rowLength, 1 << 20));
  }

  /** Appends one row of `rowLength` tokens (0..255). */
  push(row: ArrayLike<number>): void {
    if (row.length !== this.rowLength) throw new Error(`${this.file}: row of ${row.length} tokens, expected ${this.rowLength}`);
    if (this.fill + this.rowLength > this.buf.length) this.flush();
    this.buf.set(row, this.fill);
    this.fill += this.rowLength;
    this.rows++;
  }

  private flush(): void {
    let done = 0;
    while (done < this.fill) done += fs.writeSync(this.fd, this.buf, done, this.fill - done, this.offset + done);
    this.offset += this.fill;
    this.fill = 0;
  }

  /** Writes the final header (same length as the provisional one: NumPy's growth padding). */
  close(): number {
    this.flush();
    const header = npyHeader('uint8', [this.rows, this.rowLength]);
    if (header.length !== this.headerLength) throw new Error(`${this.file}: header length changed`);
    fs.writeSync(this.fd, header, 0, header.length, 0);
    fs.closeSync(this.fd);
    return this.rows;
  }

  /** Closes and removes a partial file. */
  abort(): void {
    try {
      fs.closeSync(this.fd);
    } catch {
      /* already closed */
    }
    fs.rmSync(this.file, { force: true });
  }
}

/** The fixed part of a split's metadata; counts are filled in by SplitWriter. */
export type MetadataBase = Pick<DatasetMetadata, 'pad_id' | 'ignore_label_id' | 'blank_identifier_id' | 'vocab_size' | 'seq_len'>;

/**
 * Streams one split ("all" set) to disk: puzzles (identifier + examples) grouped into groups.
 * Examples go to disk as they come; only the index arrays stay in memory.
 */
export class SplitWriter {
  private readonly inputs: NpyRowWriter;
  private readonly labels: NpyRowWriter;
  private readonly ids: number[] = [];
  private readonly puzzleIndices: number[] = [0];
  private readonly groupIndices: number[] = [0];
  private examples = 0;
  private readonly dir: string;

  constructor(
    datasetDir: string,
    readonly split: SplitName,
    private readonly base: MetadataBase,
  ) {
    this.dir = path.join(datasetDir, split);
    this.inputs = new NpyRowWriter(path.join(this.dir, `${SET_NAME}__inputs.npy`), base.seq_len);
    this.labels = new NpyRowWriter(path.join(this.dir, `${SET_NAME}__labels.npy`), base.seq_len);
  }

  /** Adds one puzzle of the current group: its identifier and its examples (input/label rows [T]). */
  addPuzzle(identifier: number, examples: readonly { readonly input: ArrayLike<number>; readonly label: ArrayLike<number> }[]): void {
    for (const e of examples) {
      this.inputs.push(e.input);
      this.labels.push(e.label);
    }
    this.examples += examples.length;
    this.ids.push(identifier);
    this.puzzleIndices.push(this.examples);
  }

  /** Closes the current group (a no-op group is written if it holds no puzzle, as the builders do). */
  endGroup(): void {
    this.groupIndices.push(this.ids.length);
  }

  get numGroups(): number {
    return this.groupIndices.length - 1;
  }
  get numPuzzles(): number {
    return this.ids.length;
  }
  get numExamples(): number {
    return this.examples;
  }

  /** Finishes the files and writes dataset.json; returns the metadata written. */
  close(numPuzzleIdentifiers: number, opts: { meanPuzzleExamples?: number } = {}): DatasetMetadata {
    this.inputs.close();
    this.labels.close();
    const P = this.ids.length;
    writeFile(path.join(this.dir, `${SET_NAME}__puzzle_identifiers.npy`), encodeNpy('int32', [P], this.ids));
    writeFile(path.join(this.dir, `${SET_NAME}__puzzle_indices.npy`), encodeNpy('int32', [P + 1], this.puzzleIndices));
    writeFile(path.join(this.dir, `${SET_NAME}__group_indices.npy`), encodeNpy('int32', [this.groupIndices.length], this.groupIndices));
    const metadata: DatasetMetadata = {
      ...this.base,
      num_puzzle_identifiers: numPuzzleIdentifiers,
      total_groups: this.numGroups,
      mean_puzzle_examples: opts.meanPuzzleExamples ?? (P > 0 ? this.examples / P : 0),
      total_puzzles: P,
      sets: [SET_NAME],
    };
    writeFile(path.join(this.dir, 'dataset.json'), metadataJson(metadata));
    return metadata;
  }

  /** Removes the partial token files after a failure. */
  abort(): void {
    this.inputs.abort();
    this.labels.abort();
  }
}
