// The fixed Sudoku solver that defines uniqueness and the difficulty rating of generated puzzles.
//
// Search: depth-first on bitmask candidate sets. At every node it scans the empty cells in row-major
// order and picks the one with the fewest candidates (ties → the lowest cell index; a cell with one
// candidate is therefore a naked single). If some empty cell has no candidate, the node is a
// DEAD END and the search returns. Otherwise it tries the chosen cell's candidates in increasing
// digit order (or in a caller-supplied random order, used only to generate full grids).
//
// RATING = the number of dead ends visited before the first solution is found, i.e. how many times
// this solver has to backtrack. A puzzle that naked singles alone solve has rating 0. The count is a
// property of the puzzle and this exact procedure (cell choice and digit order as above), so it is
// reproducible; it is not tdoku's count (tdoku propagates more and backtracks less).

import type { SudokuShape } from './grid.ts';
import type { Rng } from '../../core/rng.ts';

export interface SolveResult {
  /** solutions found, capped at `maxSolutions` */
  readonly count: number;
  /** the first solution (null when none) */
  readonly solution: Uint8Array | null;
  /** dead ends visited before the first solution (all dead ends when there is none) */
  readonly rating: number;
  /** nodes (placements) visited in total */
  readonly nodes: number;
  /** true when `maxNodes` stopped the search before it finished */
  readonly aborted: boolean;
}

export interface SolveOptions {
  /** stop after this many solutions (default 2: enough to decide uniqueness) */
  readonly maxSolutions?: number;
  /** stop after this many placements (default: unlimited) */
  readonly maxNodes?: number;
  /** try candidates in a random order drawn from this generator (generation of full grids only) */
  readonly rng?: Rng;
}

const POPCOUNT = (() => {
  const t = new Uint8Array(1 << 17);
  for (let i = 1; i < t.length; i++) t[i] = t[i >> 1] + (i & 1);
  return t;
})();

/** A reusable solver for one shape (its scratch arrays are allocated once). */
export class SudokuSolver {
  private readonly n: number;
  private readonly cells: number;
  private readonly full: number;
  private readonly rowOf: Uint8Array;
  private readonly colOf: Uint8Array;
  private readonly boxOfCell: Uint8Array;
  private readonly rows: Uint32Array;
  private readonly cols: Uint32Array;
  private readonly boxes: Uint32Array;
  private readonly board: Uint8Array;
  private count = 0;
  private rating = 0;
  private nodes = 0;
  private aborted = false;
  private first: Uint8Array | null = null;
  private maxSolutions = 2;
  private maxNodes = Infinity;
  private rng: Rng | undefined;

  constructor(readonly shape: SudokuShape) {
    const { n, cells, boxRows, boxCols } = shape;
    this.n = n;
    this.cells = cells;
    this.full = ((1 << (n + 1)) - 1) & ~1; // bits 1..n
    this.rowOf = new Uint8Array(cells);
    this.colOf = new Uint8Array(cells);
    this.boxOfCell = new Uint8Array(cells);
    for (let i = 0; i < cells; i++) {
      const r = Math.floor(i / n);
      const c = i % n;
      this.rowOf[i] = r;
      this.colOf[i] = c;
      this.boxOfCell[i] = Math.floor(r / boxRows) * boxRows + Math.floor(c / boxCols);
    }
    this.rows = new Uint32Array(n);
    this.cols = new Uint32Array(n);
    this.boxes = new Uint32Array(n);
    this.board = new Uint8Array(cells);
  }

  /** Solves `puzzle` (n² cells, 0 = blank); an inconsistent puzzle has 0 solutions and rating 0. */
  solve(puzzle: ArrayLike<number>, options: SolveOptions = {}): SolveResult {
    this.maxSolutions = options.maxSolutions ?? 2;
    this.maxNodes = options.maxNodes ?? Infinity;
    this.rng = options.rng;
    this.count = 0;
    this.rating = 0;
    this.nodes = 0;
    this.aborted = false;
    this.first = null;
    this.rows.fill(0);
    this.cols.fill(0);
    this.boxes.fill(0);
    if (puzzle.length !== this.cells) throw new Error(`solve: ${puzzle.length} cells, expected ${this.cells}`);
    for (let i = 0; i < this.cells; i++) {
      const v = puzzle[i];
      this.board[i] = v;
      if (v === 0) continue;
      const bit = 1 << v;
      const r = this.rowOf[i];
      const c = this.colOf[i];
      const b = this.boxOfCell[i];
      if (v > this.n || (this.rows[r] | this.cols[c] | this.boxes[b]) & bit) {
        return { count: 0, solution: null, rating: 0, nodes: 0, aborted: false };
      }
      this.rows[r] |= bit;
      this.cols[c] |= bit;
      this.boxes[b] |= bit;
    }
    this.search();
    return { count: this.count, solution: this.first, rating: this.rating, nodes: this.nodes, aborted: this.aborted };
  }

  /** Returns true when the search must stop (enough solutions, or the node budget is spent). */
  private search(): boolean {
    const { board, rows, cols, boxes, rowOf, colOf, boxOfCell, full } = this;
    let best = -1;
    let bestMask = 0;
    let bestCount = 99;
    for (let i = 0; i < this.cells; i++) {
      if (board[i] !== 0) continue;
      const m = full & ~(rows[rowOf[i]] | cols[colOf[i]] | boxes[boxOfCell[i]]);
      const k = POPCOUNT[m];
      if (k < bestCount) {
        best = i;
        bestMask = m;
        bestCount = k;
        if (k === 0) break;
      }
    }
    if (best < 0) {
      this.count++;
      if (this.first === null) this.first = board.slice();
      return this.count >= this.maxSolutions;
    }
    if (bestCount === 0) {
      if (this.count === 0) this.rating++;
      return false;
    }
    const r = rowOf[best];
    const c = colOf[best];
    const b = boxOfCell[best];
    let digits: number[] | null = null;
    if (this.rng !== undefined) {
      digits = [];
      for (let m = bestMask; m !== 0; m &= m - 1) digits.push(31 - Math.clz32(m & -m));
      this.rng.shuffleInPlace(digits);
    }
    let m = bestMask;
    for (let k = 0; k < bestCount; k++) {
      let v: number;
      if (digits !== null) v = digits[k];
      else {
        v = 31 - Math.clz32(m & -m);
        m &= m - 1;
      }
      const bit = 1 << v;
      if (++this.nodes > this.maxNodes) {
        this.aborted = true;
        return true;
      }
      board[best] = v;
      rows[r] |= bit;
      cols[c] |= bit;
      boxes[b] |= bit;
      const stop = this.search();
      board[best] = 0;
      rows[r] &= ~bit;
      cols[c] &= ~bit;
      boxes[b] &= ~bit;
      if (stop) return true;
    }
    return false;
  }
}
