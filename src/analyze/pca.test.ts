// PCA by subspace iteration against known structure: the Jacobi eigensolver on a matrix with known
// spectrum, and components of data stretched along known orthogonal directions.

import { describe, expect, it } from 'vitest';
import { Rng } from '../core/rng.ts';
import { principalComponents, project, symmetricEigen } from './pca.ts';

describe('pca', () => {
  it('symmetricEigen recovers a known spectrum and orthonormal vectors', () => {
    // A = V diag(5, 2, 1) Vᵀ with a rotation V in the first two axes
    const c = Math.cos(0.3);
    const s = Math.sin(0.3);
    const V = [c, -s, 0, s, c, 0, 0, 0, 1];
    const lam = [5, 2, 1];
    const A = new Float64Array(9);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) A[i * 3 + j] += V[i * 3 + k] * lam[k] * V[j * 3 + k];
    const { values, vectors } = symmetricEigen(A, 3);
    expect(Array.from(values).map((v) => Number(v.toFixed(10)))).toEqual([5, 2, 1]);
    expect(Math.abs(vectors[0] * c + vectors[3] * s)).toBeCloseTo(1, 10); // first eigenvector = ±V[:,0]
  });

  it('finds the stretched directions of anisotropic data, with their variances', () => {
    const rng = Rng.fromSeed(11);
    const d = 50;
    const n = 3000;
    const dirs = [0, 1, 2].map((k) => Float64Array.from({ length: d }, (_, i) => (i === 3 * k + 1 ? 1 : 0)));
    const sd = [10, 5, 3];
    const rows = Array.from({ length: n }, () => {
      const x = Float64Array.from({ length: d }, () => 0.1 * rng.normal() + 7);
      for (let k = 0; k < 3; k++) {
        const z = sd[k] * rng.normal();
        for (let i = 0; i < d; i++) x[i] += z * dirs[k][i];
      }
      return Float32Array.from(x);
    });
    const p = principalComponents(rows, 3, { seed: 1 });
    for (let k = 0; k < 3; k++) {
      expect(Math.abs(p.components[k][3 * k + 1])).toBeGreaterThan(0.999);
      expect(p.variances[k] / sd[k] ** 2).toBeGreaterThan(0.9);
      expect(p.variances[k] / sd[k] ** 2).toBeLessThan(1.1);
    }
    expect(p.totalVariance).toBeGreaterThan(p.variances.reduce((a, b) => a + b, 0));
    // projecting the mean gives the origin
    expect(project(p, p.mean).every((v) => Math.abs(v) < 1e-9)).toBe(true);
  });
});
