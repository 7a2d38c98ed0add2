// The maze generator: a spanning tree of corridors grown on the N×N grid (a wall cell is opened
// only when exactly one of its 4 neighbours is open and the two diagonal cells beyond it are walls,
// so open cells form a tree of one-cell-wide corridors), then
// `loops` extra wall cells between two corridors opened to create cycles. Start S is drawn
// uniformly among open cells that have some open cell at least `minPathLength` moves away, goal G
// uniformly among those cells. A maze is kept only when its shortest S→G path is unique, so the
// label is unambiguous. Pure computation on an Rng.

import type { Rng } from '../../core/rng.ts';
import { GOAL, OPEN, START, WALL, bfsDistances, countShortestPaths, labelMaze, type Maze } from './maze.ts';

export interface MazeOptions {
  readonly n: number; // side
  readonly minPathLength: number; // moves
  /** fraction of the cells opened again after the tree is grown (creates loops); default 0.02 */
  readonly loopFraction?: number;
}

export interface GeneratedMaze {
  readonly maze: Maze;
  readonly input: Uint8Array; // [n²] tokens
  readonly label: Uint8Array; // [n²] tokens with the path
  readonly pathLength: number; // moves S → G
}

/** The tree of corridors plus loops: tokens WALL / OPEN. */
export const growCorridors = (n: number, rng: Rng, loopFraction: number): Uint8Array => {
  const cells = new Uint8Array(n * n).fill(WALL);
  const openNeighbours = (i: number): number => {
    const r = Math.floor(i / n);
    const c = i % n;
    let k = 0;
    if (r > 0 && cells[i - n] === OPEN) k++;
    if (r < n - 1 && cells[i + n] === OPEN) k++;
    if (c > 0 && cells[i - 1] === OPEN) k++;
    if (c < n - 1 && cells[i + 1] === OPEN) k++;
    return k;
  };
  const isOpen = (r: number, c: number): boolean => r >= 0 && r < n && c >= 0 && c < n && cells[r * n + c] === OPEN;
  // the two diagonal cells on the side away from the one open neighbour must be walls, so corridors
  // stay one cell wide and never touch diagonally
  const clearAhead = (i: number): boolean => {
    const r = Math.floor(i / n);
    const c = i % n;
    let dr = 0;
    let dc = 0;
    if (isOpen(r - 1, c)) dr = 1;
    else if (isOpen(r + 1, c)) dr = -1;
    else if (isOpen(r, c - 1)) dc = 1;
    else dc = -1;
    return dr !== 0 ? !isOpen(r + dr, c - 1) && !isOpen(r + dr, c + 1) : !isOpen(r - 1, c + dc) && !isOpen(r + 1, c + dc);
  };
  const frontier: number[] = [];
  const pushWalls = (i: number): void => {
    const r = Math.floor(i / n);
    const c = i % n;
    if (r > 0 && cells[i - n] === WALL) frontier.push(i - n);
    if (r < n - 1 && cells[i + n] === WALL) frontier.push(i + n);
    if (c > 0 && cells[i - 1] === WALL) frontier.push(i - 1);
    if (c < n - 1 && cells[i + 1] === WALL) frontier.push(i + 1);
  };
  const first = rng.int(0, n * n - 1);
  cells[first] = OPEN;
  pushWalls(first);
  while (frontier.length > 0) {
    // growing tree: mostly the newest frontier cell (long corridors), sometimes a random one
    const k = rng.uniform() < 0.75 ? frontier.length - 1 : rng.int(0, frontier.length - 1);
    const i = frontier[k];
    frontier[k] = frontier[frontier.length - 1];
    frontier.pop();
    if (cells[i] !== WALL || openNeighbours(i) !== 1 || !clearAhead(i)) continue;
    cells[i] = OPEN;
    pushWalls(i);
  }
  const loops = Math.round(loopFraction * n * n);
  for (let tries = 0, made = 0; made < loops && tries < 50 * (loops + 1); tries++) {
    const i = rng.int(0, n * n - 1);
    if (cells[i] === WALL && openNeighbours(i) >= 2) {
      cells[i] = OPEN;
      made++;
    }
  }
  return cells;
};

/** One maze meeting the options (retries internally; throws after maxAttempts candidates). */
export const generateMaze = (o: MazeOptions, rng: Rng, maxAttempts = 10_000): GeneratedMaze & { attempts: number } => {
  const { n, minPathLength } = o;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const cells = growCorridors(n, rng, o.loopFraction ?? 0.02);
    const open: number[] = [];
    for (let i = 0; i < n * n; i++) if (cells[i] === OPEN) open.push(i);
    if (open.length < 2) continue;
    // a few start candidates per grid
    for (let s = 0; s < 8; s++) {
      const start = open[rng.int(0, open.length - 1)];
      const dist = bfsDistances(n, cells, start);
      const far = open.filter((i) => dist[i] >= Math.max(1, minPathLength));
      if (far.length === 0) continue;
      const goal = far[rng.int(0, far.length - 1)];
      const withEnds = cells.slice();
      withEnds[start] = START;
      withEnds[goal] = GOAL;
      const maze: Maze = { n, cells: withEnds, start, goal };
      if (countShortestPaths(maze) !== 1) continue;
      return { maze, input: withEnds, label: labelMaze(maze), pathLength: dist[goal], attempts: attempt };
    }
  }
  throw new Error(`no ${n}×${n} maze with a unique shortest path of ≥ ${minPathLength} moves in ${maxAttempts} attempts; lower --min-path-length`);
};

/** Default hard filter: the paper keeps 30×30 mazes with paths longer than 110; scaled by area. */
export const defaultMinPathLength = (n: number): number => Math.floor((110 * n * n) / 900) + 1;
