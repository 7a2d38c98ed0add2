// The webgpu fused products (RoPE in the QKV product's epilogue, SwiGLU in the gate_up product's)
// and the one-pass alternative of their backwards (the activation's backward computed while the
// products load dy; benchmarked, not the default) against the unfused kernels on the same device,
// on sizes that straddle the 64×64 output tile (rows, column pairs, heads of 2 to 128 channels,
// rotated and passed-through heads), and the launches they take: one per forward, two per one-pass
// backward. Skipped with the reason when no WebGPU adapter answers.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ropeTables } from '../../model/rope-tables.ts';
import { createGpuBackend } from './backend.ts';
import type { GpuBackend, GpuTensor } from './backend.ts';
import { linearRopeBackward, linearSwigluBackward } from './fused.ts';

const rnd = (n: number, s: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.fround(Math.sin(i * s + 0.3)));

const backend = async (): Promise<GpuBackend | null> => {
  try {
    return await createGpuBackend({ gpuMode: 'webgpu', log: () => {} });
  } catch (e) {
    console.warn(`fused.test: webgpu unavailable, skipped: ${(e as Error).message}`);
    return null;
  }
};

/** Elementwise |got − want| ≤ rel·max|want| (the sums are the same; only the activation's rounding may differ). */
const expectClose = async (b: GpuBackend, got: GpuTensor, want: GpuTensor, rel: number, at: string): Promise<void> => {
  const [g, w] = await Promise.all([b.read(got), b.read(want)]);
  expect(g.shape, at).toEqual(w.shape);
  const max = w.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  let worst = 0;
  let where = -1;
  for (let i = 0; i < w.data.length; i++) {
    const d = Math.abs(g.data[i] - w.data[i]);
    if (!(d <= worst)) {
      worst = d;
      where = i;
    }
  }
  expect(worst, `${at}: worst at ${where} (${g.data[where]} vs ${w.data[where]}), max|want| ${max}`).toBeLessThanOrEqual(rel * max);
};

/** Launches a call takes on the device. */
const launches = <R>(b: GpuBackend, f: () => R): { out: R; count: number } => {
  const before = b.device.launches;
  const out = f();
  return { out, count: b.device.launches - before };
};

describe('gpu fused products (webgpu)', () => {
  // one device for both cases: the unfused products' pipelines are compiled once
  let b: GpuBackend | null = null;
  beforeAll(async () => {
    b = await backend();
  }, 60_000);
  afterAll(async () => {
    await b?.close();
  });

  it('linearRope and its one-pass backward match rope∘linear on tile-straddling sizes, in 1 and 2 launches', async () => {
    if (b === null) return;
    const dev: GpuBackend = b;
    {
      // [B, S, K, heads, hd, rotated heads]
      for (const [B, S, K, heads, hd, rot] of [[2, 37, 20, 9, 16, 6], [1, 5, 8, 3, 128, 2], [3, 23, 13, 5, 2, 5]]) {
        const W = heads * hd;
        const at = `B=${B} S=${S} K=${K} heads=${heads} hd=${hd} rot=${rot}`;
        const tables = ropeTables(S, hd, 10000);
        const x = dev.fromArray([B, S, K], rnd(B * S * K, 0.71)), w = dev.fromArray([W, K], rnd(W * K, 1.37)), dy = dev.fromArray([B, S, W], rnd(B * S * W, 0.53));
        const cos = dev.fromArray([S, hd], tables.cos.data), sin = dev.fromArray([S, hd], tables.sin.data);
        const fwd = launches(dev, () => dev.linearRope(x, w, cos, sin, hd, rot));
        expect(fwd.count, `${at}: forward launches`).toBe(1);
        const raw = dev.linear(x, w);
        const want = dev.rope(raw, cos, sin, hd, rot);
        await expectClose(dev, fwd.out, want, 2 ** -21, `${at} y`);
        const bwd = launches(dev, () => linearRopeBackward(dev.device, dev, dy, x, w, cos, sin, hd, rot, true));
        expect(bwd.count, `${at}: backward launches`).toBe(2);
        const dRaw = dev.ropeBackward(dy, cos, sin, hd, rot);
        const g = dev.linearBackward(dRaw, x, w, false);
        await expectClose(dev, bwd.out.dx, g.dx, 2 ** -20, `${at} dx`);
        await expectClose(dev, bwd.out.dw, g.dw, 2 ** -20, `${at} dw`);
        for (const t of [x, w, dy, cos, sin, fwd.out, raw, want, bwd.out.dx, bwd.out.dw, dRaw, g.dx, g.dw]) dev.dispose(t);
      }
    }
  }, 180_000);

  it('linearSwiglu and its one-pass backward match swiglu∘linear on tile-straddling sizes, in 1 and 2 launches (gu bit-identical)', async () => {
    if (b === null) return;
    const dev: GpuBackend = b;
    {
      // [rows, K, I]
      for (const [N, K, I] of [[70, 20, 40], [5, 33, 1], [1, 4, 33]]) {
        const at = `N=${N} K=${K} I=${I}`;
        const x = dev.fromArray([N, K], rnd(N * K, 0.41)), w = dev.fromArray([2 * I, K], rnd(2 * I * K, 0.93)), dy = dev.fromArray([N, I], rnd(N * I, 0.29));
        const fwd = launches(dev, () => dev.linearSwiglu(x, w));
        expect(fwd.count, `${at}: forward launches`).toBe(1);
        const gu = dev.linear(x, w);
        const y = dev.swiglu(gu);
        const [fg, wg] = await Promise.all([dev.read(fwd.out.gu), dev.read(gu)]);
        expect(Array.from(fg.data), `${at} gu`).toEqual(Array.from(wg.data));
        await expectClose(dev, fwd.out.y, y, 2 ** -21, `${at} y`);
        const bwd = launches(dev, () => linearSwigluBackward(dev.device, dev, dy, x, w, gu, true));
        expect(bwd.count, `${at}: backward launches`).toBe(2);
        const dgu = dev.swigluBackward(dy, gu);
        const g = dev.linearBackward(dgu, x, w, false);
        await expectClose(dev, bwd.out.dx, g.dx, 2 ** -20, `${at} dx`);
        await expectClose(dev, bwd.out.dw, g.dw, 2 ** -20, `${at} dw`);
        for (const t of [x, w, dy, fwd.out.y, fwd.out.gu, gu, y, bwd.out.dx, bwd.out.dw, dgu, g.dx, g.dw]) dev.dispose(t);
      }
    }
  }, 180_000);
});
