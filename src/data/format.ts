// The on-disk puzzle dataset format of the original builders (spec §6.1):
//   <out>/identifiers.json, <out>/{train,test}/dataset.json, <out>/{train,test}/<set>__{inputs,labels,
//   puzzle_identifiers,puzzle_indices,group_indices}.npy
// Reading (every file decoded through io-ts codecs and checked for consistency; errors name the file
// and the field) and writing (streamed, so multi-gigabyte ARC splits never sit in memory at once).
// Batching lives in src/data/loader.ts; the builders in src/data/{sudoku,maze,arc}; decoding from
// bytes (shared with the browser) in src/data/dataset.ts.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { encodeNpy, npyHeader } from './npy.ts';
import { decodeMetadata, decodeOrThrow, parseJsonText, decodePuzzleSet, IdentifiersCodec, SET_NAME, type DatasetMetadata, type DatasetSplit, type PuzzleSet, type SplitName } from './dataset.ts';
export * from './dataset.ts';
import { PyFloat, pyJsonDumps } from './pyjson.ts';

const readJson = (file: string): unknown => {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseJsonText(text, file);
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
  return decodeMetadata(readJson(file), file);
};

/** Reads one set (`<set>__*.npy`) of a split directory and checks it against the metadata. */
export const readPuzzleSet = (splitDir: string, setName: string, metadata: DatasetMetadata): PuzzleSet =>
  decodePuzzleSet((name) => readBytes(path.join(splitDir, name)), splitDir, setName, metadata);

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
