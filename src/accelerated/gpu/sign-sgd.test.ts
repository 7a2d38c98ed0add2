// The webgpu SignSGD pass over the batch's rows (one WGSL dispatch, the table written in place)
// against the float32 formula written out on the host (gradients summed in ascending batch
// position, W·decay rounded, then the signed step) and against the gpu.js pass over the whole
// table, bit for bit: duplicate and unsorted ids, the first and last rows, gradients summing to
// zero, untouched rows (−0, subnormals, NaN kept as they were). Also: one dispatch per call, no
// buffer or bind group created in steady state, only the grouped ids uploaded, a private copy of
// a table shared with another handle, no ids, and a grid past 65535 workgroups. The gpu.js pass
// of the cpu and webasm modes against the same formula, on webasm up to 2²⁴ cells (refused past).
// Skipped with the reason when a mode is unavailable here.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGpuBackend } from './backend.ts';
import type { GpuBackend, GpuTensor } from './backend.ts';
import { groupIds, signSgdRows, signSgdRowsGpuJs } from './sign-sgd.ts';

const f = Math.fround;

/** The float32 update as the gpu.js body and the reference round it (sums in ascending batch position). */
const expected = (W: Float32Array, G: Float32Array, ids: Int32Array, E: number, lr: number, wd: number): Float32Array => {
  const out = W.slice();
  const decay = f(1 - lr * wd);
  const sums = new Map<number, Float32Array>();
  ids.forEach((u, n) => {
    const s = sums.get(u) ?? new Float32Array(E);
    for (let e = 0; e < E; e++) s[e] = f(s[e] + G[n * E + e]);
    sums.set(u, s);
  });
  for (const [u, s] of sums) {
    for (let e = 0; e < E; e++) {
      const sg = s[e] > 0 ? 1 : s[e] < 0 ? -1 : 0;
      out[u * E + e] = f(f(W[u * E + e] * decay) - f(lr) * sg);
    }
  }
  return out;
};

const bits = (a: Float32Array): Uint32Array => new Uint32Array(a.buffer, a.byteOffset, a.length);

let seed = 99;
const rand = (): number => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed / 2 ** 32;
};

interface Case {
  readonly W: Float32Array;
  readonly G: Float32Array;
  readonly ids: Int32Array;
  readonly E: number;
  readonly lr: number;
  readonly wd: number;
}

/** Duplicate and unsorted ids, the first and last rows; untouched rows holding −0, subnormals, NaN and ∞. */
const duplicatesCase = (lr: number, wd: number): Case => {
  const R = 37;
  const E = 70;
  const ids = Int32Array.from([36, 3, 0, 17, 3, 36, 9, 3, 0, 21, 36]);
  const W = Float32Array.from({ length: R * E }, () => f((rand() - 0.5) * 4));
  W.set([-0, 2 ** -140, -(2 ** -149), Number.NaN, Number.POSITIVE_INFINITY], 5 * E);
  const G = Float32Array.from({ length: ids.length * E }, () => f(rand() - 0.5));
  return { W, G, ids, E, lr, wd };
};

/**
 * Row 1, element 0: 1 + (−1) + 2⁻³⁰ = 2⁻³⁰ > 0 in batch order, 0 when summed from the back;
 * element 1: 1 + 2⁻³⁰ + (−1) = 0 in float32 (2⁻³⁰ in float64); element 2: all zero; element 3:
 * −0 only. Row 2: a pair that cancels exactly, zeros and −0.
 */
const zeroSumCase = (): Case => ({
  E: 4,
  ids: Int32Array.from([1, 2, 1, 1, 2]),
  G: Float32Array.from([
    1, 1, 0, -0, /* n=0 → row 1 */
    -1, 0.5, 0, 0, /* n=1 → row 2 */
    -1, 2 ** -30, 0, -0, /* n=2 → row 1 */
    2 ** -30, -1, 0, -0, /* n=3 → row 1 */
    1, -0.5, 0, -0, /* n=4 → row 2 */
  ]),
  W: Float32Array.from({ length: 12 }, (_, i) => f(0.25 + i / 16)),
  lr: 0.125,
  wd: 0.5,
});

/** W·decay ≈ lr with every step −lr: the subtraction cancels, so where W·decay is rounded decides the result. */
const cancellingCase = (): Case => {
  const R = 16;
  const E = 64;
  const lr = 0.01;
  const decay = f(1 - lr * 0.1);
  const W = Float32Array.from({ length: R * E }, () => f((lr / decay) * (1 + (rand() - 0.5) * 1e-3)));
  const G = Float32Array.from({ length: R * E }, () => f(rand() + 0.1));
  return { W, G, ids: Int32Array.from({ length: R }, (_, n) => R - 1 - n), E, lr, wd: 0.1 };
};

type Pass = (dev: GpuBackend['device'], table: GpuTensor, grads: GpuTensor, ids: Int32Array, lr: number, wd: number) => GpuTensor;

/** Each pass on the case's inputs, checked bit for bit against `expected`. */
const checkOn = async (b: GpuBackend, c: Case, passes: readonly (readonly [string, Pass])[]): Promise<void> => {
  const { W, G, ids, E, lr, wd } = c;
  const R = W.length / E;
  const want = bits(expected(W, G, ids, E, lr, wd));
  const grads = b.fromArray([ids.length, E], G);
  for (const [name, pass] of passes) {
    const out = pass(b.device, b.fromArray([R, E], W), grads, ids, lr, wd);
    expect(out.shape).toEqual([R, E]);
    const got = await b.device.download(out);
    const wrong = bits(got).findIndex((x, i) => x !== want[i]);
    expect(wrong, `${name}: first wrong cell ${wrong} (row ${Math.floor(wrong / E)}): ${got[wrong]} vs ${new Float32Array(want.buffer)[wrong]}`).toBe(-1);
    b.dispose(out);
  }
  b.dispose(grads);
};

const WGSL: readonly [string, Pass] = ['wgsl', signSgdRows];
const GPUJS: readonly [string, Pass] = ['gpu.js', signSgdRowsGpuJs];

describe('gpu signSgdRows on webgpu', () => {
  let b: GpuBackend | null = null;
  beforeAll(async () => {
    try {
      b = await createGpuBackend({ gpuMode: 'webgpu', log: () => {} });
    } catch (e) {
      console.warn(`sign-sgd.test: webgpu unavailable, skipped: ${(e as Error).message}`);
    }
  });
  afterAll(async () => {
    await b?.close();
  });

  /** The WGSL pass and the gpu.js pass on the same inputs (or the WGSL pass alone). */
  const check = async (c: Case, gpujs = true): Promise<void> => {
    if (b !== null) await checkOn(b, c, gpujs ? [WGSL, GPUJS] : [WGSL]);
  };

  it('groups the batch by id: distinct ids ascending, positions ascending within each', () => {
    const { table, distinct } = groupIds(Int32Array.from([5, 0, 5, 3, 0, 5]));
    const t = new Uint32Array(table.buffer);
    const B = 6;
    expect(distinct).toBe(3);
    expect(t.length).toBe(3 * B + 1);
    expect(Array.from(t.subarray(0, 3))).toEqual([0, 3, 5]);
    expect(Array.from(t.subarray(B, B + 4))).toEqual([0, 2, 3, 6]);
    expect(Array.from(t.subarray(2 * B + 1))).toEqual([1, 4, 3, 0, 2, 5]);
  });

  it('duplicate and unsorted ids, first and last rows, untouched rows kept bit for bit', async () => {
    await check(duplicatesCase(1e-2, 0.1));
    await check(duplicatesCase(5e-3, 0));
  });

  it('a summed gradient of zero steps by nothing (decay only), and the sum runs in ascending batch position', async () => {
    const c = zeroSumCase();
    const { W, E, lr, wd } = c;
    const want = expected(W, c.G, c.ids, E, lr, wd);
    expect(want[E] - f(W[E] * f(1 - lr * wd))).toBe(-lr); // the positive sum's step
    expect(want.slice(E + 1, 2 * E)).toEqual(Float32Array.from([1, 2, 3], (k) => f(W[E + k] * f(1 - lr * wd))));
    await check(c);
  });

  it('rounds W·decay on its own before the step (no fused multiply-add), where that decides the result', async () => {
    const c = cancellingCase();
    const decay = f(1 - c.lr * c.wd);
    const fused = bits(c.W.map((w) => f(w * decay - f(c.lr))));
    const separate = bits(c.W.map((w) => f(f(w * decay) - f(c.lr))));
    expect(fused.filter((x, i) => x !== separate[i]).length).toBeGreaterThan(c.W.length / 10);
    await check(c);
  });

  it('more than 65535 workgroups: the grid split over y covers every touched cell once', async () => {
    if (b === null) return;
    // U·E = 2·8,388,609 cells > 65535·256 threads of one grid row (past the gpu.js pass's 2²⁴)
    const E = 8_388_609;
    const R = 2;
    const ids = Int32Array.from([1, 0]);
    const W = new Float32Array(R * E);
    for (let i = 0; i < W.length; i++) W[i] = ((i * 7919) % 1000) / 256 - 2;
    const G = new Float32Array(ids.length * E);
    for (let i = 0; i < G.length; i++) G[i] = ((i * 104729) % 5) - 2;
    await check({ W, G, ids, E, lr: 1e-2, wd: 0.1 }, false);
  }, 60_000);

  it('one WGSL dispatch per call, the table kept in its buffer, no buffer or bind group created in steady state', async () => {
    if (b === null) return;
    const dev = b.device;
    const R = 500;
    const E = 48;
    const B = 40;
    const lr = 1e-2;
    const wd = 0.1;
    let W: Float32Array = Float32Array.from({ length: R * E }, () => f(rand() - 0.5));
    let table = b.fromArray([R, E], W);
    const G = Float32Array.from({ length: B * E }, () => f(rand() - 0.5));
    const grads = b.fromArray([B, E], G);
    const step = (ids: Int32Array): void => {
      W = expected(W, G, ids, E, lr, wd);
      table = signSgdRows(dev, table, grads, ids, lr, wd);
    };
    // steps with different numbers of distinct ids (the grouped-id table has the same size for all)
    const batches = [0, 1, 2, 3, 4, 5].map((k) => Int32Array.from({ length: B }, (_, n) => (k === 0 ? 7 : Math.floor(rand() * (k * 40)))));
    for (const ids of batches.slice(0, 2)) step(ids);
    await dev.flush();
    const c0 = dev.counters();
    const l0 = dev.launches;
    for (const ids of batches.slice(2)) step(ids);
    await dev.flush();
    const c1 = dev.counters();
    expect(dev.launches - l0, 'launches').toBe(4);
    expect(c1.dispatches - c0.dispatches, 'dispatches').toBe(4);
    expect(c1.bufferCreations - c0.bufferCreations, 'buffer creations').toBe(0);
    expect(c1.bindGroupCreations - c0.bindGroupCreations, 'bind-group creations').toBe(0);
    expect(c1.pipelineCreations - c0.pipelineCreations, 'pipeline creations').toBe(0);
    expect(c1.bytesUp - c0.bytesUp, 'bytes up: the grouped ids only').toBe(4 * 4 * (3 * B + 1));
    expect(bits(await b.device.download(table))).toEqual(bits(W));
    b.dispose(table);
    b.dispose(grads);
  });

  it('a table with another handle on it is copied first (same bits, two launches); no ids: the same values under a new handle', async () => {
    if (b === null) return;
    const R = 9;
    const E = 5;
    const W = Float32Array.from({ length: R * E }, () => f(rand() - 0.5));
    const G = Float32Array.from({ length: 4 * E }, () => f(rand() - 0.5));
    const ids = Int32Array.from([8, 0, 8, 4]);
    const table = b.fromArray([R, E], W);
    const view = b.reshape(table, [R * E]);
    expect(b.device.writableInPlace(table)).toBe(false);
    const grads = b.fromArray([4, E], G);
    const l0 = b.device.launches;
    const out = signSgdRows(b.device, table, grads, ids, 1e-2, 0.1);
    expect(b.device.launches - l0).toBe(2);
    expect(bits(await b.device.download(out))).toEqual(bits(expected(W, G, ids, E, 1e-2, 0.1)));
    await expect(b.read(view)).rejects.toThrow(/after dispose/);
    const none = b.fromArray([0, E], new Float32Array(0));
    const same = signSgdRows(b.device, out, none, new Int32Array(0), 1e-2, 0.1);
    expect(() => b?.dispose(out), 'the consumed handle').toThrow(/already disposed/);
    expect(bits(await b.device.download(same))).toEqual(bits(expected(W, G, ids, E, 1e-2, 0.1)));
    expect(() => signSgdRows(b!.device, b!.fromArray([R, E], W), grads, Int32Array.from([0, 1, 9, 2]), 1e-2, 0.1)).toThrow(/\[2\] = 9 is outside \[0, 9\)/);
    b.dispose(same);
    b.dispose(none);
    b.dispose(grads);
  });
});

for (const mode of ['cpu', 'webasm'] as const) {
  describe(`gpu signSgdRows on ${mode} (the gpu.js pass)`, () => {
    let b: GpuBackend | null = null;
    beforeAll(async () => {
      try {
        b = await createGpuBackend({ gpuMode: mode, log: () => {} });
      } catch (e) {
        console.warn(`sign-sgd.test: ${mode} unavailable, skipped: ${(e as Error).message}`);
      }
    });
    afterAll(async () => {
      await b?.close();
    });

    it('bit-identical to the float32 formula: duplicates, zero sums in batch order, W·decay rounded on its own', async () => {
      if (b === null) return;
      for (const c of [duplicatesCase(1e-2, 0.1), zeroSumCase(), cancellingCase()]) await checkOn(b, c, [[mode, signSgdRows]]);
    });

    if (mode === 'webasm') {
      it('rows and columns exact between 2²³ and 2²⁴ cells; a larger table refused', async () => {
        if (b === null) return;
        // 16400 rows × 512 = 8,396,800 cells: floor((i + 0.5)/E) in float32 put row ends in the next row
        const R = 16400;
        const E = 512;
        const W = new Float32Array(R * E);
        for (let i = 0; i < W.length; i++) W[i] = ((i * 7919) % 1000) / 256 - 2;
        const ids = Int32Array.from([R - 1, 16384, R - 2, 0]);
        const G = Float32Array.from({ length: ids.length * E }, (_, i) => ((i * 104729) % 5) - 2);
        await checkOn(b, { W, G, ids, E, lr: 1e-2, wd: 0.1 }, [[mode, signSgdRows]]);
        const big = b.zeros([2 ** 15 + 1, E]);
        const grads = b.zeros([1, E]);
        expect(() => signSgdRows(b!.device, big, grads, Int32Array.from([0]), 1e-2, 0.1)).toThrow(/16777728 cells, more than the 2\^24/);
        b.dispose(big);
        b.dispose(grads);
      }, 30_000);
    }
  });
}
