// The loader fuzz suite at CI size: every loader (npy, dataset.json + arrays, safetensors +
// checkpoint metadata, zip, pickle/torch checkpoint, Sudoku/maze CSV, ARC JSON, config) gets
// HRM_FUZZ_RUNS mutated inputs (default 500, about 4,000 in all); each must load correctly or be rejected with an
// InputError naming its file, within the target's memory bound. `npm run fuzz -- --runs N` runs
// the same properties long and prints a table (properties/fuzz/run.ts).

import { describe, expect, it } from 'vitest';
import { fuzzTarget } from './fuzz/harness.ts';
import { TARGETS } from './fuzz/targets.ts';

const RUNS = Number(process.env.HRM_FUZZ_RUNS ?? 500);
/** Loaders whose rewrite (bounded inflation, project error kinds) has not reached this tree yet. */

describe('loader fuzz (mutated valid files)', () => {
  for (const target of TARGETS) {
    it(`${target.name}: ${RUNS} inputs load correctly or fail with an InputError naming the file (${target.memoryBound})`, async () => {
      const s = await fuzzTarget(target, RUNS);
      expect(s.loaded + s.rejected).toBe(RUNS);
      // the mutations must reach both outcomes, or the property is vacuous
      expect(s.rejected).toBeGreaterThan(0);
    });
  }
});
