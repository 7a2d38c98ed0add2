// The published package works from plain Node: `npm run build`, `npm pack`, install the tarball
// into an empty folder, then without any TypeScript tooling import 'hrm-ts', build the bundled demo
// model from its checkpoint on the CPU engine, run an evaluation step and a training step, and run
// the `hrm` bin (compiled JavaScript) on the same puzzle. The browser entry of the build reaches no
// `node:` module, and a page that imports the installed package, bundled by Vite (the `browser`
// export condition), solves the same puzzle in Chromium on the WebAssembly engine's Web Workers.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { build, preview } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, launchChromium } from './support/chromium.ts';
import { importGraph } from './support/import-graph.ts';

const ROOT = path.resolve('.');
const work = mkdtempSync(path.join(os.tmpdir(), 'hrm-pack-'));
const app = path.join(work, 'app');
const npm = (args: string[], cwd: string): string => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 });

beforeAll(() => {
  npm(['run', 'build'], ROOT);
  npm(['pack', '--ignore-scripts', '--pack-destination', work], ROOT);
  const tgz = readdirSync(work).find((f) => f.endsWith('.tgz'));
  if (tgz === undefined) throw new Error(`npm pack wrote no tarball into ${work}`);
  execFileSync('mkdir', ['-p', app]);
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'hrm-consumer', private: true, type: 'module' }));
  npm(['install', path.join(work, tgz), '--omit=optional', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'], app);
}, 900_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

const SCRIPT = `
import { readFileSync } from 'node:fs';
import { createBackend, modelFromCheckpoint, parseSudoku, solveOne } from 'hrm-ts';
const file = new URL(import.meta.resolve('hrm-ts/demo-model/model.safetensors'));
const backend = await createBackend('simd', { threads: 2, log: () => {} });
const { hrm, checkpoint } = await modelFromCheckpoint(new Uint8Array(readFileSync(file)), 'model.safetensors', backend);
const p = parseSudoku(process.argv[2]);
const solved = await solveOne(hrm, p.tokens, 0, checkpoint.config.arch.halt_max_steps);
const B = 2, T = p.tokens.length;
const inputs = new Int32Array(B * T); inputs.set(p.tokens); inputs.set(p.tokens, T);
const labels = Int32Array.from(inputs, (t) => t);
const batch = { inputs, labels, puzzleIdentifiers: new Int32Array(B), batchSize: B, seqLen: T };
const { carry, result } = await hrm.trainStep(hrm.initialCarry(B, T), batch, { lr: 1e-4, puzzleEmbLr: 1e-2 }, B);
hrm.disposeCarry(carry);
await hrm.dispose();
await backend.close();
console.log(JSON.stringify({ backend: backend.name, tokens: solved.traces.map((t) => Array.from(t.predictions)), loss: result.totalLoss }));
`;

// A page of a package user: the model in a module worker (the CPU engine waits with Atomics.wait,
// which browsers allow only off the main thread), the demo checkpoint by its package export.
const PAGE = {
  'index.html': '<!doctype html><html><head><link rel="icon" href="data:,"></head><body data-state="starting"><pre id="out"></pre><script type="module" src="./main.js"></script></body></html>',
  'main.js': `import checkpoint from 'hrm-ts/demo-model/model.safetensors?url';
const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
worker.onmessage = (e) => { document.getElementById('out').textContent = JSON.stringify(e.data); document.body.dataset.state = e.data.error ? 'error' : 'done'; };
worker.postMessage({ checkpoint, puzzle: new URLSearchParams(location.search).get('puzzle') });`,
  'worker.js': `import { createBackend, modelFromCheckpoint, parseSudoku, solveOne } from 'hrm-ts';
self.onmessage = async (e) => {
  try {
    const backend = await createBackend('simd', { threads: 2, log: () => {} });
    const bytes = new Uint8Array(await (await fetch(e.data.checkpoint)).arrayBuffer());
    const { hrm, checkpoint } = await modelFromCheckpoint(bytes, 'model.safetensors', backend);
    const p = parseSudoku(e.data.puzzle);
    const solved = await solveOne(hrm, p.tokens, 0, checkpoint.config.arch.halt_max_steps);
    self.postMessage({ backend: backend.name, isolated: self.crossOriginIsolated, tokens: solved.traces.map((t) => Array.from(t.predictions)) });
  } catch (err) {
    self.postMessage({ error: String(err?.stack ?? err) });
  }
};`,
};
const ISOLATION = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

describe('the packed tarball from plain Node', () => {
  const puzzle = '..4.24.342..31.4';
  /** the library's per-segment tokens in plain Node, for the browser to match */
  let nodeTokens: number[][] | undefined;

  it('installs without TypeScript tooling or sources', () => {
    const pkg = path.join(app, 'node_modules', 'hrm-ts');
    expect(existsSync(path.join(pkg, 'dist', 'src', 'index.js'))).toBe(true);
    expect(existsSync(path.join(pkg, 'dist', 'src', 'index.d.ts'))).toBe(true);
    expect(existsSync(path.join(pkg, 'src'))).toBe(false);
    expect(existsSync(path.join(app, 'node_modules', 'tsx'))).toBe(false);
    expect(existsSync(path.join(app, 'node_modules', 'typescript'))).toBe(false);
  });

  it('imports hrm-ts, loads the demo checkpoint, runs evaluation and training steps, and agrees with the bin', () => {
    writeFileSync(path.join(app, 'use.mjs'), SCRIPT);
    const lib = JSON.parse(execFileSync(process.execPath, ['use.mjs', puzzle], { cwd: app, encoding: 'utf8', timeout: 300_000 })) as { backend: string; tokens: number[][]; loss: number };
    expect(lib.backend).toBe('simd');
    expect(Number.isFinite(lib.loss) && lib.loss > 0).toBe(true);
    const bin = path.join(app, 'node_modules', '.bin', 'hrm');
    const ckpt = path.join(app, 'node_modules', 'hrm-ts', 'fixtures', 'demo-model', 'model.safetensors');
    const out = JSON.parse(execFileSync(bin, ['solve', '--checkpoint', ckpt, '--puzzle', puzzle, '--backend', 'simd', '--json'], { cwd: app, encoding: 'utf8', timeout: 300_000 })) as { segments: { tokens: number[] }[] };
    expect(out.segments.map((s) => s.tokens)).toEqual(lib.tokens);
    nodeTokens = lib.tokens;
  });

  it('the built browser entry reaches no node: module', () => {
    const g = importGraph(path.join(app, 'node_modules', 'hrm-ts', 'dist', 'src', 'browser.js'));
    expect(g.files.length).toBeGreaterThan(50);
    const builtin = [...g.bare.keys()].filter((s) => s.startsWith('node:') || builtinModules.includes(s));
    expect(builtin).toEqual([]);
  });

  it.skipIf(!chromiumAvailable)('bundled by Vite from the installed package, the browser entry solves the same puzzle in Chromium', async () => {
    const site = path.join(app, 'site');
    mkdirSync(site, { recursive: true });
    for (const [name, text] of Object.entries(PAGE)) writeFileSync(path.join(site, name), text);
    const outDir = path.join(site, 'dist');
    const common = { root: site, configFile: false as const, logLevel: 'warn' as const, worker: { format: 'es' as const } };
    await build({ ...common, build: { target: 'esnext', outDir, chunkSizeWarningLimit: 4096 } });
    // the CPU engine's thread worker was found through the package's browser adapter and bundled
    expect(readdirSync(path.join(outDir, 'assets')).filter((f) => f.startsWith('worker-browser')).length).toBe(1);
    const server = await preview({ ...common, build: { outDir }, preview: { port: 0, headers: ISOLATION } });
    const browser = await launchChromium();
    try {
      await browser.page.goto(`${server.resolvedUrls!.local[0]}?puzzle=${puzzle}`);
      await browser.page.waitForFunction(`['done', 'error'].includes(document.body.dataset.state)`, undefined, { timeout: 120_000 });
      const got = JSON.parse((await browser.page.textContent('#out')) ?? '{}') as { backend?: string; isolated?: boolean; tokens?: number[][]; error?: string };
      expect(got.error).toBeUndefined();
      expect(got).toMatchObject({ backend: 'simd', isolated: true });
      expect(nodeTokens).toBeDefined();
      expect(got.tokens).toEqual(nodeTokens);
      expect(browser.errors).toEqual([]);
    } finally {
      await browser.close();
      await server.close();
    }
  }, 300_000);
});
