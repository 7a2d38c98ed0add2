// Sudoku boards of any box shape: n = boxRows × boxCols (4×4 with 2×2 boxes, 6×6 with 2×3, 9×9
// with 3×3). A board is a Uint8Array of n² cells in row-major order, 0 = blank, 1..n = digits.
// Shape helpers, validity checks, parsing of puzzle strings and the token encoding (value + 1).
// Solving lives in solver.ts, generation in generate.ts.

export interface BoxShape {
  readonly boxRows: number; // rows per box
  readonly boxCols: number; // columns per box
}

export interface SudokuShape extends BoxShape {
  readonly n: number; // side = digits = boxRows * boxCols
  readonly cells: number; // n²
}

export const sudokuShape = (boxRows: number, boxCols: number): SudokuShape => {
  if (!Number.isInteger(boxRows) || !Number.isInteger(boxCols) || boxRows < 1 || boxCols < 1 || boxRows * boxCols > 16) {
    throw new Error(`invalid Sudoku box shape ${boxRows}×${boxCols} (need positive integers with at most 16 digits)`);
  }
  const n = boxRows * boxCols;
  return { boxRows, boxCols, n, cells: n * n };
};

/** The standard shapes by side: 4 → 2×2, 6 → 2×3, 9 → 3×3 (also 8 → 2×4, 12 → 3×4, 16 → 4×4). */
export const shapeForSize = (size: number): SudokuShape => {
  const table: Record<number, [number, number]> = { 4: [2, 2], 6: [2, 3], 8: [2, 4], 9: [3, 3], 12: [3, 4], 16: [4, 4] };
  const s = table[size];
  if (s === undefined) throw new Error(`unsupported Sudoku size ${size} (expected one of ${Object.keys(table).join(', ')})`);
  return sudokuShape(s[0], s[1]);
};

/** Index of the box containing (r, c). */
export const boxOf = (shape: SudokuShape, r: number, c: number): number =>
  Math.floor(r / shape.boxRows) * shape.boxRows + Math.floor(c / shape.boxCols);

/** True when no row, column or box holds a digit twice (blanks allowed); every value in 0..n. */
export const isConsistent = (shape: SudokuShape, board: ArrayLike<number>): boolean => {
  const { n } = shape;
  if (board.length !== n * n) return false;
  const rows = new Uint32Array(n);
  const cols = new Uint32Array(n);
  const boxes = new Uint32Array(n);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      const v = board[r * n + c];
      if (!Number.isInteger(v) || v < 0 || v > n) return false;
      if (v === 0) continue;
      const bit = 1 << v;
      const b = boxOf(shape, r, c);
      if ((rows[r] | cols[c] | boxes[b]) & bit) return false;
      rows[r] |= bit;
      cols[c] |= bit;
      boxes[b] |= bit;
    }
  }
  return true;
};

/** True when `solution` is a complete valid grid that agrees with every given of `puzzle`. */
export const isSolutionOf = (shape: SudokuShape, puzzle: ArrayLike<number>, solution: ArrayLike<number>): boolean => {
  if (solution.length !== shape.cells || puzzle.length !== shape.cells) return false;
  for (let i = 0; i < shape.cells; i++) {
    if (solution[i] === 0) return false;
    if (puzzle[i] !== 0 && puzzle[i] !== solution[i]) return false;
  }
  return isConsistent(shape, solution);
};

const DIGITS = '123456789ABCDEFG';

/** One board as a string: digits 1–9 then A–G, '.' = blank. */
export const formatBoard = (shape: SudokuShape, board: ArrayLike<number>): string => {
  let s = '';
  for (let i = 0; i < shape.cells; i++) s += board[i] === 0 ? '.' : DIGITS[board[i] - 1];
  return s;
};

/**
 * Parses a board string of n² characters ('.' or '0' = blank when `allowBlank`); throws a message
 * saying what is wrong (the caller adds file and line).
 */
export const parseBoard = (shape: SudokuShape, text: string, allowBlank: boolean): Uint8Array => {
  if (text.length !== shape.cells) throw new Error(`expected ${shape.cells} characters, got ${text.length}`);
  const out = new Uint8Array(shape.cells);
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '.' || ch === '0') {
      if (!allowBlank) throw new Error(`blank '${ch}' at position ${i + 1} of a solution`);
      out[i] = 0;
      continue;
    }
    const v = DIGITS.indexOf(ch.toUpperCase()) + 1;
    if (v < 1 || v > shape.n) throw new Error(`invalid character '${ch}' at position ${i + 1} (expected ${allowBlank ? "'.', '0' or " : ''}1–${DIGITS[shape.n - 1]})`);
    out[i] = v;
  }
  return out;
};

/** Tokens of the dataset: value + 1 (PAD 0 never appears; blank 1; digits 2..n+1). vocab = n + 2. */
export const boardToTokens = (board: ArrayLike<number>): Uint8Array => {
  const out = new Uint8Array(board.length);
  for (let i = 0; i < board.length; i++) out[i] = board[i] + 1;
  return out;
};

export const tokensToBoard = (tokens: ArrayLike<number>): Uint8Array => {
  const out = new Uint8Array(tokens.length);
  for (let i = 0; i < tokens.length; i++) out[i] = Math.max(0, tokens[i] - 1);
  return out;
};
