// The gpu.js backend against the official PyTorch traces: `hrm trace arc-learned --backend gpu
// --gpu-mode <mode> --compare` must meet the fixture README's tolerances (forward values, gradients,
// halting decisions, exact zeros, the optimizer-alone check) on webasm and on webgpu. A mode that
// cannot run here (no WebGPU adapter, for instance) is skipped with the reason as the skip note.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { GpuMode } from '../../backends/registry.ts';
import { createBackend } from '../../backends/registry.ts';
import { run } from '../../cli/commands/trace.ts';

const fixture = fileURLToPath(new URL('../../../fixtures/official-parity/arc-learned', import.meta.url));

/** null when the mode runs here, else why not. */
const unavailable = async (mode: GpuMode): Promise<string | null> => {
  try {
    const b = await createBackend('gpu', { gpuMode: mode, log: () => {} });
    await b.close?.();
    return null;
  } catch (e) {
    return (e as Error).message;
  }
};

describe('gpu backend on the arc-learned official-parity fixture', () => {
  for (const mode of ['webasm', 'webgpu'] as const) {
    it(`hrm trace --backend gpu --gpu-mode ${mode} --compare passes`, async (ctx) => {
      const why = await unavailable(mode);
      if (why !== null) {
        console.warn(`skipped: gpu mode ${mode} unavailable: ${why}`);
        ctx.skip(`gpu mode ${mode} unavailable: ${why}`);
      }
      const out = mkdtempSync(join(tmpdir(), `hrm-gpu-${mode}-`));
      const lines: string[] = [];
      const log = console.log;
      console.log = (...a: unknown[]) => void lines.push(a.join(' '));
      try {
        const code = await run([fixture, '--out', out, '--backend', 'gpu', '--gpu-mode', mode, '--compare']);
        const checks = lines.filter((l) => l.startsWith('ok') || l.startsWith('FAIL'));
        expect(checks.length).toBeGreaterThan(0);
        expect(lines.filter((l) => l.startsWith('FAIL'))).toEqual([]);
        expect(code).toBe(0);
      } finally {
        console.log = log;
        rmSync(out, { recursive: true, force: true });
      }
    }, 120_000);
  }
});
