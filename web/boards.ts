// Drawing token sequences as boards: Sudoku (4×4, 6×6, 9×9 with their boxes), mazes ('#' wall,
// 'S' start, 'G' goal, 'o' path) and ARC grids (30×30, colours 0–9, EOS border cropped). Token
// encodings are the dataset builders' (Sudoku: digit + 1, blank 1; maze: MAZE_CHARSET index + 1;
// ARC: colour + 2, 1 = end of grid, 0 = padding).

import { MAZE_CHARSET, shapeForSize } from '../src/browser.ts';

export type BoardKind = { kind: 'sudoku'; n: number } | { kind: 'maze'; side: number } | { kind: 'arc' } | { kind: 'grid'; side: number };

/** What a dataset or model of this shape holds (a 4×4 vocabulary-6 set is read as Sudoku unless told it is a maze). */
export const kindFor = (seqLen: number, vocab: number, hint?: 'maze'): BoardKind => {
  const side = Math.round(Math.sqrt(seqLen));
  if (seqLen === 900 && vocab === 12) return { kind: 'arc' };
  if (side * side === seqLen) {
    if (hint === 'maze' || (vocab === MAZE_CHARSET.length + 1 && side !== 4)) return { kind: 'maze', side };
    if ([4, 6, 9].includes(side) && vocab === side + 2) return { kind: 'sudoku', n: side };
    return { kind: 'grid', side };
  }
  return { kind: 'grid', side: Math.ceil(Math.sqrt(seqLen)) };
};

/** The ARC palette (colours 0–9). */
export const ARC_COLOURS = ['#000000', '#0074d9', '#ff4136', '#2ecc40', '#ffdc00', '#aaaaaa', '#f012be', '#ff851b', '#7fdbff', '#870c25'];

const el = (tag: string, cls?: string, text?: string): HTMLElement => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
};

export interface DrawOptions {
  /** cells to mark as changed since the previous segment */
  readonly changed?: ReadonlySet<number>;
  /** the puzzle's given cells (drawn bold) */
  readonly givens?: ArrayLike<number>;
  /** expected tokens: wrong cells are marked */
  readonly expected?: ArrayLike<number>;
}

/** One board as a table of cells; `data-tokens` carries the tokens for tests and copy-paste. */
export const drawBoard = (kind: BoardKind, tokens: ArrayLike<number>, o: DrawOptions = {}): HTMLElement => {
  const wrap = el('div', `board board-${kind.kind}`);
  wrap.dataset.tokens = Array.from(tokens).join(',');
  if (kind.kind === 'arc') return drawArc(wrap, tokens);
  const side = kind.kind === 'sudoku' ? kind.n : kind.side;
  const box = kind.kind === 'sudoku' ? shapeForSize(kind.n) : undefined;
  const table = el('table');
  for (let r = 0; r < side; r++) {
    const tr = el('tr');
    for (let c = 0; c < side; c++) {
      const i = r * side + c;
      const v = tokens[i] ?? 0;
      const td = el('td');
      if (kind.kind === 'sudoku') {
        td.textContent = v <= 1 ? '' : String(v - 1);
        if (box && (c + 1) % box.boxCols === 0 && c + 1 < side) td.classList.add('box-right');
        if (box && (r + 1) % box.boxRows === 0 && r + 1 < side) td.classList.add('box-bottom');
        if (o.givens && o.givens[i] > 1) td.classList.add('given');
      } else if (kind.kind === 'maze') {
        const ch = MAZE_CHARSET[v - 1] ?? '?';
        td.classList.add(`maze-${{ '#': 'wall', ' ': 'open', S: 'start', G: 'goal', o: 'path' }[ch] ?? 'other'}`);
        td.textContent = ch === 'S' || ch === 'G' ? ch : '';
      } else {
        td.textContent = String(v);
      }
      if (o.changed?.has(i)) td.classList.add('changed');
      if (o.expected && o.expected[i] !== v) td.classList.add('wrong');
      tr.append(td);
    }
    table.append(tr);
  }
  wrap.append(table);
  return wrap;
};

/** An ARC grid: the 30×30 canvas cropped at the end-of-grid markers. */
const drawArc = (wrap: HTMLElement, tokens: ArrayLike<number>): HTMLElement => {
  let h = 0;
  let w = 0;
  for (let r = 0; r < 30; r++) {
    for (let c = 0; c < 30; c++) {
      if (tokens[r * 30 + c] >= 2) {
        h = Math.max(h, r + 1);
        w = Math.max(w, c + 1);
      }
    }
  }
  const table = el('table');
  for (let r = 0; r < h; r++) {
    const tr = el('tr');
    for (let c = 0; c < w; c++) {
      const v = tokens[r * 30 + c];
      const td = el('td');
      td.style.background = v >= 2 ? ARC_COLOURS[v - 2] : '#fff';
      tr.append(td);
    }
    table.append(tr);
  }
  wrap.append(table);
  wrap.dataset.size = `${h}x${w}`;
  return wrap;
};

/** Tokens of a typed or pasted Sudoku/maze text ('.'/'0' blank; maze: the maze charset), or an error. */
export const tokensFromText = (kind: BoardKind, text: string): Int32Array | string => {
  if (kind.kind === 'sudoku') {
    const clean = text.replace(/[\s|+-]/g, '');
    if (clean.length !== kind.n * kind.n) return `a ${kind.n}×${kind.n} Sudoku has ${kind.n * kind.n} cells, the text has ${clean.length}`;
    const out = new Int32Array(clean.length);
    for (let i = 0; i < clean.length; i++) {
      const ch = clean[i];
      const d = ch === '.' || ch === '0' ? 0 : parseInt(ch, 36);
      if (!(d >= 0 && d <= kind.n)) return `cell ${i + 1}: '${ch}' is not a digit 1–${kind.n} or a blank ('.' or '0')`;
      out[i] = d + 1;
    }
    return out;
  }
  if (kind.kind === 'maze') {
    const rows = text.split(/\r?\n/).filter((l) => l.length > 0);
    if (rows.length !== kind.side || rows.some((r) => r.length !== kind.side)) return `a ${kind.side}×${kind.side} maze needs ${kind.side} lines of ${kind.side} characters`;
    const out = new Int32Array(kind.side * kind.side);
    for (let i = 0; i < out.length; i++) {
      const ch = rows[Math.floor(i / kind.side)][i % kind.side];
      const k = MAZE_CHARSET.indexOf(ch);
      if (k < 0 || ch === 'o') return `line ${Math.floor(i / kind.side) + 1}: '${ch}' is not '#', ' ', 'S' or 'G'`;
      out[i] = k + 1;
    }
    return out;
  }
  return 'only Sudoku and maze puzzles can be typed in';
};
