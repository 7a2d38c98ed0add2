// The participation ratio PR = (Σλ)² / Σλ² of the covariance eigenvalues λ of a set of samples,
// computed without an eigendecomposition: Σλ = tr C and Σλ² = ‖C‖²_F, and the nonzero spectrum of
// C ∝ XcᵀXc equals that of the centred Gram matrix XcXcᵀ, so whichever of the two is smaller is
// used (the scale 1/(n−1) cancels). Estimators answer PR for any multiset of sample groups, which
// gives the bootstrap over puzzles and the PR-against-number-of-puzzles curve at the cost of one
// pass over the data. Pure: numbers in, numbers out.

import type { Rng } from '../core/rng.ts';

/** PR of the covariance of the rows of x [n, d] (n ≥ 2); 0 when every row is equal. */
export const participationRatio = (x: ArrayLike<number>, n: number, d: number): number => {
  if (n < 2) throw new Error(`participationRatio: ${n} samples, expected ≥ 2`);
  if (x.length !== n * d) throw new Error(`participationRatio: ${x.length} values, expected n·d = ${n * d}`);
  const est = n <= d ? gramEstimator(x, n, d) : tokenEstimator(x, n, 1, d);
  return est.pr(Int32Array.from({ length: n }, (_, i) => i));
};

/** PR of a multiset of groups (indices into the estimator's groups, repeats allowed). */
export interface PrEstimator {
  /** number of groups (puzzles) */
  readonly groups: number;
  pr(idx: Int32Array): number;
}

const ratio = (trace: number, frob2: number): number => (frob2 > 0 ? (trace * trace) / frob2 : 0);

/**
 * x [rows, d] minus its column means. The estimators accumulate uncentred products and centre
 * per multiset; removing the overall mean first keeps that from cancelling large offsets.
 */
const centred = (x: ArrayLike<number>, rows: number, d: number): Float64Array => {
  const mu = new Float64Array(d);
  for (let r = 0; r < rows; r++) for (let k = 0; k < d; k++) mu[k] += x[r * d + k];
  for (let k = 0; k < d; k++) mu[k] /= rows;
  return Float64Array.from({ length: rows * d }, (_, i) => x[i] - mu[i % d]);
};

/**
 * One sample per group (a puzzle's state flattened, x [n, d]): PR from the uncentred Gram matrix
 * K = XXᵀ [n, n], double-centred for each multiset. Memory n², one-off cost n²·d.
 */
export const gramEstimator = (x: ArrayLike<number>, n: number, d: number): PrEstimator => {
  if (x.length !== n * d) throw new Error(`gramEstimator: ${x.length} values, expected n·d = ${n * d}`);
  const xc = centred(x, n, d);
  const K = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += xc[i * d + k] * xc[j * d + k];
      K[i * n + j] = s;
      K[j * n + i] = s;
    }
  }
  return {
    groups: n,
    pr(idx) {
      const m = idx.length;
      if (m < 2) return 0;
      const r = new Float64Array(m); // row means of K[idx, idx]
      let all = 0;
      for (let a = 0; a < m; a++) {
        let s = 0;
        const row = idx[a] * n;
        for (let b = 0; b < m; b++) s += K[row + idx[b]];
        r[a] = s / m;
        all += s;
      }
      all /= m * m;
      // centred Gram G[a][b] = K[ia][ib] − r[a] − r[b] + all
      let trace = 0;
      let frob2 = 0;
      for (let a = 0; a < m; a++) {
        const row = idx[a] * n;
        for (let b = 0; b < m; b++) {
          const g = K[row + idx[b]] - r[a] - r[b] + all;
          frob2 += g * g;
          if (a === b) trace += g;
        }
      }
      return ratio(trace, frob2);
    },
  };
};

/**
 * Several samples per group (a puzzle's tokens, x [n, t, d]: n groups of t samples in d dimensions):
 * per-group sums Σx [d] and Σxxᵀ [d, d], so a multiset's covariance costs m·d². Memory n·d².
 */
export const tokenEstimator = (x: ArrayLike<number>, n: number, t: number, d: number): PrEstimator => {
  if (x.length !== n * t * d) throw new Error(`tokenEstimator: ${x.length} values, expected n·t·d = ${n * t * d}`);
  const xc = centred(x, n * t, d);
  const sums = new Float64Array(n * d);
  const outer = new Float64Array(n * d * d); // upper triangle used
  for (let g = 0; g < n; g++) {
    const s = g * d;
    const o = g * d * d;
    for (let u = 0; u < t; u++) {
      const base = (g * t + u) * d; // x[(g*t + u)*d + k]
      for (let i = 0; i < d; i++) {
        const xi = xc[base + i];
        sums[s + i] += xi;
        for (let j = i; j < d; j++) outer[o + i * d + j] += xi * xc[base + j];
      }
    }
  }
  return {
    groups: n,
    pr(idx) {
      const m = idx.length;
      const count = m * t;
      if (count < 2) return 0;
      const mu = new Float64Array(d);
      const S = new Float64Array(d * d);
      for (const g of idx) {
        for (let i = 0; i < d; i++) mu[i] += sums[g * d + i];
        const o = g * d * d;
        for (let i = 0; i < d; i++) for (let j = i; j < d; j++) S[i * d + j] += outer[o + i * d + j];
      }
      for (let i = 0; i < d; i++) mu[i] /= count;
      let trace = 0;
      let frob2 = 0;
      for (let i = 0; i < d; i++) {
        for (let j = i; j < d; j++) {
          const c = S[i * d + j] / count - mu[i] * mu[j];
          if (i === j) {
            trace += c;
            frob2 += c * c;
          } else frob2 += 2 * c * c;
        }
      }
      return ratio(trace, frob2);
    },
  };
};

/**
 * A value with a 95% bootstrap interval. PR grows with the number of distinct samples, and a
 * resample with replacement holds only ≈ 63% distinct puzzles, so the bootstrap distribution sits
 * below the full-sample value; the interval is therefore the bootstrap's 2.5–97.5 percentile
 * spread placed around the full-sample value (percentiles minus the bootstrap median, plus
 * `value`), and the shift is reported as `bootstrap_median`.
 */
export interface Interval {
  readonly value: number; // on all groups
  readonly lo: number;
  readonly hi: number;
  readonly bootstrap_median: number;
}

const quantile = (sorted: Float64Array, q: number): number => {
  if (sorted.length === 0) return NaN;
  const pos = q * (sorted.length - 1);
  const i = Math.floor(pos);
  const f = pos - i;
  return i + 1 < sorted.length ? sorted[i] * (1 - f) + sorted[i + 1] * f : sorted[i];
};

/** The interval of `value` from bootstrap draws (non-finite draws ignored; NaN bounds without draws). */
export const interval = (value: number, draws: ArrayLike<number>): Interval => {
  const s = Float64Array.from(Array.from(draws).filter(Number.isFinite)).sort();
  const med = quantile(s, 0.5);
  return { value, lo: value + quantile(s, 0.025) - med, hi: value + quantile(s, 0.975) - med, bootstrap_median: med };
};

/**
 * Paired bootstrap over groups: each replicate resamples the groups with replacement once and
 * evaluates every estimator (all must have the same groups) on it, so ratios keep their pairing.
 * Returns the draws per estimator ([reps] each).
 */
export const bootstrapDraws = (estimators: readonly PrEstimator[], reps: number, rng: Rng): Float64Array[] => {
  const n = estimators[0]?.groups ?? 0;
  for (const e of estimators) if (e.groups !== n) throw new Error(`bootstrapDraws: estimators over ${e.groups} and ${n} groups`);
  const out = estimators.map(() => new Float64Array(reps));
  const idx = new Int32Array(n);
  for (let r = 0; r < reps; r++) {
    for (let i = 0; i < n; i++) idx[i] = Math.floor(rng.uniform() * n);
    estimators.forEach((e, k) => (out[k][r] = e.pr(idx)));
  }
  return out;
};

export interface CurvePoint {
  readonly puzzles: number;
  readonly mean: number;
  readonly sd: number;
}

/** Subset sizes for a PR curve: 2, 4, 8, … below n, then n. */
export const curveSizes = (n: number): number[] => {
  const out: number[] = [];
  for (let k = 2; k < n; k *= 2) out.push(k);
  if (n >= 2) out.push(n);
  return out;
};

/** PR on random subsets (without replacement) of each size, `repeats` subsets per size (one at n). */
export const prCurve = (est: PrEstimator, sizes: readonly number[], repeats: number, rng: Rng): CurvePoint[] =>
  sizes.map((k) => {
    const reps = k >= est.groups ? 1 : repeats;
    const vals: number[] = [];
    for (let r = 0; r < reps; r++) {
      const perm = rng.permutation(est.groups);
      vals.push(est.pr(perm.subarray(0, k)));
    }
    const mean = vals.reduce((a, b) => a + b, 0) / vals.length;
    const sd = vals.length > 1 ? Math.sqrt(vals.reduce((a, b) => a + (b - mean) ** 2, 0) / (vals.length - 1)) : 0;
    return { puzzles: k, mean, sd };
  });
