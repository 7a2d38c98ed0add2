// Properties of the Sudoku generator and augmentation: generated puzzles are minimal and uniquely
// solvable; any augmentation of a (puzzle, solution) pair is again a valid, uniquely solvable pair
// with the same number of clues; transposition never happens for non-square boxes. HRM_PROP_RUNS.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Rng } from '../src/core/rng.ts';
import { isConsistent, isSolutionOf, shapeForSize } from '../src/data/sudoku/grid.ts';
import { SudokuSolver } from '../src/data/sudoku/solver.ts';
import { generateMinimalPuzzle } from '../src/data/sudoku/generate.ts';
import { applySudokuTransform, randomSudokuTransform, shuffleSudoku } from '../src/data/sudoku/augment.ts';

const RUNS = Number(process.env.HRM_PROP_RUNS ?? 50);

describe.each([4, 6, 9])('Sudoku of side %i', (size) => {
  const shape = shapeForSize(size);
  const solver = new SudokuSolver(shape);
  const runs = size === 9 ? Math.max(5, Math.floor(RUNS / 5)) : RUNS;

  it('generated puzzles are uniquely solvable and minimal', () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const g = generateMinimalPuzzle(solver, Rng.fromSeed(seed));
        expect(isSolutionOf(shape, g.puzzle, g.solution)).toBe(true);
        const r = solver.solve(g.puzzle);
        expect(r.count).toBe(1);
        expect(Array.from(r.solution!)).toEqual(Array.from(g.solution));
        // minimal: removing any clue makes the solution non-unique
        for (let i = 0; i < shape.cells; i++) {
          if (g.puzzle[i] === 0) continue;
          const p = g.puzzle.slice();
          p[i] = 0;
          expect(solver.solve(p).count).toBe(2);
        }
      }),
      { numRuns: Math.max(3, Math.floor(runs / 3)) },
    );
  });

  it('an augmented puzzle and its augmented solution are a valid, uniquely solvable pair', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer(), (seedPuzzle, seedAug) => {
        const g = generateMinimalPuzzle(solver, Rng.fromSeed(seedPuzzle));
        const a = shuffleSudoku(shape, g.puzzle, g.solution, Rng.fromSeed(seedAug));
        expect(isConsistent(shape, a.puzzle)).toBe(true);
        expect(isSolutionOf(shape, a.puzzle, a.solution)).toBe(true);
        const r = solver.solve(a.puzzle);
        expect(r.count).toBe(1);
        expect(Array.from(r.solution!)).toEqual(Array.from(a.solution));
        expect(a.puzzle.filter((v) => v !== 0).length).toBe(g.clues);
      }),
      { numRuns: runs },
    );
  });

  it('transforms are bijections on cells and digits; no transpose for non-square boxes', () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const t = randomSudokuTransform(shape, Rng.fromSeed(seed));
        if (shape.boxRows !== shape.boxCols) expect(t.transpose).toBe(false);
        expect([...t.rowPerm].sort((x, y) => x - y)).toEqual([...Array(size).keys()]);
        expect([...t.colPerm].sort((x, y) => x - y)).toEqual([...Array(size).keys()]);
        expect(t.digitMap[0]).toBe(0);
        // rows stay within their band, bands move as wholes
        for (let i = 0; i < size; i++) {
          const sameBand = Math.floor(i / shape.boxRows) === Math.floor((i + 1) / shape.boxRows);
          if (i + 1 < size && sameBand) expect(Math.floor(t.rowPerm[i] / shape.boxRows)).toBe(Math.floor(t.rowPerm[i + 1] / shape.boxRows));
        }
        const cells = Uint8Array.from({ length: shape.cells }, (_, i) => (i % size) + 1);
        const moved = applySudokuTransform(shape, { ...t, digitMap: Uint8Array.from({ length: size + 1 }, (_, d) => d) }, cells);
        expect([...moved].sort()).toEqual([...cells].sort());
      }),
      { numRuns: RUNS },
    );
  });
});

describe('solver rating', () => {
  it('is the documented dead-end count: 0 for a singles-only puzzle, stable across runs', () => {
    const shape = shapeForSize(9);
    const solver = new SudokuSolver(shape);
    // one clue removed from a full grid: solved by a naked single
    const full = solver.solve(new Uint8Array(81), { maxSolutions: 1 }).solution!;
    const p = full.slice();
    p[40] = 0;
    expect(solver.solve(p).rating).toBe(0);
    // "AI Escargot" (A. Inkala): needs backtracking; the count is reproducible
    const esc = Uint8Array.from('100007090030020008009600500005300900010080002600004000300000010040000007007000300', (c) => Number(c));
    const r1 = solver.solve(esc);
    const r2 = new SudokuSolver(shape).solve(esc);
    expect(r1.count).toBe(1);
    expect(r1.rating).toBe(8); // pinned: the rating definition must not drift
    expect(r2.rating).toBe(r1.rating);
  });
});
