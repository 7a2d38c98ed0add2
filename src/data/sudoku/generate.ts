// The Sudoku puzzle generator: a random complete grid (the solver with shuffled digit order), then
// clues removed one at a time in a random cell order, each removal kept only if the puzzle stays
// uniquely solvable, which yields a minimal puzzle (no clue can be removed). Its rating is the
// solver's dead-end count (solver.ts). The hard filter keeps puzzles with rating ≥ minRating.
// Pure computation on an Rng; the dataset writing is in build.ts.

import type { Rng } from '../../core/rng.ts';
import type { SudokuShape } from './grid.ts';
import { SudokuSolver } from './solver.ts';

export interface GeneratedSudoku {
  readonly puzzle: Uint8Array; // [n²], 0 = blank
  readonly solution: Uint8Array; // [n²]
  readonly rating: number;
  readonly clues: number;
}

/** A uniformly shuffled-order complete grid. */
export const randomFullGrid = (solver: SudokuSolver, rng: Rng): Uint8Array => {
  const r = solver.solve(new Uint8Array(solver.shape.cells), { maxSolutions: 1, rng });
  if (r.solution === null) throw new Error('randomFullGrid: no grid found (unsupported shape?)');
  return r.solution;
};

/** One minimal, uniquely solvable puzzle with its solution and rating. */
export const generateMinimalPuzzle = (solver: SudokuSolver, rng: Rng): GeneratedSudoku => {
  const solution = randomFullGrid(solver, rng);
  const puzzle = solution.slice();
  const order = rng.permutation(solver.shape.cells);
  let clues = solver.shape.cells;
  for (const cell of order) {
    const keep = puzzle[cell];
    puzzle[cell] = 0;
    if (solver.solve(puzzle, { maxSolutions: 2 }).count !== 1) puzzle[cell] = keep;
    else clues--;
  }
  const rating = solver.solve(puzzle, { maxSolutions: 1 }).rating;
  return { puzzle, solution, rating, clues };
};

/**
 * Generates puzzles until one has rating ≥ minRating (at most maxAttempts tries; throws with the
 * best rating seen when none qualifies). Returns the puzzle and the number of attempts used.
 */
export const generateHardPuzzle = (
  shape: SudokuShape,
  rng: Rng,
  minRating: number,
  solver: SudokuSolver = new SudokuSolver(shape),
  maxAttempts = 100_000,
): GeneratedSudoku & { attempts: number } => {
  let best = -1;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const g = generateMinimalPuzzle(solver, rng);
    if (g.rating >= minRating) return { ...g, attempts: attempt };
    best = Math.max(best, g.rating);
  }
  throw new Error(`no ${shape.n}×${shape.n} puzzle with rating ≥ ${minRating} in ${maxAttempts} attempts (best ${best}); lower --min-rating`);
};
