// The Sudoku augmentation of the original builder (`shuffle_sudoku`, spec §6.3), generalized to any
// box shape: digit relabelling (blank stays blank), transposition with probability ½ (only when the
// boxes are square: transposing a 2×3-box grid would give 3×2 boxes), a permutation of the bands
// and of the rows inside each band, and likewise of the stacks and the columns inside each stack.
// The same transform is applied to a puzzle and to its solution. Pure: draws from the given Rng.

import type { Rng } from '../../core/rng.ts';
import type { SudokuShape } from './grid.ts';

export interface SudokuTransform {
  readonly digitMap: Uint8Array; // [n + 1], digitMap[0] = 0
  readonly transpose: boolean;
  readonly rowPerm: Int32Array; // [n]: new row i takes old row rowPerm[i]
  readonly colPerm: Int32Array; // [n]: new column j takes old column colPerm[j]
}

/** Draws one transform; order of draws: digit map, transpose flag, bands, rows, stacks, columns. */
export const randomSudokuTransform = (shape: SudokuShape, rng: Rng): SudokuTransform => {
  const { n, boxRows, boxCols } = shape;
  const digitMap = new Uint8Array(n + 1);
  const p = rng.permutation(n);
  for (let d = 1; d <= n; d++) digitMap[d] = p[d - 1] + 1;
  const transpose = boxRows === boxCols ? rng.uniform() < 0.5 : false;
  // rows: boxCols bands of boxRows rows; columns: boxRows stacks of boxCols columns
  const rowPerm = new Int32Array(n);
  let k = 0;
  for (const band of rng.permutation(n / boxRows)) for (const r of rng.permutation(boxRows)) rowPerm[k++] = band * boxRows + r;
  const colPerm = new Int32Array(n);
  k = 0;
  for (const stack of rng.permutation(n / boxCols)) for (const c of rng.permutation(boxCols)) colPerm[k++] = stack * boxCols + c;
  return { digitMap, transpose, rowPerm, colPerm };
};

/** Applies a transform to one board [n²]: new(i, j) = digitMap[old'(rowPerm[i], colPerm[j])], old' = old or its transpose. */
export const applySudokuTransform = (shape: SudokuShape, t: SudokuTransform, board: ArrayLike<number>): Uint8Array => {
  const { n } = shape;
  const out = new Uint8Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const r = t.rowPerm[i];
      const c = t.colPerm[j];
      out[i * n + j] = t.digitMap[t.transpose ? board[c * n + r] : board[r * n + c]];
    }
  }
  return out;
};

/** One augmentation of a (puzzle, solution) pair. */
export const shuffleSudoku = (shape: SudokuShape, puzzle: ArrayLike<number>, solution: ArrayLike<number>, rng: Rng): { puzzle: Uint8Array; solution: Uint8Array } => {
  const t = randomSudokuTransform(shape, rng);
  return { puzzle: applySudokuTransform(shape, t, puzzle), solution: applySudokuTransform(shape, t, solution) };
};
