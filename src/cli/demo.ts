// `npm run demo`: HRM learning a small task on this machine with nothing downloaded. It generates
// Sudoku puzzles (full grids with some cells blanked, uniquely solvable; test puzzles never occur
// in training), trains a small HRM on the fastest backend available (`auto`), evaluates it on the
// held-out puzzles, shows one of them being solved segment by segment, and exits non-zero when
// the test accuracy falls short of what the README promises or the loss diverges.
// Run: node --import tsx src/cli/demo.ts [--backend auto|simd|reference|gpu] [--out runs/demo] [--export fixtures/demo-model]

import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { BACKEND_FLAGS, backendFromFlags, createBackend } from '../backends/registry.ts';
import { ArgsError, helpText, parseFlags, type FlagSpec, type FlagValues } from './args.ts';
import { Rng } from '../core/rng.ts';
import { readSplit, writeIdentifiers } from '../data/format.ts';
import { writeSudokuSplit, type SudokuPair } from '../data/sudoku/build.ts';
import { randomFullGrid } from '../data/sudoku/generate.ts';
import { formatBoard, shapeForSize, type SudokuShape } from '../data/sudoku/grid.ts';
import { SudokuSolver } from '../data/sudoku/solver.ts';
import { decodeConfig, type HrmConfig } from '../model/config.ts';
import { runSession } from '../train/session.ts';
import { TrainProgress } from './train-progress.ts';
import { loadModel, resolveCheckpoint } from '../train/load-model.ts';
import { renderSudoku, solveOne, sudokuFromTokens, checkSudoku } from '../train/solve.ts';
import { boardToTokens } from '../data/sudoku/grid.ts';
import { exportDemoModel } from './demo-export.ts';

/** The task and the model: small enough to learn in minutes on two CPU cores. */
export const DEMO = {
  size: 4, // 4×4 Sudoku (2×2 boxes)
  blanks: [4, 8] as const, // cells removed from a full grid, inclusive range
  train: 3000,
  test: 300,
  seed: 1,
  /** exact accuracy (whole grid right) on the held-out puzzles the README promises */
  expectExact: 0.85,
} as const;

export const demoConfig = (seqLen: number, vocab: number): HrmConfig =>
  decodeConfig(
    {
      description: 'demo: 4×4 Sudoku with 4–8 blanks; hidden 64, 4 heads, 1+1 layers, H_cycles 2, L_cycles 2, learned positions',
      arch: {
        seq_len: seqLen, vocab_size: vocab, num_puzzle_identifiers: 1, batch_size: 64,
        H_cycles: 2, L_cycles: 2, H_layers: 1, L_layers: 1, hidden_size: 64, expansion: 4, num_heads: 4,
        pos_encodings: 'learned', halt_max_steps: 4, halt_exploration_prob: 0.1, loss_type: 'stablemax_cross_entropy',
      },
      train: {
        global_batch_size: 64, epochs: 18, eval_interval: 6, lr: 3e-3, lr_min_ratio: 0.1, lr_warmup_steps: 20,
        weight_decay: 0.1, puzzle_emb_lr: 1e-2, seed: 0,
      },
    },
    'demo config',
  );

/** Full grids with `blanks` random cells removed, kept only when the solution stays unique. */
export const blankedPuzzles = (shape: SudokuShape, count: number, blanks: readonly [number, number], rng: Rng, seen: Set<string>): SudokuPair[] => {
  const solver = new SudokuSolver(shape);
  const out: SudokuPair[] = [];
  let tries = 0;
  while (out.length < count) {
    if (++tries > count * 100) throw new Error(`demo: could not find ${count} distinct puzzles`);
    const solution = randomFullGrid(solver, rng);
    const puzzle = solution.slice();
    const k = rng.int(blanks[0], blanks[1]);
    for (const cell of rng.permutation(shape.cells).subarray(0, k)) puzzle[cell] = 0;
    const key = formatBoard(shape, puzzle);
    if (seen.has(key) || solver.solve(puzzle, { maxSolutions: 2 }).count !== 1) continue;
    seen.add(key);
    out.push({ puzzle, solution, rating: k, source: `demo-${shape.n}x${shape.n}` });
  }
  return out;
};

const FLAGS: Record<string, FlagSpec> = {
  out: { kind: 'string', help: 'where the data, checkpoints and curves go (default runs/demo)' },
  ...BACKEND_FLAGS,
  export: { kind: 'string', help: 'also write the trained model as a bundled demo model into this folder (e.g. fixtures/demo-model)' },
  help: { kind: 'boolean', help: 'this text' },
};
const USAGE = 'usage: npm run demo -- [--backend auto|simd|reference|gpu] [--out runs/demo] [--export fixtures/demo-model]';

const main = async (argv: readonly string[]): Promise<number> => {
  let f: FlagValues;
  try {
    f = parseFlags('demo', argv, FLAGS).flags;
  } catch (e) {
    if (!(e instanceof ArgsError)) throw e;
    console.error(`${e.message}\n\n${USAGE}`);
    return 2;
  }
  if (f.help) {
    console.log(helpText(USAGE, FLAGS));
    return 0;
  }
  const t0 = performance.now();
  const secs = (): string => `${((performance.now() - t0) / 1000).toFixed(0)} s`;
  const out = typeof f.out === 'string' ? f.out : path.join('runs', 'demo');
  const dataDir = path.join(out, 'data');
  const runDir = path.join(out, 'run');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });

  // 1. the task
  const shape = shapeForSize(DEMO.size);
  const rng = Rng.fromSeed(DEMO.seed);
  const seen = new Set<string>();
  const train = blankedPuzzles(shape, DEMO.train, DEMO.blanks, rng, seen);
  const test = blankedPuzzles(shape, DEMO.test, DEMO.blanks, rng, seen);
  await writeSudokuSplit(dataDir, 'train', shape, train, 0, rng);
  await writeSudokuSplit(dataDir, 'test', shape, test, 0, rng);
  writeIdentifiers(dataDir, ['<blank>']);
  console.log(`[${secs()}] generated ${DEMO.train} training and ${DEMO.test} test ${shape.n}×${shape.n} Sudoku puzzles (${DEMO.blanks[0]}–${DEMO.blanks[1]} blanks, unique solutions, no test puzzle in training) in ${dataDir}`);

  // 2. the model and the backend
  const trainSplit = readSplit(dataDir, 'train');
  const testSplit = readSplit(dataDir, 'test');
  const config = demoConfig(trainSplit.metadata.seq_len, trainSplit.metadata.vocab_size);
  const choice = backendFromFlags(f);
  const backend = await createBackend(choice.name, { ...choice.options, log: (m) => console.log(m) });
  const a = config.arch;
  console.log(`[${secs()}] model: hidden ${a.hidden_size}, ${a.num_heads} heads, ${a.H_layers}+${a.L_layers} layers, H_cycles ${a.H_cycles}, L_cycles ${a.L_cycles}, up to ${a.halt_max_steps} segments; backend ${backend.name} (${backend.description})`);

  // 3. training
  const progress = new TrainProgress();
  let evals = 0;
  const r = await runSession({
    config, dataDir, trainSplit, testSplit, backend, runDir,
    onStep: (rec, total) => progress.step(rec, total),
    onEval: (rec, s) => {
      evals++;
      progress.eval(rec, s);
    },
    log: (m) => progress.log(m),
  });
  progress.end();
  if (r.outcome.status === 'diverged') {
    console.error(r.outcome.message);
    return 1;
  }
  const first = r.losses.slice(0, 10).reduce((x, y) => x + y, 0) / 10;
  const last = r.losses.slice(-10).reduce((x, y) => x + y, 0) / 10;
  const e = r.outcome.status === 'done' ? r.outcome.lastEval : undefined;
  if (e === undefined || evals === 0) {
    console.error('demo: training ended without an evaluation');
    return 1;
  }
  console.log(`[${secs()}] trained ${r.outcome.step} steps: loss ${first.toFixed(3)} → ${last.toFixed(3)}`);

  // 4. one unseen puzzle, segment by segment
  const { hrm } = await loadModel(resolveCheckpoint(runDir), backend);
  try {
    // show a puzzle the model gets right only after refining (else the first test puzzle)
    let p = test[0];
    let solved = await solveOne(hrm, Int32Array.from(boardToTokens(p.puzzle)), 0, a.halt_max_steps, true);
    for (const q of test.slice(0, 100)) {
      const s = await solveOne(hrm, Int32Array.from(boardToTokens(q.puzzle)), 0, a.halt_max_steps, true);
      const ok = (k: number): boolean => checkSudoku(shape, q.puzzle, sudokuFromTokens(shape, s.traces[k].predictions)) === 'a valid solution';
      if (!ok(0) && ok(s.traces.length - 1)) {
        p = q;
        solved = s;
        break;
      }
    }
    console.log('\nan unseen puzzle:');
    console.log(renderSudoku(shape, p.puzzle));
    for (const t of solved.traces) {
      const board = sudokuFromTokens(shape, t.predictions);
      console.log(`\nafter segment ${t.segment} (q_halt ${t.qHalt.toFixed(2)} vs q_continue ${t.qContinue.toFixed(2)}): ${checkSudoku(shape, p.puzzle, board)}`);
      console.log(renderSudoku(shape, board));
    }
  } finally {
    await hrm.dispose();
    await backend.close?.();
  }

  // 5. the verdict
  console.log(
    `\n[${secs()}] test puzzles solved exactly: ${(100 * e.exact_accuracy).toFixed(1)}% (cells right: ${(100 * e.accuracy).toFixed(1)}%) on ${e.count} puzzles never seen in training` +
      `\nexpected: at least ${(100 * DEMO.expectExact).toFixed(0)}%. Curves: ${path.join(runDir, 'curves.svg')}`,
  );
  if (!(last < 0.8 * first)) {
    console.error(`demo: the loss did not fall (${first.toFixed(3)} → ${last.toFixed(3)})`);
    return 1;
  }
  if (e.exact_accuracy < DEMO.expectExact) {
    console.error(`demo: exact accuracy ${(100 * e.exact_accuracy).toFixed(1)}% is below the expected ${(100 * DEMO.expectExact).toFixed(0)}%`);
    return 1;
  }
  const exportDir = f.export;
  if (typeof exportDir === 'string') {
    const x = await exportDemoModel(out, exportDir);
    console.log(`bundled model written to ${exportDir} (${x.bytes} bytes, ${x.puzzles} held-out puzzles)`);
  }
  return 0;
};

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('demo.ts')) {
  process.exitCode = await main(process.argv.slice(2));
}
