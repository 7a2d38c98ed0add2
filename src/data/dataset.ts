// The on-disk puzzle dataset format of the original builders (spec §6.1) as bytes: metadata and
// identifier codecs, the decoding and consistency checks of one set's five `.npy` arrays from a
// lookup of file names to bytes, and the cross-checks of dataset.json with those arrays. No file
// access: format.ts reads folders in Node, the web page reads a directory picker or fetched files.

import * as t from 'io-ts';
import { decodeOrThrow, inputError, parseJsonText } from '../io/codec.ts';
import { decodeNpy, type NpyData } from './npy.ts';

/** The bounded JSON parser (nesting ≤ 64, duplicate keys refused) and the codec decoder, as used here. */
export { decodeOrThrow, parseJsonText };

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

/** Size limits of the files of a dataset (memory while reading: each file's size once). */
export const DATASET_LIMITS = Object.freeze({
  /** dataset.json */
  metadataBytes: 1 << 20,
  /** identifiers.json (ARC with 1000 augmentations of 1000 tasks: about 40 MB) */
  identifiersBytes: 1 << 30,
  /** one .npy array */
  npyBytes: 2 ** 36,
});

/** Set names become file names (`<set>__inputs.npy`): letters, digits, '_' and '-' only. */
const SET_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

const SET_ARRAYS = ['inputs', 'labels', 'puzzle_identifiers', 'puzzle_indices', 'group_indices'] as const;

/**
 * Validates a parsed dataset.json: unknown keys rejected by name, every field decoded, and the
 * fields checked against each other (metadataProblems).
 */
export const decodeMetadata = (raw: unknown, file: string): DatasetMetadata => {
  if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
    const unknown = Object.keys(raw).filter((k) => !METADATA_KEYS.includes(k));
    if (unknown.length > 0) throw inputError(file, `unknown field(s) ${unknown.map((k) => `'${k}'`).join(', ')}`);
  }
  const m = decodeOrThrow(DatasetMetadataCodec, raw, file) as DatasetMetadata;
  const problems = metadataProblems(m);
  if (problems.length > 0) throw inputError(file, problems.join('; '));
  return m;
};

/** What is wrong inside one dataset.json (fields against each other); empty when consistent. */
export const metadataProblems = (m: DatasetMetadata): string[] => {
  const p: string[] = [];
  if (m.pad_id < 0 || m.pad_id >= m.vocab_size) p.push(`field 'pad_id': ${m.pad_id} outside [0, ${m.vocab_size}) (vocab_size)`);
  if (m.ignore_label_id !== null && (m.ignore_label_id < 0 || m.ignore_label_id >= m.vocab_size)) {
    p.push(`field 'ignore_label_id': ${m.ignore_label_id} outside [0, ${m.vocab_size}) (vocab_size)`);
  }
  if (m.blank_identifier_id >= m.num_puzzle_identifiers) {
    p.push(`field 'blank_identifier_id': ${m.blank_identifier_id} outside [0, ${m.num_puzzle_identifiers}) (num_puzzle_identifiers)`);
  }
  if (!Number.isFinite(m.mean_puzzle_examples) || m.mean_puzzle_examples < 0) p.push(`field 'mean_puzzle_examples': expected a finite number ≥ 0, got ${m.mean_puzzle_examples}`);
  if (m.sets.length === 0) p.push(`field 'sets': expected at least one set name`);
  for (const name of m.sets) {
    if (!SET_NAME_PATTERN.test(name)) p.push(`field 'sets': ${JSON.stringify(name.slice(0, 80))} is not a set name (letters, digits, '_', '-'; at most 64)`);
  }
  if (new Set(m.sets).size !== m.sets.length) p.push(`field 'sets': a set is listed twice`);
  return p;
};

const asInt32 = (data: NpyData, file: string): Int32Array => {
  if (data instanceof Int32Array) return data;
  const out = new Int32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v > 2147483647) throw inputError(file, `value ${v} at index ${i} does not fit in int32`);
    out[i] = v;
  }
  return out;
};

/**
 * Checks that offsets start at 0, never decrease and end at `total`; with `nonEmpty` also that every
 * item is non-empty (training draws one puzzle from every group). Names the file on failure.
 */
const checkOffsets = (a: Int32Array, total: number, file: string, what: string, nonEmpty?: string): void => {
  if (a.length < 1 || a[0] !== 0) throw inputError(file, `${what} must start with 0`);
  for (let i = 1; i < a.length; i++) {
    if (a[i] < a[i - 1]) throw inputError(file, `${what} decrease at index ${i} (${a[i - 1]} → ${a[i]})`);
    if (nonEmpty !== undefined && a[i] === a[i - 1]) throw inputError(file, `${what}: ${nonEmpty} ${i - 1} is empty (offsets ${a[i - 1]} → ${a[i]}; training draws a puzzle from every group)`);
  }
  if (a[a.length - 1] !== total) throw inputError(file, `${what} end at ${a[a.length - 1]}, expected ${total}`);
};

/** The file names of one set's five arrays. */
export const setFiles = (setName: string): string[] => SET_ARRAYS.map((k) => `${setName}__${k}.npy`);

/**
 * Decodes one set (`<set>__*.npy`) of a split from `read` (file name → bytes) and checks it against
 * the metadata; a `training` set may not hold an empty group. Errors name `<where>/<file>`.
 */
export const decodePuzzleSet = (read: (file: string) => Uint8Array, where: string, setName: string, metadata: DatasetMetadata, training = false): PuzzleSet => {
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
      throw inputError(f(k), `shape [${a.shape.join(', ')}], expected [N, ${T}] (seq_len from dataset.json)`);
    }
  }
  const N = inputs.shape[0];
  if (labels.shape[0] !== N) throw inputError(f('labels'), `${labels.shape[0]} rows, ${f('inputs')} has ${N}`);
  for (const [k, a] of [
    ['puzzle_identifiers', ids],
    ['puzzle_indices', pidx],
    ['group_indices', gidx],
  ] as const) {
    if (a.shape.length !== 1) throw inputError(f(k), `shape [${a.shape.join(', ')}], expected one dimension`);
  }
  const puzzleIdentifiers = asInt32(ids.data, f('puzzle_identifiers'));
  const puzzleIndices = asInt32(pidx.data, f('puzzle_indices'));
  const groupIndices = asInt32(gidx.data, f('group_indices'));
  const P = puzzleIdentifiers.length;
  if (puzzleIndices.length !== P + 1) {
    throw inputError(f('puzzle_indices'), `length ${puzzleIndices.length}, expected ${P + 1} (puzzle_identifiers has ${P})`);
  }
  checkOffsets(puzzleIndices, N, f('puzzle_indices'), 'puzzle_indices');
  checkOffsets(groupIndices, P, f('group_indices'), 'group_indices', training ? 'group' : undefined);
  for (let i = 0; i < P; i++) {
    const id = puzzleIdentifiers[i];
    if (id < 0 || id >= metadata.num_puzzle_identifiers) {
      throw inputError(f('puzzle_identifiers'), `identifier ${id} at index ${i} outside [0, ${metadata.num_puzzle_identifiers}) (num_puzzle_identifiers)`);
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
        throw inputError(f(k), `token ${v} at example ${Math.floor(i / T)}, position ${i % T} outside [0, ${metadata.vocab_size}) (vocab_size)`);
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


/**
 * Checks the counts a split's dataset.json declares against its decoded sets (they set the training
 * schedule): total_groups, total_puzzles (when present) and mean_puzzle_examples. `file` names the
 * dataset.json.
 */
export const checkSplitCounts = (metadata: DatasetMetadata, sets: Readonly<Record<string, PuzzleSet>>, file: string): void => {
  let groups = 0;
  let puzzles = 0;
  let examples = 0;
  for (const s of Object.values(sets)) {
    groups += s.groupIndices.length - 1;
    puzzles += s.puzzleIdentifiers.length;
    examples += s.numExamples;
  }
  if (metadata.total_groups !== groups) throw inputError(file, `field 'total_groups' is ${metadata.total_groups}, but the group_indices arrays hold ${groups} groups`);
  if (metadata.total_puzzles !== undefined && metadata.total_puzzles !== puzzles) {
    throw inputError(file, `field 'total_puzzles' is ${metadata.total_puzzles}, but the puzzle_identifiers arrays hold ${puzzles} puzzles`);
  }
  const mean = puzzles > 0 ? examples / puzzles : 0;
  if (Math.abs(metadata.mean_puzzle_examples - mean) > 1e-9 * Math.max(1, mean)) {
    throw inputError(file, `field 'mean_puzzle_examples' is ${metadata.mean_puzzle_examples}, but the arrays hold ${examples} examples in ${puzzles} puzzles (${mean})`);
  }
};
