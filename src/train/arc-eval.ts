// From ARC evaluation outputs to votes (spec §6.6): every test row's puzzle identifier names an
// augmented copy `<task>_t<d>_<colours>` (or the original); its input and predicted output are
// cropped from the 30×30 token canvas and mapped back to the original frame (inverse dihedral,
// then inverse colour map); ground truth comes from the rows of original (non-augmented) puzzles.
// The cropping and inverse transforms are the dataset code's; this module only routes rows.

import path from 'node:path';
import { existsSync } from 'node:fs';
import type { DatasetMetadata } from '../data/format.ts';
import { IGNORE_LABEL } from '../core/batch.ts';
import { scoreArc, submission, parseAugmentedName, type ArcPrediction, type ArcTruth, type Grid, type ArcScores } from './arc-vote.ts';
import type { RowOutput } from './evaluate.ts';

/** How a token canvas becomes a grid in the original frame (provided by the dataset code). */
export interface ArcTransforms {
  /** the grid (colours 0–9) in the top-left of a 30×30 token canvas (spec §6.6 crop) */
  readonly crop: (tokens: ArrayLike<number>) => Grid;
  /** undoes augmentation `dihedral` + colour permutation `colours` (colour c was mapped to colours[c]) */
  readonly invert: (grid: Grid, dihedral: number, colours: readonly number[] | null) => Grid;
}

/** ARC datasets: 30×30 canvases, 12 tokens, and identifiers naming tasks. */
export const isArcDataset = (dataDir: string, m: DatasetMetadata): boolean =>
  m.seq_len === 900 && m.vocab_size === 12 && m.num_puzzle_identifiers > 1 && existsSync(path.join(dataDir, 'identifiers.json'));

/** Votes, pass@K and the submission from the final outputs of every test row. */
export const arcVotes = (
  identifiers: readonly string[],
  outputs: readonly RowOutput[],
  t: ArcTransforms,
  ks: readonly number[] = [1, 2, 10, 100, 1000],
): { scores: ArcScores; submission: ReturnType<typeof submission> } => {
  const predictions: ArcPrediction[] = [];
  const truths: ArcTruth[] = [];
  const seenTruth = new Set<string>();
  for (const row of outputs) {
    if (row.puzzleIdentifier === 0) continue; // padding / blank
    const name = identifiers[row.puzzleIdentifier];
    if (name === undefined) throw new Error(`ARC evaluation: puzzle identifier ${row.puzzleIdentifier} is not in identifiers.json (${identifiers.length} names)`);
    const { task, dihedral, colours } = parseAugmentedName(name);
    const input = t.invert(t.crop(row.inputs), dihedral, colours);
    predictions.push({ task, input, output: t.invert(t.crop(row.predictions), dihedral, colours), qHaltLogit: row.qHaltLogit });
    if (colours === null) {
      const labels = Array.from(row.labels, (y) => (y === IGNORE_LABEL ? 0 : y));
      const key = `${task}\u0000${JSON.stringify(input)}`;
      if (!seenTruth.has(key)) {
        seenTruth.add(key);
        truths.push({ task, input, output: t.crop(labels) });
      }
    }
  }
  const scores = scoreArc(predictions, truths, ks);
  return { scores, submission: submission(scores) };
};

/** The dataset code's crop and inverse transforms (src/data/arc/transforms.ts). */
export const arcTransforms = async (): Promise<ArcTransforms> => (await import('../data/arc/transforms.ts')).arcTransforms;
