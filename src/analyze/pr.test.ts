// The participation ratio: known dimensionalities (isotropic Gaussian in D dimensions ≈ D; equal
// variances on a k-dimensional subspace ≈ k), invariance to rotation, scaling and translation
// (fast-check), and the Gram / per-token estimators against the eigenvalues of the covariance.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Rng } from '../core/rng.ts';
import { symmetricEigen } from './pca.ts';
import { bootstrapDraws, curveSizes, gramEstimator, interval, participationRatio, prCurve, tokenEstimator } from './pr.ts';

/** n samples of a standard Gaussian in d dimensions [n, d]. */
const gaussian = (rng: Rng, n: number, d: number): Float64Array => Float64Array.from({ length: n * d }, () => rng.normal());

/** A random d×d orthogonal matrix (Gram–Schmidt on Gaussian columns), row-major. */
const orthogonal = (rng: Rng, d: number): Float64Array => {
  const q = gaussian(rng, d, d);
  for (let c = 0; c < d; c++) {
    for (let p = 0; p < c; p++) {
      let dot = 0;
      for (let i = 0; i < d; i++) dot += q[i * d + c] * q[i * d + p];
      for (let i = 0; i < d; i++) q[i * d + c] -= dot * q[i * d + p];
    }
    let nrm = 0;
    for (let i = 0; i < d; i++) nrm += q[i * d + c] ** 2;
    for (let i = 0; i < d; i++) q[i * d + c] /= Math.sqrt(nrm);
  }
  return q;
};

/** x [n, k] · m [k, d] */
const matmul = (x: Float64Array, n: number, k: number, m: Float64Array, d: number): Float64Array => {
  const out = new Float64Array(n * d);
  for (let r = 0; r < n; r++) for (let j = 0; j < k; j++) for (let c = 0; c < d; c++) out[r * d + c] += x[r * k + j] * m[j * d + c];
  return out;
};

/** PR from the eigenvalues of the sample covariance (the definition, for cross-checks). */
const prByEigen = (x: Float64Array, n: number, d: number): number => {
  const mu = new Float64Array(d);
  for (let r = 0; r < n; r++) for (let c = 0; c < d; c++) mu[c] += x[r * d + c] / n;
  const C = new Float64Array(d * d);
  for (let r = 0; r < n; r++) for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) C[i * d + j] += ((x[r * d + i] - mu[i]) * (x[r * d + j] - mu[j])) / (n - 1);
  const { values } = symmetricEigen(C, d);
  const s1 = values.reduce((a, b) => a + b, 0);
  const s2 = values.reduce((a, b) => a + b * b, 0);
  return (s1 * s1) / s2;
};

// With n samples of an isotropic Gaussian the sample covariance has E tr C = D and
// E tr C² ≈ D + D²/n, so PR ≈ D·n/(n + D): with n = 400·D that is within 0.3% of D.
describe('participation ratio: known dimensionalities', () => {
  it('isotropic Gaussian samples in D dimensions give ≈ D', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }), (D, seed) => {
        const n = 400 * D;
        const pr = participationRatio(gaussian(Rng.fromSeed(seed), n, D), n, D);
        expect(pr).toBeGreaterThan(0.9 * D);
        expect(pr).toBeLessThanOrEqual(D + 1e-9); // PR ≤ rank
      }),
      { numRuns: 25 },
    );
  });

  it('equal variances on a k-dimensional subspace of D give ≈ k', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 16 }), fc.integer({ min: 1, max: 16 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }), (D, kRaw, seed) => {
        const k = Math.min(kRaw, D);
        const rng = Rng.fromSeed(seed);
        const n = 400 * k;
        const basis = orthogonal(rng, D).subarray(0, k * D); // k orthonormal rows [k, D]
        const x = matmul(gaussian(rng, n, k), n, k, basis, D);
        const pr = participationRatio(x, n, D);
        expect(pr).toBeGreaterThan(0.9 * k);
        expect(pr).toBeLessThanOrEqual(k + 1e-6);
      }),
      { numRuns: 25 },
    );
  });

  it('is invariant to rotation, scaling and translation', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 10 }),
        fc.integer({ min: 3, max: 40 }),
        fc.double({ min: 1e-3, max: 1e3, noNaN: true }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (D, n, scale, seed) => {
          const rng = Rng.fromSeed(seed);
          // anisotropic data so the spectrum is not flat
          const x = gaussian(rng, n, D).map((v, i) => v * (1 + (i % D)));
          const base = participationRatio(x, n, D);
          const Q = orthogonal(rng, D);
          const shift = gaussian(rng, 1, D);
          const moved = matmul(x, n, D, Q, D).map((v, i) => scale * v + 100 * shift[i % D]);
          expect(Math.abs(participationRatio(moved, n, D) - base)).toBeLessThanOrEqual(1e-7 * base);
        },
      ),
      { numRuns: 50 },
    );
  });
});

describe('participation ratio: estimators', () => {
  it('the Gram estimator (n ≤ d) and the covariance estimator (n > d) equal the eigenvalue definition', () => {
    const rng = Rng.fromSeed(3);
    for (const [n, d] of [[5, 12], [12, 5], [9, 9], [2, 3]]) {
      const x = gaussian(rng, n, d).map((v, i) => v * (1 + ((i * 7) % d)));
      const all = Int32Array.from({ length: n }, (_, i) => i);
      const want = prByEigen(x, n, d);
      expect(gramEstimator(x, n, d).pr(all)).toBeCloseTo(want, 9);
      expect(tokenEstimator(x, n, 1, d).pr(all)).toBeCloseTo(want, 9);
    }
  });

  it('per-token PR pools every position of the chosen puzzles, repeats counted twice', () => {
    const rng = Rng.fromSeed(4);
    const [n, t, d] = [6, 3, 4];
    const x = gaussian(rng, n * t, d);
    const idx = Int32Array.from([0, 2, 2, 5]);
    const rows = Float64Array.from(Array.from(idx).flatMap((g) => Array.from(x.subarray(g * t * d, (g + 1) * t * d))));
    expect(tokenEstimator(x, n, t, d).pr(idx)).toBeCloseTo(prByEigen(rows, idx.length * t, d), 9);
    // and the Gram estimator on a multiset equals the definition on the repeated rows
    const flat = gramEstimator(x, n, t * d);
    expect(flat.pr(idx)).toBeCloseTo(prByEigen(rows, idx.length, t * d), 9);
  });

  it('the bootstrap is seeded, paired, and its interval is placed around the full-sample value', () => {
    const rng = Rng.fromSeed(5);
    const x = gaussian(rng, 40, 8).map((v, i) => v * (1 + (i % 8)));
    const e = tokenEstimator(x, 40, 1, 8);
    const a = bootstrapDraws([e, e], 50, Rng.fromSeed(9));
    const b = bootstrapDraws([e, e], 50, Rng.fromSeed(9));
    expect(Array.from(a[0])).toEqual(Array.from(b[0]));
    expect(Array.from(a[0])).toEqual(Array.from(a[1])); // same resample for both estimators
    const full = e.pr(Int32Array.from({ length: 40 }, (_, i) => i));
    const iv = interval(full, a[0]);
    expect(iv.lo).toBeLessThanOrEqual(full);
    expect(iv.hi).toBeGreaterThanOrEqual(full);
    expect(iv.hi - iv.lo).toBeGreaterThan(0);
  });

  it('the PR curve uses subsets of 2, 4, … puzzles and all of them once at the end', () => {
    expect(curveSizes(10)).toEqual([2, 4, 8, 10]);
    expect(curveSizes(8)).toEqual([2, 4, 8]);
    const x = gaussian(Rng.fromSeed(6), 20, 3);
    const c = prCurve(tokenEstimator(x, 20, 1, 3), curveSizes(20), 4, Rng.fromSeed(1));
    expect(c.map((p) => p.puzzles)).toEqual([2, 4, 8, 16, 20]);
    expect(c[0].mean).toBeCloseTo(1, 9); // two points span one direction
    expect(c.at(-1)?.sd).toBe(0);
  });
});
