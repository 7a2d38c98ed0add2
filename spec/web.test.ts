// The web page in a real browser: Debian's Chromium (/usr/bin/chromium, driven by playwright-core,
// nothing downloaded) against the Vite dev server `npm run web` starts. The page loads without
// console errors and is cross-origin isolated; solving the default bundled puzzle gives, segment by
// segment, exactly the tokens `hrm solve --json` computes in Node on the same backend, and the
// forward residuals of `hrm analyze`'s computation (src/analyze/dynamics.ts) to 1e-4; the 6×6 and
// 9×9 boards take typed and pasted puzzles; a maze painted on the grid, with a checkpoint picked
// through the file input, solves to the tokens of `hrm solve --maze`; the Dataset page draws the
// bundled Sudoku, maze and ARC data and a folder from the directory picker; the Verify page passes
// on the WebAssembly engine and on WebGPU (Chromium's SwiftShader adapter under
// --enable-unsafe-webgpu); the static build solves as the dev server does; with ?backend=gpu the
// page solves on gpu.js WebGPU with the tokens of `hrm solve --backend gpu`. The WebGPU tests are
// skipped, with the reason printed, where no adapter answers. Screenshots go to docs/screenshots/.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { build, createServer, preview, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capture } from './support/capture.ts';
import { CHROMIUM, chromiumAvailable, launchChromium, type Browser } from './support/chromium.ts';
import * as solveCmd from '../src/cli/commands/solve.ts';
import { KERNEL_NAMES } from '../src/core/backend.ts';
import { IGNORE_LABEL } from '../src/core/batch.ts';
import { collectDynamics } from '../src/analyze/dynamics.ts';
import { createBackend } from '../src/backends/registry.ts';
import { modelFromCheckpoint } from '../src/train/model-bytes.ts';
import { parseSudoku } from '../src/train/solve.ts';
import { demoConfig } from '../src/cli/demo.ts';
import { createHrm } from '../src/model/hrm.ts';
import { encodeCheckpoint } from '../src/train/checkpoint.ts';
import { decodeNpy } from '../src/data/npy.ts';
import { MAZE_VOCAB, mazeTokensToString } from '../src/data/maze/maze.ts';

const SHOTS = path.resolve('docs/screenshots');
if (!chromiumAvailable) console.warn(`spec/web.test.ts skipped: ${CHROMIUM} is not installed (apt-get install chromium)`);

let server: ViteDevServer;
let browser: Browser;
let page: Page;
let url: string;
let consoleErrors: string[] = [];
/** what the dev server's page computed, for the static build to match */
let solvedTokens: number[][] = [];
let backendSeen = '';

const waitState = async (states: string[], timeout = 180_000): Promise<string> => {
  await page.waitForFunction(`${JSON.stringify(states)}.includes(document.body.dataset.state)`, undefined, { timeout });
  return page.evaluate<string>('document.body.dataset.state');
};

/** Plays the page's solve through: Solve (to where ACT halts), then Step on to the segment limit. */
const solveInPage = async (): Promise<{ tokens: number[][]; used: number; q: string[] }> => {
  await page.click('#solve');
  expect(await waitState(['solved', 'error'])).toBe('solved');
  const used = await page.locator('.segment').count();
  expect(await page.locator('.segment.halt').getAttribute('data-segment')).toBe(String(used));
  while (await page.isEnabled('#step')) await page.click('#step');
  const tokens = (await page.locator('.segment .board').evaluateAll((els: { dataset: Record<string, string> }[]) => els.map((e) => e.dataset.tokens))).map((t) => t.split(',').map(Number));
  return { tokens, used, q: await page.locator('.segment .q').allTextContents() };
};

interface NodeSolve {
  readonly backend: string;
  readonly segments_used: number;
  readonly segments: { tokens: number[]; q_halt: number; q_continue: number }[];
}

/** `hrm solve … --json --full` in this process, its JSON parsed. */
const solveInNode = async (args: readonly string[]): Promise<NodeSolve> => {
  const r = await capture(solveCmd, [...args, '--json', '--full']);
  expect(r.code, r.text).toBe(0);
  return JSON.parse(r.out) as NodeSolve;
};

describe.skipIf(!chromiumAvailable)('the web page in Chromium', () => {
  beforeAll(async () => {
    server = await createServer({ configFile: path.resolve('web/vite.config.ts'), server: { port: 0, strictPort: false }, logLevel: 'warn' });
    await server.listen();
    url = server.resolvedUrls!.local[0];
    browser = await launchChromium();
    page = browser.page;
    consoleErrors = browser.errors;
    mkdirSync(SHOTS, { recursive: true });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
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
    const { tokens: fromPage, used, q: qFromPage } = await solveInPage();
    await page.screenshot({ path: path.join(SHOTS, 'solve.png'), fullPage: true });

    const backend = await page.evaluate<string>('document.body.dataset.backend');
    const node = await solveInNode(['--checkpoint', 'fixtures/demo-model/model.safetensors', '--puzzle', puzzle, '--backend', backend]);
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

  it('the Sudoku board takes 6×6 and 9×9 puzzles typed into its cells or pasted, and names what is wrong', async () => {
    const nine = '53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79';
    await page.selectOption('#puzzle-kind', 'sudoku-9');
    const cells = page.locator('#puzzle-editor input');
    expect(await cells.count()).toBe(81);
    expect([await page.locator('#puzzle-editor input.box-right').count(), await page.locator('#puzzle-editor input.box-bottom').count()]).toEqual([18, 18]);
    await page.fill('#puzzle-text', nine);
    expect((await cells.evaluateAll((els: { value: string }[]) => els.map((e) => e.value || '.'))).join('')).toBe(nine);
    expect(await page.textContent('#puzzle-error')).toBe('this model reads 16 cells; the puzzle has 81');
    await page.locator('#puzzle-editor input[data-cell="2"]').fill('4');
    expect(await page.inputValue('#puzzle-text')).toBe(`534${nine.slice(3)}`);
    await page.fill('#puzzle-text', `x${nine.slice(1)}`);
    expect(await page.textContent('#puzzle-error')).toBe("cell 1: 'x' is not a digit 1–9 or a blank ('.' or '0')");
    // 6×6: boxes of 2 rows × 3 columns
    await page.selectOption('#puzzle-kind', 'sudoku-6');
    expect(await cells.count()).toBe(36);
    expect([await page.locator('#puzzle-editor input.box-right').count(), await page.locator('#puzzle-editor input.box-bottom').count()]).toEqual([6, 12]);
    await page.fill('#puzzle-text', '1.3.5.\n.5.1.3\n2.4.6.\n.6.2.4\n3.5.1.\n.1.3.5');
    expect(await page.locator('#puzzle-editor input[data-cell="35"]').inputValue()).toBe('5');
    await page.fill('#puzzle-text', '1.3.5..5.1.3');
    expect(await page.textContent('#puzzle-error')).toBe('a 6×6 Sudoku has 36 cells, the text has 12');
    expect(await page.evaluate<string>('document.body.dataset.state')).toBe('solved');
    expect(consoleErrors).toEqual([]);
  });

  it('solves a maze painted on the grid with a picked checkpoint exactly as `hrm solve --maze --json` does', async () => {
    // an untrained 9×9 maze model of the demo's shape: this checks the path from the grid to the
    // tokens and back, not a skill (no trained maze model is bundled)
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hrm-web-maze-'));
    try {
      const config = demoConfig(81, MAZE_VOCAB);
      const ref = await createBackend('reference', { log: () => {} });
      const hrm = createHrm(config, { backend: ref, seed: 7 });
      const state = await hrm.saveState();
      await hrm.dispose();
      const model = path.join(dir, 'maze-9x9-untrained.safetensors');
      writeFileSync(model, encodeCheckpoint({ config, state, progress: { step: 0, iteration: 0, data: null, dataPath: '' }, dtype: 'F32' }));

      await page.setInputFiles('#model-file', model);
      expect(await waitState(['ready', 'error'])).toBe('ready');
      expect(await page.textContent('#model-info')).toMatch(/^maze-9x9-untrained\.safetensors: .*seq_len 81, vocab 6/);
      expect(await page.inputValue('#puzzle-kind')).toBe('maze');
      expect(await page.inputValue('#maze-side')).toBe('9');

      // a bundled maze into the editor and the text box
      const inputs = decodeNpy(new Uint8Array(readFileSync('fixtures/demo-model/maze/test/all__inputs.npy')), 'all__inputs.npy');
      const first = mazeTokensToString(Array.from(inputs.data.subarray(0, 81), Number));
      const lines = (t: string): string => t.match(/.{9}/g)!.join('\n');
      await page.click('.demo-maze >> nth=0');
      expect(await page.inputValue('#puzzle-text')).toBe(lines(first));
      const cell = (i: number) => page.locator(`.maze-editor td[data-cell="${i}"]`);
      // paint: a click sets one cell, a drag every cell it passes, the goal moves (there is one)
      const open = [...first].map((c, i) => (c === ' ' ? i : -1)).filter((i) => i >= 0);
      await page.check('input[data-brush="wall"]');
      await cell(open[0]).click();
      expect((await page.inputValue('#puzzle-text')).replace(/\n/g, '')[open[0]]).toBe('#');
      const row = [0, 9, 18, 27, 36, 45, 54, 63, 72].find((r) => !/[SG]/.test(first.slice(r, r + 9)))!;
      const a = await cell(row).boundingBox();
      const b = await cell(row + 8).boundingBox();
      await page.mouse.move(a!.x + a!.width / 2, a!.y + a!.height / 2);
      await page.mouse.down();
      await page.mouse.move(b!.x + b!.width / 2, b!.y + b!.height / 2, { steps: 40 });
      await page.mouse.up();
      expect((await page.inputValue('#puzzle-text')).replace(/\n/g, '').slice(row, row + 9)).toBe('#########');
      const goal = first.indexOf('G');
      await page.check('input[data-brush="goal"]');
      await cell(open[1]).click();
      const moved = (await page.inputValue('#puzzle-text')).replace(/\n/g, '');
      expect([moved[goal], moved[open[1]], moved.split('G').length - 1]).toEqual([' ', 'G', 1]);
      // the text box drives the grid too
      await page.fill('#puzzle-text', lines(first));
      expect(await cell(goal).getAttribute('class')).toBe('maze-goal');
      expect(await cell(open[0]).getAttribute('class')).toBe('maze-open');
      await cell(goal).click();
      const drawn = await page.inputValue('#puzzle-text');
      expect(drawn).toBe(lines(first));

      const { tokens: fromPage, used } = await solveInPage();
      expect(await page.locator('.segment .board-maze').count()).toBe(fromPage.length);
      expect((await page.locator('.segment .verdict').allTextContents()).every((v) => /shortest path/.test(v))).toBe(true);
      const backend = await page.evaluate<string>('document.body.dataset.backend');
      const mazeFile = path.join(dir, 'maze.txt');
      writeFileSync(mazeFile, `${drawn}\n`);
      const node = await solveInNode(['--checkpoint', model, '--maze', mazeFile, '--backend', backend]);
      expect(fromPage).toEqual(node.segments.map((s) => s.tokens));
      expect(used).toBe(node.segments_used);
      expect(consoleErrors).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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

  it('renders mazes, bundled and from a folder picked with the directory picker', async () => {
    const inputs = decodeNpy(new Uint8Array(readFileSync('fixtures/demo-model/maze/train/all__inputs.npy')), 'all__inputs.npy');
    const labels = decodeNpy(new Uint8Array(readFileSync('fixtures/demo-model/maze/train/all__labels.npy')), 'all__labels.npy');
    const first = (a: typeof inputs, k: number): string => Array.from(a.data.subarray(k * 81, (k + 1) * 81), Number).join(',');
    for (const open of [() => page.click('#dataset-demo-maze'), () => page.setInputFiles('#dataset-dir', 'fixtures/demo-model/maze')]) {
      await page.evaluate(`document.getElementById('dataset-view').replaceChildren(); document.getElementById('dataset-info').textContent = ''`);
      await open();
      await page.waitForSelector('#dataset-view[data-kind="maze"] .board-maze');
      expect(await page.textContent('#dataset-info')).toMatch(/^(demo-)?maze: train split, seq_len 81, vocab 6, 2 groups, 16 puzzles, 16 examples$/);
      const boards = page.locator('#dataset-view .board-maze');
      expect(await boards.count()).toBe(16); // 8 dihedral transforms, input and label each
      expect(await boards.nth(0).getAttribute('data-tokens')).toBe(first(inputs, 0));
      expect(await boards.nth(1).getAttribute('data-tokens')).toBe(first(labels, 0));
      expect(await boards.nth(14).getAttribute('data-tokens')).toBe(first(inputs, 7));
      const headings = await page.locator('#dataset-view .puzzle-block h3').allTextContents();
      expect(headings.map((h) => /\((original|dihedral transform \d)\)$/.exec(h)?.[1])).toEqual(['original', ...[1, 2, 3, 4, 5, 6, 7].map((t) => `dihedral transform ${t}`)]);
      expect(await page.locator('#dataset-view .board-maze td.maze-path').count()).toBeGreaterThan(8 * 9);
    }
    expect(await page.textContent('#dataset-info')).toMatch(/^maze: /);
    await page.screenshot({ path: path.join(SHOTS, 'dataset-maze.png') });
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
        expect((await solveInPage()).tokens).toEqual(solvedTokens);
      } finally {
        await server.close();
      }
    } finally {
      rmSync(outDir, { recursive: true, force: true });
    }
    expect(consoleErrors).toEqual([]);
  }, 300_000);

  // `auto` keeps a software adapter off the Solve page; `?backend=gpu` asks for gpu.js on it anyway,
  // which is the path a browser with a hardware adapter takes.
  it('with ?backend=gpu the page solves on gpu.js WebGPU exactly as `hrm solve --backend gpu` does', async (ctx) => {
    await page.goto(`${url}?backend=gpu`);
    expect(await waitState(['ready', 'error'])).toBe('ready');
    const engine = (await page.textContent('#engine')) ?? '';
    if (!/^backend gpu: gpu\.js webgpu/.test(engine)) {
      console.warn(`spec/web.test.ts: gpu solve skipped, no WebGPU adapter: ${engine}`);
      ctx.skip(`no WebGPU adapter: ${engine}`);
    }
    const puzzle = await page.inputValue('#puzzle-text');
    const { tokens, used } = await solveInPage();
    const node = await solveInNode(['--checkpoint', 'fixtures/demo-model/model.safetensors', '--puzzle', puzzle, '--backend', 'gpu']);
    expect(node.backend).toBe('gpu');
    expect(tokens).toEqual(node.segments.map((s) => s.tokens));
    expect(used).toBe(node.segments_used);
    expect(consoleErrors).toEqual([]);
  }, 300_000);
});
