// Runs a command module in-process, returning its exit code and what it printed (console.error
// and console.log, in order), for tests of the `hrm` commands.

import { vi } from 'vitest';

/** Runs `cmd.run(argv)`, capturing its console output (`text`: both streams; `out`: console.log only). */
export const capture = async (cmd: { run(argv: readonly string[]): Promise<number> }, argv: readonly string[]): Promise<{ code: number; text: string; out: string }> => {
  const lines: string[] = [];
  const out: string[] = [];
  const err = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void (lines.push(a.join(' ')), out.push(a.join(' '))));
  try {
    return { code: await cmd.run(argv), text: lines.join('\n'), out: out.join('\n') };
  } finally {
    err.mockRestore();
    log.mockRestore();
  }
};
