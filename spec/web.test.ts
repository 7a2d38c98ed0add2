// The web page in a real browser: Debian's Chromium (/usr/bin/chromium, driven by playwright-core,
// nothing downloaded) against the Vite dev server `npm run web` starts. The page loads without
// console errors and is cross-origin isolated; solving the default bundled puzzle gives, segment by
// segment, exactly the tokens `hrm solve --json` computes in Node on the same backend, and the
// forward residuals of `hrm analyze`'s computation (src/analyze/dynamics.ts) to 1e-4; the Dataset
// page draws the bundled Sudoku and ARC data; the Verify page passes on the WebAssembly engine (and
// on WebGPU: Chromium's SwiftShader adapter under --enable-unsafe-webgpu; where there is none it is
// skipped with the reason printed).
// Screenshots of the three pages go to docs/screenshots/. (The fresh profile directory reaches
// Chromium as --user-data-dir through launchPersistentContext.)
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { build, createServer, preview, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as solveCmd from '../src/cli/commands/solve.ts';
import { KERNEL_NAMES } from '../src/core/backend.ts';
import { IGNORE_LABEL } from '../src/core/batch.ts';
import { collectDynamics } from '../src/analyze/dynamics.ts';
import { createBackend } from '../src/backends/registry.ts';
import { modelFromCheckpoint } from '../src/train/model-bytes.ts';
import { parseSudoku } from '../src/train/solve.ts';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--enable-unsafe-webgpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SHOTS = path.resolve('docs/screenshots');
const available = existsSync(CHROMIUM);
if (!available) console.warn(`spec/web.test.ts skipped: ${CHROMIUM} is not installed (apt-get install chromium)`);

let server: ViteDevServer;
let context: BrowserContext;
let page: Page;
let url: string;
let profile: string;
const consoleErrors: string[] = [];
/** what the dev server's page computed, for the static build to match */
let solvedTokens: number[][] = [];
let backendSeen = '';

const waitState = async (states: string[], timeout = 180_000): Promise<string> => {
  await page.waitForFunction(`${JSON.stringify(states)}.includes(document.body.dataset.state)`, undefined, { timeout });
  return page.evaluate<string>('document.body.dataset.state');
};

describe.skipIf(!available)('the web page in Chromium', () => {
  beforeAll(async () => {
    server = await createServer({ configFile: path.resolve('web/vite.config.ts'), server: { port: 0, strictPort: false }, logLevel: 'warn' });
    await server.listen();
    url = server.resolvedUrls!.local[0];
    profile = mkdtempSync(path.join(os.tmpdir(), 'hrm-chromium-'));
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1280, height: 900 } });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    mkdirSync(SHOTS, { recursive: true });
  }, 300_000);

  afterAll(async () => {
    await context?.close();
    await server?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('loads without console errors, cross-origin isolated, and says which backend runs and why', async () => {
    await page.goto(url);
    expect(await waitState(['ready', 'error'])).toBe('ready');
    expect(await page.evaluate<boolean>('crossOriginIsolated')).toBe(true);
    const engine = (await page.textContent('#engine')) ?? '';
    const backend = await page.evaluate<string>('document.body.dataset.backend');
    expect(['simd', 'gpu']).toContain(backend);
    expect(engine).toMatch(backend === 'simd' ? /backend simd: wasm simd128 .*threads?/ : /backend gpu: .*webgpu/);
    if (backend === 'simd') expect(engine).toMatch(/gpu not used: /);
    expect(await page.textContent('#model-info')).toMatch(/bundled demo model.*seq_len 16, vocab 6/);
    expect(consoleErrors).toEqual([]);
  });

  it('solves the bundled puzzle segment by segment exactly as `hrm solve --json` does on the same backend', async () => {
    const puzzle = await page.inputValue('#puzzle-text');
    await page.click('#solve');
    expect(await waitState(['solved', 'error'])).toBe('solved');
    const used = await page.locator('.segment').count();
    expect(await page.locator('.segment.halt').getAttribute('data-segment')).toBe(String(used));
    while (await page.isEnabled('#step')) await page.click('#step');
    const fromPage = (await page.locator('.segment .board').evaluateAll((els: { dataset: Record<string, string> }[]) => els.map((e) => e.dataset.tokens))).map((t) => t.split(',').map(Number));
    const qFromPage = await page.locator('.segment .q').allTextContents();
    await page.screenshot({ path: path.join(SHOTS, 'solve.png'), fullPage: true });

    const backend = await page.evaluate<string>('document.body.dataset.backend');
    const lines: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
    let code: number;
    try {
      code = await solveCmd.run(['--checkpoint', 'fixtures/demo-model/model.safetensors', '--puzzle', puzzle, '--backend', backend, '--json', '--full']);
    } finally {
      log.mockRestore();
    }
    expect(code).toBe(0);
    const node = JSON.parse(lines.join('\n')) as { backend: string; segments_used: number; segments: { tokens: number[]; q_halt: number; q_continue: number }[] };
    expect(node.backend).toBe(backend);
    expect(fromPage).toEqual(node.segments.map((s) => s.tokens));
    solvedTokens = fromPage;
    backendSeen = backend;

    // the forward-residual curve: every L and H update of every segment, as `hrm analyze` computes it
    const shown = (await page.locator('#residuals svg').getAttribute('data-residuals'))!.split(',').map(Number);
    const b = await createBackend(backend, { log: () => {} });
    try {
      const { hrm } = await modelFromCheckpoint(new Uint8Array(readFileSync('fixtures/demo-model/model.safetensors')), 'model.safetensors', b);
      const tokens = parseSudoku(puzzle).tokens;
      const batch = { inputs: tokens, labels: new Int32Array(tokens.length).fill(IGNORE_LABEL), puzzleIdentifiers: Int32Array.of(0), batchSize: 1, seqLen: tokens.length };
      const d = await collectDynamics(hrm, [{ batch, size: 1 }], { segments: node.segments.length, act: false, keepStates: 0 });
      await hrm.dispose();
      const a = JSON.parse(readFileSync('fixtures/demo-model/config.json', 'utf8')).arch as { H_cycles: number; L_cycles: number };
      expect(shown.length).toBe(node.segments.length * a.H_cycles * (a.L_cycles + 1));
      expect(shown.every((v) => Number.isFinite(v) && v > 0)).toBe(true);
      shown.forEach((v, k) => expect(Math.abs(v - d.residuals[k][0])).toBeLessThanOrEqual(1e-4 * Math.abs(d.residuals[k][0])));
    } finally {
      await b.close?.();
    }
    expect(used).toBe(node.segments_used);
    // the Q values agree to the two decimals the page shows (float32 on both sides)
    node.segments.forEach((s, i) => expect(qFromPage[i]).toContain(`q_halt ${s.q_halt.toFixed(2)} vs q_continue ${s.q_continue.toFixed(2)}`));
    // the default puzzle is one the model corrects after its first segment
    expect(fromPage[0]).not.toEqual(fromPage[used - 1]);
    expect(await page.locator('.segment.halt .verdict').textContent()).toBe('a valid solution');
    expect(consoleErrors).toEqual([]);
  });

  it('renders the bundled Sudoku dataset and ARC tasks with their augmentations', async () => {
    await page.click('nav a[data-page="dataset"]');
    await page.click('#dataset-demo-sudoku');
    await page.waitForSelector('#dataset-view .board-sudoku');
    const inputs = readFileSync('fixtures/demo-model/data/test/all__inputs.npy');
    const first = Array.from(inputs.subarray(inputs.length - 16 * 16, inputs.length - 15 * 16));
    expect(await page.locator('#dataset-view .board-sudoku').first().getAttribute('data-tokens')).toBe(first.join(','));
    await page.click('#dataset-demo-arc');
    await page.waitForSelector('#dataset-view .board-arc');
    expect(await page.textContent('#dataset-info')).toMatch(/demo-arc: train split, seq_len 900, vocab 12/);
    const headings = await page.locator('#dataset-view .puzzle-block h3').allTextContents();
    expect(headings[0]).toMatch(/\(original\)/);
    expect(headings.slice(1).every((h) => /dihedral transform \d, colours → \d{10}/.test(h))).toBe(true);
    expect(headings.length).toBe(4);
    expect(await page.locator('#dataset-view .board-arc td').count()).toBeGreaterThan(100);
    await page.screenshot({ path: path.join(SHOTS, 'dataset.png') });
    expect(consoleErrors).toEqual([]);
  });

  const verify = async (family: string): Promise<{ state: string; status: string; rows: { target: string; kernel: string; pass: string }[]; unavailable: string[] }> => {
    await page.click('nav a[data-page="verify"]');
    await page.selectOption('#verify-family', family);
    await page.fill('#verify-runs', '10');
    await page.fill('#verify-model-runs', '2');
    await page.click('#verify-run');
    const state = await waitState(['verified', 'verify-failed', 'error'], 300_000);
    const rows = await page.locator('#verify-table tbody tr').evaluateAll((trs: { children: ArrayLike<{ textContent: string | null }>; dataset: Record<string, string> }[]) => trs.map((tr) => ({ target: tr.children[0].textContent ?? '', kernel: tr.children[1].textContent ?? '', pass: tr.dataset.pass })));
    const unavailable = await page.locator('#verify-unavailable li').allTextContents();
    return { state, status: (await page.textContent('#verify-status')) ?? '', rows, unavailable };
  };

  it('the Verify page passes every kernel and the whole model on the WebAssembly engine', async () => {
    const r = await verify('simd-relaxed-2t');
    expect(r.unavailable).toEqual([]);
    expect(r.rows.map((x) => x.kernel)).toEqual([...KERNEL_NAMES, 'model']);
    expect(r.rows.filter((x) => x.pass !== 'true')).toEqual([]);
    expect(r.state).toBe('verified');
    await page.screenshot({ path: path.join(SHOTS, 'verify.png'), fullPage: true });
    expect(consoleErrors).toEqual([]);
  }, 400_000);

  // Chromium started with --enable-unsafe-webgpu offers its SwiftShader (software Vulkan) adapter
  // headless; the page's `auto` backend still refuses it for solving (a software rasterizer), but
  // Verify runs gpu.js's WebGPU mode on it.
  it('the Verify page passes every kernel and the whole model on WebGPU (skipped with the reason when headless Chromium has no adapter)', async (ctx) => {
    const r = await verify('gpu-webgpu');
    const adapter = (await page.textContent('#verify-adapter')) ?? '';
    if (r.rows.length === 0) {
      expect(r.unavailable.length).toBe(1);
      console.warn(`spec/web.test.ts: WebGPU verify skipped (${adapter}): ${r.unavailable[0]}`);
      ctx.skip(`no WebGPU adapter in headless Chromium: ${r.unavailable[0]}`);
    }
    console.log(`WebGPU verify (${adapter}): ${r.status}`);
    expect(adapter).toMatch(/^WebGPU adapter: /);
    expect(r.unavailable).toEqual([]);
    expect(r.rows.every((x) => x.target === 'gpu-webgpu')).toBe(true);
    expect(r.rows.map((x) => x.kernel)).toEqual([...KERNEL_NAMES, 'model']);
    expect(r.rows.filter((x) => x.pass !== 'true')).toEqual([]);
    expect(r.state).toBe('verified');
    await page.screenshot({ path: path.join(SHOTS, 'verify-webgpu.png'), fullPage: true });
    expect(consoleErrors).toEqual([]);
  }, 400_000);

  it('the static build (`npm run web:build`) bundles the workers and solves the same way', async () => {
    const outDir = mkdtempSync(path.join(os.tmpdir(), 'hrm-web-build-'));
    try {
      await build({ configFile: path.resolve('web/vite.config.ts'), build: { outDir, emptyOutDir: true }, logLevel: 'warn' });
      const server = await preview({ configFile: path.resolve('web/vite.config.ts'), build: { outDir }, preview: { port: 0 }, logLevel: 'warn' });
      try {
        await page.goto(server.resolvedUrls!.local[0]);
        expect(await waitState(['ready', 'error'])).toBe('ready');
        expect(await page.evaluate<string>('document.body.dataset.backend')).toBe(backendSeen);
        await page.click('#solve');
        expect(await waitState(['solved', 'error'])).toBe('solved');
        while (await page.isEnabled('#step')) await page.click('#step');
        const tokens = (await page.locator('.segment .board').evaluateAll((els: { dataset: Record<string, string> }[]) => els.map((e) => e.dataset.tokens))).map((t) => t.split(',').map(Number));
        expect(tokens).toEqual(solvedTokens);
      } finally {
        await server.close();
      }
    } finally {
      rmSync(outDir, { recursive: true, force: true });
    }
    expect(consoleErrors).toEqual([]);
  }, 300_000);
});
