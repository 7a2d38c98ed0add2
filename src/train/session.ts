// One training run on disk: builds the model, restores a checkpoint when resuming, wires the
// training driver to the dataset, the evaluation, the checkpoint store, metrics.jsonl and the
// curves plot in the run directory. Used by `hrm train`, the demo and the end-to-end test.
//
// Run directory layout:
//   config.json           the run's full config (dataset metadata injected) and dataset path
//   metrics.jsonl         train records (every step) and eval records (every evaluation)
//   curves.svg            loss and accuracy curves, redrawn at every evaluation
//   checkpoints/step_<N>.safetensors   the last K checkpoints (written atomically)

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Backend } from '../core/backend.ts';
import type { Tensor } from '../core/tensor.ts';
import type { Carry, Hrm } from '../model/api.ts';
import type { HrmConfig } from '../model/config.ts';
import { createHrm } from '../model/hrm.ts';
import { stepRates, totalSteps as totalStepsOf } from '../model/schedule.ts';
import type { DatasetSplit } from '../data/format.ts';
import { latestCheckpoint, saveCheckpoint } from './checkpoint-store.ts';
import { decodeCheckpoint, encodeCheckpoint, nonFiniteTensors, type Checkpoint } from './checkpoint.ts';
import { exportCarry, importCarry } from './carry-io.ts';
import { trainData, testData } from './data-source.ts';
import { evaluate, type EvalSummary } from './evaluate.ts';
import { appendRecords, readRecords, truncateAfterStep, type EvalRecord, type MetricRecord, type TrainRecord } from './metrics-log.ts';
import { renderTrainingCurves } from './plot.ts';
import { train, type SavePoint, type TrainOutcome } from './trainer.ts';

export const CHECKPOINT_DIR = 'checkpoints';

export interface SessionOptions {
  readonly config: HrmConfig;
  readonly dataDir: string;
  readonly trainSplit: DatasetSplit;
  readonly testSplit: DatasetSplit;
  readonly backend: Backend<unknown>;
  readonly runDir: string;
  /** continue from the run directory's latest checkpoint */
  readonly resume?: boolean;
  /** start a new run from these weights (layout names; checked by the caller) instead of the initialization */
  readonly initFrom?: { readonly parameters: ReadonlyMap<string, Tensor<Float64Array>>; readonly file: string };
  /** save also every this many steps (0: only after evaluations) */
  readonly checkpointEvery?: number;
  /** checkpoints kept (default 3) */
  readonly keep?: number;
  /** halt_max_steps used by the periodic evaluations (default: the config's) */
  readonly evalHaltMaxSteps?: number;
  readonly stopAfterSteps?: number;
  readonly stopRequested?: () => boolean;
  readonly onStep?: (record: TrainRecord, totalSteps: number) => void;
  readonly onEval?: (record: EvalRecord, summary: EvalSummary) => void;
  readonly onEvalProgress?: (rowsDone: number, rowsTotal: number) => void;
  readonly log?: (message: string) => void;
}

export interface SessionResult {
  readonly outcome: TrainOutcome;
  readonly totalSteps: number;
  readonly runDir: string;
  /** the loss (÷ batch) of every step this session ran, in order */
  readonly losses: number[];
}

/** The config a run directory was started with (written at start). */
export const readRunConfig = (runDir: string): { config: HrmConfig; dataDir: string } => {
  const file = path.join(runDir, 'config.json');
  return JSON.parse(readFileSync(file, 'utf8')) as { config: HrmConfig; dataDir: string };
};

/** Loads the latest valid checkpoint of a run directory, or undefined when there is none. */
export const loadLatest = (runDir: string): { checkpoint: Checkpoint; file: string } | undefined => {
  const file = latestCheckpoint(path.join(runDir, CHECKPOINT_DIR));
  if (file === undefined) return undefined;
  return { checkpoint: decodeCheckpoint(new Uint8Array(readFileSync(file)), file), file };
};

/** Runs (or resumes) training in `runDir`. */
export const runSession = async (o: SessionOptions): Promise<SessionResult> => {
  const log = o.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const { config } = o;
  const tc = config.train;
  const meta = o.trainSplit.metadata;
  const total = totalStepsOf(tc.epochs, meta.total_groups, meta.mean_puzzle_examples, tc.global_batch_size);
  const iterations = tc.epochs / tc.eval_interval;
  const ckptDir = path.join(o.runDir, CHECKPOINT_DIR);
  const metricsFile = path.join(o.runDir, 'metrics.jsonl');
  const plotFile = path.join(o.runDir, 'curves.svg');
  mkdirSync(ckptDir, { recursive: true });

  const hrm: Hrm = await createHrm(config, { backend: o.backend, seed: tc.seed });
  let start: { step: number; iteration: number; dataState?: unknown; carry?: Carry } = { step: 0, iteration: 0 };
  const records: MetricRecord[] = [];
  try {
    if (o.resume) {
      const latest = loadLatest(o.runDir);
      if (latest === undefined) throw new Error(`--resume: no valid checkpoint in ${ckptDir}`);
      const { checkpoint: c, file } = latest;
      if (JSON.stringify(c.config) !== JSON.stringify(config)) {
        throw new Error(`--resume: ${file} was trained with a different config than ${path.join(o.runDir, 'config.json')}`);
      }
      hrm.loadState(c.state);
      start = {
        step: c.progress.step,
        iteration: c.progress.iteration,
        dataState: c.progress.data,
        carry: c.carry ? importCarry(hrm, c.carry) : undefined,
      };
      records.push(...truncateAfterStep(readRecords(metricsFile), c.progress.step));
      writeFileSync(metricsFile, records.map((r) => JSON.stringify(r)).join('\n') + (records.length ? '\n' : ''));
      log(`resuming from ${file} at step ${c.progress.step} (iteration ${c.progress.iteration})`);
    } else {
      if (o.initFrom !== undefined) {
        hrm.loadState({ parameters: o.initFrom.parameters });
        log(`starting from the weights of ${o.initFrom.file}`);
      }
      const initFrom = o.initFrom !== undefined ? { initFrom: path.resolve(o.initFrom.file) } : {};
      writeFileSync(path.join(o.runDir, 'config.json'), JSON.stringify({ config, dataDir: path.resolve(o.dataDir), backend: o.backend.name, ...initFrom }, null, 1) + '\n');
      writeFileSync(metricsFile, '');
    }

    const pending: TrainRecord[] = [];
    const flush = (): void => {
      appendRecords(metricsFile, pending);
      pending.length = 0;
    };
    const losses: number[] = [];
    const testRows = o.testSplit.sets.all?.numExamples ?? 0;
    const save = async (p: SavePoint): Promise<string | undefined> => {
      flush();
      const state = await hrm.saveState();
      const bad = nonFiniteTensors(state);
      if (bad.length > 0) {
        log(`not saving a checkpoint at step ${p.step}: non-finite values in ${bad.slice(0, 3).join(', ')}${bad.length > 3 ? ', …' : ''}`);
        return undefined;
      }
      const bytes = encodeCheckpoint({
        config,
        state,
        progress: {
          step: p.step,
          iteration: p.iteration,
          data: p.dataState,
          dataPath: path.resolve(o.dataDir),
          ...(p.lastEval ? { lastEval: { exact_accuracy: p.lastEval.exact_accuracy, accuracy: p.lastEval.accuracy } } : {}),
        },
        carry: p.carry ? await exportCarry(hrm, p.carry) : undefined,
        dtype: o.backend.dtype === 'float64' ? 'F64' : 'F32',
      });
      return saveCheckpoint(ckptDir, `step_${String(p.step).padStart(7, '0')}.safetensors`, bytes, { keep: o.keep ?? 3 });
    };
    const outcome = await train({
      hrm,
      globalBatchSize: tc.global_batch_size,
      totalSteps: total,
      totalIterations: iterations,
      rates: (s) => stepRates(tc, s, total),
      data: trainData(o.trainSplit, tc.global_batch_size, tc.seed, tc.eval_interval),
      evaluate: async () =>
        (
          await evaluate(hrm, testData(o.testSplit, tc.global_batch_size), {
            haltMaxSteps: o.evalHaltMaxSteps ?? config.arch.halt_max_steps,
            // with EMA (TRM's recipe) the evaluations are of the EMA copy, as the original's
            weights: config.train.ema ? 'ema' : 'live',
            onBatch: (n) => o.onEvalProgress?.(n, testRows),
          })
        ).summary,
      save,
      checkpointEvery: o.checkpointEvery ?? 0,
      stopRequested: o.stopRequested,
      stopAfterSteps: o.stopAfterSteps,
      start,
      onStep: (r) => {
        losses.push(r.loss);
        records.push(r);
        pending.push(r);
        if (pending.length >= 50) flush();
        o.onStep?.(r, total);
      },
      onEval: (r, s) => {
        flush();
        records.push(r);
        appendRecords(metricsFile, [r]);
        writeFileSync(plotFile, renderTrainingCurves(records, `${path.basename(o.dataDir)}: ${config.description || 'HRM'}`));
        o.onEval?.(r, s);
      },
    });
    flush();
    return { outcome, totalSteps: total, runDir: o.runDir, losses };
  } finally {
    await hrm.dispose();
  }
};
