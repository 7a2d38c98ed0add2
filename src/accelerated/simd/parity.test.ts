// The CPU engine against the official PyTorch traces: `hrm trace <case> --backend simd --compare`
// on every fixture of fixtures/official-parity must meet the README's tolerances (forward values,
// gradients, halting decisions, exact zeros, the optimizer-alone check).

import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { run } from '../../cli/commands/trace.ts';

const fixtures = fileURLToPath(new URL('../../../fixtures/official-parity/', import.meta.url));
const cases = readdirSync(fixtures).filter((d) => statSync(join(fixtures, d)).isDirectory());

describe('simd engine on the official-parity fixtures', () => {
  it('has fixtures to run', () => {
    expect(cases.length).toBeGreaterThanOrEqual(2);
  });
  for (const c of cases) {
    it(`${c}: hrm trace --backend simd --compare passes`, async () => {
      const out = mkdtempSync(join(tmpdir(), `hrm-simd-${c}-`));
      const lines: string[] = [];
      const log = console.log;
      console.log = (...a: unknown[]) => void lines.push(a.join(' '));
      try {
        const code = await run([join(fixtures, c), '--out', out, '--backend', 'simd', '--compare']);
        const failures = lines.filter((l) => l.startsWith('FAIL'));
        expect(failures).toEqual([]);
        expect(code).toBe(0);
      } finally {
        console.log = log;
        rmSync(out, { recursive: true, force: true });
      }
    }, 120_000);
  }
});
