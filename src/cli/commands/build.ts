// `hrm build sudoku|maze|arc …`: generates or imports a dataset in the original on-disk format
// (spec §6), with a progress bar on long phases and a summary at the end (counts, rating or path-
// length histogram, time). Flag parsing and reporting only; the builders live in src/data.

import * as fs from 'node:fs';
import { ArgsError, helpText, parseFlags, type FlagSpec, type FlagValues } from '../args.ts';
import { ProgressBar, formatSummary } from '../progress.ts';
import { RATING_EDGES, formatHistogram, histogram, summarize } from '../../data/stats.ts';
import { buildArcDataset } from '../../data/arc/build.ts';
import { buildDatasetAtomically } from '../../data/format.ts';
import { generateMazeDataset, importMazeCsv } from '../../data/maze/build.ts';
import { defaultMinPathLength } from '../../data/maze/generate.ts';
import type { ClueRange } from '../../data/sudoku/generate.ts';
import { defaultMinRating, generateSudokuDataset, importSudokuCsv, type Progress, type SplitReport } from '../../data/sudoku/build.ts';

export const summary = 'generate or import a dataset (sudoku, maze, arc) in the original on-disk format';

const COMMON: Record<string, FlagSpec> = {
  out: { kind: 'string', help: 'output folder (required)' },
  seed: { kind: 'int', help: 'random seed (default 0; ARC: 42)' },
  quiet: { kind: 'boolean', help: 'no progress bar' },
  force: { kind: 'boolean', help: 'write into a non-empty output folder' },
  help: { kind: 'boolean', help: 'show this help' },
};

const SUDOKU: Record<string, FlagSpec> = {
  input: { kind: 'string', help: 'folder with train.csv and test.csv (Sudoku-Extreme columns source,question,answer,rating) to import' },
  generate: { kind: 'int', min: 1, help: 'generate N training puzzles instead of importing' },
  'test-size': { kind: 'int', min: 1, help: 'generated test puzzles (default: same as --generate)' },
  size: { kind: 'int', min: 4, help: 'side of generated puzzles: 4 (2×2 boxes), 6 (2×3) or 9 (default 9)' },
  'min-rating': { kind: 'int', min: 0, help: 'hard filter for generated puzzles: solver backtracks ≥ N (default 20 for 9×9 minimal puzzles, else 0)' },
  clues: { kind: 'string', help: 'clue count MIN-MAX (or N) of generated puzzles: minimal puzzles with clues added back (default: minimal, no clue can be removed)' },
  'subsample-size': { kind: 'int', min: 1, help: 'import: keep N training puzzles, uniformly at random (seeded)' },
  'min-difficulty': { kind: 'int', min: 0, help: 'import: keep rows with rating ≥ N (both splits)' },
  'num-aug': { kind: 'int', min: 0, help: 'augmented copies per training puzzle (default 0)' },
  threads: { kind: 'int', min: 1, help: 'worker threads for --generate (default: all cores; the output does not depend on it)' },
  ...COMMON,
};

const MAZE: Record<string, FlagSpec> = {
  input: { kind: 'string', help: 'folder with train.csv and test.csv (Maze-Hard columns source,question,answer,rating) to import' },
  generate: { kind: 'int', min: 1, help: 'generate N training mazes instead of importing' },
  'test-size': { kind: 'int', min: 1, help: 'generated test mazes (default: same as --generate)' },
  size: { kind: 'int', min: 4, help: 'side of generated mazes (default 30; 9 or 15 for CPU runs)' },
  'min-path-length': { kind: 'int', min: 1, help: 'hard filter: shortest S→G path ≥ N moves (default 111 on 30×30, scaled by area)' },
  loops: { kind: 'string', help: 'fraction of cells reopened to create cycles in generated mazes (default 0.02)' },
  'subsample-size': { kind: 'int', min: 1, help: 'import: keep N training mazes, uniformly at random (seeded)' },
  aug: { kind: 'boolean', help: 'training mazes as groups of their 8 dihedral transforms' },
  ...COMMON,
};

const ARC: Record<string, FlagSpec> = {
  input: { kind: 'string', help: 'dataset folders, comma-separated, each holding subset folders (e.g. arc-agi-1/data,concept-arc/corpus)' },
  'num-aug': { kind: 'int', min: 0, help: 'augmentations per task (default 1000)' },
  'skip-invalid': { kind: 'boolean', help: 'skip invalid task files (listed at the end) instead of stopping' },
  ...COMMON,
};

const USAGE = [
  'usage: hrm build sudoku (--generate N [--size 4|6|9] | --input DIR) --out DIR [options]',
  '       hrm build maze   (--generate N [--size S] | --input DIR) --out DIR [options]',
  '       hrm build arc    --input DIR[,DIR…] --out DIR [--num-aug N] [--seed N]',
].join('\n');

/** A progress callback drawing one bar per phase. */
const progressReporter = (quiet: boolean, unit: string): { report: Progress; finish: () => void } => {
  let bar: ProgressBar | null = null;
  let phase = '';
  return {
    report: (p, done, total, fields) => {
      if (quiet) return;
      if (p !== phase) {
        bar?.done();
        phase = p;
        bar = new ProgressBar(p, total, { unit });
      }
      bar!.update(done, fields, total);
    },
    finish: () => bar?.done(),
  };
};

const requireOut = (flags: FlagValues, cmd: string): string => {
  const out = flags.out as string | undefined;
  if (!out) throw new ArgsError(`${cmd}: --out DIR is required`);
  if (fs.existsSync(out) && !fs.statSync(out).isDirectory()) throw new ArgsError(`${cmd}: --out '${out}' exists and is not a folder`);
  if (fs.existsSync(out) && fs.readdirSync(out).length > 0 && !flags.force) {
    throw new ArgsError(`${cmd}: output folder '${out}' is not empty (use --force to write into it)`);
  }
  return out;
};

const splitLines = (r: SplitReport, what: string, edges: readonly number[] = RATING_EDGES): Record<string, string | number | readonly string[]> => {
  const s = summarize(r.ratings);
  return {
    groups: r.groups,
    puzzles: r.puzzles,
    examples: r.examples,
    [`${what} min/median/mean/max`]: r.ratings.length ? `${s.min} / ${s.median} / ${s.mean.toFixed(1)} / ${s.max}` : '-',
    [`${what} histogram`]: formatHistogram(histogram(r.ratings, edges)),
  };
};

/** `--clues MIN-MAX` or `--clues N` as a range within the grid's cells. */
const parseClueRange = (cmd: string, text: string | undefined, size: number): ClueRange | undefined => {
  if (text === undefined) return undefined;
  const m = /^(\d+)(?:-(\d+))?$/.exec(text.trim());
  const min = m === null ? NaN : Number(m[1]);
  const max = m === null ? NaN : Number(m[2] ?? m[1]);
  if (!(min <= max && max < size * size)) throw new ArgsError(`${cmd}: --clues expects MIN-MAX or N with 0 ≤ MIN ≤ MAX < ${size * size} for ${size}×${size}, got '${text}'`);
  return { min, max };
};

const buildSudoku = async (argv: readonly string[]): Promise<number> => {
  const cmd = 'hrm build sudoku';
  const { flags } = parseFlags(cmd, argv, SUDOKU);
  if (flags.help) {
    console.log(helpText(USAGE, SUDOKU, '\nRating = dead ends of the fixed solver in src/data/sudoku/solver.ts before its first solution.'));
    return 0;
  }
  const generate = flags.generate as number | undefined;
  const input = flags.input as string | undefined;
  if ((generate === undefined) === (input === undefined)) throw new ArgsError(`${cmd}: give exactly one of --generate N or --input DIR`);
  if (input !== undefined) {
    for (const f of ['size', 'min-rating', 'clues', 'test-size', 'threads'] as const) if (flags[f] !== undefined) throw new ArgsError(`${cmd}: --${f} applies to --generate only`);
  } else {
    for (const f of ['subsample-size', 'min-difficulty'] as const) if (flags[f] !== undefined) throw new ArgsError(`${cmd}: --${f} applies to --input only`);
  }
  const out = requireOut(flags, cmd);
  const seed = (flags.seed as number | undefined) ?? 0;
  const numAug = (flags['num-aug'] as number | undefined) ?? 0;
  const quiet = Boolean(flags.quiet);
  const t0 = performance.now();
  let reports: SplitReport[];
  if (generate !== undefined) {
    const size = (flags.size as number | undefined) ?? 9;
    if (![4, 6, 9].includes(size)) throw new ArgsError(`${cmd}: --size must be 4, 6 or 9, got ${size}`);
    const clues = parseClueRange(cmd, flags.clues as string | undefined, size);
    const minRating = (flags['min-rating'] as number | undefined) ?? (clues === undefined ? defaultMinRating(size) : 0);
    const p = progressReporter(quiet, 'puzzles');
    reports = await buildDatasetAtomically(out, (dir) => generateSudokuDataset({
      out: dir,
      size,
      trainSize: generate,
      testSize: (flags['test-size'] as number | undefined) ?? generate,
      minRating,
      clues,
      numAug,
      seed,
      threads: flags.threads as number | undefined,
      progress: p.report,
    }));
    p.finish();
    console.log(`Sudoku ${size}×${size}: generated, ${clues === undefined ? 'minimal puzzles' : `${clues.min}–${clues.max} clues`}, min rating ${minRating}, ${numAug} augmentations per training puzzle, seed ${seed}`);
  } else {
    const p = progressReporter(quiet, 'rows');
    reports = await buildDatasetAtomically(out, (dir) => importSudokuCsv({
      input: input!,
      out: dir,
      subsampleSize: flags['subsample-size'] as number | undefined,
      minDifficulty: flags['min-difficulty'] as number | undefined,
      numAug,
      seed,
      progress: p.report,
    }));
    p.finish();
    console.log(`Sudoku imported from ${input}, ${numAug} augmentations per training puzzle, seed ${seed}`);
  }
  for (const r of reports) console.log(formatSummary(`${r.split}:`, splitLines(r, 'rating')));
  console.log(`wrote ${out} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return 0;
};

const buildMaze = async (argv: readonly string[]): Promise<number> => {
  const cmd = 'hrm build maze';
  const { flags } = parseFlags(cmd, argv, MAZE);
  if (flags.help) {
    console.log(helpText(USAGE, MAZE, '\nLabels mark the unique shortest S→G path (generated mazes are kept only when it is unique).'));
    return 0;
  }
  const generate = flags.generate as number | undefined;
  const input = flags.input as string | undefined;
  if ((generate === undefined) === (input === undefined)) throw new ArgsError(`${cmd}: give exactly one of --generate N or --input DIR`);
  if (input !== undefined) {
    for (const f of ['size', 'min-path-length', 'test-size', 'loops'] as const) if (flags[f] !== undefined) throw new ArgsError(`${cmd}: --${f} applies to --generate only`);
  } else if (flags['subsample-size'] !== undefined) throw new ArgsError(`${cmd}: --subsample-size applies to --input only`);
  const out = requireOut(flags, cmd);
  const seed = (flags.seed as number | undefined) ?? 0;
  const aug = Boolean(flags.aug);
  const t0 = performance.now();
  let reports: SplitReport[];
  if (generate !== undefined) {
    const n = (flags.size as number | undefined) ?? 30;
    const minPathLength = (flags['min-path-length'] as number | undefined) ?? defaultMinPathLength(n);
    let loopFraction: number | undefined;
    if (flags.loops !== undefined) {
      loopFraction = Number(flags.loops);
      if (!(loopFraction >= 0 && loopFraction < 0.5)) throw new ArgsError(`${cmd}: --loops expects a fraction in [0, 0.5), got '${flags.loops}'`);
    }
    const p = progressReporter(Boolean(flags.quiet), 'mazes');
    reports = await buildDatasetAtomically(out, (dir) => generateMazeDataset({ out: dir, n, trainSize: generate, testSize: (flags['test-size'] as number | undefined) ?? generate, minPathLength, loopFraction, aug, seed, progress: p.report }));
    p.finish();
    console.log(`Maze ${n}×${n}: generated, shortest path ≥ ${minPathLength} moves, unique; ${aug ? '8 dihedral copies per training maze' : 'no augmentation'}; seed ${seed}`);
  } else {
    const p = progressReporter(Boolean(flags.quiet), 'mazes');
    reports = await buildDatasetAtomically(out, (dir) => importMazeCsv({ input: input!, out: dir, subsampleSize: flags['subsample-size'] as number | undefined, aug, seed, progress: p.report }));
    p.finish();
    console.log(`Maze imported from ${input}; ${aug ? '8 dihedral copies per training maze' : 'no augmentation'}`);
  }
  for (const r of reports) console.log(formatSummary(`${r.split}:`, splitLines(r, 'path length', [0, 10, 20, 40, 60, 80, 100, 111, 130, 150, 200])));
  console.log(`wrote ${out} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return 0;
};

const buildArc = async (argv: readonly string[]): Promise<number> => {
  const cmd = 'hrm build arc';
  const { flags } = parseFlags(cmd, argv, ARC);
  if (flags.help) {
    console.log(helpText(USAGE, ARC, '\nSubset folders named `evaluation` send their test pairs to the test split; everything else trains.'));
    return 0;
  }
  const input = flags.input as string | undefined;
  if (!input) throw new ArgsError(`${cmd}: --input DIR[,DIR…] is required`);
  const inputs = input.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  for (const d of inputs) if (!fs.existsSync(d)) throw new ArgsError(`${cmd}: --input folder '${d}' does not exist`);
  const out = requireOut(flags, cmd);
  const seed = (flags.seed as number | undefined) ?? 42;
  const numAug = (flags['num-aug'] as number | undefined) ?? 1000;
  const p = progressReporter(Boolean(flags.quiet), 'tasks');
  const warnings: string[] = [];
  const t0 = performance.now();
  const r = await buildDatasetAtomically(out, (dir) => buildArcDataset({ inputs, out: dir, numAug, seed, skipInvalid: Boolean(flags['skip-invalid']), progress: p.report, warn: (m) => warnings.push(m) }));
  p.finish();
  for (const w of warnings.slice(0, 20)) console.warn(w);
  if (warnings.length > 20) console.warn(`… and ${warnings.length - 20} more tasks with incomplete augmentation`);
  console.log(`ARC: ${r.tasks} tasks, ${numAug} augmentations per task, seed ${seed}`);
  console.log(formatSummary('subsets:', Object.fromEntries(r.subsets.map((s) => [`${s.dataset}/${s.subset}`, `${s.tasks} tasks`]))));
  for (const s of r.splits) {
    console.log(formatSummary(`${s.split}:`, { groups: s.groups, puzzles: s.puzzles, examples: s.examples, 'mean examples per puzzle': s.metadata.mean_puzzle_examples.toFixed(3) }));
  }
  console.log(`identifiers (incl. <blank>): ${r.identifiers}`);
  if (r.incomplete > 0) console.log(`tasks with fewer than ${numAug} distinct augmentations: ${r.incomplete}`);
  if (r.skipped.length > 0) {
    console.log(`skipped ${r.skipped.length} invalid task file(s):`);
    for (const s of r.skipped) console.log(`  ${s}`);
  }
  console.log(`wrote ${out} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return 0;
};

const BUILDERS: Record<string, (argv: readonly string[]) => Promise<number>> = {
  arc: buildArc,
  sudoku: buildSudoku,
  maze: buildMaze,
};

export const run = async (argv: readonly string[]): Promise<number> => {
  const [kind, ...rest] = argv;
  if (kind === undefined || kind === '--help' || kind === '-h') {
    console.log(`${USAGE}\n\nRun \`hrm build <kind> --help\` for the options of a kind.`);
    return kind === undefined ? 2 : 0;
  }
  const builder = BUILDERS[kind];
  if (builder === undefined) {
    console.error(`hrm build: unknown dataset kind '${kind}' (expected ${Object.keys(BUILDERS).join(', ')})`);
    return 2;
  }
  try {
    return await builder(rest);
  } catch (e) {
    if (e instanceof ArgsError) {
      console.error(e.message);
      return 2;
    }
    throw e;
  }
};
