// The web page: Solve (watch a checkpoint solve a Sudoku or maze segment by segment), Dataset
// (browse a dataset folder or the bundled demo data) and Verify (the conformance suite on this
// browser's engines). The model runs in engine.worker.ts; this file is the page.

import { checkMazeLabel, checkSudoku, defaultMinPathLength, generateMaze, mazeTokensToString, Rng, shapeForSize } from '../src/browser.ts';
import demoPuzzles from '../fixtures/demo-model/puzzles.json';
import { drawBoard, kindFor, tokensFromText, type BoardKind } from './boards.ts';
import { folderFromFileList, folderFromUrls, loadDataset, type LoadedDataset } from './datasets.ts';
import type { ModelInfo, Reply, Request, Responses, ResidualView, SegmentView } from './protocol.ts';
import { mazeEditor, type MazeEditor } from './maze-editor.ts';
import { residualChart } from './residuals.ts';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;
const setState = (s: string): void => void (document.body.dataset.state = s);

// ---- the bundled demo files ------------------------------------------------------------------
const bundled = import.meta.glob('../fixtures/demo-model/**/*', { query: '?url', import: 'default', eager: true }) as Record<string, string>;
const PREFIX = '../fixtures/demo-model/';
const bundledFolder = (sub: string): Map<string, string> =>
  new Map(Object.entries(bundled).filter(([k]) => k.startsWith(`${PREFIX}${sub}/`)).map(([k, v]) => [k.slice(PREFIX.length + sub.length + 1), v]));

// ---- the engine worker -----------------------------------------------------------------------
const worker = new Worker(new URL('./engine.worker.ts', import.meta.url), { type: 'module', name: 'hrm-engine' });
let nextId = 1;
const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; progress?: (line: string) => void }>();
worker.addEventListener('message', (e: MessageEvent<Reply>) => {
  const m = e.data;
  const p = pending.get(m.id);
  if (p === undefined) return;
  if ('progress' in m) return p.progress?.(m.progress);
  pending.delete(m.id);
  if (m.ok) p.resolve(m.value);
  else p.reject(new Error(m.error));
});
worker.addEventListener('error', (e) => showEngine(`the engine worker failed: ${e.message}`, [], true));
const call = <K extends Request['op']>(req: Extract<Request, { op: K }>, progress?: (line: string) => void, transfer: Transferable[] = []): Promise<Responses[K]> =>
  new Promise((resolve, reject) => {
    const id = nextId++;
    pending.set(id, { resolve: resolve as (v: unknown) => void, reject, progress });
    worker.postMessage({ id, ...req }, transfer);
  });

const showEngine = (headline: string, why: string[], error = false): void => {
  const box = $('engine');
  box.replaceChildren(Object.assign(document.createElement('strong'), { textContent: headline }));
  if (error) box.classList.add('error');
  for (const w of why) box.append(Object.assign(document.createElement('span'), { className: 'why', textContent: w }));
};

// ---- pages -----------------------------------------------------------------------------------
const showPage = (): void => {
  const page = (location.hash.slice(1) || 'solve').replace(/[^a-z]/g, '');
  for (const p of ['solve', 'dataset', 'verify']) {
    $(`page-${p}`).hidden = p !== page;
    document.querySelector(`nav a[data-page="${p}"]`)?.classList.toggle('active', p === page);
  }
};
window.addEventListener('hashchange', showPage);
showPage();

// ---- Solve -----------------------------------------------------------------------------------
/** The bundled puzzle shown first: one the demo model corrects in its second segment. */
export const DEFAULT_PUZZLE = 1;
let model: ModelInfo | undefined;
let puzzleKind: BoardKind = { kind: 'sudoku', n: 4 };
let puzzleTokens: Int32Array | undefined;
let mazeEd: MazeEditor | undefined;

const loadModelBytes = async (bytes: ArrayBuffer, name: string): Promise<void> => {
  $('model-info').textContent = `loading ${name}…`;
  model = await call({ op: 'load', bytes, name }, undefined, [bytes]);
  $('model-info').textContent = `${model.name}: ${model.summary}`;
  ($('halt-max') as HTMLInputElement).value = String(model.haltMaxSteps);
  const k = kindFor(model.seqLen, model.vocab);
  if (k.kind === 'sudoku' || k.kind === 'maze') setPuzzleKind(k);
  ($('solve') as HTMLButtonElement).disabled = false;
};

const loadDemoModel = async (): Promise<void> => {
  const r = await fetch(bundled[`${PREFIX}model.safetensors`]);
  await loadModelBytes(await r.arrayBuffer(), 'bundled demo model (4×4 Sudoku)');
};

const setPuzzleKind = (k: BoardKind): void => {
  puzzleKind = k;
  ($('puzzle-kind') as HTMLSelectElement).value = k.kind === 'sudoku' ? `sudoku-${k.n}` : 'maze';
  $('maze-side-label').hidden = k.kind !== 'maze';
  if (k.kind === 'maze') ($('maze-side') as HTMLInputElement).value = String(k.side);
  ($('puzzle-text') as HTMLTextAreaElement).rows = k.kind === 'maze' ? k.side : 3;
  buildEditor();
  void showChips().catch(showSolveError);
};

/** A maze as the text box holds it: one line per row. */
const mazeText = (side: number, tokens: ArrayLike<number>): string => {
  const s = mazeTokensToString(tokens);
  return Array.from({ length: side }, (_, r) => s.slice(r * side, (r + 1) * side)).join('\n');
};

const setPuzzleText = (text: string): void => {
  ($('puzzle-text') as HTMLTextAreaElement).value = text;
  onText();
};

/** The bundled 9×9 mazes (the test split of fixtures/demo-model/maze), read once. */
let bundledMazes: Promise<Uint8Array[]> | undefined;
const loadBundledMazes = (): Promise<Uint8Array[]> =>
  (bundledMazes ??= loadDataset(folderFromUrls('demo-maze', bundledFolder('maze'))).then((d) => {
    const split = d.splits.find((s) => s.split === 'test') ?? d.splits[0];
    const set = split.sets[split.metadata.sets[0]];
    const T = split.metadata.seq_len;
    return Array.from({ length: set.inputs.length / T }, (_, e) => Uint8Array.from(set.inputs.subarray(e * T, (e + 1) * T)));
  }));

const chip = (label: string, title: string, onClick: () => void): HTMLButtonElement => {
  const b = Object.assign(document.createElement('button'), { type: 'button', textContent: label, title });
  b.addEventListener('click', onClick);
  return b;
};

/** Example puzzles for the current kind: the demo's 4×4 Sudokus; bundled 9×9 mazes and random mazes of any side. */
const showChips = async (): Promise<void> => {
  const box = $('demo-puzzles');
  box.replaceChildren();
  if (puzzleKind.kind === 'sudoku' && puzzleKind.n === 4) {
    for (const p of (demoPuzzles as { puzzle: string }[]).slice(0, 8)) box.append(Object.assign(chip(p.puzzle, 'a held-out puzzle of the demo', () => setPuzzleText(p.puzzle)), { className: 'demo-sudoku' }));
  }
  if (puzzleKind.kind !== 'maze') return;
  const side = puzzleKind.side;
  box.append(
    Object.assign(
      chip('random maze', `a generated ${side}×${side} maze (shortest path ≥ ${defaultMinPathLength(side)} moves, unique)`, () => {
        const seed = crypto.getRandomValues(new Uint32Array(1))[0];
        const g = generateMaze({ n: side, minPathLength: defaultMinPathLength(side) }, Rng.fromSeed(seed));
        setPuzzleText(mazeText(side, g.input));
      }),
      { id: 'random-maze' },
    ),
  );
  if (side !== 9) return;
  for (const [i, m] of (await loadBundledMazes()).entries()) {
    if (puzzleKind.kind !== 'maze' || puzzleKind.side !== 9) return;
    box.append(Object.assign(chip(`maze ${i + 1}`, 'a bundled 9×9 maze (fixtures/demo-model/maze)', () => setPuzzleText(mazeText(9, m))), { className: 'demo-maze' }));
  }
};

/** The editable board: one input per Sudoku cell (mazes are pasted into the text box). */
const buildEditor = (): void => {
  const box = $('puzzle-editor');
  box.replaceChildren();
  puzzleTokens = undefined;
  mazeEd = undefined;
  if (puzzleKind.kind === 'maze') {
    const side = puzzleKind.side;
    mazeEd = mazeEditor(side, (t) => {
      ($('puzzle-text') as HTMLTextAreaElement).value = mazeText(side, t);
      parsePuzzle(mazeText(side, t));
    });
    box.append(mazeEd.element);
    return onText();
  }
  if (puzzleKind.kind !== 'sudoku') return onText();
  const n = puzzleKind.n;
  const shape = shapeForSize(n);
  const grid = document.createElement('div');
  grid.className = 'editor';
  for (let r = 0; r < n; r++) {
    const row = document.createElement('div');
    for (let c = 0; c < n; c++) {
      const inp = document.createElement('input');
      inp.maxLength = 1;
      inp.dataset.cell = String(r * n + c);
      if ((c + 1) % shape.boxCols === 0 && c + 1 < n) inp.classList.add('box-right');
      if ((r + 1) % shape.boxRows === 0 && r + 1 < n) inp.classList.add('box-bottom');
      inp.addEventListener('input', onCells);
      row.append(inp);
    }
    grid.append(row);
  }
  box.append(grid);
  onText();
};

const cellInputs = (): HTMLInputElement[] => Array.from(document.querySelectorAll<HTMLInputElement>('#puzzle-editor input'));

const onCells = (): void => {
  const text = cellInputs().map((i) => (i.value.trim() === '' ? '.' : i.value.trim())).join('');
  ($('puzzle-text') as HTMLTextAreaElement).value = text;
  parsePuzzle(text);
};

const onText = (): void => {
  const text = ($('puzzle-text') as HTMLTextAreaElement).value;
  const toks = parsePuzzle(text);
  if (toks && puzzleKind.kind === 'sudoku') cellInputs().forEach((inp, i) => (inp.value = toks[i] > 1 ? String(toks[i] - 1) : ''));
  if (toks && mazeEd) mazeEd.set(toks);
};

const parsePuzzle = (text: string): Int32Array | undefined => {
  const err = $('puzzle-error');
  if (text.trim() === '') {
    err.textContent = '';
    puzzleTokens = undefined;
    return undefined;
  }
  const r = tokensFromText(puzzleKind, text);
  if (typeof r === 'string') {
    err.textContent = r;
    puzzleTokens = undefined;
    return undefined;
  }
  err.textContent = model && model.seqLen !== r.length ? `this model reads ${model.seqLen} cells; the puzzle has ${r.length}` : '';
  puzzleTokens = r;
  return r;
};

$('puzzle-text').addEventListener('input', onText);
/** The maze side typed in, within what the editor offers (4–30). */
const mazeSide = (): number => Math.min(30, Math.max(4, Math.round(Number(($('maze-side') as HTMLInputElement).value)) || 9));
$('puzzle-kind').addEventListener('change', () => {
  const v = ($('puzzle-kind') as HTMLSelectElement).value;
  setPuzzleKind(v === 'maze' ? { kind: 'maze', side: mazeSide() } : { kind: 'sudoku', n: Number(v.split('-')[1]) });
});
$('maze-side').addEventListener('change', () => setPuzzleKind({ kind: 'maze', side: mazeSide() }));
/** A model load the person asked for: the page is busy until it is in the worker. */
const loadAsked = (load: () => Promise<void>): void => {
  setState('loading-model');
  load().then(() => setState('ready'), showSolveError);
};
$('model-demo').addEventListener('click', () => loadAsked(loadDemoModel));
$('model-file').addEventListener('change', () => {
  const f = ($('model-file') as HTMLInputElement).files?.[0];
  if (f) loadAsked(async () => loadModelBytes(await f.arrayBuffer(), f.name));
});


const showSolveError = (e: unknown): void => {
  $('puzzle-error').textContent = (e as Error).message;
  setState('error');
};

// the segments of the last solve, revealed one at a time
let run: { segments: SegmentView[]; residuals: ResidualView[]; used: number; shown: number; input: Int32Array; kind: BoardKind } | undefined;

const segmentCard = (s: SegmentView, prev: SegmentView | undefined, halts: boolean, kind: BoardKind, input: Int32Array): HTMLElement => {
  const card = document.createElement('div');
  card.className = `segment${halts ? ' halt' : ''}`;
  card.dataset.segment = String(s.segment);
  const h = document.createElement('h3');
  h.textContent = `segment ${s.segment}${halts ? ' · ACT halts here' : ''}`;
  card.append(h);
  const changed = new Set<number>();
  if (prev) s.tokens.forEach((t, i) => t !== prev.tokens[i] && changed.add(i));
  card.append(drawBoard(kind, s.tokens, { changed, givens: kind.kind === 'sudoku' ? input : undefined }));
  const q = document.createElement('div');
  q.className = 'q';
  q.textContent = `q_halt ${s.qHalt.toFixed(2)} vs q_continue ${s.qContinue.toFixed(2)} · ${prev ? `${changed.size} cell${changed.size === 1 ? '' : 's'} changed` : 'first prediction'}`;
  const bar = document.createElement('div');
  bar.className = 'qbar';
  const ph = 1 / (1 + Math.exp(s.qContinue - s.qHalt));
  bar.append(Object.assign(document.createElement('span'), { className: 'halt', style: `width:${(100 * ph).toFixed(1)}%` }), Object.assign(document.createElement('span'), { className: 'cont', style: `width:${(100 * (1 - ph)).toFixed(1)}%` }));
  q.append(bar);
  card.append(q);
  if (kind.kind === 'sudoku') {
    const shape = shapeForSize(kind.n);
    const board = Uint8Array.from(s.tokens, (t) => Math.max(0, t - 1));
    const puzzle = Uint8Array.from(input, (t) => Math.max(0, t - 1));
    const v = document.createElement('div');
    v.className = 'verdict';
    v.textContent = checkSudoku(shape, puzzle, board);
    card.append(v);
  }
  if (kind.kind === 'maze') {
    const why = checkMazeLabel(kind.side, input, s.tokens);
    card.append(Object.assign(document.createElement('div'), { className: 'verdict', textContent: why === null ? 'a shortest path from S to G' : `not a shortest path: ${why}` }));
  }
  return card;
};

const showNext = (): boolean => {
  if (!run || run.shown >= run.segments.length) return false;
  const s = run.segments[run.shown];
  $('segments').append(segmentCard(s, run.segments[run.shown - 1], s.segment === run.used, run.kind, run.input));
  run.shown++;
  $('residuals').replaceChildren(residualChart(run.residuals.filter((r) => r.segment <= run!.shown), run.used));
  ($('step') as HTMLButtonElement).disabled = run.shown >= run.segments.length;
  return true;
};

$('solve').addEventListener('click', async () => {
  if (!model) return;
  if (!puzzleTokens) return showSolveError(new Error('type or paste a puzzle first'));
  if (puzzleTokens.length !== model.seqLen) return showSolveError(new Error(`this model reads ${model.seqLen} cells; the puzzle has ${puzzleTokens.length}`));
  if (puzzleTokens.some((t) => t >= model!.vocab)) return showSolveError(new Error(`the puzzle uses tokens this model does not know (vocab ${model.vocab})`));
  setState('solving');
  $('segments').replaceChildren();
  $('residuals').replaceChildren();
  ($('solve') as HTMLButtonElement).disabled = true;
  try {
    const M = Number(($('halt-max') as HTMLInputElement).value) || model.haltMaxSteps;
    const out = await call({ op: 'solve', tokens: Array.from(puzzleTokens), haltMaxSteps: M });
    run = { segments: out.segments, residuals: out.residuals, used: out.segmentsUsed, shown: 0, input: puzzleTokens, kind: puzzleKind };
    const auto = ($('auto-play') as HTMLInputElement).checked;
    showNext();
    while (auto && run.shown < run.used) {
      await new Promise((r) => setTimeout(r, 450));
      showNext();
    }
    setState('solved');
  } catch (e) {
    showSolveError(e);
  } finally {
    ($('solve') as HTMLButtonElement).disabled = false;
  }
});
$('step').addEventListener('click', () => void showNext());

// ---- Dataset ---------------------------------------------------------------------------------
let dataset: LoadedDataset | undefined;
let group = 0;

const openDataset = async (load: () => Promise<LoadedDataset>): Promise<void> => {
  $('dataset-error').textContent = '';
  try {
    dataset = await load();
  } catch (e) {
    $('dataset-error').textContent = (e as Error).message;
    return;
  }
  const sel = $('dataset-split') as HTMLSelectElement;
  sel.replaceChildren(...dataset.splits.map((s) => Object.assign(document.createElement('option'), { value: s.split, textContent: s.split })));
  group = 0;
  drawGroup();
};

const drawGroup = (): void => {
  if (!dataset) return;
  const split = dataset.splits.find((s) => s.split === ($('dataset-split') as HTMLSelectElement).value) ?? dataset.splits[0];
  const m = split.metadata;
  const set = split.sets[m.sets[0]];
  const groups = set.groupIndices.length - 1;
  group = Math.max(0, Math.min(group, groups - 1));
  $('dataset-info').textContent = `${dataset.name}: ${split.split} split, seq_len ${m.seq_len}, vocab ${m.vocab_size}, ${groups} groups, ${set.puzzleIdentifiers.length} puzzles, ${set.numExamples} examples`;
  $('group-label').textContent = `group ${group + 1} of ${groups}`;
  const kind = kindFor(m.seq_len, m.vocab_size);
  const T = m.seq_len;
  const view = $('dataset-view');
  view.replaceChildren();
  view.dataset.kind = kind.kind;
  for (let p = set.groupIndices[group]; p < set.groupIndices[group + 1] && p < set.groupIndices[group] + 8; p++) {
    const block = document.createElement('div');
    block.className = 'puzzle-block';
    const id = set.puzzleIdentifiers[p];
    const name = dataset.identifiers?.[id] ?? `identifier ${id}`;
    const aug = /_t(\d)_(\d{10})$/.exec(name);
    // an augmented maze group holds the 8 dihedral transforms in order (ids 0..7), all under identifier 0
    const k = p - set.groupIndices[group];
    const mazeAug = kind.kind === 'maze' && set.groupIndices[group + 1] - set.groupIndices[group] === 8 && k > 0;
    const h = document.createElement('h3');
    h.textContent = `puzzle ${p} · ${name}${aug ? ` (dihedral transform ${aug[1]}, colours → ${aug[2]})` : mazeAug ? ` (dihedral transform ${k})` : k === 0 ? ' (original)' : ''}`;
    block.append(h);
    const ex = document.createElement('div');
    ex.className = 'examples';
    for (let e = set.puzzleIndices[p]; e < set.puzzleIndices[p + 1] && e < set.puzzleIndices[p] + 6; e++) {
      const one = document.createElement('div');
      one.className = 'example';
      const input = set.inputs.subarray(e * T, (e + 1) * T);
      one.append(drawBoard(kind, input), Object.assign(document.createElement('span'), { textContent: '→' }), drawBoard(kind, set.labels.subarray(e * T, (e + 1) * T), { givens: kind.kind === 'sudoku' ? input : undefined }));
      ex.append(one);
    }
    block.append(ex);
    view.append(block);
  }
};

$('dataset-split').addEventListener('change', () => ((group = 0), drawGroup()));
$('group-prev').addEventListener('click', () => ((group -= 1), drawGroup()));
$('group-next').addEventListener('click', () => ((group += 1), drawGroup()));
$('dataset-dir').addEventListener('change', () => {
  const files = ($('dataset-dir') as HTMLInputElement).files;
  if (files && files.length > 0) void openDataset(() => loadDataset(folderFromFileList(files)));
});
$('dataset-demo-sudoku').addEventListener('click', () => void openDataset(() => loadDataset(folderFromUrls('demo-sudoku', bundledFolder('data')))));
$('dataset-demo-maze').addEventListener('click', () => void openDataset(() => loadDataset(folderFromUrls('demo-maze', bundledFolder('maze')))));
$('dataset-demo-arc').addEventListener('click', () => void openDataset(() => loadDataset(folderFromUrls('demo-arc', bundledFolder('arc')))));

// ---- Verify ----------------------------------------------------------------------------------
const fmt = (x: number | null): string => (x === null ? '–' : x === 0 ? '0' : x.toExponential(2));
$('verify-run').addEventListener('click', async () => {
  const btn = $('verify-run') as HTMLButtonElement;
  btn.disabled = true;
  setState('verifying');
  const tbody = document.querySelector('#verify-table tbody')!;
  tbody.replaceChildren();
  $('verify-unavailable').replaceChildren();
  const num = (id: string): number => Number(($(id) as HTMLInputElement).value);
  try {
    const out = await call(
      { op: 'verify', family: ($('verify-family') as HTMLSelectElement).value, runs: num('verify-runs'), modelRuns: num('verify-model-runs'), seed: num('verify-seed') },
      (line) => ($('verify-status').textContent = line),
    );
    for (const r of out.rows) {
      const tr = document.createElement('tr');
      tr.dataset.pass = String(r.pass);
      for (const [v, cls] of [[r.target], [r.kernel], [String(r.runs)], [fmt(r.worst)], [fmt(r.allowed)], [r.pass ? 'pass' : `FAIL ${r.failure ?? ''}`, r.pass ? 'pass' : 'fail']]) {
        tr.append(Object.assign(document.createElement('td'), { textContent: v, className: cls ?? '' }));
      }
      tbody.append(tr);
    }
    for (const u of out.unavailable) $('verify-unavailable').append(Object.assign(document.createElement('li'), { textContent: `${u.target}: skipped, ${u.reason}` }));
    const failed = out.rows.filter((r) => !r.pass).length;
    $('verify-status').textContent = out.lines[out.lines.length - 1] || `${out.rows.length - failed} of ${out.rows.length} checks passed`;
    setState(failed === 0 ? 'verified' : 'verify-failed');
  } catch (e) {
    $('verify-status').textContent = (e as Error).message;
    setState('error');
  } finally {
    btn.disabled = false;
  }
});

/** The WebGPU adapter this browser offers (what Verify's gpu-webgpu target runs on), in words. */
const describeWebGpu = async (): Promise<string> => {
  type Info = { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<{ info?: Info; isFallbackAdapter?: boolean } | null> } }).gpu;
  if (gpu === undefined) return 'WebGPU: this browser exposes none (navigator.gpu is missing); the gpu targets are skipped';
  const a = await gpu.requestAdapter().catch(() => null);
  if (a === null) return 'WebGPU: navigator.gpu offers no adapter (Chromium: a supported GPU, or --enable-unsafe-webgpu for its software adapter); the gpu targets are skipped';
  const i = a.info ?? {};
  const name = [i.vendor, i.architecture, i.device, i.description].filter((f) => !!f).join(' ') || 'an unnamed adapter';
  return `WebGPU adapter: ${name}${(i.isFallbackAdapter ?? a.isFallbackAdapter) ? ' (a software fallback adapter: it checks correctness, not speed)' : ''}`;
};

// ---- start -----------------------------------------------------------------------------------
const start = async (): Promise<void> => {
  const requested = new URLSearchParams(location.search).get('backend') ?? 'auto';
  const why: string[] = [];
  if (!crossOriginIsolated) why.push('this page is not cross-origin isolated, so the WebAssembly engine cannot share memory with its threads');
  if (!('gpu' in navigator)) why.push('this browser exposes no WebGPU (navigator.gpu)');
  const info = await call({ op: 'init', backend: requested });
  showEngine(`backend ${info.name}: ${info.description}`, [...info.log.filter((l) => !l.startsWith('backend auto: using')), ...why]);
  document.body.dataset.backend = info.name;
  ($('verify-family') as HTMLSelectElement).value = info.name === 'gpu' ? 'gpu' : 'simd';
  ($('verify-run') as HTMLButtonElement).disabled = false;
  $('verify-adapter').textContent = await describeWebGpu();
  await loadDemoModel();
  setPuzzleText((demoPuzzles as { puzzle: string }[])[DEFAULT_PUZZLE].puzzle);
  setState('ready');
};
start().catch((e) => {
  showEngine(`the engine did not start: ${(e as Error).message}`, [], true);
  setState('error');
});
