// Principal components of many state vectors without forming their covariance: block subspace
// iteration on the centred rows (each pass is two products with the data, cost 2·n·d·q), then a
// Rayleigh–Ritz step with a Jacobi eigensolver on the q×q projected covariance. Written here
// because the model's states are ≥ 1000-dimensional and numbered in thousands, where a dense
// d×d eigendecomposition would dominate the analysis; no dependency offers this for typed arrays
// in browsers and Node alike. Pure; seeded start.

import { Rng } from '../core/rng.ts';

export interface Pca {
  readonly mean: Float64Array; // [d]
  /** components[c] is a unit vector [d]; its largest-magnitude entry is positive */
  readonly components: readonly Float64Array[];
  /** variance along each component (divided by n) */
  readonly variances: readonly number[];
  /** total variance (trace of the covariance, divided by n) */
  readonly totalVariance: number;
  readonly iterations: number;
}

/** Eigenvalues (descending) and eigenvectors (columns of v, row-major q×q) of a symmetric q×q matrix. */
export const symmetricEigen = (a: ArrayLike<number>, q: number): { values: Float64Array; vectors: Float64Array } => {
  const A = Float64Array.from(a);
  const V = new Float64Array(q * q);
  for (let i = 0; i < q; i++) V[i * q + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let i = 0; i < q; i++) for (let j = i + 1; j < q; j++) off += A[i * q + j] ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < q; p++) {
      for (let r = p + 1; r < q; r++) {
        const apr = A[p * q + r];
        if (Math.abs(apr) < 1e-300) continue;
        const theta = (A[r * q + r] - A[p * q + p]) / (2 * apr);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < q; k++) {
          const akp = A[k * q + p];
          const akr = A[k * q + r];
          A[k * q + p] = c * akp - s * akr;
          A[k * q + r] = s * akp + c * akr;
        }
        for (let k = 0; k < q; k++) {
          const apk = A[p * q + k];
          const ark = A[r * q + k];
          A[p * q + k] = c * apk - s * ark;
          A[r * q + k] = s * apk + c * ark;
        }
        for (let k = 0; k < q; k++) {
          const vkp = V[k * q + p];
          const vkr = V[k * q + r];
          V[k * q + p] = c * vkp - s * vkr;
          V[k * q + r] = s * vkp + c * vkr;
        }
      }
    }
  }
  const order = Array.from({ length: q }, (_, i) => i).sort((i, j) => A[j * q + j] - A[i * q + i]);
  const values = Float64Array.from(order, (i) => A[i * q + i]);
  const vectors = new Float64Array(q * q);
  order.forEach((src, dst) => {
    for (let k = 0; k < q; k++) vectors[k * q + dst] = V[k * q + src];
  });
  return { values, vectors };
};

/** Orthonormalizes the q columns of w [d, q] in place (modified Gram–Schmidt); a null column is redrawn. */
const orthonormalize = (w: Float64Array, d: number, q: number, rng: Rng): void => {
  for (let c = 0; c < q; c++) {
    for (let attempt = 0; attempt < 3; attempt++) {
      for (let p = 0; p < c; p++) {
        let dot = 0;
        for (let i = 0; i < d; i++) dot += w[i * q + c] * w[i * q + p];
        for (let i = 0; i < d; i++) w[i * q + c] -= dot * w[i * q + p];
      }
      let norm = 0;
      for (let i = 0; i < d; i++) norm += w[i * q + c] ** 2;
      norm = Math.sqrt(norm);
      if (norm > 1e-12) {
        for (let i = 0; i < d; i++) w[i * q + c] /= norm;
        break;
      }
      for (let i = 0; i < d; i++) w[i * q + c] = rng.normal();
    }
  }
};

/**
 * The top `k` principal components of `rows` (each [d]). Subspace iteration with q = k + 3
 * vectors until the top-k variances change by less than `tol` (relative), at most `maxIter` passes.
 */
export const principalComponents = (rows: readonly ArrayLike<number>[], k: number, options: { seed?: number; tol?: number; maxIter?: number } = {}): Pca => {
  const n = rows.length;
  if (n < 2) throw new Error(`principalComponents: ${n} rows, expected ≥ 2`);
  const d = rows[0].length;
  for (const r of rows) if (r.length !== d) throw new Error(`principalComponents: rows of ${r.length} and ${d} values`);
  const q = Math.min(k + 3, d, n);
  const kk = Math.min(k, q);
  const rng = Rng.fromSeed(options.seed ?? 0);
  const mean = new Float64Array(d);
  for (const r of rows) for (let i = 0; i < d; i++) mean[i] += r[i];
  for (let i = 0; i < d; i++) mean[i] /= n;
  let total = 0;
  for (const r of rows) for (let i = 0; i < d; i++) total += (r[i] - mean[i]) ** 2;
  total /= n;
  let V: Float64Array = Float64Array.from({ length: d * q }, () => rng.normal()); // [d, q]
  orthonormalize(V, d, q, rng);
  const proj = new Float64Array(q);
  const xc = new Float64Array(d);
  /** W = C·V [d, q] with C the covariance (divided by n) */
  const apply = (v: Float64Array): Float64Array => {
    const w = new Float64Array(d * q);
    for (const r of rows) {
      for (let i = 0; i < d; i++) xc[i] = r[i] - mean[i];
      proj.fill(0);
      for (let i = 0; i < d; i++) {
        const x = xc[i];
        for (let c = 0; c < q; c++) proj[c] += x * v[i * q + c];
      }
      for (let i = 0; i < d; i++) {
        const x = xc[i] / n;
        for (let c = 0; c < q; c++) w[i * q + c] += x * proj[c];
      }
    }
    return w;
  };
  /** Rayleigh–Ritz on span(V): the eigenvalues of VᵀCV and V rotated onto its eigenvectors; also C·V. */
  const ritz = (v: Float64Array) => {
    const w = apply(v);
    const B = new Float64Array(q * q); // VᵀCV [q, q]
    for (let i = 0; i < d; i++) for (let a = 0; a < q; a++) for (let b = 0; b < q; b++) B[a * q + b] += v[i * q + a] * w[i * q + b];
    const eig = symmetricEigen(B, q);
    const rotated = new Float64Array(d * q);
    for (let i = 0; i < d; i++) for (let a = 0; a < q; a++) for (let b = 0; b < q; b++) rotated[i * q + b] += v[i * q + a] * eig.vectors[a * q + b];
    return { values: eig.values, rotated, w };
  };
  const tol = options.tol ?? 1e-5;
  const maxIter = options.maxIter ?? 50;
  let prev: Float64Array | null = null;
  let values: Float64Array = new Float64Array(q);
  let iterations = 0;
  while (iterations < maxIter) {
    const r = ritz(V);
    iterations++;
    values = r.values;
    const p = prev;
    const done = p !== null && Array.from({ length: kk }, (_, c) => Math.abs(values[c] - p[c]) <= tol * Math.max(values[0], 1e-300)).every(Boolean);
    prev = values;
    if (done || iterations === maxIter) {
      V = r.rotated;
      break;
    }
    orthonormalize(r.w, d, q, rng);
    V = r.w;
  }
  const components = Array.from({ length: kk }, (_, c) => {
    const v = Float64Array.from({ length: d }, (_, i) => V[i * q + c]);
    let big = 0;
    for (let i = 0; i < d; i++) if (Math.abs(v[i]) > Math.abs(v[big])) big = i;
    if (v[big] < 0) for (let i = 0; i < d; i++) v[i] = -v[i];
    return v;
  });
  return { mean, components, variances: Array.from(values.subarray(0, kk), (v) => Math.max(v, 0)), totalVariance: total, iterations };
};

/** Coordinates of `x` [d] on the components (after removing the mean). */
export const project = (pca: Pca, x: ArrayLike<number>): number[] =>
  pca.components.map((c) => {
    let s = 0;
    for (let i = 0; i < c.length; i++) s += (x[i] - pca.mean[i]) * c[i];
    return s;
  });
