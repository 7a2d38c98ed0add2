// The on-disk puzzle dataset format of the original builders (spec §6.1) as bytes: metadata and
// identifier codecs, and the decoding and consistency checks of one set's five `.npy` arrays from
// a lookup of file names to bytes. No file access: format.ts reads folders in Node, the web page
// reads a directory picker or fetched files.

import * as t from 'io-ts';
import { isLeft } from 'fp-ts/lib/Either.js';
import { PathReporter } from 'io-ts/lib/PathReporter.js';
import { decodeNpy, type NpyData } from './npy.ts';

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

const SET_ARRAYS = ['inputs', 'labels', 'puzzle_identifiers', 'puzzle_indices', 'group_indices'] as const;

/** Parses JSON text, naming the file when it is not JSON. */
export const parseJsonText = (text: string, file: string): unknown => {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: invalid JSON (${(e as Error).message})`);
  }
};

/** Validates a parsed dataset.json (unknown keys are rejected by name). */
export const decodeMetadata = (raw: unknown, file: string): DatasetMetadata => {
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

/** The file names of one set's five arrays. */
export const setFiles = (setName: string): string[] => SET_ARRAYS.map((k) => `${setName}__${k}.npy`);

/**
 * Decodes one set (`<set>__*.npy`) of a split from `read` (file name → bytes) and checks it against
 * the metadata; errors name `<where>/<file>`.
 */
export const decodePuzzleSet = (read: (file: string) => Uint8Array, where: string, setName: string, metadata: DatasetMetadata): PuzzleSet => {
  const f = (k: string): string => `${where}/${setName}__${k}.npy`;
  const load = (k: string) => decodeNpy(read(`${setName}__${k}.npy`), f(k));
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

