// Timing statistics for the benchmarks: a monotonic clock, and the median/min/max summary every
// table and JSON record uses. Pure except for `now`; nothing here decides what to time.

/** Milliseconds from a monotonic clock with sub-microsecond resolution. */
export const now = (): number => Number(process.hrtime.bigint()) / 1e6;

/** Median, extremes and mean of a set of timings (ms); `reps` is how many samples were taken. */
export interface Summary {
  readonly reps: number;
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly meanMs: number;
}

/** Summarises samples (ms); the median of an even count is the mean of the two middle values. */
export const summarize = (samples: readonly number[]): Summary => {
  if (samples.length === 0) throw new Error('summarize: no samples');
  const s = [...samples].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return {
    reps: s.length,
    medianMs: median,
    minMs: s[0],
    maxMs: s[s.length - 1],
    meanMs: s.reduce((a, b) => a + b, 0) / s.length,
  };
};

/** GFLOP/s of `flops` floating-point operations done in `ms` milliseconds. */
export const gflops = (flops: number, ms: number): number => flops / (ms * 1e6);

/** How a repeated measurement is sized: warm-up calls, then up to `reps` timed calls within `budgetMs`. */
export interface RepPlan {
  readonly warmup: number;
  readonly reps: number;
  /** stop taking samples once this much time was spent on timed calls (at least one is taken) */
  readonly budgetMs: number;
}

/** Times `fn` per `plan`: warm-up calls first, then timed calls; returns the samples (ms). */
export const measure = async (fn: () => Promise<void>, plan: RepPlan): Promise<number[]> => {
  for (let i = 0; i < plan.warmup; i++) await fn();
  const samples: number[] = [];
  let spent = 0;
  while (samples.length < Math.max(1, plan.reps) && (samples.length === 0 || spent < plan.budgetMs)) {
    const t0 = now();
    await fn();
    const dt = now() - t0;
    samples.push(dt);
    spent += dt;
  }
  return samples;
};
