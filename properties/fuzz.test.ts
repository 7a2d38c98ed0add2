// The loader fuzz suite at CI size: every loader (npy, dataset.json + arrays, our safetensors
// checkpoints with their metadata, zip, pickle/torch checkpoint, the one weights loader on plain
// safetensors + config JSON and on a torch checkpoint + all_config.yaml, Sudoku/maze CSV, ARC JSON,
// config) gets HRM_FUZZ_RUNS mutated inputs (default 200, 2,000 in all); each must load correctly
// or be rejected with an InputError naming its file, within the target's memory bound.
// `npm run fuzz -- --runs N` runs the same properties long and prints a table (properties/fuzz/run.ts).

import { describe, expect, it } from 'vitest';
import { fuzzTarget } from './fuzz/harness.ts';
import { TARGETS } from './fuzz/targets.ts';

const RUNS = Number(process.env.HRM_FUZZ_RUNS ?? 200);

describe('loader fuzz (mutated valid files)', () => {
  for (const target of TARGETS) {
    it(`${target.name}: ${RUNS} inputs load correctly or fail with an InputError naming the file (${target.memoryBound})`, async () => {
      const s = await fuzzTarget(target, RUNS);
      expect(s.loaded + s.rejected).toBe(RUNS);
      // the mutations must reach the rejecting paths, or the property is vacuous
      expect(s.rejected).toBeGreaterThan(0);
    });
  }
});
