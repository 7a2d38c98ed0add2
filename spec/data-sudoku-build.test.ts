// Sudoku datasets end to end: generated 4×4 / 6×6 datasets have the documented metadata (vocab
// n + 2, seq_len n², identifiers all 0, groups of 1 + num_aug puzzles of one example), distinct
// puzzles across both splits, valid token ranges; the CSV import applies --min-difficulty to both
// splits, --subsample-size (seeded, train only) and --num-aug (train only).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateSudokuDataset, importSudokuCsv } from '../src/data/sudoku/build.ts';
import { readIdentifiers, readSplit } from '../src/data/format.ts';
import { isSolutionOf, shapeForSize, tokensToBoard } from '../src/data/sudoku/grid.ts';
import { SudokuSolver } from '../src/data/sudoku/solver.ts';
import { shuffleSudoku } from '../src/data/sudoku/augment.ts';
import { generateMinimalPuzzle } from '../src/data/sudoku/generate.ts';
import { formatBoard, parseBoard } from '../src/data/sudoku/grid.ts';
import { Rng } from '../src/core/rng.ts';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hrm-sud-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe.each([4, 6])('generated dataset of side %i', (size) => {
  it('has the documented layout and valid, distinct, uniquely solvable puzzles', async () => {
    const out = path.join(dir, `gen${size}`);
    const numAug = 2;
    await generateSudokuDataset({ out, size, trainSize: 40, testSize: 10, minRating: 0, numAug, seed: 5, threads: 1 });
    const shape = shapeForSize(size);
    const solver = new SudokuSolver(shape);
    const train = readSplit(out, 'train');
    const test = readSplit(out, 'test');
    expect(readIdentifiers(out)).toEqual(['<blank>']);
    for (const [s, groups, per] of [
      [train, 40, numAug + 1],
      [test, 10, 1],
    ] as const) {
      expect(s.metadata).toMatchObject({ vocab_size: size + 2, seq_len: size * size, num_puzzle_identifiers: 1, total_groups: groups, mean_puzzle_examples: 1 });
      const set = s.sets.all;
      expect(set.numExamples).toBe(groups * per);
      expect(Array.from(set.groupIndices)).toEqual(Array.from({ length: groups + 1 }, (_, g) => g * per));
      expect(set.puzzleIdentifiers.every((x) => x === 0)).toBe(true);
      for (let e = 0; e < set.numExamples; e++) {
        const T = size * size;
        const q = tokensToBoard(set.inputs.subarray(e * T, (e + 1) * T));
        const a = tokensToBoard(set.labels.subarray(e * T, (e + 1) * T));
        expect(Math.min(...set.labels.subarray(e * T, (e + 1) * T))).toBeGreaterThanOrEqual(2); // labels never 0 or blank
        expect(isSolutionOf(shape, q, a)).toBe(true);
        expect(solver.solve(q).count).toBe(1);
      }
    }
    // originals (first puzzle of each group) are distinct across train and test
    const originals = new Set<string>();
    for (const s of [train, test]) {
      const set = s.sets.all;
      for (let g = 0; g + 1 < set.groupIndices.length; g++) {
        const e = set.puzzleIndices[set.groupIndices[g]];
        originals.add(Array.from(set.inputs.subarray(e * size * size, (e + 1) * size * size)).join(''));
      }
    }
    expect(originals.size).toBe(50);
  });
});

describe('parallel generation', () => {
  it('writes the same dataset with 1 and 2 worker threads', async () => {
    const build = (threads: number) => generateSudokuDataset({ out: path.join(dir, `thr${threads}`), size: 6, trainSize: 30, testSize: 10, minRating: 1, numAug: 1, seed: 3, threads });
    await build(1);
    await build(2);
    for (const f of ['train/all__inputs.npy', 'train/all__labels.npy', 'test/all__inputs.npy', 'raw/train.csv']) {
      expect(fs.readFileSync(path.join(dir, 'thr2', f)).equals(fs.readFileSync(path.join(dir, 'thr1', f)))).toBe(true);
    }
    // the hard filter held: every rating ≥ 1
    const ratings = fs.readFileSync(path.join(dir, 'thr1', 'raw/train.csv'), 'utf8').trim().split('\n').slice(1).map((l) => Number(l.split(',')[3]));
    expect(ratings.length).toBe(30);
    expect(Math.min(...ratings)).toBeGreaterThanOrEqual(1);
  });
});

describe('a clue range (--clues)', () => {
  it('fills minimal 9×9 puzzles up to a count in the range, still uniquely solvable, the same on 1 and 2 threads', async () => {
    const build = (threads: number) => generateSudokuDataset({ out: path.join(dir, `clues${threads}`), size: 9, trainSize: 12, testSize: 4, minRating: 0, clues: { min: 36, max: 40 }, numAug: 0, seed: 7, threads });
    await build(1);
    await build(2);
    expect(fs.readFileSync(path.join(dir, 'clues2', 'raw/train.csv')).equals(fs.readFileSync(path.join(dir, 'clues1', 'raw/train.csv')))).toBe(true);
    const shape = shapeForSize(9);
    const solver = new SudokuSolver(shape);
    const counts = new Set<number>();
    for (const split of ['train', 'test']) {
      const rows = fs.readFileSync(path.join(dir, 'clues1', `raw/${split}.csv`), 'utf8').trim().split('\n').slice(1);
      expect(rows.length).toBe(split === 'train' ? 12 : 4);
      for (const row of rows) {
        const [, q, a] = row.split(',');
        const puzzle = parseBoard(shape, q!, true);
        const solution = parseBoard(shape, a!, false);
        const clues = puzzle.reduce((n, v) => n + (v > 0 ? 1 : 0), 0);
        counts.add(clues);
        expect(clues).toBeGreaterThanOrEqual(36);
        expect(clues).toBeLessThanOrEqual(40);
        expect(isSolutionOf(shape, puzzle, solution)).toBe(true);
        expect(solver.solve(puzzle, { maxSolutions: 2 }).count).toBe(1);
      }
    }
    expect(counts.size).toBeGreaterThan(1); // drawn from the range, not pinned to one end
  });

  it('rejects a range outside the grid', async () => {
    await expect(generateSudokuDataset({ out: path.join(dir, 'cluesbad'), size: 4, trainSize: 2, testSize: 1, minRating: 0, clues: { min: 10, max: 16 }, numAug: 0, seed: 1, threads: 1 })).rejects.toThrow(/--clues 10-16: expected .* < 16 for 4×4/);
  });
});

describe('Sudoku-Extreme CSV import', () => {
  it('applies --min-difficulty to both splits, --subsample-size (seeded) and --num-aug to train only', async () => {
    const shape = shapeForSize(9);
    const solver = new SudokuSolver(shape);
    const rng = Rng.fromSeed(9);
    const rows = (n: number, tag: string) =>
      Array.from({ length: n }, (_, k) => {
        const g = generateMinimalPuzzle(solver, rng);
        const a = shuffleSudoku(shape, g.puzzle, g.solution, rng);
        return `${tag}${k},${formatBoard(shape, a.puzzle)},${formatBoard(shape, a.solution)},${k % 4}`;
      });
    const d = path.join(dir, 'csv');
    fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(d, 'train.csv'), ['source,question,answer,rating', ...rows(20, 'tr')].join('\n') + '\n');
    fs.writeFileSync(path.join(d, 'test.csv'), ['source,question,answer,rating', ...rows(8, 'te')].join('\r\n') + '\r\n');
    const build = (out: string, seed: number) => importSudokuCsv({ input: d, out: path.join(dir, out), subsampleSize: 6, minDifficulty: 2, numAug: 3, seed });
    const r = await build('imp-a', 1);
    // ratings k % 4 ≥ 2 keep half of the rows: 10 train → subsample 6; 4 test
    expect(r.map((s) => [s.groups, s.puzzles, s.examples])).toEqual([
      [6, 24, 24],
      [4, 4, 4],
    ]);
    expect(r[0].ratings.every((x) => x >= 2)).toBe(true);
    await build('imp-b', 1);
    await build('imp-c', 2);
    const bytes = (o: string) => fs.readFileSync(path.join(dir, o, 'train', 'all__inputs.npy'));
    expect(bytes('imp-a').equals(bytes('imp-b'))).toBe(true);
    expect(bytes('imp-a').equals(bytes('imp-c'))).toBe(false);
    expect(fs.readFileSync(path.join(dir, 'imp-a', 'train', 'dataset.json'), 'utf8')).toBe(
      '{"pad_id": 0, "ignore_label_id": 0, "blank_identifier_id": 0, "vocab_size": 11, "seq_len": 81, "num_puzzle_identifiers": 1, "total_groups": 6, "mean_puzzle_examples": 1.0, "total_puzzles": 24, "sets": ["all"]}',
    );
  });
});
