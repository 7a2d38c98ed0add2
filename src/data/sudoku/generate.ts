// The Sudoku puzzle generator: a random complete grid (the solver with shuffled digit order), then
// clues removed one at a time in a random cell order, each removal kept only if the puzzle stays
// uniquely solvable, which yields a minimal puzzle (no clue can be removed). Its rating is the
// solver's dead-end count (solver.ts). The hard filter keeps puzzles with rating ≥ minRating. A clue
// range instead gives puzzles of a chosen clue count: the minimal puzzle with clues of its solution
// added back in a random cell order up to a count drawn uniformly from the range (still unique).
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

/** An inclusive range of clue counts. */
export interface ClueRange {
  readonly min: number;
  readonly max: number;
}

/**
 * The puzzle with clues of its solution added back, in a random order of its blank cells, up to a
 * count drawn uniformly from the range (a puzzle that already has ≥ range.min clues gets a count
 * from [its clues, range.max]); null when the puzzle has more than range.max clues. Uniqueness is
 * kept: adding a clue of the solution cannot add solutions. The rating is recomputed.
 */
export const withClues = (solver: SudokuSolver, g: GeneratedSudoku, range: ClueRange, rng: Rng): GeneratedSudoku | null => {
  if (g.clues > range.max) return null;
  const lo = Math.max(range.min, g.clues);
  const target = rng.int(lo, range.max);
  const puzzle = g.puzzle.slice();
  const blanks = Array.from(rng.permutation(solver.shape.cells)).filter((c) => puzzle[c] === 0);
  for (let k = 0; k < target - g.clues; k++) puzzle[blanks[k]!] = g.solution[blanks[k]!]!;
  return { puzzle, solution: g.solution, rating: solver.solve(puzzle, { maxSolutions: 1 }).rating, clues: target };
};

/**
 * Generates puzzles (minimal, or filled up to a clue count in `clues`) until one has rating ≥ minRating (at most maxAttempts tries; throws with the
 * best rating seen when none qualifies). Returns the puzzle and the number of attempts used.
 */
export const generateHardPuzzle = (
  shape: SudokuShape,
  rng: Rng,
  minRating: number,
  solver: SudokuSolver = new SudokuSolver(shape),
  maxAttempts = 100_000,
  clues?: ClueRange,
): GeneratedSudoku & { attempts: number } => {
  let best = -1;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const minimal = generateMinimalPuzzle(solver, rng);
    const g = clues === undefined ? minimal : withClues(solver, minimal, clues, rng);
    if (g !== null && g.rating >= minRating) return { ...g, attempts: attempt };
    best = Math.max(best, g?.rating ?? -1);
  }
  throw new Error(`no ${shape.n}×${shape.n} puzzle with rating ≥ ${minRating} in ${maxAttempts} attempts (best ${best}); lower --min-rating`);
};
