// Summaries of per-puzzle numbers (Sudoku ratings, maze path lengths) for build reports:
// count/min/mean/median/max and a histogram over fixed, readable bucket edges. Pure.

export interface Summary {
  readonly count: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  readonly median: number;
}

export const summarize = (values: readonly number[]): Summary => {
  if (values.length === 0) return { count: 0, min: 0, max: 0, mean: 0, median: 0 };
  const s = [...values].sort((a, b) => a - b);
  const n = s.length;
  const median = n % 2 === 1 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  return { count: n, min: s[0], max: s[n - 1], mean: s.reduce((a, b) => a + b, 0) / n, median };
};

export interface Bucket {
  readonly lo: number; // inclusive
  readonly hi: number; // inclusive (Infinity for the last)
  readonly count: number;
}

/** Counts values into buckets [edges[k], edges[k+1]−1], the last one open-ended. Edges ascending. */
export const histogram = (values: readonly number[], edges: readonly number[]): Bucket[] =>
  edges.map((lo, k) => {
    const hi = k + 1 < edges.length ? edges[k + 1] - 1 : Infinity;
    return { lo, hi, count: values.filter((v) => v >= lo && v <= hi).length };
  });

/** Text lines "lo–hi  count  bar" for a histogram (empty buckets after the last non-empty one omitted). */
export const formatHistogram = (all: readonly Bucket[], width = 40): string[] => {
  let last = all.length - 1;
  while (last > 0 && all[last].count === 0) last--;
  const buckets = all.slice(0, last + 1);
  const max = Math.max(1, ...buckets.map((b) => b.count));
  const label = (b: Bucket): string => (b.hi === Infinity ? `${b.lo}+` : b.lo === b.hi ? `${b.lo}` : `${b.lo}–${b.hi}`);
  const w = Math.max(...buckets.map((b) => label(b).length));
  const cw = Math.max(...buckets.map((b) => String(b.count).length));
  return buckets.map((b) => `${label(b).padStart(w)}  ${String(b.count).padStart(cw)}  ${'█'.repeat(Math.round((b.count / max) * width))}`);
};

export const RATING_EDGES = [0, 1, 5, 10, 20, 50, 100, 200, 500];
