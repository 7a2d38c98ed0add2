// The webgpu dense layer's four-cells-per-thread path (row widths that are multiples of 4) against
// the written-out float32 sums, and the transposed weight's lifetime (released with the weight).
// Skipped with the reason when no WebGPU adapter answers here.

import { describe, expect, it } from 'vitest';
import { createGpuBackend } from './backend.ts';

const f = Math.fround;


describe('gpu linear, four cells per thread (webgpu)', () => {
  it('matches the float32 sums and releases wᵀ with w', async () => {
    let b;
    try {
      b = await createGpuBackend({ gpuMode: 'webgpu', log: () => {} });
    } catch (e) {
      console.warn(`linear.test: webgpu unavailable, skipped: ${(e as Error).message}`);
      return;
    }
    try {
      const [N, K, M] = [13, 20, 12];
      const rnd = (n: number, s: number): Float32Array => Float32Array.from({ length: n }, (_, i) => f(Math.sin(i * s + 0.3)));
      const xs = rnd(N * K, 0.71), ws = rnd(M * K, 1.37), bs = rnd(M, 2.1), dys = rnd(N * M, 0.53);
      const live0 = b.device.live;
      const x = b.fromArray([N, K], xs), w = b.fromArray([M, K], ws), bias = b.fromArray([M], bs), dy = b.fromArray([N, M], dys);
      const y = b.linear(x, w, bias);
      const y2 = b.linear(x, w); // second use: the kept wᵀ
      const g = b.linearBackward(dy, x, w, false);
      const [yv, y2v, dxv, dwv] = await Promise.all([y, y2, g.dx, g.dw].map(async (t) => (await b!.read(t)).data));
      const tol = (v: number): number => 4e-6 * Math.max(1, Math.abs(v));
      for (let n = 0; n < N; n++) {
        for (let m = 0; m < M; m++) {
          let want = 0;
          for (let k = 0; k < K; k++) want = f(want + f(xs[n * K + k] * ws[m * K + k]));
          expect(Math.abs(y2v[n * M + m] - want)).toBeLessThanOrEqual(tol(want));
          expect(Math.abs(yv[n * M + m] - f(want + bs[m]))).toBeLessThanOrEqual(tol(want));
        }
        for (let k = 0; k < K; k++) {
          let want = 0;
          for (let m = 0; m < M; m++) want = f(want + f(dys[n * M + m] * ws[m * K + k]));
          expect(Math.abs(dxv[n * K + k] - want)).toBeLessThanOrEqual(tol(want));
        }
      }
      for (let m = 0; m < M; m++) {
        for (let k = 0; k < K; k++) {
          let want = 0;
          for (let n = 0; n < N; n++) want = f(want + f(dys[n * M + m] * xs[n * K + k]));
          expect(Math.abs(dwv[m * K + k] - want)).toBeLessThanOrEqual(tol(want));
        }
      }
      expect(b.device.live).toBe(live0 + 9); // 4 inputs, 4 results, wᵀ
      for (const t of [x, w, bias, dy, y, y2, g.dx, g.dw]) b.dispose(t);
      expect(b.device.live).toBe(live0); // wᵀ went with w
    } finally {
      await b.close();
    }
  }, 120_000);
});
