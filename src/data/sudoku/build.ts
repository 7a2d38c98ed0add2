// Sudoku datasets in the original on-disk format (spec §6.3): import of the public Sudoku-Extreme
// CSV (`source,question,answer,rating`, '.' = blank) with the original options (subsample,
// min difficulty, augmentations), and generated datasets of uniquely solvable puzzles of size
// 4×4, 6×6 or 9×9 (generate.ts). Each original puzzle is one group: the original plus `numAug`
// augmented copies (train split only), each copy one puzzle of one example, identifier 0.
// Tokens = value + 1, vocab = n + 2, seq_len = n². Effects: reads CSV, writes the dataset folder.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { Rng } from '../../core/rng.ts';
import { SplitWriter, writeIdentifiers, type DatasetMetadata, type SplitName } from '../format.ts';
import { csvLine, readCsv } from '../csv.ts';
import { boardToTokens, formatBoard, isSolutionOf, parseBoard, shapeForSize, type SudokuShape } from './grid.ts';
import { shuffleSudoku } from './augment.ts';
import { generateHardPuzzles } from './parallel.ts';
import type { ClueRange } from './generate.ts';
import { inputError } from '../../io/codec.ts';

export const SUDOKU_CSV_HEADER = ['source', 'question', 'answer', 'rating'] as const;

export interface SudokuPair {
  readonly puzzle: Uint8Array; // [n²], 0 = blank
  readonly solution: Uint8Array; // [n²]
  readonly rating: number;
  readonly source: string;
}

/** Progress callback: `done` of `total` units of the current phase. */
export type Progress = (phase: string, done: number, total: number, fields?: Record<string, string | number>) => void;

export interface SplitReport {
  readonly split: SplitName;
  readonly groups: number;
  readonly puzzles: number;
  readonly examples: number;
  readonly ratings: readonly number[];
  readonly metadata: DatasetMetadata;
}

const metadataBase = (shape: SudokuShape) => ({
  pad_id: 0,
  ignore_label_id: 0,
  blank_identifier_id: 0,
  vocab_size: shape.n + 2,
  seq_len: shape.cells,
});

/**
 * Writes one split from a stream of pairs: each pair is a group of 1 + numAug puzzles (the original
 * first, then augmentations drawn from `rng`).
 */
export const writeSudokuSplit = async (
  out: string,
  split: SplitName,
  shape: SudokuShape,
  pairs: AsyncIterable<SudokuPair> | Iterable<SudokuPair>,
  numAug: number,
  rng: Rng,
  progress?: { total: number; report: Progress },
): Promise<SplitReport> => {
  const w = new SplitWriter(out, split, metadataBase(shape));
  const ratings: number[] = [];
  try {
    for await (const p of pairs) {
      w.addPuzzle(0, [{ input: boardToTokens(p.puzzle), label: boardToTokens(p.solution) }]);
      for (let a = 0; a < numAug; a++) {
        const aug = shuffleSudoku(shape, p.puzzle, p.solution, rng);
        w.addPuzzle(0, [{ input: boardToTokens(aug.puzzle), label: boardToTokens(aug.solution) }]);
      }
      w.endGroup();
      ratings.push(p.rating);
      if (progress && (w.numGroups % 256 === 0 || w.numGroups === progress.total)) {
        progress.report(`writing ${split}`, w.numGroups, progress.total);
      }
    }
  } catch (e) {
    w.abort();
    throw e;
  }
  const metadata = w.close(1, { meanPuzzleExamples: 1 });
  return { split, groups: w.numGroups, puzzles: w.numPuzzles, examples: w.numExamples, ratings, metadata };
};

/** Writes the raw puzzles of a split as CSV (same columns as Sudoku-Extreme) for inspection/re-import. */
const writeRawCsv = (file: string, shape: SudokuShape, pairs: readonly SudokuPair[]): void => {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const lines = [SUDOKU_CSV_HEADER.join(',')];
  for (const p of pairs) lines.push(csvLine([p.source, formatBoard(shape, p.puzzle), formatBoard(shape, p.solution), p.rating]));
  fs.writeFileSync(file, lines.join('\n') + '\n');
};

// ---------------------------------------------------------------------------------------------
// Import of the public CSV

/** Parses one CSV record into a pair (side inferred from the question length); errors name file:line. */
export const parseSudokuRecord = (file: string, line: number, fields: readonly string[]): SudokuPair & { shape: SudokuShape } => {
  const [source, question, answer, ratingText] = fields;
  const where = `${file}:${line}`;
  const side = Math.round(Math.sqrt(question.length));
  if (side * side !== question.length || ![4, 6, 8, 9, 12, 16].includes(side)) {
    throw inputError(where, `question has ${question.length} characters, expected 81 (or 16/36 for 4×4/6×6)`);
  }
  const shape = shapeForSize(side);
  let puzzle: Uint8Array;
  let solution: Uint8Array;
  try {
    puzzle = parseBoard(shape, question, true);
  } catch (e) {
    throw inputError(where, `question: ${(e as Error).message}`);
  }
  try {
    solution = parseBoard(shape, answer, false);
  } catch (e) {
    throw inputError(where, `answer: ${(e as Error).message}`);
  }
  if (!isSolutionOf(shape, puzzle, solution)) throw inputError(where, `answer is not a valid solution of the question`);
  const rating = Number(ratingText.trim());
  if (ratingText.trim() === '' || !Number.isInteger(rating)) throw inputError(where, `rating '${ratingText}' is not an integer`);
  return { puzzle, solution, rating, source, shape };
};

export interface SudokuImportOptions {
  /** folder holding train.csv and test.csv */
  readonly input: string;
  readonly out: string;
  readonly subsampleSize?: number;
  readonly minDifficulty?: number;
  readonly numAug: number;
  readonly seed: number;
  readonly progress?: Progress;
}

/** Reads the valid, kept records of one CSV (rating ≥ minDifficulty), checking one shape throughout. */
async function* keptRecords(file: string, minDifficulty: number | undefined, shapeRef: { shape?: SudokuShape }, progress?: Progress): AsyncGenerator<SudokuPair> {
  let rows = 0;
  for await (const { line, fields } of readCsv(file, SUDOKU_CSV_HEADER)) {
    const r = parseSudokuRecord(file, line, fields);
    if (shapeRef.shape === undefined) shapeRef.shape = r.shape;
    else if (shapeRef.shape.n !== r.shape.n) throw inputError(`${file}:${line}`, `a ${r.shape.n}×${r.shape.n} puzzle among ${shapeRef.shape.n}×${shapeRef.shape.n} ones`);
    rows++;
    if (progress && rows % 10_000 === 0) progress(`reading ${path.basename(file)}`, rows, 0);
    if (minDifficulty === undefined || r.rating >= minDifficulty) yield r;
  }
}

/** Uniform sample without replacement of k items from a stream (reservoir sampling, seeded). */
const reservoir = async <A>(items: AsyncIterable<A>, k: number, rng: Rng): Promise<A[]> => {
  const out: A[] = [];
  let seen = 0;
  for await (const x of items) {
    seen++;
    if (out.length < k) out.push(x);
    else {
      const j = Math.floor(rng.uniform() * seen);
      if (j < k) out[j] = x;
    }
  }
  return out;
};

/** Imports train.csv (subsampled, augmented) and test.csv (as is) into `out`. */
export const importSudokuCsv = async (o: SudokuImportOptions): Promise<SplitReport[]> => {
  const rng = Rng.fromSeed(o.seed);
  const reports: SplitReport[] = [];
  const shapeRef: { shape?: SudokuShape } = {};
  for (const split of ['train', 'test'] as const) {
    const file = path.join(o.input, `${split}.csv`);
    const records = keptRecords(file, o.minDifficulty, shapeRef, o.progress);
    const numAug = split === 'train' ? o.numAug : 0;
    let source: AsyncIterable<SudokuPair> | SudokuPair[] = records;
    let total = 0;
    if (split === 'train' && o.subsampleSize !== undefined) {
      source = await reservoir(records, o.subsampleSize, rng);
      total = source.length;
    }
    // the shape is known once the first record is read; peek for streaming sources
    if (!Array.isArray(source)) {
      const it = (source as AsyncGenerator<SudokuPair>)[Symbol.asyncIterator]();
      const first = await it.next();
      if (first.done) throw inputError(file, `no puzzle left (after --min-difficulty)`);
      source = (async function* () {
        yield first.value;
        for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
      })();
    } else if (source.length === 0) throw inputError(file, `no puzzle left (after --min-difficulty)`);
    const shape = shapeRef.shape as SudokuShape;
    reports.push(await writeSudokuSplit(o.out, split, shape, source, numAug, rng, o.progress && { total, report: o.progress }));
  }
  writeIdentifiers(o.out, ['<blank>']);
  return reports;
};

// ---------------------------------------------------------------------------------------------
// Generation

export interface SudokuGenerateOptions {
  readonly out: string;
  readonly size: number; // 4, 6 or 9
  readonly trainSize: number;
  readonly testSize: number;
  readonly minRating: number;
  /** clue-count range (default: minimal puzzles, no clue can be removed) */
  readonly clues?: ClueRange;
  readonly numAug: number;
  readonly seed: number;
  readonly progress?: Progress;
  /** give up on a puzzle slot after this many rejected candidates (default 100 000) */
  readonly maxAttemptsPerPuzzle?: number;
  /** worker threads (default: available cores); the output does not depend on it */
  readonly threads?: number;
}

/** Default hard filter per side: 9×9 keeps rating ≥ 20; smaller grids are rarely harder than singles. */
export const defaultMinRating = (size: number): number => (size >= 9 ? 20 : 0);

/**
 * Generates train and test puzzles (distinct across both splits) and writes the dataset. The output
 * depends only on the options, not on the number of threads: each split draws its puzzle slots
 * from its own fork of Rng(seed), and the augmentations from a third fork.
 */
export const generateSudokuDataset = async (o: SudokuGenerateOptions): Promise<SplitReport[]> => {
  if (![4, 6, 9].includes(o.size)) throw new Error(`--size ${o.size}: generated Sudoku supports 4, 6 and 9`);
  const shape = shapeForSize(o.size);
  if (o.clues !== undefined && !(Number.isInteger(o.clues.min) && Number.isInteger(o.clues.max) && o.clues.min >= 0 && o.clues.min <= o.clues.max && o.clues.max < shape.cells)) {
    throw new Error(`--clues ${o.clues.min}-${o.clues.max}: expected whole numbers 0 ≤ min ≤ max < ${shape.cells} for ${shape.n}×${shape.n}`);
  }
  const root = Rng.fromSeed(o.seed);
  const masters = { train: root.fork(), test: root.fork() };
  const augRng = root.fork();
  const seen = new Set<string>();
  const reports: SplitReport[] = [];
  for (const [split, count] of [
    ['train', o.trainSize],
    ['test', o.testSize],
  ] as const) {
    const results = await generateHardPuzzles(shape, {
      count,
      minRating: o.minRating,
      clues: o.clues,
      master: masters[split],
      seen,
      threads: o.threads,
      maxAttempts: o.maxAttemptsPerPuzzle,
      onProgress: (k, tried) => o.progress?.(`generating ${split}`, k, count, { tried }),
    });
    const pairs: SudokuPair[] = results.map((r) => ({ puzzle: r.puzzle, solution: r.solution, rating: r.rating, source: `generated-${shape.n}x${shape.n}` }));
    writeRawCsv(path.join(o.out, 'raw', `${split}.csv`), shape, pairs);
    reports.push(await writeSudokuSplit(o.out, split, shape, pairs, split === 'train' ? o.numAug : 0, augRng, o.progress && { total: count, report: o.progress }));
  }
  writeIdentifiers(o.out, ['<blank>']);
  return reports;
};
