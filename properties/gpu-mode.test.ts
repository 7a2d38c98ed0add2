// The gpu backend's mode contract: each gpu.js mode that can run here really runs its own kernel
// class (no silent fallback), an unavailable mode is an error that says why, a software WebGPU
// adapter is refused when a hardware one is required, and memory stays flat over thousands of
// launches with dispose. Loop length: HRM_GPU_LOOP (default 3000).

import { describe, expect, it } from 'vitest';
import { createGpuBackend } from '../src/accelerated/gpu/backend.ts';
import { GPU_MODES, type GpuMode } from '../src/accelerated/gpu/gpujs.ts';
import { EXPECTED_KERNEL_CLASS } from '../src/accelerated/gpu/gpujs.ts';
import { modeProblem } from '../src/accelerated/gpu/mode.ts';

const LOOP = Number(process.env.HRM_GPU_LOOP ?? 3000);
const modes: readonly GpuMode[] = GPU_MODES;
const problems = new Map<GpuMode, string | null>();
for (const m of modes) problems.set(m, await modeProblem(m));

for (const mode of modes) {
  const problem = problems.get(mode) ?? null;
  if (problem !== null) {
    console.warn(`gpu-mode: '${mode}' unavailable: ${problem}`);
    describe(`gpu mode ${mode} (unavailable: ${problem})`, () => {
      it('asking for it is an error naming the reason', async () => {
        await expect(createGpuBackend({ gpuMode: mode, log: () => {} })).rejects.toThrow(/not available: .+/);
      });
    });
    continue;
  }
  describe(`gpu mode ${mode}`, () => {
    it(`runs every kernel on ${EXPECTED_KERNEL_CLASS[mode]} and logs the mode`, async () => {
      const logs: string[] = [];
      const b = await createGpuBackend({ gpuMode: mode, log: (m) => logs.push(m) });
      try {
        expect(b.mode).toBe(mode);
        expect(logs.join('\n')).toContain(`mode ${mode}`);
        expect(b.description).toContain(mode);
        const x = b.fromArray([2, 3, 4], Array.from({ length: 24 }, (_, i) => i / 7 - 1));
        const w = b.fromArray([5, 4], Array.from({ length: 20 }, (_, i) => (i % 3) - 1));
        const y = b.linear(x, w);
        const n = b.addRmsNorm(y, y, 1e-5);
        const s = b.sumBatch(n);
        const got = await b.read(s);
        expect(got.shape).toEqual([3, 5]);
        expect(got.data.every(Number.isFinite)).toBe(true);
        expect([...b.device.kernelClasses()]).toEqual([EXPECTED_KERNEL_CLASS[mode]]);
        for (const t of [x, w, y, n, s]) b.dispose(t);
        expect(() => b.dispose(x)).toThrow(/already disposed/);
        expect(() => b.add(x, x)).toThrow(/used after dispose/);
      } finally {
        await b.close();
      }
    });

    if (mode === 'webgpu' || mode === 'webasm') {
      it(`keeps memory flat over ${LOOP} launches with dispose`, async () => {
        const b = await createGpuBackend({ gpuMode: mode, log: () => {} });
        try {
          const D = 256;
          let acc = b.zeros([4, D]);
          const one = b.fromArray([4, D], new Float32Array(4 * D).fill(1));
          const step = async (count: number): Promise<void> => {
            for (let i = 0; i < count; i++) {
              const next = b.add(acc, one);
              b.dispose(acc);
              acc = next;
              if (i % 500 === 499) await b.read(acc); // the model reads once per step
            }
            await b.device.flush();
          };
          await step(Math.min(300, LOOP)); // warm-up: kernels compiled, pools settled
          if (global.gc) global.gc();
          const live0 = b.device.live;
          const rss0 = process.memoryUsage().rss;
          await step(LOOP);
          if (global.gc) global.gc();
          const rss1 = process.memoryUsage().rss;
          expect(b.device.live).toBe(live0);
          const got = await b.read(acc);
          expect(got.data[0]).toBe(Math.min(300, LOOP) + LOOP);
          expect((rss1 - rss0) / 2 ** 20).toBeLessThan(80);
          b.dispose(acc);
          b.dispose(one);
        } finally {
          await b.close();
        }
      });
    }
  });
}

describe('adapter policy', () => {
  it('refuses a software WebGPU adapter when a hardware adapter is required', async () => {
    const any = problems.get('webgpu');
    const hw = await modeProblem('webgpu', true);
    if (any !== null) {
      expect(hw).not.toBeNull();
      return;
    }
    if (hw === null) {
      console.warn('gpu-mode: a hardware WebGPU adapter answered; the refusal path is not exercised here');
      return;
    }
    expect(hw).toMatch(/software rasterizer/);
    await expect(createGpuBackend({ requireHardwareAdapter: true, log: () => {} })).rejects.toThrow(/software rasterizer/);
  });
});
