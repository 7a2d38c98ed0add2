// The webgpu device in steady state over whole training steps (ACT call with the Q-target segment,
// backward, optimizer): after warm-up a step creates no buffer, no bind group and no pipeline, keeps
// the number of live tensors constant, and submits one command buffer per group of reads the host
// waits for (two per step).
// With and without the puzzle embedding. Warm-up: the pool hands out the free buffer with the
// smallest id and the optimizer updates its state in place, so the buffers the step's tensors land
// in (and with them the bind groups) repeat from the fifth step on (lavapipe); WARMUP bounds it.
// Skipped with the reason when no WebGPU adapter answers here.

import { describe, expect, it } from 'vitest';
import { createHrm } from '../../model/hrm.ts';
import { benchBatch, benchConfig } from '../../bench/workload.ts';
import type { BenchSizes } from '../../bench/anchors.ts';
import type { Carry } from '../../model/api.ts';
import type { Backend } from '../../core/backend.ts';
import { createGpuBackend } from './backend.ts';

const SIZES: readonly BenchSizes[] = [
  { name: 'steady', batchSize: 2, hidden: 32, heads: 2, layers: 1, hCycles: 1, lCycles: 2 },
  { name: 'steady-puzzle', batchSize: 3, hidden: 16, heads: 1, layers: 2, hCycles: 2, lCycles: 1, puzzleEmb: true },
];

const WARMUP = 6;

describe('gpu webgpu training step in steady state', () => {
  for (const z of SIZES) {
    it(`${z.name}: no buffer, bind group or pipeline created per step after warm-up`, async () => {
      let b;
      try {
        b = await createGpuBackend({ gpuMode: 'webgpu', log: () => {} });
      } catch (e) {
        console.warn(`steady-state.test: webgpu unavailable, skipped: ${(e as Error).message}`);
        return;
      }
      const hrm = createHrm(benchConfig(z), { backend: b as unknown as Backend<unknown>, seed: 3 });
      try {
        const batch = benchBatch(z);
        const rates = { lr: 1e-4, puzzleEmbLr: 1e-2 };
        let carry: Carry = hrm.initialCarry(z.batchSize, batch.seqLen);
        const step = async (): Promise<void> => {
          const r = await hrm.trainStep(carry, batch, rates, z.batchSize);
          carry = r.carry;
        };
        for (let i = 0; i < WARMUP; i++) await step();
        const live = b.device.live;
        const before = b.device.counters();
        const steps = 3;
        for (let i = 0; i < steps; i++) await step();
        const after = b.device.counters();
        const per = (k: keyof typeof after): number => (after[k] - before[k]) / steps;
        expect(b.device.live, 'live tensors after the measured steps').toBe(live);
        expect(per('bufferCreations'), 'buffer creations per step').toBe(0);
        expect(per('bindGroupCreations'), 'bind-group creations per step').toBe(0);
        expect(per('pipelineCreations'), 'pipeline creations per step').toBe(0);
        expect(per('dispatches')).toBeGreaterThan(100);
        // a step is submitted once per group of reads the host waits for, and waits twice: the
        // heads with the Q target (what the ACT logic must see), the losses at the end
        expect(per('submits'), 'submits per step').toBe(per('waits'));
        expect(per('waits'), 'waits for the device per step').toBeLessThanOrEqual(2);
        hrm.disposeCarry(carry);
      } finally {
        await hrm.dispose();
        await b.close();
      }
    }, 300_000);
  }
});
