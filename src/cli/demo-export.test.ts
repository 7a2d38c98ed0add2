// The bundled demo model (fixtures/demo-model/) loads, matches the demo's config, and solves its
// bundled held-out puzzles on the float64 reference.
import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import * as solveCmd from './commands/solve.ts';
import { referenceBackend } from '../reference/backend.ts';
import type { Backend } from '../core/backend.ts';
import { decodeCheckpoint } from '../train/checkpoint.ts';
import { createHrm } from '../model/hrm.ts';
import { checkSudoku, parseSudoku, solveOne, sudokuFromTokens } from '../train/solve.ts';
import { demoConfig } from './demo.ts';
import { readSplit } from '../data/format.ts';
import type { DemoPuzzle } from './demo-export.ts';

const DIR = 'fixtures/demo-model';

describe('bundled demo model', () => {
  const file = `${DIR}/model.safetensors`;
  const bytes = new Uint8Array(readFileSync(file));
  const ckpt = decodeCheckpoint(bytes, file);
  const puzzles = JSON.parse(readFileSync(`${DIR}/puzzles.json`, 'utf8')) as DemoPuzzle[];

  it('is small, float32, parameters only, with the demo config', () => {
    expect(bytes.length).toBeLessThan(1 << 20);
    expect(ckpt.dtype).toBe('F32');
    expect(ckpt.state.adamM.size).toBe(0);
    expect(ckpt.carry).toBeUndefined();
    expect(ckpt.config).toEqual(demoConfig(16, 6));
    expect(JSON.parse(readFileSync(`${DIR}/config.json`, 'utf8'))).toEqual(JSON.parse(JSON.stringify(ckpt.config)));
  });

  it('ships its puzzles also as a dataset in the on-disk format', () => {
    const split = readSplit(`${DIR}/data`, 'test');
    expect(split.sets.all.numExamples).toBe(puzzles.length);
    const p = parseSudoku(puzzles[3].puzzle);
    expect(Array.from(split.sets.all.inputs.subarray(3 * 16, 4 * 16))).toEqual(Array.from(p.tokens));
  });

  it('solves at least 14 of its 16 bundled held-out puzzles where ACT halts (reference backend)', async () => {
    const hrm = createHrm(ckpt.config, { backend: referenceBackend as Backend<unknown> });
    hrm.loadState({ parameters: ckpt.state.parameters });
    let solved = 0;
    try {
      for (const q of puzzles) {
        const p = parseSudoku(q.puzzle);
        const out = await solveOne(hrm, p.tokens, 0, ckpt.config.arch.halt_max_steps);
        const board = sudokuFromTokens(p.shape, out.predictions);
        if (checkSudoku(p.shape, p.board, board) === 'a valid solution') solved++;
      }
    } finally {
      await hrm.dispose();
    }
    expect(puzzles.length).toBe(16);
    expect(solved).toBeGreaterThanOrEqual(14);
  });

  it("`hrm solve --json` prints every segment's tokens as solveOne computes them", async () => {
    const lines: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
    let code: number;
    try {
      code = await solveCmd.run(['--checkpoint', file, '--puzzle', puzzles[2].puzzle, '--backend', 'reference', '--full', '--json']);
    } finally {
      log.mockRestore();
    }
    expect(code).toBe(0);
    const out = JSON.parse(lines.join('\n')) as { backend: string; segments: { tokens: number[]; q_halt: number }[] };
    const hrm = createHrm(ckpt.config, { backend: referenceBackend as Backend<unknown> });
    hrm.loadState({ parameters: ckpt.state.parameters });
    const want = await solveOne(hrm, parseSudoku(puzzles[2].puzzle).tokens, 0, 4, true);
    await hrm.dispose();
    expect(out.backend).toBe('reference');
    expect(out.segments.map((s) => s.tokens)).toEqual(want.traces.map((t) => Array.from(t.predictions)));
    expect(out.segments.map((s) => s.q_halt)).toEqual(want.traces.map((t) => t.qHalt));
  });
});
