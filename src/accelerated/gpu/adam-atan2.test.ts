// The webgpu AdamATan2 parameter update against the written-out float32 formula with atan2 in
// float64 rounded once (what the released float32 kernel computes): with stepSize 1 and θ 0 the
// result is −atan2(m', √v'/bc2Sqrt) itself, so any ulp of error in the kernel's atan2 shows.
// adamAtan2Many (several tensors per pass) gives bits identical to one adamAtan2 pass per tensor,
// in ⌈tensors / per pass⌉ launches; a state shared with another handle is copied before its update.
// Skipped with the reason when no WebGPU adapter answers here.

import { describe, expect, it } from 'vitest';
import { createGpuBackend } from './backend.ts';
import type { GpuBackend } from './backend.ts';
import { MANY_MAX } from './adam-atan2.ts';

/** The backend on webgpu, or null (with the reason printed) when no adapter answers. */
const webgpu = async (): Promise<GpuBackend | null> => {
  try {
    return await createGpuBackend({ gpuMode: 'webgpu', log: () => {} });
  } catch (e) {
    console.warn(`adam-atan2.test: webgpu unavailable, skipped: ${(e as Error).message}`);
    return null;
  }
};

describe('gpu adamAtan2 on webgpu', () => {
  it('rounds atan2(m, den) to within 1 ulp of the float32 formula over 2¹⁴ random moments', async () => {
    const b = await webgpu();
    if (b === null) return;
    try {
      const f = Math.fround;
      const n = 1 << 14;
      let seed = 12345;
      const rand = (): number => {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        return seed / 2 ** 32;
      };
      const mag = (lo: number, hi: number): number => 2 ** (lo + (hi - lo) * rand());
      const g = Float32Array.from({ length: n }, () => f((rand() - 0.5) * mag(-10, 10)));
      const m0 = Float32Array.from({ length: n }, () => f((rand() - 0.5) * mag(-10, 10)));
      const v0 = Float32Array.from({ length: n }, () => f(rand() * mag(-20, 10)));
      // lr 0.1, β1 0.9, step 1: stepSize = 0.1/(1 − 0.9) rounds to 1 in float32
      const hyper = { lr: 0.1, weightDecay: 0, beta1: 0.9, beta2: 0.95, step: 1 };
      expect(f(0.1 / (1 - 0.9))).toBe(1);
      const s = b.adamAtan2({ param: b.zeros([n]), m: b.fromArray([n], m0), v: b.fromArray([n], v0) }, b.fromArray([n], g), hyper);
      const [p, m, v] = await Promise.all([s.param, s.m, s.v].map(async (t) => (await b.read(t)).data));
      const bc2 = f(Math.sqrt(1 - 0.95));
      let worst = 0;
      for (let i = 0; i < n; i++) {
        const want = -f(Math.atan2(m[i], f(f(Math.sqrt(v[i])) / bc2)));
        const ulp = want === 0 ? 2 ** -149 : 2 ** (Math.floor(Math.log2(Math.abs(want))) - 23);
        worst = Math.max(worst, Math.abs(p[i] - want) / ulp);
      }
      expect(worst).toBeLessThanOrEqual(1);
      for (const t of [s.param, s.m, s.v]) b.dispose(t);
    } finally {
      await b.close();
    }
  }, 120_000);

  it('adamAtan2Many: bit-identical to adamAtan2 per tensor, several tensors per launch', async () => {
    const b = await webgpu();
    if (b === null) return;
    try {
      // sizes around the 256-element workgroup, more tensors than one pass takes
      const sizes = [1, 300, 256, 1000, 7, 513, 2, 64, 255];
      const per = Math.min(MANY_MAX, Math.floor(b.device.storageBindings() / 4));
      expect(per, 'tensors per pass (the node platform raises the device to the adapter limit)').toBeGreaterThanOrEqual(2);
      const vals = (n: number, s: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.fround(Math.sin(i * s + 0.2) * (1 + (i % 5))));
      const hyper = { lr: 1e-3, weightDecay: 0.1, beta1: 0.9, beta2: 0.95, step: 3 };
      const make = () => sizes.map((n, k) => ({ param: b.fromArray([n], vals(n, 0.3 + k)), m: b.fromArray([n], vals(n, 1.1 + k).map((x) => x / 10)), v: b.fromArray([n], vals(n, 2.3 + k).map((x) => Math.abs(x) / 100)) }));
      const grads = sizes.map((n, k) => b.fromArray([n], vals(n, 0.7 + k)));
      const many = make();
      const one = make();
      await b.device.flush();
      const launches0 = b.device.launches;
      const gotMany = b.adamAtan2Many(many, grads, hyper);
      expect(b.device.launches - launches0).toBe(Math.ceil(sizes.length / per));
      const gotOne = one.map((s, k) => b.adamAtan2(s, grads[k], hyper));
      for (let k = 0; k < sizes.length; k++) {
        for (const part of ['param', 'm', 'v'] as const) {
          const [x, y] = await Promise.all([b.read(gotMany[k][part]), b.read(gotOne[k][part])]);
          expect(Array.from(x.data), `tensor ${k} (${sizes[k]} elements) ${part}`).toEqual(Array.from(y.data));
        }
      }
      for (const s of [...gotMany, ...gotOne]) for (const t of [s.param, s.m, s.v]) b.dispose(t);
      for (const g of grads) b.dispose(g);
    } finally {
      await b.close();
    }
  }, 120_000);

  it('a state shared with another handle is copied into its own buffer, then takes the same WGSL pass', async () => {
    const b = await webgpu();
    if (b === null) return;
    try {
      const n = 300;
      const vals = (s: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.fround(Math.cos(i * s) * (1 + (i % 3))));
      const hyper = { lr: 1e-3, weightDecay: 0.1, beta1: 0.9, beta2: 0.95, step: 2 };
      const g = b.fromArray([n], vals(0.9));
      const plain = b.adamAtan2({ param: b.fromArray([n], vals(0.1)), m: b.fromArray([n], vals(0.2)), v: b.fromArray([n], vals(0.3).map(Math.abs)) }, g, hyper);
      // param has a reshape alias and m is viewed twice: neither may be written where it lies
      const param = b.fromArray([n], vals(0.1));
      const alias = b.reshape(param, [n]);
      const m = b.fromArray([n], vals(0.2));
      await b.device.flush();
      const launches0 = b.device.launches;
      const shared = b.adamAtan2({ param: alias, m: b.reshape(m, [n]), v: b.fromArray([n], vals(0.3).map(Math.abs)) }, g, hyper);
      expect(b.device.launches - launches0, 'the upload of v, two copies and one WGSL update').toBe(4);
      for (const part of ['param', 'm', 'v'] as const) {
        const [x, y] = await Promise.all([b.read(shared[part]), b.read(plain[part])]);
        expect(Array.from(x.data), part).toEqual(Array.from(y.data));
      }
      for (const s of [shared, plain]) for (const t of [s.param, s.m, s.v]) b.dispose(t);
      for (const t of [g, param, m]) if (!t.disposed) b.dispose(t);
    } finally {
      await b.close();
    }
  }, 120_000);
});
