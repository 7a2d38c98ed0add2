// Maze datasets in the original on-disk format (spec §6.4): import of the public Maze-Hard CSV
// (`source,question,answer,rating`, charset "# SGo", side = √length; every label is checked to be a
// shortest S→G path) and generated N×N mazes (generate.ts) filtered by shortest-path length.
// With `aug`, each training maze becomes a group of its 8 dihedral transforms (§6.5 ids 0..7).
// All identifiers 0, vocab 6, seq_len N². Effects: reads CSV, writes the dataset folder.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { Rng } from '../../core/rng.ts';
import { SplitWriter, writeIdentifiers, type SplitName } from '../format.ts';
import { csvLine, readCsv } from '../csv.ts';
import { dihedral } from '../dihedral.ts';
import { MAZE_VOCAB, checkMazeLabel, mazeStringToTokens, mazeTokensToString } from './maze.ts';
import { generateMaze } from './generate.ts';
import type { Progress, SplitReport } from '../sudoku/build.ts';
import { inputError } from '../../io/codec.ts';

export const MAZE_CSV_HEADER = ['source', 'question', 'answer', 'rating'] as const;

export interface MazePair {
  readonly n: number;
  readonly input: Uint8Array; // [n²] tokens
  readonly label: Uint8Array; // [n²] tokens
  readonly pathLength: number;
  readonly source: string;
  readonly rating: string;
}

/** Writes one split: a group per maze, of 1 puzzle (or 8 dihedral copies with `aug`). */
export const writeMazeSplit = (out: string, split: SplitName, n: number, pairs: readonly MazePair[], aug: boolean, progress?: Progress): SplitReport => {
  const w = new SplitWriter(out, split, { pad_id: 0, ignore_label_id: 0, blank_identifier_id: 0, vocab_size: MAZE_VOCAB, seq_len: n * n });
  try {
    for (const p of pairs) {
      for (let t = 0; t < (aug ? 8 : 1); t++) {
        const input = dihedral({ rows: n, cols: n, data: p.input }, t).data;
        const label = dihedral({ rows: n, cols: n, data: p.label }, t).data;
        w.addPuzzle(0, [{ input, label }]);
      }
      w.endGroup();
      if (progress && (w.numGroups % 64 === 0 || w.numGroups === pairs.length)) progress(`writing ${split}`, w.numGroups, pairs.length);
    }
  } catch (e) {
    w.abort();
    throw e;
  }
  const metadata = w.close(1, { meanPuzzleExamples: 1 });
  return { split, groups: w.numGroups, puzzles: w.numPuzzles, examples: w.numExamples, ratings: pairs.map((p) => p.pathLength), metadata };
};

/** Parses and checks one CSV record; errors name file and line. */
export const parseMazeRecord = (file: string, line: number, fields: readonly string[]): MazePair => {
  const [source, question, answer, rating] = fields;
  const where = `${file}:${line}`;
  const n = Math.round(Math.sqrt(question.length));
  if (n < 2 || n * n !== question.length) throw inputError(where, `question has ${question.length} characters, not a square grid`);
  if (answer.length !== question.length) throw inputError(where, `answer has ${answer.length} characters, question ${question.length}`);
  let input: Uint8Array;
  let label: Uint8Array;
  try {
    input = mazeStringToTokens(question);
  } catch (e) {
    throw inputError(where, `question: ${(e as Error).message}`);
  }
  try {
    label = mazeStringToTokens(answer);
  } catch (e) {
    throw inputError(where, `answer: ${(e as Error).message}`);
  }
  const bad = checkMazeLabel(n, input, label);
  if (bad !== null) throw inputError(where, `${bad}`);
  const pathLength = label.filter((v) => v === 5).length + 1;
  return { n, input, label, pathLength, source, rating };
};

export interface MazeImportOptions {
  readonly input: string; // folder with train.csv, test.csv
  readonly out: string;
  readonly subsampleSize?: number;
  readonly aug: boolean;
  readonly seed: number;
  readonly progress?: Progress;
}

/** Imports train.csv (optionally subsampled, seeded) and test.csv. */
export const importMazeCsv = async (o: MazeImportOptions): Promise<SplitReport[]> => {
  const rng = Rng.fromSeed(o.seed);
  const reports: SplitReport[] = [];
  let side: number | undefined;
  for (const split of ['train', 'test'] as const) {
    const file = path.join(o.input, `${split}.csv`);
    let pairs: MazePair[] = [];
    for await (const { line, fields } of readCsv(file, MAZE_CSV_HEADER)) {
      const p = parseMazeRecord(file, line, fields);
      if (side === undefined) side = p.n;
      else if (p.n !== side) throw inputError(`${file}:${line}`, `a ${p.n}×${p.n} maze among ${side}×${side} ones`);
      pairs.push(p);
      if (o.progress && pairs.length % 200 === 0) o.progress(`reading ${split}.csv`, pairs.length, 0);
    }
    if (pairs.length === 0) throw inputError(file, `no maze rows`);
    if (split === 'train' && o.subsampleSize !== undefined && o.subsampleSize < pairs.length) {
      const idx = rng.permutation(pairs.length).subarray(0, o.subsampleSize);
      pairs = Array.from(idx, (i) => pairs[i]);
    }
    reports.push(writeMazeSplit(o.out, split, side!, pairs, o.aug && split === 'train', o.progress));
  }
  writeIdentifiers(o.out, ['<blank>']);
  return reports;
};

export interface MazeGenerateOptions {
  readonly out: string;
  readonly n: number;
  readonly trainSize: number;
  readonly testSize: number;
  readonly minPathLength: number;
  readonly loopFraction?: number;
  readonly aug: boolean;
  readonly seed: number;
  readonly progress?: Progress;
}

/** Generates distinct mazes for both splits and writes the dataset (raw CSV copies under raw/). */
export const generateMazeDataset = (o: MazeGenerateOptions): SplitReport[] => {
  const rng = Rng.fromSeed(o.seed);
  const seen = new Set<string>();
  const reports: SplitReport[] = [];
  for (const [split, count] of [
    ['train', o.trainSize],
    ['test', o.testSize],
  ] as const) {
    const pairs: MazePair[] = [];
    let tried = 0;
    while (pairs.length < count) {
      const g = generateMaze({ n: o.n, minPathLength: o.minPathLength, loopFraction: o.loopFraction }, rng);
      tried += g.attempts;
      const key = mazeTokensToString(g.input);
      if (seen.has(key)) continue;
      seen.add(key);
      pairs.push({ n: o.n, input: g.input, label: g.label, pathLength: g.pathLength, source: `generated-${o.n}x${o.n}`, rating: String(g.pathLength) });
      o.progress?.(`generating ${split}`, pairs.length, count, { tried });
    }
    const raw = path.join(o.out, 'raw', `${split}.csv`);
    fs.mkdirSync(path.dirname(raw), { recursive: true });
    fs.writeFileSync(raw, [MAZE_CSV_HEADER.join(','), ...pairs.map((p) => csvLine([p.source, mazeTokensToString(p.input), mazeTokensToString(p.label), p.rating]))].join('\n') + '\n');
    reports.push(writeMazeSplit(o.out, split, o.n, pairs, o.aug && split === 'train', o.progress));
  }
  writeIdentifiers(o.out, ['<blank>']);
  return reports;
};
