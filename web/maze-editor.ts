// The Solve page's maze editor: a grid painted with a brush (wall, open, start, goal) by clicking or
// dragging; there is one start and one goal, so painting either moves it. Tokens are the maze
// builder's (MAZE_CHARSET index + 1).

import { MAZE_CHARSET } from '../src/browser.ts';

const BRUSHES = [
  { ch: '#', label: 'wall' },
  { ch: ' ', label: 'open' },
  { ch: 'S', label: 'start' },
  { ch: 'G', label: 'goal' },
] as const;
const token = (ch: string): number => MAZE_CHARSET.indexOf(ch) + 1;
const CLASS: Record<string, string> = { '#': 'maze-wall', ' ': 'maze-open', S: 'maze-start', G: 'maze-goal', o: 'maze-path' };

export interface MazeEditor {
  readonly element: HTMLElement;
  /** shows these tokens (from the text box or a bundled maze) without calling onChange */
  set(tokens: ArrayLike<number>): void;
}

/** An editor for a side×side maze; onChange receives the tokens after every stroke. */
export const mazeEditor = (side: number, onChange: (tokens: Int32Array) => void): MazeEditor => {
  const tokens = new Int32Array(side * side).fill(token(' '));
  const box = document.createElement('div');
  box.className = 'maze-editor';
  const brushes = document.createElement('div');
  brushes.className = 'brushes';
  let brush: string = '#';
  for (const b of BRUSHES) {
    const label = document.createElement('label');
    const radio = Object.assign(document.createElement('input'), { type: 'radio', name: 'maze-brush', value: b.ch, checked: b.ch === brush });
    radio.dataset.brush = b.label;
    radio.addEventListener('change', () => (brush = b.ch));
    label.append(radio, ` ${b.label}`);
    brushes.append(label);
  }
  const table = document.createElement('table');
  table.className = 'board board-maze';
  const cells: HTMLTableCellElement[] = [];
  for (let r = 0; r < side; r++) {
    const tr = document.createElement('tr');
    for (let c = 0; c < side; c++) {
      const td = document.createElement('td');
      td.dataset.cell = String(r * side + c);
      cells.push(td);
      tr.append(td);
    }
    table.append(tr);
  }
  const show = (i: number): void => {
    const ch = MAZE_CHARSET[tokens[i] - 1] ?? '?';
    cells[i].className = CLASS[ch] ?? 'maze-other';
    cells[i].textContent = ch === 'S' || ch === 'G' ? ch : '';
  };
  const paint = (i: number): void => {
    const t = token(brush);
    // the start and the goal are unique: painting one clears where it was
    if (brush === 'S' || brush === 'G') tokens.forEach((v, j) => v === t && j !== i && ((tokens[j] = token(' ')), show(j)));
    tokens[i] = t;
    show(i);
  };
  let painting = false;
  const end = (): void => {
    if (!painting) return;
    painting = false;
    onChange(tokens.slice());
  };
  const cellOf = (e: Event): number | undefined => {
    const d = (e.target as HTMLElement).dataset?.cell;
    return d === undefined ? undefined : Number(d);
  };
  table.addEventListener('mousedown', (e) => {
    const i = cellOf(e);
    if (i === undefined) return;
    e.preventDefault();
    painting = brush === '#' || brush === ' ';
    paint(i);
    if (painting) window.addEventListener('mouseup', end, { once: true });
    else onChange(tokens.slice());
  });
  table.addEventListener('mouseover', (e) => {
    const i = cellOf(e);
    if (painting && i !== undefined) paint(i);
  });
  for (let i = 0; i < tokens.length; i++) show(i);
  box.append(brushes, table);
  return {
    element: box,
    set: (t) => {
      for (let i = 0; i < tokens.length; i++) {
        // path marks ('o') of a pasted solution are open cells of the puzzle
        tokens[i] = t[i] === token('o') ? token(' ') : t[i];
        show(i);
      }
    },
  };
};
