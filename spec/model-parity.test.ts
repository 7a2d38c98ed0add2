// Official parity: the trace procedure of fixtures/official-parity/README.md run through createHrm
// on the reference backend, compared with the PyTorch numbers under the README's tolerance table:
// forward rel-L2 ≤ 1e-4, gradients ≤ 1e-3, after.* ≤ 1e-3, losses/metrics as the README says,
// integers and booleans exact, and the optimizer alone (recorded gradients) within 1e-6 max abs.

import { describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { referenceBackend } from '../src/reference/backend.ts';
import type { Backend } from '../src/core/backend.ts';
import { readTraceCase, readTraceOutputs, runTrace } from '../src/verify/parity/trace.ts';
import { compareTraces, formatChecks, optimizerAloneChecks } from '../src/verify/parity/compare.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'official-parity');
const backend = referenceBackend as Backend<unknown>;

// Runs one case; the sudoku-rope and arc-learned cases run as two tests so the heavy one is alone.
const parityCase = (name: string, expectedFiles: number) =>
  it(`${name}: every quantity within the README tolerances`, async () => {
    const dir = join(FIXTURES, name);
    const c = readTraceCase(dir);
    const fixture = readTraceOutputs(dir);
    expect(fixture.size).toBe(expectedFiles);
    const outputs = await runTrace(c, backend);
    const checks = [...compareTraces(outputs, fixture), ...(await optimizerAloneChecks(c, fixture, referenceBackend))];
    const failed = checks.filter((k) => !k.pass);
    if (failed.length > 0) console.error(formatChecks(failed, true));
    expect(failed).toEqual([]);
    // every fixture tensor was compared (nothing skipped silently)
    const tensors = [...fixture.values()].reduce((s, f) => s + f.tensors.size, 0);
    expect(checks.filter((k) => !k.key.startsWith('optimizer-alone') && k.file !== '*').length).toBeGreaterThan(tensors);
  });

describe('official parity (reference backend)', () => {
  parityCase('arc-learned', 5);
  parityCase('sudoku-rope', 5);

  it('reads the PyTorch checkpoint when there is no weights.safetensors, with identical values', () => {
    const src = join(FIXTURES, 'arc-learned');
    const tmp = mkdtempSync(join(tmpdir(), 'hrm-parity-'));
    try {
      for (const f of ['config.json', 'checkpoint', 'batch.safetensors']) copyFileSync(join(src, f), join(tmp, f));
      const fromCkpt = readTraceCase(tmp);
      const fromSafe = readTraceCase(src);
      expect([...fromCkpt.weights.keys()]).toEqual([...fromSafe.weights.keys()]);
      for (const [k, t] of fromSafe.weights) expect(Array.from(fromCkpt.weights.get(k)!.data)).toEqual(Array.from(t.data));
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
