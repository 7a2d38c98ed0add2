// The bundled demo model (fixtures/demo-model/): the demo run's final checkpoint reduced to what
// solving needs, so the web page, `hrm solve` and `hrm analyze` can use a trained model without
// training one. Writes `model.safetensors` (an hrm-ts checkpoint: float32 parameters, the config
// in the metadata, no optimizer moments, no carry), `config.json` (the same config, readable),
// `puzzles.json` (held-out puzzles with their solutions) and `data/` (those puzzles as a dataset in
// the on-disk format, for the web page's Dataset view).
// Run: node --import tsx src/cli/demo-export.ts --run runs/demo [--out fixtures/demo-model]
// (`npm run demo -- --export fixtures/demo-model` trains and exports in one go).

import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Rng } from '../core/rng.ts';
import { readBytes, readSplit, writeIdentifiers } from '../data/format.ts';
import { writeSudokuSplit, type SudokuPair } from '../data/sudoku/build.ts';
import { formatBoard, shapeForSize, tokensToBoard } from '../data/sudoku/grid.ts';
import { encodeCheckpoint, decodeCheckpoint } from '../train/checkpoint.ts';
import { resolveCheckpoint } from '../train/load-model.ts';
import { parseFlags } from './args.ts';

/** How many held-out puzzles travel with the model. */
export const DEMO_PUZZLES = 16;

/** One bundled puzzle: rows of digits, '.' for a blank (the `hrm solve --puzzle` syntax). */
export interface DemoPuzzle {
  readonly puzzle: string;
  readonly solution: string;
  readonly blanks: number;
}

/** Writes the bundled model from a finished demo run directory (`<run>/run` and `<run>/data`). */
export const exportDemoModel = async (demoOut: string, outDir: string): Promise<{ bytes: number; puzzles: number }> => {
  const file = resolveCheckpoint(path.join(demoOut, 'run'));
  const ckpt = decodeCheckpoint(readBytes(file), file);
  const slim = encodeCheckpoint({
    config: ckpt.config,
    state: { parameters: ckpt.state.parameters, adamM: new Map(), adamV: new Map(), optimizerStep: ckpt.state.optimizerStep, rng: ckpt.state.rng },
    progress: { ...ckpt.progress, data: null, dataPath: 'demo' },
    dtype: 'F32',
  });
  const test = readSplit(path.join(demoOut, 'data'), 'test');
  const set = test.sets.all;
  const T = test.metadata.seq_len;
  const shape = shapeForSize(Math.round(Math.sqrt(T)));
  const pairs: SudokuPair[] = [];
  for (let i = 0; i < Math.min(DEMO_PUZZLES, set.numExamples); i++) {
    const puzzle = tokensToBoard(set.inputs.subarray(i * T, (i + 1) * T));
    const solution = tokensToBoard(set.labels.subarray(i * T, (i + 1) * T));
    pairs.push({ puzzle, solution, rating: puzzle.filter((v) => v === 0).length, source: 'demo-4x4' });
  }
  const puzzles: DemoPuzzle[] = pairs.map((p) => ({
    puzzle: formatBoard(shape, p.puzzle),
    solution: formatBoard(shape, p.solution),
    blanks: p.rating,
  }));
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  writeFileSync(path.join(outDir, 'model.safetensors'), slim);
  writeFileSync(path.join(outDir, 'config.json'), `${JSON.stringify(ckpt.config, null, 2)}\n`);
  writeFileSync(path.join(outDir, 'puzzles.json'), `${JSON.stringify(puzzles, null, 1)}\n`);
  const dataDir = path.join(outDir, 'data');
  await writeSudokuSplit(dataDir, 'test', shape, pairs, 0, Rng.fromSeed(1));
  writeIdentifiers(dataDir, ['<blank>']);
  return { bytes: slim.length, puzzles: pairs.length };
};

if (process.argv[1]?.endsWith('demo-export.ts')) {
  const usage = 'usage: demo-export.ts --run <demo output dir> [--out fixtures/demo-model]';
  const { flags } = parseFlags('demo-export', process.argv.slice(2), {
    run: { kind: 'string', help: 'the demo run directory to export' },
    out: { kind: 'string', help: 'the bundled model folder (default fixtures/demo-model)' },
  });
  if (typeof flags.run !== 'string') {
    console.error(usage);
    process.exitCode = 2;
  } else {
    const out = typeof flags.out === 'string' ? flags.out : path.join('fixtures', 'demo-model');
    const r = await exportDemoModel(flags.run, out);
    console.log(`wrote ${out}: model ${r.bytes} bytes, ${r.puzzles} puzzles`);
  }
}
