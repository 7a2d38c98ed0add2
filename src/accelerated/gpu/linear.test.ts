// The webgpu dense layer's tiled WGSL products against the written-out float32 sums (the documented
// order: one accumulator per cell, increasing index of the reduced axis), on sizes that straddle
// the 64×64 output tile and the 16-wide reduction tile, vec4 loads against scalar loads, and the
// steady state of repeated calls (no buffer and no bind group created per call). Skipped with the reason when no WebGPU adapter answers.

import { describe, expect, it } from 'vitest';
import { createGpuBackend } from './backend.ts';
import type { Layout } from './linear.ts';
import { product, vectorizable } from './linear.ts';

const f = Math.fround;
const rnd = (n: number, s: number): Float32Array => Float32Array.from({ length: n }, (_, i) => f(Math.sin(i * s + 0.3)));

const backend = async (): Promise<Awaited<ReturnType<typeof createGpuBackend>> | null> => {
  try {
    return await createGpuBackend({ gpuMode: 'webgpu', log: () => {} });
  } catch (e) {
    console.warn(`linear.test: webgpu unavailable, skipped: ${(e as Error).message}`);
    return null;
  }
};

describe('gpu linear, tiled WGSL products (webgpu)', () => {
  it('matches the float32 sums on edge sizes (forward with and without bias, dx, dw)', async () => {
    const b = await backend();
    if (b === null) return;
    try {
      for (const [N, K, M] of [[13, 20, 12], [65, 17, 63], [1, 1, 1], [70, 33, 130], [3, 0, 5]]) {
        const xs = rnd(N * K, 0.71), ws = rnd(M * K, 1.37), bs = rnd(M, 2.1), dys = rnd(N * M, 0.53);
        const live0 = b.device.live;
        const x = b.fromArray([N, K], xs), w = b.fromArray([M, K], ws), bias = b.fromArray([M], bs), dy = b.fromArray([N, M], dys);
        const y = b.linear(x, w, bias);
        const y2 = b.linear(x, w);
        const g = b.linearBackward(dy, x, w, false);
        const [yv, y2v, dxv, dwv] = await Promise.all([y, y2, g.dx, g.dw].map(async (t) => (await b.read(t)).data));
        const tol = (v: number, n: number): number => 2 * n * 2 ** -24 * Math.max(1, Math.abs(v));
        const at = `N=${N} K=${K} M=${M}`;
        for (let n = 0; n < N; n++) {
          for (let m = 0; m < M; m++) {
            let want = 0;
            for (let k = 0; k < K; k++) want = f(want + f(xs[n * K + k] * ws[m * K + k]));
            expect(Math.abs(y2v[n * M + m] - want), `${at} y[${n},${m}]`).toBeLessThanOrEqual(tol(want, K));
            expect(Math.abs(yv[n * M + m] - f(want + bs[m])), `${at} y+b[${n},${m}]`).toBeLessThanOrEqual(tol(want, K + 1));
          }
          for (let k = 0; k < K; k++) {
            let want = 0;
            for (let m = 0; m < M; m++) want = f(want + f(dys[n * M + m] * ws[m * K + k]));
            expect(Math.abs(dxv[n * K + k] - want), `${at} dx[${n},${k}]`).toBeLessThanOrEqual(tol(want, M));
          }
        }
        for (let m = 0; m < M; m++) {
          for (let k = 0; k < K; k++) {
            let want = 0;
            for (let n = 0; n < N; n++) want = f(want + f(dys[n * M + m] * xs[n * K + k]));
            expect(Math.abs(dwv[m * K + k] - want), `${at} dw[${m},${k}]`).toBeLessThanOrEqual(tol(want, N));
          }
        }
        expect(b.device.live).toBe(live0 + 8);
        for (const t of [x, w, bias, dy, y, y2, g.dx, g.dw]) b.dispose(t);
        expect(b.device.live).toBe(live0);
      }
    } finally {
      await b.close();
    }
  }, 180_000);

  it('vec4 loads give bit-identical products to scalar loads (every layout, aligned sizes straddling the tiles; the bias with the forward layout)', async () => {
    const b = await backend();
    if (b === null) return;
    try {
      for (const [R, Q, K] of [[68, 72, 20], [4, 132, 36]]) {
        for (const layout of ['nt', 'nn', 'tn'] as Layout[]) {
          const vec = vectorizable(layout, R, Q, K);
          expect(vec.a && vec.b, `${layout} R=${R} Q=${Q} K=${K} vectorizes both operands`).toBe(true);
          const a = b.fromArray([R * K], rnd(R * K, 0.37)), c = b.fromArray([Q * K], rnd(Q * K, 1.1)), bias = b.fromArray([Q], rnd(Q, 0.8));
          for (const withBias of layout === 'nt' ? [false, true] : [false]) {
            const [v] = product(b.device, layout, a, c, R, Q, K, [R, Q], withBias ? bias : undefined);
            const [s] = product(b.device, layout, a, c, R, Q, K, [R, Q], withBias ? bias : undefined, true);
            const [vv, sv] = await Promise.all([b.read(v), b.read(s)]);
            expect(Array.from(vv.data), `${layout} R=${R} Q=${Q} K=${K} bias=${withBias}`).toEqual(Array.from(sv.data));
            b.dispose(v);
            b.dispose(s);
          }
          for (const t of [a, c, bias]) b.dispose(t);
        }
      }
    } finally {
      await b.close();
    }
  }, 180_000);

  it('creates no buffer and no bind group per call in steady state', async () => {
    const b = await backend();
    if (b === null) return;
    try {
      const [N, K, M] = [40, 24, 36];
      const x = b.fromArray([N, K], rnd(N * K, 0.3)), w = b.fromArray([M, K], rnd(M * K, 0.9)), bias = b.fromArray([M], rnd(M, 0.2));
      const round = async (): Promise<void> => {
        for (let i = 0; i < 20; i++) {
          const y = b.linear(x, w, bias);
          const g = b.linearBackward(y, x, w, true);
          const z = b.addRmsNorm(g.dx, x, 1e-5);
          for (const t of [y, g.dx, g.dw, g.db!, z]) b.dispose(t);
        }
        const probe = b.linear(x, w);
        await b.read(probe);
        b.dispose(probe);
      };
      await round();
      await round();
      const before = b.device.counters();
      await round();
      const after = b.device.counters();
      // per iteration: the product, dX, dW, db, and the residual RMSNorm in one pass
      expect(after.dispatches - before.dispatches).toBeGreaterThanOrEqual(20 * 5);
      expect(after.bufferCreations - before.bufferCreations).toBe(0);
      expect(after.bindGroupCreations - before.bindGroupCreations).toBe(0);
      expect(after.pipelineCreations - before.pipelineCreations).toBe(0);
      for (const t of [x, w, bias]) b.dispose(t);
    } finally {
      await b.close();
    }
  }, 180_000);
});
