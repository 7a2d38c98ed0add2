// The ARC dataset builder (spec §6.5). Each subdirectory of an input folder is a subset (ARC-AGI:
// training, evaluation; ConceptARC: one per concept). A task's demonstrations always go to the train
// split; its test pairs go to the test split when the subset is named `evaluation`, else to train.
// Every task is one group per split it appears in: the original plus up to `numAug` distinct
// augmentations (dihedral × colour permutation with 0 fixed; duplicates by puzzle hash rejected,
// at most 5·numAug tries). Identifiers: one map over both splits in first-seen order (train first),
// starting at 1, 0 = "<blank>"; an evaluation task's test puzzles share the identifiers of its
// demonstrations. Train-split examples are translated at random except one per puzzle.
// Determinism: subsets and files are read in sorted name order (the original used filesystem
// order), then shuffled with the seeded Rng. Two passes: augmentation plans (small) first, then
// the token rows are streamed to disk, so --num-aug 1000 never holds the whole dataset in memory.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { Rng } from '../../core/rng.ts';
import { SplitWriter, writeIdentifiers, type DatasetMetadata, type SplitName } from '../format.ts';
import { ArcTaskError, ARC_MAX_GRID, readArcTask, type ArcPair, type ArcTask } from './task.ts';
import { InputError, inputError } from '../../io/codec.ts';
import { ARC_VOCAB, ARC_SEQ_LEN, augmentGrid, augmentedName, encodeArcGrid, puzzleHash } from './transforms.ts';
import type { Progress } from '../sudoku/build.ts';

export const ARC_AUGMENT_RETRIES_FACTOR = 5;

export interface ArcBuildOptions {
  readonly inputs: readonly string[]; // dataset folders (each holding subset folders)
  readonly out: string;
  readonly numAug: number; // default 1000
  readonly seed: number; // default 42
  /** skip invalid task files (counted and listed) instead of stopping at the first */
  readonly skipInvalid?: boolean;
  readonly progress?: Progress;
  /** receives warnings (incomplete augmentation); default: none */
  readonly warn?: (message: string) => void;
}

/** One augmentation of a task: identity (t = 0, map = null) or (t, colour map). */
interface Aug {
  readonly name: string;
  readonly t: number;
  readonly map: Uint8Array | null;
}

interface PlannedTask {
  readonly task: ArcTask;
  readonly subset: string;
  readonly evaluation: boolean;
  readonly augs: readonly Aug[];
}

export interface ArcBuildReport {
  readonly splits: readonly { split: SplitName; groups: number; puzzles: number; examples: number; metadata: DatasetMetadata }[];
  readonly identifiers: number; // including <blank>
  readonly tasks: number;
  readonly subsets: readonly { dataset: string; subset: string; tasks: number }[];
  readonly skipped: readonly string[];
  readonly incomplete: number; // tasks with fewer than numAug unique augmentations
}

/** Draws the augmentations of a task: the original, then distinct (t, colour map) variants. */
const planAugmentations = (task: ArcTask, numAug: number, rng: Rng): { augs: Aug[]; complete: boolean } => {
  const augs: Aug[] = [{ name: task.name, t: 0, map: null }];
  if (numAug <= 0) return { augs, complete: true };
  const pairs = [...task.train, ...task.test];
  const hashes = new Set([puzzleHash(pairs)]);
  for (let trial = 0; trial < ARC_AUGMENT_RETRIES_FACTOR * numAug; trial++) {
    const t = rng.int(0, 7);
    const map = new Uint8Array(10);
    const p = rng.permutation(9);
    for (let c = 1; c <= 9; c++) map[c] = p[c - 1] + 1;
    const h = puzzleHash(pairs.map((q) => ({ input: augmentGrid(q.input, t, map), output: augmentGrid(q.output, t, map) })));
    if (!hashes.has(h)) {
      hashes.add(h);
      augs.push({ name: augmentedName(task.name, t, map), t, map });
    }
    if (augs.length >= numAug + 1) break;
  }
  return { augs, complete: augs.length >= numAug + 1 };
};

/** The task files of a dataset folder: subsets (sorted), each with its *.json files (sorted). */
const listSubsets = (dir: string): { subset: string; files: string[] }[] => {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw inputError(dir, `not a folder (expected a folder of subset folders such as training/ and evaluation/)`);
  const subsets = fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  if (subsets.length === 0) throw inputError(dir, `no subset folders (expected e.g. training/ and evaluation/ holding task .json files)`);
  return subsets.map((subset) => ({
    subset,
    files: fs
      .readdirSync(path.join(dir, subset))
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => path.join(dir, subset, f)),
  }));
};

/** The examples of a puzzle in one split: demos (train) or test pairs, per the split rules. */
const examplesFor = (p: PlannedTask, split: SplitName): readonly ArcPair[] => {
  if (split === 'test') return p.evaluation ? p.task.test : [];
  return p.evaluation ? p.task.train : [...p.task.train, ...p.task.test];
};

/** Builds the dataset; see the file comment for the rules. */
export const buildArcDataset = (o: ArcBuildOptions): ArcBuildReport => {
  const rng = Rng.fromSeed(o.seed);
  const skipped: string[] = [];
  const subsets: { dataset: string; subset: string; tasks: number }[] = [];
  const planned: PlannedTask[] = [];
  const byName = new Map<string, ArcTask>();
  let incomplete = 0;
  // pass 1: read, shuffle per subset, plan augmentations
  const all: { dataset: string; subset: string; files: string[] }[] = [];
  for (const dir of o.inputs) for (const s of listSubsets(dir)) all.push({ dataset: dir, ...s });
  const totalFiles = all.reduce((a, s) => a + s.files.length, 0);
  for (const { dataset, subset, files } of all) {
    const tasks: ArcTask[] = [];
    for (const f of files) {
      try {
        tasks.push(readArcTask(f));
      } catch (e) {
        if (e instanceof ArcTaskError && o.skipInvalid) skipped.push(e.message);
        else throw e;
      }
    }
    // a task name is its puzzle identifier: two different tasks may not share one
    for (let k = 0; k < tasks.length; k++) {
      const task = tasks[k];
      const first = byName.get(task.name);
      if (first === undefined) {
        byName.set(task.name, task);
        continue;
      }
      const same = puzzleHash([...first.train, ...first.test]) === puzzleHash([...task.train, ...task.test]);
      if (same) {
        o.warn?.(`${task.file}: task ${task.name} repeats ${first.file} exactly; kept once`);
      } else {
        const message = `${task.file} (task ${task.name}): another task of the same name, ${first.file}, holds different pairs; rename one (its file or its "name" field), as both would share one puzzle identifier`;
        if (!o.skipInvalid) throw new InputError([message], task.file);
        skipped.push(message);
      }
      tasks.splice(k--, 1);
    }
    const order = rng.permutation(tasks.length);
    const shuffled = Array.from(order, (i) => tasks[i]);
    subsets.push({ dataset, subset, tasks: tasks.length });
    const evaluation = subset === 'evaluation';
    for (const task of shuffled) {
      const { augs, complete } = planAugmentations(task, o.numAug, rng);
      if (!complete) {
        incomplete++;
        o.warn?.(`[Puzzle ${task.name}] augmentation not full, only ${augs.length}`);
      }
      planned.push({ task, subset, evaluation, augs });
      o.progress?.('augmenting', planned.length, totalFiles - skipped.length);
    }
  }
  if (planned.length === 0) throw new Error(`no ARC task found under ${o.inputs.join(', ')}`);
  // identifiers: first-seen order over the train split's groups, then the test split's
  const ids = new Map<string, number>();
  const identifiers = ['<blank>'];
  for (const split of ['train', 'test'] as const) {
    for (const p of planned) {
      if (examplesFor(p, split).length === 0) continue;
      for (const a of p.augs) {
        if (!ids.has(a.name)) {
          ids.set(a.name, identifiers.length);
          identifiers.push(a.name);
        }
      }
    }
  }
  // pass 2: stream the token rows
  const reports: ArcBuildReport['splits'][number][] = [];
  for (const split of ['train', 'test'] as const) {
    const w = new SplitWriter(o.out, split, { pad_id: 0, ignore_label_id: 0, blank_identifier_id: 0, vocab_size: ARC_VOCAB, seq_len: ARC_SEQ_LEN });
    try {
      let done = 0;
      for (const p of planned) {
        const examples = examplesFor(p, split);
        done++;
        if (examples.length === 0) continue;
        for (const a of p.augs) {
          const rows: { input: Uint8Array; label: Uint8Array }[] = [];
          const noTranslation = split === 'train' ? rng.int(0, examples.length - 1) : -1;
          examples.forEach((ex, k) => {
            const input = a.map === null ? ex.input : augmentGrid(ex.input, a.t, a.map);
            const output = a.map === null ? ex.output : augmentGrid(ex.output, a.t, a.map);
            let padR = 0;
            let padC = 0;
            if (split === 'train' && k !== noTranslation) {
              padR = rng.int(0, ARC_MAX_GRID - Math.max(input.rows, output.rows));
              padC = rng.int(0, ARC_MAX_GRID - Math.max(input.cols, output.cols));
            }
            rows.push({ input: encodeArcGrid(input, padR, padC), label: encodeArcGrid(output, padR, padC) });
          });
          w.addPuzzle(ids.get(a.name)!, rows.map((r) => ({ input: r.input, label: r.label })));
        }
        w.endGroup();
        o.progress?.(`writing ${split}`, done, planned.length);
      }
    } catch (e) {
      w.abort();
      throw e;
    }
    const metadata = w.close(identifiers.length);
    reports.push({ split, groups: w.numGroups, puzzles: w.numPuzzles, examples: w.numExamples, metadata });
  }
  writeIdentifiers(o.out, identifiers);
  return { splits: reports, identifiers: identifiers.length, tasks: planned.length, subsets, skipped, incomplete };
};
