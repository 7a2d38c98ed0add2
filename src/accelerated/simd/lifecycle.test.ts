// The CPU engine's process lifecycle: a child process that creates the engine with worker threads,
// runs kernels and closes it exits promptly, and so does one that forgets to close it (workers are
// unref'ed). Also: disposed handles are refused, reshape aliases share one block ("dispose either
// one"), memory is recycled across repeated steps, and the pool counts where its time went.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createSimdBackend } from './backend.ts';

const backendUrl = new URL('./backend.ts', import.meta.url).href;
const root = fileURLToPath(new URL('../../../', import.meta.url));

/** Runs `code` (an ES module body) in a child node with tsx; resolves with exit code, stdout and wall ms. */
const child = (code: string, timeoutMs: number): Promise<{ code: number | null; out: string; ms: number }> =>
  new Promise((resolve) => {
    const t0 = Date.now();
    const p = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: root });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('exit', (c) => {
      clearTimeout(timer);
      resolve({ code: c, out, ms: Date.now() - t0 });
    });
  });

const work = `
const { createSimdBackend } = await import(${JSON.stringify(backendUrl)});
const b = await createSimdBackend({ threads: 3 });
const x = b.fromArray([40, 16], Array.from({ length: 640 }, (_, i) => Math.sin(i)));
const w = b.fromArray([24, 16], Array.from({ length: 384 }, (_, i) => Math.cos(i)));
const y = b.linear(x, w);
const a = b.attention(b.fromArray([2, 20, 48], Array.from({ length: 1920 }, (_, i) => Math.sin(i * 0.37))), 2);
console.log('sum', (await b.read(y)).data.reduce((s, v) => s + v, 0).toFixed(3), (await b.read(a)).shape.join('x'));
`;

describe('simd engine lifecycle', () => {
  it('a process that closes the engine exits promptly', async () => {
    const r = await child(`${work}\nawait b.close();\nconsole.log('closed');`, 60_000);
    expect(r.out).toContain('closed');
    expect(r.out).toContain('2x20x16');
    expect(r.code).toBe(0);
  }, 70_000);

  it('a process that forgets to close the engine still exits', async () => {
    const r = await child(`${work}\nconsole.log('done without close');`, 60_000);
    expect(r.out).toContain('done without close');
    expect(r.code).toBe(0);
  }, 70_000);

  it('refuses disposed handles, releases reshape aliases together, and recycles blocks', async () => {
    const b = await createSimdBackend({ threads: 2 });
    try {
      const x = b.fromArray([4, 6], Array.from({ length: 24 }, (_, i) => i));
      const flat = b.reshape(x, [24]);
      expect(Array.from((await b.read(flat)).data)).toEqual(Array.from({ length: 24 }, (_, i) => i));
      b.dispose(flat);
      expect(() => b.scale(x, 2)).toThrow(/disposed/);
      expect(() => b.dispose(x)).not.toThrow(); // the other alias: a no-op
      expect(() => b.dispose(x)).toThrow(/already disposed/);
      const before = b.liveBytes();
      for (let i = 0; i < 20; i++) {
        const t = b.zeros([128, 64]);
        const u = b.addRmsNorm(t, t, 1e-5);
        b.dispose(t);
        b.dispose(u);
      }
      expect(b.liveBytes()).toBe(before);
    } finally {
      await b.close();
    }
  });

  it('counts each dispatched kernel, its packing and the workers\' busy time, until reset', async () => {
    const b = await createSimdBackend({ threads: 2 });
    try {
      const x = b.fromArray([600, 64], Array.from({ length: 600 * 64 }, (_, i) => Math.sin(i)));
      const w = b.fromArray([256, 64], Array.from({ length: 256 * 64 }, (_, i) => Math.cos(i)));
      b.resetProfile();
      for (let i = 0; i < 3; i++) b.dispose(b.linear(x, w));
      const p = b.profile();
      expect(p.kernels.get('linear')?.calls).toBe(3);
      expect(p.kernels.get('packBT')?.calls).toBe(1); // the weight is packed once and kept
      expect(p.kernels.get('linear')!.ms).toBeGreaterThan(0);
      expect(p.kernels.get('linear')!.waitMs).toBeLessThanOrEqual(p.kernels.get('linear')!.ms);
      expect(p.workerBusyMs.length).toBe(1);
      expect(p.workerBusyMs[0]).toBeGreaterThanOrEqual(0);
      b.resetProfile();
      expect(b.profile().kernels.size).toBe(0);
      expect(b.profile().workerBusyMs).toEqual([0]);
    } finally {
      await b.close();
    }
  });
});
