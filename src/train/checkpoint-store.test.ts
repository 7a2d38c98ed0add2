// Tests of the checkpoint store: retention of the newest K, natural order, and crash safety:
// leftover temp files and truncated or corrupt final files are never taken for checkpoints,
// the previous checkpoint survives and is chosen; a writer killed with SIGKILL at an arbitrary
// moment never leaves the store without a valid latest checkpoint.

import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { compareNatural, latestCheckpoint, listCheckpoints, saveCheckpoint, type SkippedFile } from './checkpoint-store.ts';
import { readSafetensors, writeSafetensors } from '../io/safetensors.ts';

const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(path.join(tmpdir(), 'hrm-ckpt-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A checkpoint whose content identifies its step: `w` filled with the step number. */
const ckpt = (step: number, n = 256): Uint8Array =>
  writeSafetensors([['w', { dtype: 'F32', shape: [n], data: new Float32Array(n).fill(step) }]], { step: String(step) });
const stepOf = (file: string): number => (readSafetensors(readFileSync(file), file).tensors.get('w')!.data as Float32Array)[0];
const quiet = (sink: SkippedFile[]) => (s: SkippedFile) => void sink.push(s);

describe('checkpoint store', () => {
  it('saves atomically, keeps the newest K, and lists them oldest first', () => {
    const dir = tempDir();
    for (let s = 1; s <= 5; s++) expect(saveCheckpoint(dir, `step_${s}.safetensors`, ckpt(s), { keep: 2 })).toBe(path.join(dir, `step_${s}.safetensors`));
    expect(readdirSync(dir).sort()).toEqual(['step_4.safetensors', 'step_5.safetensors']);
    const { checkpoints, skipped } = listCheckpoints(dir);
    expect(checkpoints.map((c) => c.name)).toEqual(['step_4.safetensors', 'step_5.safetensors']);
    expect(checkpoints[1].metadata).toEqual({ step: '5' });
    expect(checkpoints[1].tensors).toBe(1);
    expect(skipped).toEqual([]);
    expect(stepOf(latestCheckpoint(dir)!)).toBe(5);
  });

  it('orders names naturally (step_9 before step_10) and ignores non-checkpoint files', () => {
    const dir = tempDir();
    saveCheckpoint(dir, 'step_10.safetensors', ckpt(10), { keep: 5 });
    saveCheckpoint(dir, 'step_9.safetensors', ckpt(9), { keep: 5 });
    writeFileSync(path.join(dir, 'metrics.jsonl'), '{}\n');
    expect(listCheckpoints(dir).checkpoints.map((c) => c.name)).toEqual(['step_9.safetensors', 'step_10.safetensors']);
    expect(stepOf(latestCheckpoint(dir)!)).toBe(10);
    expect(['b10', 'a', 'b9', 'b010', 'b2x'].sort(compareNatural)).toEqual(['a', 'b2x', 'b9', 'b10', 'b010']);
  });

  it('after a crash mid-write (leftover temp file, truncated final file) the previous checkpoint survives and is chosen', () => {
    const dir = tempDir();
    saveCheckpoint(dir, 'step_1.safetensors', ckpt(1));
    saveCheckpoint(dir, 'step_2.safetensors', ckpt(2));
    const next = ckpt(3);
    // a save of step 3 that died before its rename: a partial temp file of a dead process
    writeFileSync(path.join(dir, 'step_3.safetensors.tmp-2147483646'), next.subarray(0, 100));
    // a step-4 file that was truncated (e.g. copied by a tool that is not atomic, or a full disk)
    writeFileSync(path.join(dir, 'step_4.safetensors'), ckpt(4).subarray(0, 700));
    // and a step-5 file whose header is garbage
    writeFileSync(path.join(dir, 'step_5.safetensors'), new Uint8Array(64).fill(0x41));
    const reported: SkippedFile[] = [];
    const latest = latestCheckpoint(dir, quiet(reported));
    expect(latest).toBe(path.join(dir, 'step_2.safetensors'));
    expect(stepOf(latest!)).toBe(2);
    expect(reported.map((s) => s.name)).toEqual(['step_4.safetensors', 'step_5.safetensors']); // temp files are not reported
    expect(reported[0].reason).toMatch(/step_4\.safetensors: truncated safetensors file: data section needs 1024 bytes/);
    expect(reported[1].reason).toMatch(/step_5\.safetensors: safetensors header length .* exceeds/);
    const { skipped } = listCheckpoints(dir);
    expect(skipped.map((s) => s.name)).toContain('step_3.safetensors.tmp-2147483646');
    // the next successful save cleans the dead process's temp file, keeps the corrupt files for
    // inspection, and prunes only valid older checkpoints
    saveCheckpoint(dir, 'step_6.safetensors', ckpt(6), { keep: 2 });
    expect(readdirSync(dir).sort()).toEqual(['step_2.safetensors', 'step_4.safetensors', 'step_5.safetensors', 'step_6.safetensors']);
    expect(stepOf(latestCheckpoint(dir, quiet([]))!)).toBe(6);
  });

  it("touches only its own file names and orders by the step recorded inside (a user's best.safetensors survives; a renamed copy is skipped)", () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'best.safetensors'), ckpt(99));
    writeFileSync(path.join(dir, 'weights.safetensors'), ckpt(98));
    saveCheckpoint(dir, 'step_1.safetensors', ckpt(1), { keep: 1 });
    saveCheckpoint(dir, 'step_2.safetensors', ckpt(2), { keep: 1 });
    // a copy of step 2 under a later step's name: its recorded step gives it away
    writeFileSync(path.join(dir, 'step_9.safetensors'), ckpt(2));
    const reported: SkippedFile[] = [];
    expect(latestCheckpoint(dir, quiet(reported))).toBe(path.join(dir, 'step_2.safetensors'));
    expect(reported.map((s) => s.reason)).toEqual([expect.stringMatching(/its name says step 9 but it records step 2/)]);
    saveCheckpoint(dir, 'step_3.safetensors', ckpt(3), { keep: 1 });
    expect(readdirSync(dir).sort()).toEqual(['best.safetensors', 'step_3.safetensors', 'step_9.safetensors', 'weights.safetensors']);
  });

  it('refuses invalid bytes, names and keep values without touching the store', () => {
    const dir = tempDir();
    saveCheckpoint(dir, 'step_1.safetensors', ckpt(1));
    expect(() => saveCheckpoint(dir, 'step_2.safetensors', ckpt(2).subarray(0, 50))).toThrow(/step_2\.safetensors \(about to be saved\): truncated safetensors file/);
    expect(() => saveCheckpoint(dir, '../escape.safetensors', ckpt(2))).toThrow(/invalid checkpoint name '\.\.\/escape\.safetensors'/);
    expect(() => saveCheckpoint(dir, 'step_2.ckpt', ckpt(2))).toThrow(/expected step_<N>\.safetensors/);
    expect(() => saveCheckpoint(dir, 'step_2.safetensors', ckpt(2), { keep: 0 })).toThrow(/keep must be an integer ≥ 1, got 0/);
    expect(readdirSync(dir)).toEqual(['step_1.safetensors']);
  });

  it('a missing directory has no checkpoints', () => {
    expect(latestCheckpoint(path.join(tempDir(), 'nope'))).toBeUndefined();
  });

  it('a writer killed with SIGKILL at an arbitrary moment leaves a valid latest checkpoint', async () => {
    const dir = tempDir();
    saveCheckpoint(dir, 'step_0000.safetensors', ckpt(0, 1 << 20));
    const storeUrl = new URL('./checkpoint-store.ts', import.meta.url).href;
    const safeUrl = new URL('../io/safetensors.ts', import.meta.url).href;
    const script = path.join(dir, '..', `writer-${path.basename(dir)}.mts`);
    dirs.push(script);
    // saves 4 MiB checkpoints in a loop (keep 2) until killed
    writeFileSync(
      script,
      `import { saveCheckpoint } from ${JSON.stringify(storeUrl)};
import { writeSafetensors } from ${JSON.stringify(safeUrl)};
const dir = ${JSON.stringify(dir)};
process.stdout.write('ready\\n');
for (let s = 1; ; s++) {
  const data = new Float32Array(1 << 20).fill(s);
  saveCheckpoint(dir, 'step_' + String(s).padStart(4, '0') + '.safetensors', writeSafetensors([['w', { dtype: 'F32', shape: [data.length], data }]], { step: String(s) }), { keep: 2 });
}
`,
    );
    const root = fileURLToPath(new URL('../../', import.meta.url));
    for (const delayMs of [5, 40, 150]) {
      const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve, reject) => {
        child.stdout.once('data', () => resolve());
        child.once('exit', (code) => reject(new Error(`writer exited early with ${code}`)));
      });
      await new Promise((r) => setTimeout(r, delayMs));
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
      const latest = latestCheckpoint(dir, (s) => {
        throw new Error(`a complete-looking checkpoint is corrupt: ${s.name}: ${s.reason}`);
      });
      expect(latest).toBeDefined();
      const f = readSafetensors(readFileSync(latest!), latest!);
      const w = f.tensors.get('w')!.data as Float32Array;
      const step = Number(f.metadata.step);
      expect(w.every((v) => v === step)).toBe(true); // the content is whole and belongs to its step
    }
  }, 60_000);
});
