// Mazes as the original builder stores them (spec §6.4): an N×N grid over the charset "# SGo"
// (wall, open, start, goal, path) → tokens 1..5 (0 = PAD), vocab 6, seq_len N². The input is the
// maze without its path; the label marks the cells strictly between S and G on the shortest path
// with 'o'. Here: BFS distances, the number of shortest paths (capped), the canonical shortest
// path used for labels, and the check that a label is a shortest S→G path. Pure.

export const MAZE_CHARSET = '# SGo';
export const WALL = 1;
export const OPEN = 2;
export const START = 3;
export const GOAL = 4;
export const PATH = 5;
export const MAZE_VOCAB = MAZE_CHARSET.length + 1;

export interface Maze {
  readonly n: number; // side
  readonly cells: Uint8Array; // [n²] tokens (1..4; PATH only in labels)
  readonly start: number; // cell index
  readonly goal: number;
}

/** Neighbour order used everywhere (BFS and the canonical path): up, down, left, right. */
const neighbours = (n: number, i: number, out: Int32Array): number => {
  const r = Math.floor(i / n);
  const c = i % n;
  let k = 0;
  if (r > 0) out[k++] = i - n;
  if (r < n - 1) out[k++] = i + n;
  if (c > 0) out[k++] = i - 1;
  if (c < n - 1) out[k++] = i + 1;
  return k;
};

/** BFS distances (moves) from `from` over non-wall cells; −1 = unreachable. */
export const bfsDistances = (n: number, cells: ArrayLike<number>, from: number): Int32Array => {
  const dist = new Int32Array(n * n).fill(-1);
  const queue = new Int32Array(n * n);
  const nb = new Int32Array(4);
  let head = 0;
  let tail = 0;
  dist[from] = 0;
  queue[tail++] = from;
  while (head < tail) {
    const i = queue[head++];
    const k = neighbours(n, i, nb);
    for (let q = 0; q < k; q++) {
      const j = nb[q];
      if (dist[j] < 0 && cells[j] !== WALL) {
        dist[j] = dist[i] + 1;
        queue[tail++] = j;
      }
    }
  }
  return dist;
};

/** Number of distinct shortest S→G paths, capped at `cap` (0 when G is unreachable). */
export const countShortestPaths = (m: Maze, cap = 2): number => {
  const dist = bfsDistances(m.n, m.cells, m.start);
  if (dist[m.goal] < 0) return 0;
  const order = Array.from(dist.keys()).filter((i) => dist[i] >= 0).sort((a, b) => dist[a] - dist[b]);
  const ways = new Float64Array(m.n * m.n);
  ways[m.start] = 1;
  const nb = new Int32Array(4);
  for (const i of order) {
    if (i === m.start) continue;
    let w = 0;
    const k = neighbours(m.n, i, nb);
    for (let q = 0; q < k; q++) if (dist[nb[q]] === dist[i] - 1) w += ways[nb[q]];
    ways[i] = Math.min(w, cap);
  }
  return ways[m.goal];
};

/**
 * The canonical shortest S→G path as cell indices from S to G (null if unreachable): walking back
 * from G, each step goes to the first neighbour (order up, down, left, right) that is one move
 * closer to S. Unique when the maze has a unique shortest path; a fixed choice otherwise.
 */
export const shortestPath = (m: Maze): number[] | null => {
  const dist = bfsDistances(m.n, m.cells, m.start);
  if (dist[m.goal] < 0) return null;
  const path = [m.goal];
  const nb = new Int32Array(4);
  let i = m.goal;
  while (i !== m.start) {
    const k = neighbours(m.n, i, nb);
    let next = -1;
    for (let q = 0; q < k && next < 0; q++) if (dist[nb[q]] === dist[i] - 1) next = nb[q];
    i = next;
    path.push(i);
  }
  return path.reverse();
};

/** The label grid: the maze with the canonical path's inner cells set to PATH. */
export const labelMaze = (m: Maze): Uint8Array => {
  const path = shortestPath(m);
  if (path === null) throw new Error('labelMaze: the goal is unreachable from the start');
  const out = m.cells.slice();
  for (let k = 1; k + 1 < path.length; k++) out[path[k]] = PATH;
  return out;
};

/**
 * Checks that `label` is `input` with the cells of one shortest S→G path (S and G excluded) marked
 * PATH; returns null when it is, else what is wrong.
 */
export const checkMazeLabel = (n: number, input: ArrayLike<number>, label: ArrayLike<number>): string | null => {
  let start = -1;
  let goal = -1;
  for (let i = 0; i < n * n; i++) {
    const v = input[i];
    if (v < WALL || v > GOAL) return `input cell ${i} has token ${v} (expected one of '#', ' ', 'S', 'G')`;
    if (v === START) {
      if (start >= 0) return 'more than one start S';
      start = i;
    }
    if (v === GOAL) {
      if (goal >= 0) return 'more than one goal G';
      goal = i;
    }
    const l = label[i];
    if (l !== v && !(v === OPEN && l === PATH)) return `label differs from the input at cell ${i} beyond marking open cells with 'o'`;
  }
  if (start < 0 || goal < 0) return 'missing start S or goal G';
  const ds = bfsDistances(n, input, start);
  const dg = bfsDistances(n, input, goal);
  const d = ds[goal];
  if (d < 0) return 'the goal is unreachable from the start';
  const byStep = new Int32Array(Math.max(d, 1)).fill(-1);
  let count = 0;
  for (let i = 0; i < n * n; i++) {
    if (label[i] !== PATH) continue;
    count++;
    if (ds[i] < 0 || dg[i] < 0 || ds[i] + dg[i] !== d) return `path cell ${i} is not on a shortest path`;
    if (byStep[ds[i]] >= 0) return `two path cells at distance ${ds[i]} from the start`;
    byStep[ds[i]] = i;
  }
  if (count !== d - 1) return `the path marks ${count} cells, a shortest path has ${d - 1} between S and G`;
  // consecutive cells adjacent
  const adj = (a: number, b: number): boolean => {
    const dr = Math.abs(Math.floor(a / n) - Math.floor(b / n));
    const dc = Math.abs((a % n) - (b % n));
    return dr + dc === 1;
  };
  const seq = [start, ...Array.from(byStep.subarray(1, d)), goal];
  for (let k = 0; k + 1 < seq.length; k++) if (!adj(seq[k], seq[k + 1])) return `path cells ${seq[k]} and ${seq[k + 1]} are not adjacent`;
  return null;
};

/** Tokens of a maze string over MAZE_CHARSET; throws naming the bad character. */
export const mazeStringToTokens = (s: string): Uint8Array => {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const k = MAZE_CHARSET.indexOf(s[i]);
    if (k < 0) throw new Error(`invalid character ${JSON.stringify(s[i])} at position ${i + 1} (expected one of "${MAZE_CHARSET}")`);
    out[i] = k + 1;
  }
  return out;
};

export const mazeTokensToString = (t: ArrayLike<number>): string => Array.from(t, (v) => MAZE_CHARSET[v - 1] ?? '?').join('');
