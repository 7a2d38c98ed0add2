// The on-disk puzzle dataset format of the original builders (spec §6.1):
//   <out>/identifiers.json, <out>/{train,test}/dataset.json, <out>/{train,test}/<set>__{inputs,labels,
//   puzzle_identifiers,puzzle_indices,group_indices}.npy
// Reading (every file decoded through io-ts codecs and checked for consistency; errors name the file
// and the field) and writing (streamed, so multi-gigabyte ARC splits never sit in memory at once).
// Batching lives in src/data/loader.ts; the builders in src/data/{sudoku,maze,arc}; decoding from
// bytes and the consistency checks (shared with the browser) in src/data/dataset.ts.

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ensureDir, readFileBounded, readJsonFile, withFileErrors } from '../io/files.ts';
import { encodeNpy, npyHeader } from './npy.ts';
import { checkSplitCounts, DATASET_LIMITS, decodeMetadata, decodeOrThrow, decodePuzzleSet, IdentifiersCodec, SET_NAME, type DatasetMetadata, type DatasetSplit, type PuzzleSet, type SplitName } from './dataset.ts';
export * from './dataset.ts';
import { PyFloat, pyJsonDumps } from './pyjson.ts';

/** Reads a whole .npy (or other) file into a fresh Uint8Array, bounded by DATASET_LIMITS.npyBytes. */
export const readBytes = (file: string): Uint8Array => readFileBounded(file, DATASET_LIMITS.npyBytes, '.npy array');

/** Reads identifiers.json (index = puzzle identifier, 0 = "<blank>"). */
export const readIdentifiers = (datasetDir: string): string[] =>
  decodeOrThrow(IdentifiersCodec, readJsonFile(path.join(datasetDir, 'identifiers.json'), DATASET_LIMITS.identifiersBytes, 2), path.join(datasetDir, 'identifiers.json'));

/** Reads and validates <dir>/<split>/dataset.json (unknown keys are rejected by name). */
export const readMetadata = (datasetDir: string, split: SplitName): DatasetMetadata => {
  const file = path.join(datasetDir, split, 'dataset.json');
  return decodeMetadata(readJsonFile(file, DATASET_LIMITS.metadataBytes, 4), file);
};

/**
 * Reads one set (`<set>__*.npy`) of a split directory and checks it against the metadata; a
 * `training` set may not hold an empty group.
 */
export const readPuzzleSet = (splitDir: string, setName: string, metadata: DatasetMetadata, training = false): PuzzleSet =>
  decodePuzzleSet((name) => readBytes(path.join(splitDir, name)), splitDir, setName, metadata, training);

/** Reads one split (metadata + every set it lists). */
export const readSplit = (datasetDir: string, split: SplitName): DatasetSplit => {
  const metadata = readMetadata(datasetDir, split);
  const dir = path.join(datasetDir, split);
  const sets: Record<string, PuzzleSet> = {};
  for (const s of metadata.sets) sets[s] = readPuzzleSet(dir, s, metadata, split === 'train');
  checkSplitCounts(metadata, sets, path.join(dir, 'dataset.json'));
  return { dir, metadata, sets };
};

/**
 * A short fingerprint of a dataset's content: both dataset.json files, identifiers.json, the index
 * arrays, and the size plus first and last MiB of every token array. Cheap (a few MiB read), and
 * different for two datasets of the same shape; used to check a resumed run trains on its data.
 */
export const datasetFingerprint = (datasetDir: string): string => {
  const h = createHash('sha256');
  const add = (file: string, whole: boolean): void => {
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch {
      h.update(`${path.relative(datasetDir, file)}:absent;`);
      return;
    }
    try {
      const size = fs.fstatSync(fd).size;
      h.update(`${path.relative(datasetDir, file)}:${size};`);
      const chunk = 1 << 20;
      const spans = whole || size <= 2 * chunk ? [[0, size]] : [[0, chunk], [size - chunk, chunk]];
      for (const [at, len] of spans) {
        const buf = new Uint8Array(Math.min(len, 1 << 30));
        const n = fs.readSync(fd, buf, 0, buf.length, at);
        h.update(buf.subarray(0, n));
      }
    } finally {
      fs.closeSync(fd);
    }
  };
  add(path.join(datasetDir, 'identifiers.json'), true);
  for (const split of ['train', 'test'] as const) {
    const dir = path.join(datasetDir, split);
    add(path.join(dir, 'dataset.json'), true);
    for (const k of ['puzzle_identifiers', 'puzzle_indices', 'group_indices']) add(path.join(dir, `${SET_NAME}__${k}.npy`), true);
    for (const k of ['inputs', 'labels']) add(path.join(dir, `${SET_NAME}__${k}.npy`), false);
  }
  return h.digest('hex').slice(0, 32);
};

// ---------------------------------------------------------------------------------------------
// Writing

/**
 * Builds a dataset all-or-nothing: `build` writes into a hidden sibling folder of `out`, which
 * replaces `out` (or, when `out` already holds files, only the entries the build wrote) once the
 * build has finished. A failed build leaves `out` as it was and removes the partial folder.
 */
export const buildDatasetAtomically = async <A>(out: string, build: (dir: string) => A | Promise<A>): Promise<A> => {
  const parent = path.dirname(path.resolve(out));
  ensureDir(parent);
  const temp = path.join(parent, `.${path.basename(path.resolve(out))}.partial-${process.pid}`);
  withFileErrors('remove', temp, () => fs.rmSync(temp, { recursive: true, force: true }));
  ensureDir(temp);
  let result: A;
  try {
    result = await build(temp);
  } catch (e) {
    fs.rmSync(temp, { recursive: true, force: true });
    throw e;
  }
  const existing = fs.existsSync(out) ? withFileErrors('list', out, () => fs.readdirSync(out)) : null;
  if (existing === null || existing.length === 0) {
    if (existing !== null) withFileErrors('replace', out, () => fs.rmdirSync(out));
    withFileErrors('move the finished dataset to', out, () => fs.renameSync(temp, out));
  } else {
    for (const entry of fs.readdirSync(temp)) {
      const target = path.join(out, entry);
      withFileErrors('replace', target, () => {
        fs.rmSync(target, { recursive: true, force: true });
        fs.renameSync(path.join(temp, entry), target);
      });
    }
    fs.rmSync(temp, { recursive: true, force: true });
  }
  return result;
};

/** Writes a file in one go, creating its directory. */
const writeFile = (file: string, data: string | Uint8Array): void => {
  ensureDir(path.dirname(file));
  withFileErrors('write', file, () => fs.writeFileSync(file, data));
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
    ensureDir(path.dirname(file));
    this.fd = withFileErrors('write', file, () => fs.openSync(file, 'w'));
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
    withFileErrors('write', this.file, () => {
      while (done < this.fill) done += fs.writeSync(this.fd, this.buf, done, this.fill - done, this.offset + done);
    });
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
