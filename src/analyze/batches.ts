// The puzzles an analysis runs on: N examples spread evenly over a split's set (indices
// ⌊i·total/N⌋, so an ordered set such as augmentations grouped by puzzle is sampled throughout),
// collated into batches of B rows, the last one padded. Pure.

import { collate } from '../data/loader.ts';
import type { DatasetMetadata, PuzzleSet } from '../data/format.ts';
import type { PuzzleBatch } from './dynamics.ts';

/** Example indices of `count` puzzles spread evenly over `total` (all of them when count ≥ total). */
export const spreadIndices = (total: number, count: number): Int32Array => {
  const n = Math.min(total, count);
  return Int32Array.from({ length: n }, (_, i) => Math.floor((i * total) / n));
};

/** Batches of `batchSize` rows over the given examples of `set`. */
export const puzzleBatches = (set: PuzzleSet, meta: DatasetMetadata, examples: Int32Array, batchSize: number): PuzzleBatch[] => {
  const owner = new Int32Array(set.numExamples); // example → puzzle
  const pi = set.puzzleIndices;
  for (let p = 0; p + 1 < pi.length; p++) owner.fill(p, pi[p], pi[p + 1]);
  const out: PuzzleBatch[] = [];
  for (let start = 0; start < examples.length; start += batchSize) {
    const size = Math.min(batchSize, examples.length - start);
    const rows = Int32Array.from({ length: batchSize }, (_, b) => (b < size ? examples[start + b] : -1));
    const ids = Int32Array.from(rows, (e) => (e < 0 ? meta.blank_identifier_id : set.puzzleIdentifiers[owner[e]]));
    out.push({ batch: collate(set, meta, rows, ids), size });
  }
  return out;
};
