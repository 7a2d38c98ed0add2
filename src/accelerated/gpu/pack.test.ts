// Packs on the webgpu device: tensors kept as views into one buffer (Backend.pack, packedZeros),
// gradients placed into their slots (Backend.place: written there by the kernel that computes them
// while it is still queued, else copied), every kernel kind reading and writing views, the
// optimizer and the EMA over whole packs in one pass each (bit-identical to the per-tensor passes),
// and the training step with its gradients placed without a copy, resumed bit for bit from a saved
// state. Skipped with the reason when no WebGPU adapter answers here.

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Backend } from '../../core/backend.ts';
import type { Shape } from '../../core/tensor.ts';
import { numel } from '../../core/tensor.ts';
import { Rng } from '../../core/rng.ts';
import { createHrm } from '../../model/hrm.ts';
import { benchBatch, benchConfig } from '../../bench/workload.ts';
import type { BenchSizes } from '../../bench/anchors.ts';
import type { Carry } from '../../model/api.ts';
import type { GpuBackend, GpuTensor } from './backend.ts';
import { openWebgpu } from '../../../spec/support/webgpu.ts';
import { PACK_ALIGN } from './device.ts';

let b: GpuBackend | null = null;
let why = '';

beforeAll(async () => {
  ({ backend: b, why } = await openWebgpu('pack.test'));
}, 120_000);

afterAll(async () => {
  await b?.close();
});

const rng = Rng.fromSeed(7);
const values = (n: number): Float32Array => Float32Array.from({ length: n }, () => Math.fround(rng.normal()));
const SHAPES: readonly Shape[] = [[3, 5], [2], [70], [4, 16], [1]];
const read32 = async (t: GpuTensor): Promise<Float32Array> => Float32Array.from((await (b as GpuBackend).read(t)).data);

describe('packs on webgpu', () => {
  it('pack keeps every value, slots aligned, gaps zero; releasing every view returns the buffer', async (ctx) => {
    if (b === null) return ctx.skip(why);
    const dev = b.device;
    const data = SHAPES.map((s) => values(numel(s)));
    const live = dev.live;
    const packed = b.pack(SHAPES.map((s, i) => b!.fromArray(s, data[i])));
    const pack = dev.packOf(packed);
    expect(pack).not.toBeNull();
    expect(pack!.offsets.every((o) => o % PACK_ALIGN === 0)).toBe(true);
    expect(pack!.total).toBe(SHAPES.reduce((a, s) => a + Math.ceil(numel(s) / PACK_ALIGN) * PACK_ALIGN, 0));
    for (let i = 0; i < SHAPES.length; i++) expect(await read32(packed[i])).toEqual(data[i]);
    const zeros = b.packedZeros(SHAPES);
    for (const z of zeros) expect(Array.from(await read32(z)).every((x) => x === 0)).toBe(true);
    expect(dev.packOf(zeros)).not.toBe(pack);
    expect(dev.packOf([packed[1], packed[0], ...packed.slice(2)])).toBeNull();
    expect(dev.packOf(packed.slice(1))).toBeNull();
    for (const t of [...packed, ...zeros]) b.dispose(t);
    expect(dev.live).toBe(live);
    // the pool gets the buffers back: after one more round (the upload kernel's first call runs
    // through gpu.js), the same packs again create no buffer
    const round = async (): Promise<void> => {
      const again = b!.pack(SHAPES.map((s, i) => b!.fromArray(s, data[i])));
      const z2 = b!.packedZeros(SHAPES);
      expect(await read32(again[4])).toEqual(data[4]);
      for (const t of [...again, ...z2]) b!.dispose(t);
      await dev.flush();
    };
    await round();
    const before = dev.counters().bufferCreations;
    await round();
    expect(dev.counters().bufferCreations).toBe(before);
  });

  it('a pack larger than one binding may cover stays one tensor per buffer', async (ctx) => {
    if (b === null) return ctx.skip(why);
    const dev = b.device;
    const limit = vi.spyOn(dev, 'maxBindingBytes').mockReturnValue(2 * PACK_ALIGN * 4);
    try {
      const fits = b.pack([b.fromArray([PACK_ALIGN], values(PACK_ALIGN)), b.fromArray([3], values(3))]);
      expect(dev.packOf(fits)).not.toBeNull();
      const data = [values(PACK_ALIGN), values(PACK_ALIGN + 1)];
      const big = b.pack(data.map((d) => b!.fromArray([d.length], d)));
      expect(dev.packOf(big)).toBeNull();
      expect(await read32(big[1])).toEqual(data[1]);
      const zeros = b.packedZeros([[PACK_ALIGN], [PACK_ALIGN + 1]]);
      expect(dev.packOf(zeros)).toBeNull();
      for (const t of [...fits, ...big, ...zeros]) b.dispose(t);
    } finally {
      limit.mockRestore();
    }
  });

  it('gpu.js and WGSL kernels read views, on their first call and recorded', async (ctx) => {
    if (b === null) return ctx.skip(why);
    const table = values(6 * 8);
    const x = values(3 * 8);
    const w = values(5 * 8);
    const ids = Int32Array.from([4, 0, 4, 5]);
    const plainT = b.fromArray([6, 8], table);
    const plainW = b.fromArray([5, 8], w);
    const xs = b.fromArray([3, 8], x);
    const [viewT, viewW] = b.pack([b.fromArray([6, 8], table), b.fromArray([5, 8], w)]);
    for (let round = 0; round < 2; round++) {
      const outs = [b.embedding(viewT, ids, [4]), b.embedding(plainT, ids, [4]), b.linear(xs, viewW), b.linear(xs, plainW), b.add(viewT, viewT), b.add(plainT, plainT)];
      const got = await Promise.all(outs.map(read32));
      expect(got[0]).toEqual(got[1]);
      expect(got[2]).toEqual(got[3]);
      expect(got[4]).toEqual(got[5]);
      for (const o of outs) b.dispose(o);
    }
    for (const t of [plainT, plainW, xs, viewT, viewW]) b.dispose(t);
  });

  it('place: written in the slot by the queued kernel, else copied; the other slots untouched', async (ctx) => {
    if (b === null) return ctx.skip(why);
    const dev = b.device;
    const a = values(70);
    const c = values(70);
    const ta = b.fromArray([70], a);
    const tc = b.fromArray([70], c);
    const fill = SHAPES.map((s) => values(numel(s)));
    const slots = b.pack(SHAPES.map((s, i) => b!.fromArray(s, fill[i])));
    await dev.flush();
    // 1. a gpu.js kernel still queued: written straight into slot 2
    let c0 = dev.counters().copies;
    const sum = b.place(b.add(ta, tc), slots[2]);
    const want = Float32Array.from(a, (v, i) => Math.fround(v + c[i]));
    expect(await read32(sum)).toEqual(want);
    expect(dev.counters().copies - c0).toBe(0);
    // 2. its kernel already recorded (a read waited for it): one copy
    const d = b.scale(ta, 2);
    await read32(d);
    c0 = dev.counters().copies;
    const placed = b.place(d, sum);
    expect(await read32(placed)).toEqual(Float32Array.from(a, (v) => Math.fround(2 * v)));
    expect(dev.counters().copies - c0).toBe(1);
    // 3. a kernel reading the slot's own pack cannot write there in the same pass: copied
    c0 = dev.counters().copies;
    const again = b.place(b.add(placed, placed), placed);
    expect(await read32(again)).toEqual(Float32Array.from(a, (v) => Math.fround(4 * v)));
    expect(dev.counters().copies - c0).toBe(1);
    // the neighbours kept their values
    for (const i of [0, 1, 3, 4]) expect(await read32(slots[i])).toEqual(fill[i]);
    // a placed gradient that does not fit is refused
    const small = b.fromArray([2], values(2));
    expect(() => b!.place(small, slots[0])).toThrow(/does not fit/);
    for (const t of [ta, tc, again, small, slots[0], slots[1], slots[3], slots[4]]) b.dispose(t);
  });

  it('adamAtan2Many over whole packs: one pass, bit-identical to the per-tensor update, step after step', async (ctx) => {
    if (b === null) return ctx.skip(why);
    const dev = b.device;
    const hyper = { lr: 3e-3, weightDecay: 0.1, beta1: 0.9, beta2: 0.95, step: 3 };
    const p = SHAPES.map((s) => values(numel(s)));
    const m = SHAPES.map((s) => values(numel(s)).map((v) => v * 1e-2));
    const v = SHAPES.map((s) => values(numel(s)).map((x) => x * x * 1e-3));
    const g = SHAPES.map((s) => values(numel(s)));
    const up = (xs: Float32Array[]): GpuTensor[] => SHAPES.map((s, i) => b!.fromArray(s, xs[i]));
    const [pp, pm, pv, pg] = [p, m, v, g].map((xs) => b!.pack(up(xs)));
    const spy = vi.spyOn(dev, 'runWgslPacks');
    const runs = vi.spyOn(dev, 'runWgsl');
    const packed = b.adamAtan2Many(SHAPES.map((_, i) => ({ param: pp[i], m: pm[i], v: pv[i] })), pg, hyper);
    expect(spy).toHaveBeenCalledTimes(1);
    expect(runs).toHaveBeenCalledTimes(0);
    spy.mockRestore();
    runs.mockRestore();
    const [qp, qm, qv, qg] = [p, m, v, g].map(up);
    const plain = SHAPES.map((_, i) => b!.adamAtan2({ param: qp[i], m: qm[i], v: qv[i] }, qg[i], hyper));
    for (let i = 0; i < SHAPES.length; i++) {
      for (const k of ['param', 'm', 'v'] as const) expect(await read32(packed[i][k]), `${k} ${i}`).toEqual(await read32(plain[i][k]));
    }
    // the updated packs take the next step the same way
    const again = b.adamAtan2Many(packed, pg, { ...hyper, step: 4 });
    const plain2 = plain.map((s, i) => b!.adamAtan2(s, qg[i], { ...hyper, step: 4 }));
    for (let i = 0; i < SHAPES.length; i++) expect(await read32(again[i].param)).toEqual(await read32(plain2[i].param));
    for (const t of [...again.flatMap((s) => [s.param, s.m, s.v]), ...plain2.flatMap((s) => [s.param, s.m, s.v]), ...pg, ...qg]) b.dispose(t);
  });
});

describe('emaMany over packs on webgpu', () => {
  it('one pass over the packs, bit-identical to ema per tensor; unpacked pairs take one call each', async (ctx) => {
    if (b === null) return ctx.skip(why);
    const dev = b.device;
    const e = SHAPES.map((s) => values(numel(s)));
    const p = SHAPES.map((s) => values(numel(s)));
    const up = (xs: Float32Array[]): GpuTensor[] => SHAPES.map((s, i) => b!.fromArray(s, xs[i]));
    const [pe, pp] = [b.pack(up(e)), b.pack(up(p))];
    const packs = vi.spyOn(dev, 'runWgslPacks');
    const packed = b.emaMany(pe, pp, 0.999);
    expect(packs).toHaveBeenCalledTimes(1);
    packs.mockRestore();
    const [qe, qp] = [up(e), up(p)];
    const single = qe.map((t, i) => b!.ema(t, qp[i], 0.999));
    for (let i = 0; i < SHAPES.length; i++) expect(await read32(packed[i]), `tensor ${i}`).toEqual(await read32(single[i]));
    const launches = dev.launches;
    const plain = b.emaMany(single, qp, 0.5);
    expect(dev.launches - launches, 'one call per unpacked pair').toBe(SHAPES.length);
    for (const t of [...packed, ...pp, ...plain, ...qp]) b.dispose(t);
  });
});

const STEP: BenchSizes = { name: 'pack-step', batchSize: 2, hidden: 32, heads: 2, layers: 2, hCycles: 1, lCycles: 2, puzzleEmb: true };

describe('the training step with packs on webgpu', () => {
  it('every gradient lands in its slot without a copy, and AdamATan2 is one pass over the packs', async (ctx) => {
    if (b === null) return ctx.skip(why);
    const dev = b.device;
    const hrm = createHrm(benchConfig(STEP), { backend: b as unknown as Backend<unknown>, seed: 5 });
    try {
      const batch = benchBatch(STEP);
      let carry: Carry = hrm.initialCarry(STEP.batchSize, batch.seqLen);
      const step = async (): Promise<void> => {
        carry = (await hrm.trainStep(carry, batch, { lr: 1e-3, puzzleEmbLr: 1e-2 }, STEP.batchSize)).carry;
      };
      for (let i = 0; i < 3; i++) await step();
      const packs = vi.spyOn(dev, 'runWgslPacks');
      const runs = vi.spyOn(dev, 'runWgsl');
      const c0 = dev.counters();
      await step();
      await step();
      const c1 = dev.counters();
      expect(packs).toHaveBeenCalledTimes(2);
      expect(runs.mock.calls.filter(([l]) => l.name.startsWith('adamAtan2')).length).toBe(0);
      expect(c1.copies - c0.copies, 'copies in two steps').toBe(0);
      packs.mockRestore();
      runs.mockRestore();
      // a second model resumed from the first's state (packed again on load) takes the next step
      // bit for bit as the first does
      const state = await hrm.saveState();
      const snapshot = await hrm.exportCarry(carry);
      const twin = createHrm(benchConfig(STEP), { backend: b as unknown as Backend<unknown>, seed: 99 });
      try {
        twin.loadState(state);
        const twinCarry = twin.importCarry(snapshot);
        const rates = { lr: 1e-3, puzzleEmbLr: 1e-2 };
        const [r1, r2] = [await hrm.trainStep(carry, batch, rates, STEP.batchSize), await twin.trainStep(twinCarry, batch, rates, STEP.batchSize)];
        carry = r1.carry;
        twin.disposeCarry(r2.carry);
        expect(r2.result).toEqual(r1.result);
        const [s1, s2] = [await hrm.saveState(), await twin.saveState()];
        for (const [name, t] of s1.parameters) expect(s2.parameters.get(name)?.data, name).toEqual(t.data);
        for (const [name, t] of s1.adamV) expect(s2.adamV.get(name)?.data, name).toEqual(t.data);
      } finally {
        await twin.dispose();
      }
      hrm.disposeCarry(carry);
    } finally {
      await hrm.dispose();
    }
  }, 300_000);
});
