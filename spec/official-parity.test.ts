// Official parity, once for every backend: the trace procedure of fixtures/official-parity/README.md
// run through createHrm on every configuration the registry lists (the reference, the CPU engine in
// each SIMD variant and thread count, gpu.js in each mode), on every fixture case, compared with the
// PyTorch numbers under the README's tolerance table: forward rel-L2 ≤ 1e-4, gradients ≤ 1e-3,
// after.* ≤ 1e-3, losses/metrics as the README says, integers and booleans exact, and the optimizer
// alone (recorded gradients) within 1e-6 max abs. An unavailable configuration is skipped with its
// reason in the title (and printed); a configuration known not to hold parity (KNOWN_FAILURES) runs
// as an expected failure with what was measured. Plus `hrm trace --compare` end to end, and the
// PyTorch checkpoint as the weights source.

import { copyFileSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../src/core/backend.ts';
import { conformanceTargets } from '../src/backends/registry.ts';
import { run as traceCommand } from '../src/cli/commands/trace.ts';
import { compareTraces, formatChecks, optimizerAloneChecks } from '../src/verify/parity/compare.ts';
import { readTraceCase, readTraceOutputs, runTrace, type TraceCase, type TraceOutputs } from '../src/verify/parity/trace.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'official-parity');
const CASES = readdirSync(FIXTURES).filter((d) => statSync(join(FIXTURES, d)).isDirectory()).sort();
const targets = await conformanceTargets();

/**
 * Targets that are known not to hold official parity, with what was measured. They run like every
 * other target, but as expected failures (`it.fails`): the day one passes, this test says so and the
 * entry goes.
 */
const KNOWN_FAILURES: Readonly<Record<string, string>> = {
  'gpu-cpu':
    'gpu.js cpu mode: after.q_head.weight is off by relL2 1.0 after step 1 on both cases while grad.q_head.weight ' +
    'and the optimizer-alone check pass; from step 2 the Q values, halting and everything downstream drift',
};

// the fixtures are read once and shared by every target (read-only)
const fixtures = new Map<string, { c: TraceCase; expected: TraceOutputs }>();
const fixture = (name: string) => {
  if (!fixtures.has(name)) fixtures.set(name, { c: readTraceCase(join(FIXTURES, name)), expected: readTraceOutputs(join(FIXTURES, name)) });
  return fixtures.get(name)!;
};

it('has the fixture cases and a target per registered backend', () => {
  for (const id of Object.keys(KNOWN_FAILURES)) expect(targets.map((t) => t.id)).toContain(id);
  expect(CASES).toEqual(['arc-learned', 'sudoku-rope']);
  for (const c of CASES) expect(fixture(c).expected.size).toBe(5); // eval, train_step1..3, train_step1_probe
  const ids = targets.map((t) => t.id);
  for (const family of ['reference', 'simd-', 'gpu-']) expect(ids.some((id) => id.startsWith(family))).toBe(true);
});

for (const target of targets) {
  if ('unavailable' in target) {
    console.warn(`official parity: target '${target.id}' skipped: ${target.unavailable}`);
    describe.skip(`official parity on ${target.id} (unavailable: ${target.unavailable})`, () => {
      it('is not run', () => {});
    });
    continue;
  }
  describe(`official parity on ${target.id}`, () => {
    let backend: Backend<unknown>;
    beforeAll(async () => {
      backend = await target.create();
    });
    afterAll(async () => {
      await backend?.close?.();
    });
    const known = KNOWN_FAILURES[target.id];
    if (known !== undefined) console.warn(`official parity: target '${target.id}' is a known failure: ${known}`);
    for (const name of CASES) {
      (known === undefined ? it : it.fails)(`${name}: every quantity within the README tolerances${known === undefined ? '' : ` (known failure: ${known})`}`, async () => {
        const { c, expected } = fixture(name);
        const outputs = await runTrace(c, backend);
        const checks = [...compareTraces(outputs, expected), ...(await optimizerAloneChecks(c, expected, backend))];
        const failed = checks.filter((k) => !k.pass);
        if (failed.length > 0 && known === undefined) console.error(`${target.id} ${name}:\n${formatChecks(failed, true)}`);
        expect(failed).toEqual([]);
        // every fixture tensor was compared (nothing skipped silently)
        const tensors = [...expected.values()].reduce((s, f) => s + f.tensors.size, 0);
        expect(checks.filter((k) => !k.key.startsWith('optimizer-alone') && k.file !== '*').length).toBeGreaterThan(tensors);
      });
    }
  });
}

describe('hrm trace and the weights sources', () => {
  it('hrm trace <case> --compare writes the fixture files, prints the checks and exits 0', async () => {
    const out = mkdtempSync(join(tmpdir(), 'hrm-trace-'));
    const lines: string[] = [];
    const log = console.log;
    console.log = (...a: unknown[]) => void lines.push(a.join(' '));
    try {
      const code = await traceCommand([join(FIXTURES, 'arc-learned'), '--out', out, '--backend', 'reference', '--compare']);
      expect(lines.filter((l) => l.startsWith('FAIL'))).toEqual([]);
      expect(lines.filter((l) => l.startsWith('ok')).length).toBeGreaterThan(0);
      expect(code).toBe(0);
      expect(readTraceOutputs(out).size).toBe(5);
    } finally {
      console.log = log;
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('reads the PyTorch checkpoint when there is no weights.safetensors, with identical values', () => {
    const src = join(FIXTURES, 'arc-learned');
    const tmp = mkdtempSync(join(tmpdir(), 'hrm-parity-'));
    try {
      for (const f of ['config.json', 'checkpoint', 'batch.safetensors']) copyFileSync(join(src, f), join(tmp, f));
      const fromCkpt = readTraceCase(tmp);
      const fromSafe = fixture('arc-learned').c;
      expect([...fromCkpt.weights.keys()]).toEqual([...fromSafe.weights.keys()]);
      for (const [k, t] of fromSafe.weights) expect(Array.from(fromCkpt.weights.get(k)!.data)).toEqual(Array.from(t.data));
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
