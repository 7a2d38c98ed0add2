// `hrm analyze`: hierarchical convergence and the dimensionality hierarchy of a checkpoint
// (src/analyze does the computing): forward residuals of every L and H update across segments
// (with the H-frozen and untrained contrasts), PCA trajectories, participation ratios with
// bootstrap intervals and against the number of puzzles. Writes analysis.json and three SVGs and
// prints a summary. Exit codes: 0 done, 2 bad flags or incompatible checkpoint/dataset, 1 failure.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { analysisBytes, analyzeModels, companionModels } from '../../analyze/analysis.ts';
import { puzzleBatches, spreadIndices } from '../../analyze/batches.ts';
import { weightsDigest } from '../../analyze/digest.ts';
import { renderPrCurves, renderResiduals, renderTrajectories, summaryText } from '../../analyze/report.ts';
import { BACKEND_FLAGS, backendFromFlags, createBackend } from '../../backends/registry.ts';
import { readSplit } from '../../data/format.ts';
import { ArgsError, helpText, parseFlags, type FlagSpec, type FlagValues } from '../args.ts';
import { loadCheckpointForCommand, datasetSizes } from '../load-checkpoint.ts';
import { modelFrom } from '../../train/load-model.ts';

export const summary = 'hierarchical convergence and dimensionality (participation ratio) of a checkpoint';

const MAX_BYTES = 3 * 2 ** 30;

const FLAGS: Record<string, FlagSpec> = {
  checkpoint: { kind: 'string', help: "checkpoint file, a run directory (its latest checkpoint), or an original run folder (all_config.yaml + checkpoint or step_<N>)" },
  data: { kind: 'string', help: 'dataset directory (default: the one the checkpoint was trained on)' },
  split: { kind: 'string', help: 'which split the puzzles come from (default test)', choices: ['test', 'train'] },
  puzzles: { kind: 'int', help: 'puzzles analysed, spread evenly over the split (default: all, at most 512)', min: 2 },
  segments: { kind: 'int', help: "segments per puzzle, all of them analysed (default: the config's halt_max_steps)", min: 1 },
  act: { kind: 'boolean', help: 'stop each puzzle where ACT halts (first q_halt > q_continue; TRM: q_halt > 0) instead of running every segment' },
  bootstrap: { kind: 'int', help: 'bootstrap replicates for the PR intervals (default 200)', min: 10 },
  seed: { kind: 'int', help: 'seed of the bootstrap, the PR-curve subsets and the PCA (default 0)', min: 0 },
  trajectories: { kind: 'int', help: 'puzzles drawn in the trajectory plot (default 3)', min: 1 },
  'batch-size': { kind: 'int', help: "rows per model call (default: the config's global_batch_size)", min: 1 },
  ...BACKEND_FLAGS,
  config: { kind: 'string', help: "config for weights that carry none: the original's all_config.yaml or a JSON config (default: the one beside the checkpoint)" },
  out: { kind: 'string', help: 'output directory (default: <run>/analysis-<checkpoint>)' },
  quiet: { kind: 'boolean', help: 'no progress line' },
  help: { kind: 'boolean', help: 'this text' },
};
const USAGE = 'usage: hrm analyze --checkpoint <file|run dir> [--data <dir>] [--split test] [--puzzles N] [--segments M] [--act] [--backend …] [--out <dir>]';

const EXTRA = `
Outputs in --out: analysis.json (every number, with the config, checkpoint step and weights
digest), residuals.svg, trajectories.svg, pr-curve.svg. Residual = ‖z_t − z_{t−1}‖ / ‖z_{t−1}‖
of the module an update changes, per puzzle over all S·D values, then mean and percentiles over
puzzles. "H frozen" reruns the same weights with H_cycles 1 and L_cycles H_cycles·L_cycles.
With --act a puzzle contributes until the segment where ACT halts and its final state is the
state there; without it every puzzle runs all segments (eval mode never halts early).
PR = (Σλ)²/Σλ² of the covariance of the final states, per puzzle (S·D flattened) and per
position (D), for the checkpoint and for the untrained model of the same config and seed.`;

export const run = async (argv: readonly string[]): Promise<number> => {
  let f: FlagValues;
  try {
    f = parseFlags('hrm analyze', argv, FLAGS).flags;
    if (f.help) {
      console.log(helpText(USAGE, FLAGS, EXTRA));
      return 0;
    }
    if (typeof f.checkpoint !== 'string') throw new ArgsError('hrm analyze: --checkpoint is required');
  } catch (e) {
    if (e instanceof ArgsError) {
      console.error(`${e.message}\n\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  const splitWanted = (f.split as 'test' | 'train' | undefined) ?? 'test';
  const loaded = loadCheckpointForCommand('analyze', f.checkpoint as string, f.config, datasetSizes(f.data, splitWanted));
  if (loaded === null) return 2;
  const { checkpoint, file } = loaded;
  const choice = backendFromFlags(f);
  const backend = await createBackend(choice.name, choice.options);
  const hrm = await modelFrom(checkpoint, backend, file);
  const disposables = [hrm];
  try {
    const dataDir = typeof f.data === 'string' ? f.data : checkpoint.progress.dataPath;
    if (!dataDir || !existsSync(dataDir)) {
      console.error(`hrm analyze: dataset ${dataDir ? `'${dataDir}' not found` : 'unknown'}; pass --data <dir>`);
      return 2;
    }
    const splitName = (f.split as 'test' | 'train' | undefined) ?? 'test';
    const split = readSplit(dataDir, splitName);
    const config = checkpoint.config;
    const a = config.arch;
    const m = split.metadata;
    const mismatch = (['seq_len', 'vocab_size', 'num_puzzle_identifiers'] as const).filter((k) => a[k] !== m[k]);
    if (mismatch.length > 0) {
      console.error(`hrm analyze: ${file} does not fit ${dataDir}: ${mismatch.map((k) => `${k} ${a[k]} (model) vs ${m[k]} (dataset)`).join(', ')}`);
      return 2;
    }
    const set = split.sets.all;
    if (set === undefined) {
      console.error(`hrm analyze: ${dataDir}/${splitName} has no set 'all'`);
      return 2;
    }
    const wanted = typeof f.puzzles === 'number' ? f.puzzles : Math.min(set.numExamples, 512);
    if (wanted > set.numExamples) {
      console.error(`hrm analyze: --puzzles ${wanted}, but ${dataDir}/${splitName} has ${set.numExamples} examples`);
      return 2;
    }
    if (analysisBytes(config, wanted) > MAX_BYTES) {
      console.error(`hrm analyze: --puzzles ${wanted} would need about ${(analysisBytes(config, wanted) / 2 ** 30).toFixed(1)} GiB for this model (limit ${MAX_BYTES / 2 ** 30} GiB); pass a smaller --puzzles`);
      return 2;
    }
    const B = typeof f['batch-size'] === 'number' ? f['batch-size'] : config.train.global_batch_size;
    const batches = puzzleBatches(set, m, spreadIndices(set.numExamples, wanted), B);
    const weights = config.train.ema ? 'ema' : 'live';
    const home = path.basename(path.dirname(file)) === 'checkpoints' ? path.dirname(path.dirname(file)) : path.dirname(file);
    const outDir = typeof f.out === 'string' ? f.out : path.join(home, `analysis-${path.basename(file).replace(/\.safetensors$/, '')}`);
    mkdirSync(outDir, { recursive: true });
    const digestBefore = weightsDigest((await hrm.saveState()).parameters);
    const { untrained, frozen } = await companionModels(hrm, weights);
    disposables.push(untrained, ...(frozen ? [frozen] : []));
    console.error(`analysing ${file} (step ${checkpoint.progress.step}) on ${wanted} puzzles of ${dataDir}/${splitName}, backend ${backend.name}`);
    const t0 = performance.now();
    const tty = process.stderr.isTTY && !f.quiet;
    const result = await analyzeModels({ trained: hrm, untrained, frozen }, batches, {
      ...(typeof f.segments === 'number' ? { segments: f.segments } : {}),
      act: f.act === true,
      ...(typeof f.bootstrap === 'number' ? { bootstrap: f.bootstrap } : {}),
      ...(typeof f.seed === 'number' ? { seed: f.seed } : {}),
      ...(typeof f.trajectories === 'number' ? { trajectories: f.trajectories } : {}),
      weights,
      onProgress: (model, done) => tty && process.stderr.write(`\r\x1b[2K  ${model}: ${done}/${wanted} puzzles`),
    });
    if (tty) process.stderr.write('\r\x1b[2K');
    const seconds = (performance.now() - t0) / 1000;
    const digestAfter = weightsDigest((await hrm.saveState()).parameters);
    if (digestAfter !== digestBefore) throw new Error(`the analysis changed the model's weights (digest ${digestBefore} → ${digestAfter})`);
    const heading = `${path.basename(file)} (step ${checkpoint.progress.step}), ${result.puzzles} puzzles of ${path.basename(path.resolve(dataDir))}/${splitName}`;
    const report = {
      format: 'hrm-analysis/1',
      checkpoint: path.resolve(file),
      step: checkpoint.progress.step,
      weights_digest: digestBefore,
      weights,
      data: path.resolve(dataDir),
      split: splitName,
      backend: backend.name,
      seconds,
      config,
      ...result,
    };
    writeFileSync(path.join(outDir, 'analysis.json'), JSON.stringify(report, null, 1) + '\n');
    writeFileSync(path.join(outDir, 'residuals.svg'), renderResiduals(result, heading));
    writeFileSync(path.join(outDir, 'trajectories.svg'), renderTrajectories(result, heading));
    writeFileSync(path.join(outDir, 'pr-curve.svg'), renderPrCurves(result, heading));
    console.log(summaryText(result));
    console.log(`(${seconds.toFixed(1)} s on ${backend.name}; weights digest ${digestBefore}, unchanged)`);
    console.log(`results: ${path.join(outDir, 'analysis.json')}, residuals.svg, trajectories.svg, pr-curve.svg`);
    return 0;
  } finally {
    for (const d of disposables) await d.dispose();
    await backend.close?.();
  }
};
