// Every conformance target (src/backends/registry.ts) against the float64 reference, every kernel,
// forward and backward, under the tolerance table of src/verify/tolerances.ts; and every target
// leaves its arguments bit-identical. An unavailable target is skipped with its reason in the title
// (and printed). Packs (pack, packedZeros, place) keep values on every target. Run counts: HRM_PROP_RUNS for all, else 100 per kernel on the reference, 50 on
// accelerated targets (8 configurations × 38 kernels), and 20 for the immutability checks.

import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { Backend } from '../src/core/backend.ts';
import { conformanceTargets } from '../src/backends/registry.ts';
import { propRuns } from '../src/verify/arbitraries.ts';
import { KERNEL_CASES } from '../src/verify/cases.ts';
import { conformanceProperty, immutabilityProperty, packingProperty } from './props.ts';

const targets = await conformanceTargets();

for (const target of targets) {
  if ('unavailable' in target) {
    console.warn(`conformance: target '${target.id}' skipped: ${target.unavailable}`);
    describe.skip(`target ${target.id} (unavailable: ${target.unavailable})`, () => {
      it('is not run', () => {});
    });
    continue;
  }
  const runs = propRuns(target.id === 'reference' ? 100 : 50);
  const immutableRuns = propRuns(20);
  describe(`target ${target.id} vs reference (${runs} runs per kernel)`, () => {
    let backend: Backend<unknown>;
    beforeAll(async () => {
      backend = await target.create();
    });
    afterAll(async () => {
      await backend?.close?.();
    });
    for (const c of KERNEL_CASES) {
      it(`${c.kernel} matches the reference`, async () => {
        await fc.assert(conformanceProperty(backend, c), { numRuns: runs });
      });
      it(`${c.kernel} leaves its arguments bit-identical${c.consumed.length ? ` (except consumed ${c.consumed.join(', ')})` : ''}`, async () => {
        await fc.assert(immutabilityProperty(backend, c), { numRuns: immutableRuns });
      });
    }
    it('pack, packedZeros and place keep the values; adamAtan2Many over packs equals adamAtan2 per tensor', async () => {
      await fc.assert(packingProperty(backend), { numRuns: immutableRuns });
    });
  });
}
