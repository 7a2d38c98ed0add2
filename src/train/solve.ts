// Solving one puzzle with a trained model (`hrm solve`): encode the puzzle as one batch row, run
// eval-mode segments from a fresh carry, and stop where ACT would (the first segment with
// q_halt > q_continue, TRM: q_halt > 0; the EMA copy when the config has EMA) or at halt_max_steps; every segment's prediction is kept so the caller
// can show the reasoning refine. Sudoku and maze encodings follow the dataset builders (§6.3, §6.4).

import type { Hrm } from '../model/api.ts';
import { haltsByQ } from '../model/act.ts';
import { IGNORE_LABEL, type Batch } from '../core/batch.ts';
import { MAZE_CHARSET } from '../data/maze/maze.ts';
import { boxOf, formatBoard, isSolutionOf, parseBoard, shapeForSize, boardToTokens, tokensToBoard, type SudokuShape } from '../data/sudoku/grid.ts';

export interface SegmentTrace {
  readonly segment: number;
  readonly predictions: Int32Array; // [T]
  readonly qHalt: number;
  readonly qContinue: number;
  /** cells whose prediction changed since the previous segment */
  readonly changed: number;
}

export interface SolveOutcome {
  readonly traces: readonly SegmentTrace[];
  /** the segment ACT stops at (1-based) */
  readonly segmentsUsed: number;
  /** predictions at that segment */
  readonly predictions: Int32Array;
}

/** Runs one puzzle (tokens [T], puzzle identifier) until ACT halts or `haltMaxSteps` (all of them with `full`). */
export const solveOne = async (hrm: Hrm, tokens: Int32Array, puzzleId: number, haltMaxSteps: number, full = false): Promise<SolveOutcome> => {
  const T = tokens.length;
  const batch: Batch = { inputs: tokens, labels: new Int32Array(T).fill(IGNORE_LABEL), puzzleIdentifiers: Int32Array.of(puzzleId), batchSize: 1, seqLen: T };
  let carry = hrm.initialCarry(1, T);
  const traces: SegmentTrace[] = [];
  let used = 0;
  try {
    for (let s = 1; s <= haltMaxSteps; s++) {
      const { carry: next, result } = await hrm.evalStep(carry, batch, { haltMaxSteps, weights: hrm.config.train.ema ? 'ema' : 'live' });
      carry = next;
      const prev = traces[traces.length - 1]?.predictions;
      let changed = 0;
      if (prev) for (let t = 0; t < T; t++) if (prev[t] !== result.predictions[t]) changed++;
      traces.push({ segment: s, predictions: Int32Array.from(result.predictions), qHalt: result.qHaltLogits[0], qContinue: result.qContinueLogits[0], changed: prev ? changed : T });
      if (used === 0 && (haltsByQ(hrm.config.arch.no_ACT_continue, result.qHaltLogits[0], result.qContinueLogits[0]) || s === haltMaxSteps)) {
        used = s;
        if (!full) break;
      }
      if (result.allHalted) break;
    }
  } finally {
    hrm.disposeCarry(carry);
  }
  if (used === 0) used = traces.length;
  return { traces, segmentsUsed: used, predictions: traces[used - 1].predictions };
};

// ---- Sudoku -----------------------------------------------------------------------------------

/** Parses a Sudoku string of n² characters (n = 4, 6 or 9; '.' or '0' = blank). */
export const parseSudoku = (text: string): { shape: SudokuShape; board: Uint8Array; tokens: Int32Array } => {
  const clean = text.replace(/[\s|+-]/g, '');
  const n = Math.round(Math.sqrt(clean.length));
  if (n * n !== clean.length || ![4, 6, 9].includes(n)) {
    throw new Error(`--puzzle: expected 16, 36 or 81 characters (a 4×4, 6×6 or 9×9 Sudoku, '.' or '0' for blanks), got ${clean.length}`);
  }
  const shape = shapeForSize(n);
  let board: Uint8Array;
  try {
    board = parseBoard(shape, clean, true);
  } catch (e) {
    throw new Error(`--puzzle: ${(e as Error).message}`);
  }
  const conflict = givenConflict(shape, board);
  if (conflict !== null) throw new Error(`--puzzle: the givens conflict: ${conflict} (no solution exists)`);
  return { shape, board, tokens: Int32Array.from(boardToTokens(board)) };
};

/** The first digit given twice in a row, column or box ("5 twice in row 1"), or null. */
const givenConflict = (shape: SudokuShape, board: Uint8Array): string | null => {
  const { n } = shape;
  const seen = new Map<string, number>();
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      const v = board[r * n + c];
      if (v === 0) continue;
      for (const [unit, k] of [['row', r], ['column', c], ['box', boxOf(shape, r, c)]] as const) {
        const key = `${unit} ${k + 1}:${v}`;
        if (seen.has(key)) return `${v} twice in ${unit} ${k + 1} (cells ${seen.get(key)! + 1} and ${r * n + c + 1})`;
        seen.set(key, r * n + c);
      }
    }
  }
  return null;
};

/** A Sudoku board as rows with box separators; `givens` are shown plain, filled digits too. */
export const renderSudoku = (shape: SudokuShape, board: ArrayLike<number>): string => {
  const s = formatBoard(shape, board);
  const lines: string[] = [];
  const sep = Array.from({ length: shape.n / shape.boxCols }, () => '-'.repeat(shape.boxCols * 2 - 1)).join('-+-');
  for (let r = 0; r < shape.n; r++) {
    if (r > 0 && r % shape.boxRows === 0) lines.push(sep);
    const cells = [...s.slice(r * shape.n, (r + 1) * shape.n)];
    const groups: string[] = [];
    for (let c = 0; c < shape.n; c += shape.boxCols) groups.push(cells.slice(c, c + shape.boxCols).join(' '));
    lines.push(groups.join(' | '));
  }
  return lines.join('\n');
};

/** Predicted tokens → board (0 where the model predicts a non-digit). */
export const sudokuFromTokens = (shape: SudokuShape, tokens: ArrayLike<number>): Uint8Array =>
  Uint8Array.from(tokensToBoard(tokens), (v) => (v >= 1 && v <= shape.n ? v : 0));

export const checkSudoku = (shape: SudokuShape, puzzle: Uint8Array, solution: Uint8Array): string => {
  if (isSolutionOf(shape, puzzle, solution)) return 'a valid solution';
  let wrongGivens = 0;
  for (let i = 0; i < shape.cells; i++) if (puzzle[i] !== 0 && puzzle[i] !== solution[i]) wrongGivens++;
  return `NOT a valid solution${wrongGivens ? ` (${wrongGivens} givens changed)` : ''}`;
};

// ---- Mazes ------------------------------------------------------------------------------------


/** Parses a square maze drawing (`#` wall, space open, `S` start, `G` goal; `o` path cells are cleared). */
export const parseMaze = (text: string, file: string): { side: number; tokens: Int32Array } => {
  const lines = text.replace(/\r/g, '').split('\n').filter((l, i, a) => !(i === a.length - 1 && l === ''));
  const side = lines.length;
  const tokens = new Int32Array(side * side);
  lines.forEach((line, r) => {
    if (line.length !== side) throw new Error(`${file}:${r + 1}: a ${side}×${side} maze needs ${side} characters per line, got ${line.length}`);
    for (let c = 0; c < side; c++) {
      const k = MAZE_CHARSET.indexOf(line[c]);
      if (k < 0) throw new Error(`${file}:${r + 1}:${c + 1}: character '${line[c]}' is not one of '#', ' ', 'S', 'G', 'o'`);
      tokens[r * side + c] = line[c] === 'o' ? 2 : k + 1;
    }
  });
  return { side, tokens };
};

export const renderMaze = (side: number, tokens: ArrayLike<number>): string => {
  const rows: string[] = [];
  for (let r = 0; r < side; r++) {
    let s = '';
    for (let c = 0; c < side; c++) s += MAZE_CHARSET[tokens[r * side + c] - 1] ?? '?';
    rows.push(s);
  }
  return rows.join('\n');
};
