// `hrm eval`: evaluates a checkpoint on a dataset's test split: exact, token and q-halt accuracy,
// what ACT halting would do, and inference-time scaling over several halt_max_steps (a table and
// a plot). On ARC datasets also the voting over augmentations, pass@K and a submission file.
// Exit codes: 0 done, 2 bad flags or incompatible checkpoint/dataset, 1 failure.

import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BACKEND_FLAGS, backendFromFlags, createBackend } from '../../backends/registry.ts';
import { readSplit, readIdentifiers } from '../../data/format.ts';
import { ensureDir, withFileErrors } from '../../io/files.ts';
import { InputError } from '../../io/codec.ts';
import { ArgsError, helpText, parseFlags, type FlagSpec } from '../args.ts';
import { loadCheckpointForCommand, datasetSizes } from '../load-checkpoint.ts';
import { evaluate, type EvalSummary } from '../../train/evaluate.ts';
import { testData } from '../../train/data-source.ts';
import { modelFrom } from '../../train/load-model.ts';
import { renderScaling } from '../../train/plot.ts';
import { arcTransforms, arcVotes, isArcDataset } from '../../train/arc-eval.ts';
import { datasetMismatch } from '../../train/run-config.ts';

export const summary = 'evaluate a checkpoint (exact accuracy, inference-time scaling, ARC voting)';

const FLAGS: Record<string, FlagSpec> = {
  checkpoint: { kind: 'string', help: "checkpoint file, a run directory (its latest checkpoint), or an original run folder (all_config.yaml + checkpoint or step_<N>)" },
  data: { kind: 'string', help: "dataset directory (default: the one the checkpoint was trained on)" },
  'halt-max-steps': { kind: 'int', help: 'segments per puzzle (default: the config\'s halt_max_steps)', min: 1 },
  scaling: { kind: 'list', help: 'evaluate at several halt_max_steps, e.g. 1,2,4,8,16 (table + plot)' },
  'batch-size': { kind: 'int', help: 'evaluation batch (default: the config\'s global_batch_size)', min: 1 },
  ...BACKEND_FLAGS,
  config: { kind: 'string', help: "config for weights that carry none: the original's all_config.yaml or a JSON config (default: all_config.yaml or config.json beside the checkpoint)" },
  out: { kind: 'string', help: 'where to write eval.json, scaling.svg and (ARC) submission.json (default: next to the checkpoint)' },
  help: { kind: 'boolean', help: 'this text' },
};
const USAGE = 'usage: hrm eval --checkpoint <file|run dir|original run folder> [--config <all_config.yaml|json>] [--data <dir>] [--halt-max-steps N | --scaling 1,2,4,8,16] [options]';

const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;

/** Most segments per puzzle an evaluation runs (a typo such as --scaling 100000000 would never end). */
export const MAX_EVAL_SEGMENTS = 4096;

export const run = async (argv: readonly string[]): Promise<number> => {
  let f;
  try {
    f = parseFlags('hrm eval', argv, FLAGS).flags;
  } catch (e) {
    if (e instanceof ArgsError) {
      console.error(`${e.message}\n\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  if (f.help) {
    console.log(helpText(USAGE, FLAGS));
    return 0;
  }
  if (typeof f.checkpoint !== 'string') {
    console.error(`hrm eval: --checkpoint is required\n\n${USAGE}`);
    return 2;
  }
  if (f.scaling !== undefined && f['halt-max-steps'] !== undefined) {
    console.error('hrm eval: give either --halt-max-steps or --scaling, not both');
    return 2;
  }
  const levelsAsked = Array.isArray(f.scaling) ? f.scaling : typeof f['halt-max-steps'] === 'number' ? [f['halt-max-steps']] : [];
  const tooMany = levelsAsked.filter((M) => M > MAX_EVAL_SEGMENTS);
  if (tooMany.length > 0) {
    console.error(`hrm eval: halt_max_steps ${tooMany.join(', ')} exceeds ${MAX_EVAL_SEGMENTS} segments per puzzle (each segment is a full forward pass of every test puzzle)`);
    return 2;
  }
  const loaded = loadCheckpointForCommand('eval', f.checkpoint, f.config, datasetSizes(f.data, 'test'));
  if (loaded === null) return 2;
  const { checkpoint, file } = loaded;
  const choice = backendFromFlags(f);
  const backend = await createBackend(choice.name, choice.options);
  let hrm;
  try {
    hrm = await modelFrom(checkpoint, backend, file);
  } catch (e) {
    await backend.close?.();
    if (!(e instanceof InputError)) throw e;
    console.error(`hrm eval: ${e.message}`);
    return 2;
  }
  try {
    const dataDir = typeof f.data === 'string' ? f.data : checkpoint.progress.dataPath;
    if (!dataDir || !existsSync(dataDir)) {
      console.error(`hrm eval: dataset ${dataDir ? `'${dataDir}' not found` : 'unknown'}; pass --data <dir>`);
      return 2;
    }
    const test = readSplit(dataDir, 'test');
    const a = checkpoint.config.arch;
    const m = test.metadata;
    const mismatch = datasetMismatch(a, m);
    if (mismatch.length > 0) {
      console.error(`hrm eval: ${file} does not fit ${dataDir}: ${mismatch.join(', ')}`);
      return 2;
    }
    const B = typeof f['batch-size'] === 'number' ? f['batch-size'] : checkpoint.config.train.global_batch_size;
    const levels = Array.isArray(f.scaling) ? f.scaling : [typeof f['halt-max-steps'] === 'number' ? f['halt-max-steps'] : a.halt_max_steps];
    const arc = isArcDataset(dataDir, m);
    const weights = checkpoint.config.train.ema ? 'ema' : 'live';
    const home = path.basename(path.dirname(file)) === 'checkpoints' ? path.dirname(path.dirname(file)) : path.dirname(file);
    const outDir = typeof f.out === 'string' ? f.out : path.join(home, `eval-${path.basename(file).replace(/\.safetensors$/, '')}`);
    const rows: EvalSummary[] = [];
    const total = test.sets.all?.numExamples ?? 0;
    if (total === 0) {
      console.error(`hrm eval: ${path.join(dataDir, 'test')} holds no test examples (nothing to evaluate)`);
      return 2;
    }
    ensureDir(outDir);
    console.error(`evaluating ${file} (step ${checkpoint.progress.step}) on ${dataDir}: ${total} test examples, backend ${backend.name}`);
    const report: Record<string, unknown> = { checkpoint: file, step: checkpoint.progress.step, data: path.resolve(dataDir), levels: [] };
    for (const M of levels) {
      const t0 = performance.now();
      const { summary: s, outputs } = await evaluate(hrm, testData(test, B), {
        haltMaxSteps: M,
        weights,
        keepOutputs: arc,
        onBatch: (n) => process.stderr.isTTY && process.stderr.write(`\r  halt_max_steps ${M}: ${n}/${total}`),
      });
      if (process.stderr.isTTY) process.stderr.write('\r\x1b[2K');
      rows.push(s);
      const entry: Record<string, unknown> = { ...s, seconds: (performance.now() - t0) / 1000 };
      if (arc) {
        const r = arcVotes(readIdentifiers(dataDir), outputs, await arcTransforms());
        entry.arc = { tasks: r.scores.tasks, pass_at: Object.fromEntries(r.scores.passAtK), unanswered: r.scores.unanswered };
        const sub = path.join(outDir, `submission-M${M}.json`);
        withFileErrors('write', sub, () => writeFileSync(sub, JSON.stringify(r.submission)));
        console.log(`ARC @ halt_max_steps ${M}: ${r.scores.tasks} tasks; ${[...r.scores.passAtK].map(([k, v]) => `pass@${k} ${pct(v)}`).join(', ')}; submission ${sub}`);
      }
      (report.levels as unknown[]).push(entry);
    }
    const header = ['halt_max_steps', 'exact', 'token', 'q_halt acc', 'ACT segments', 'ACT exact'];
    const table = [
      `| ${header.join(' | ')} |`,
      `|${header.map(() => '---').join('|')}|`,
      ...rows.map((s) => `| ${s.haltMaxSteps} | ${pct(s.exact_accuracy)} | ${pct(s.accuracy)} | ${pct(s.q_halt_accuracy)} | ${s.act_segments.toFixed(2)} | ${pct(s.act_exact_accuracy)} |`),
    ];
    console.log(table.join('\n'));
    console.log(`(${rows[0]?.count ?? 0} puzzles; "ACT" = stopping at the first segment where Q says halt (q_halt > q_continue; TRM: q_halt > 0), capped at halt_max_steps)`);
    withFileErrors('write', path.join(outDir, 'eval.json'), () => writeFileSync(path.join(outDir, 'eval.json'), JSON.stringify(report, null, 1) + '\n'));
    if (levels.length > 1) {
      const svg = path.join(outDir, 'scaling.svg');
      withFileErrors('write', svg, () => writeFileSync(svg, renderScaling(rows.map((s) => ({ haltMaxSteps: s.haltMaxSteps, exactAccuracy: s.exact_accuracy, tokenAccuracy: s.accuracy })), `${path.basename(file)} on ${path.basename(path.resolve(dataDir))}`)));
      console.log(`scaling plot: ${svg}`);
    }
    console.log(`results: ${path.join(outDir, 'eval.json')}`);
    return 0;
  } finally {
    await hrm.dispose();
    await backend.close?.();
  }
};
