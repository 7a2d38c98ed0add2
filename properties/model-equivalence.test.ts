// Property: the whole model on every accelerated conformance target equals the float64 reference
// within float32 tolerances, over three training steps from the same weights and batch: logits,
// Q logits, the Q target, per-token CE, the carried states, every gradient, the losses, the halting
// decisions, and the parameters after the three optimizer steps. Random tiny configs: hidden,
// heads, layers, cycles, RoPE or learned positions, puzzle embedding off / padded / full, both
// losses. If a halting decision differs, the reference margin |q_halt − q_continue| must be within
// float32 noise there, and the trajectories are not compared past it (they legitimately diverge).
// The check itself is src/verify/model.ts (also the `model` row of `hrm verify`).
// Runs per target: HRM_PROP_RUNS (default 10).

import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { Backend } from '../src/core/backend.ts';
import { conformanceTargets } from '../src/backends/registry.ts';
import { arbModelCase, checkModel, MODEL_STEPS } from '../src/verify/model.ts';

const RUNS = Number(process.env.HRM_PROP_RUNS ?? 10);

const targets = (await conformanceTargets()).filter((t) => t.id !== 'reference');

for (const target of targets) {
  if ('unavailable' in target) {
    console.warn(`model equivalence: target '${target.id}' skipped: ${target.unavailable}`);
    describe.skip(`model on ${target.id} (unavailable: ${target.unavailable})`, () => {
      it('is not run', () => {});
    });
    continue;
  }
  describe(`model on ${target.id} = reference over ${MODEL_STEPS} training steps (${RUNS} random tiny configs)`, () => {
    let backend: Backend<unknown>;
    beforeAll(async () => {
      backend = await target.create();
    });
    afterAll(async () => {
      await backend?.close?.();
    });
    it(`logits, Q values, carries, CE, losses, every gradient, halting, parameters after ${MODEL_STEPS} steps`, async () => {
      await fc.assert(
        fc.asyncProperty(arbModelCase, async (p) => {
          const r = await checkModel(backend, p);
          if (!r.ok) throw new Error(r.failure);
        }),
        { numRuns: RUNS },
      );
    }, 600_000);
  });
}
