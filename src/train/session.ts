// One training run on disk: builds the model, restores a checkpoint when resuming, wires the
// training driver to the dataset, the evaluation, the checkpoint store, metrics.jsonl and the
// curves plot in the run directory. Used by `hrm train`, the demo and the end-to-end test.
//
// Run directory layout:
//   config.json           the run's full config (dataset metadata injected) and dataset path
//   metrics.jsonl         train records (every step) and eval records (every evaluation)
//   curves.svg            loss and accuracy curves, redrawn at every evaluation
//   checkpoints/step_<N>.safetensors   the last K checkpoints (written atomically)

import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as t from 'io-ts';
import type { Backend } from '../core/backend.ts';
import type { Tensor } from '../core/tensor.ts';
import type { Carry, Hrm } from '../model/api.ts';
import { decodeConfig, type HrmConfig } from '../model/config.ts';
import { decodeOrThrow, inputError, InputError, strictObject } from '../io/codec.ts';
import { ensureDir, readFileBounded, readJsonFile, withFileErrors } from '../io/files.ts';
import { createHrm } from '../model/hrm.ts';
import { stepRates, totalSteps as totalStepsOf } from '../model/schedule.ts';
import { datasetFingerprint, type DatasetSplit } from '../data/format.ts';
import { checkpointFileName, checkpointsNewestFirst, saveCheckpoint } from './checkpoint-store.ts';
import { decodeCheckpoint, encodeCheckpoint, nonFiniteTensors, type Checkpoint } from './checkpoint.ts';
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

/** config.json of a run directory: the config, the dataset it trains on and the backend used. */
export interface RunConfigFile {
  readonly config: HrmConfig;
  readonly dataDir: string;
  readonly backend: string;
  /** datasetFingerprint of dataDir when the run started ('' in runs from before it was recorded) */
  readonly dataFingerprint: string;
}

const RunConfigCodec = strictObject('run config', {
  config: t.unknown,
  dataDir: t.string,
  backend: [t.string, ''],
  dataFingerprint: [t.string, ''],
  /** the weights file a run started from (hrm train --init-from) */
  initFrom: [t.union([t.string, t.undefined]), undefined],
});

/** Reads and decodes a run directory's config.json (the config through the config codec). */
export const readRunConfig = (runDir: string): RunConfigFile => {
  const file = path.join(runDir, 'config.json');
  const raw = decodeOrThrow(RunConfigCodec, readJsonFile(file, 1 << 20, 8), file);
  return { ...raw, config: decodeConfig(raw.config, `${file}: field 'config'`) };
};

/**
 * Whether `runDir` holds a run that can be resumed: its config.json and at least one valid
 * checkpoint. A directory with a config but no checkpoint (the run stopped before its first save)
 * is not a run to protect: starting again there is allowed.
 */
export const holdsResumableRun = (runDir: string): boolean =>
  existsSync(path.join(runDir, 'config.json')) && checkpointsNewestFirst(path.join(runDir, CHECKPOINT_DIR), () => undefined).length > 0;

/**
 * Checks the dataset a resumed run is given against the one it was started on: the same path, or
 * (when --data names another path, e.g. after a move) the same content fingerprint. Returns the
 * dataset directory to use or throws an InputError saying what to do.
 */
export const resumeDataDir = (saved: RunConfigFile, runDir: string, dataArg: string | undefined): string => {
  const recorded = saved.dataDir;
  const file = path.join(runDir, 'config.json');
  if (dataArg === undefined || path.resolve(dataArg) === path.resolve(recorded)) {
    if (saved.dataFingerprint !== '' && existsSync(recorded) && datasetFingerprint(recorded) !== saved.dataFingerprint) {
      throw inputError(file, `the dataset ${recorded} changed since this run started (its content fingerprint differs); resume with the original data, or start a new run`);
    }
    return recorded;
  }
  if (saved.dataFingerprint === '') {
    throw inputError(file, `this run trained on ${recorded}, not ${dataArg}; drop --data to resume on the recorded dataset (runs this old carry no fingerprint to recognise a moved copy)`);
  }
  if (datasetFingerprint(dataArg) !== saved.dataFingerprint) {
    throw inputError(file, `--data ${dataArg} is not the dataset this run trained on (${recorded}; content fingerprints differ); drop --data, or start a new run for another dataset`);
  }
  return dataArg;
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
  ensureDir(ckptDir);

  const hrm: Hrm = await createHrm(config, { backend: o.backend, seed: tc.seed });
  let start: { step: number; iteration: number; dataState?: unknown; carry?: Carry } = { step: 0, iteration: 0 };
  const records: MetricRecord[] = [];
  try {
    const startFresh = (): void => {
      // a previous attempt without any checkpoint: keep its log beside the new one, never delete it
      if (existsSync(metricsFile) && statSync(metricsFile).size > 0) {
        const kept = `${metricsFile}.before-${new Date().toISOString().replace(/[:.]/g, '-')}`;
        withFileErrors('rename', metricsFile, () => renameSync(metricsFile, kept));
        log(`kept the metrics of the earlier attempt (which saved no checkpoint) as ${kept}`);
      }
      if (o.initFrom !== undefined) {
        hrm.loadState({ parameters: o.initFrom.parameters });
        log(`starting from the weights of ${o.initFrom.file}`);
      }
      const initFrom = o.initFrom !== undefined ? { initFrom: path.resolve(o.initFrom.file) } : {};
      const runConfig = { config, dataDir: path.resolve(o.dataDir), backend: o.backend.name, dataFingerprint: datasetFingerprint(o.dataDir), ...initFrom };
      const configFile = path.join(o.runDir, 'config.json');
      withFileErrors('write', configFile, () => writeFileSync(configFile, JSON.stringify(runConfig, null, 1) + '\n'));
      withFileErrors('write', metricsFile, () => writeFileSync(metricsFile, ''));
    };
    if (o.resume) {
      let resumed = false;
      const warn = (m: string): void => log(`warning: ${m}`);
      const candidates = checkpointsNewestFirst(ckptDir, (sk) => warn(`${path.join(ckptDir, sk.name)} is not a usable checkpoint, skipped: ${sk.reason}`));
      const refused: string[] = [];
      for (const file of candidates) {
        let c: Checkpoint;
        try {
          c = decodeCheckpoint(readFileBounded(file, 2 ** 40, 'checkpoint'), file);
          if (JSON.stringify(c.config) !== JSON.stringify(config)) {
            throw inputError(file, `trained with a different config than ${path.join(o.runDir, 'config.json')}`);
          }
          if (c.progress.step > total) throw inputError(file, `records step ${c.progress.step}, beyond the ${total} steps of this run's schedule`);
          if (c.progress.iteration > iterations) throw inputError(file, `records iteration ${c.progress.iteration}, beyond the ${iterations} of this run`);
          hrm.loadState(c.state);
          start = {
            step: c.progress.step,
            iteration: c.progress.iteration,
            dataState: c.progress.data,
            carry: c.carry ? hrm.importCarry(c.carry) : undefined,
          };
        } catch (e) {
          refused.push((e as Error).message);
          warn(`${file} cannot be resumed from (${(e as Error).message}); trying an older checkpoint`);
          continue;
        }
        records.push(...truncateAfterStep(readRecords(metricsFile), c.progress.step));
        withFileErrors('write', metricsFile, () => writeFileSync(metricsFile, records.map((r) => JSON.stringify(r)).join('\n') + (records.length ? '\n' : '')));
        log(`resuming from ${file} at step ${c.progress.step} (iteration ${c.progress.iteration})`);
        resumed = true;
        break;
      }
      if (!resumed && candidates.length > 0) {
        // checkpoints exist but none can be used: never start over on top of them
        throw new InputError([
          `--resume: none of the ${candidates.length} checkpoint(s) in ${ckptDir} can be resumed from:`,
          ...refused.map((r) => `  ${r}`),
          `Move them elsewhere to start this run again from step 0, or start a new run with another --out.`,
        ]);
      }
      if (!resumed) {
        log(`no checkpoint in ${ckptDir} (the run stopped before its first save): starting from step 0 with the run's saved config`);
        startFresh();
      }
    } else {
      startFresh();
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
        carry: p.carry ? await hrm.exportCarry(p.carry) : undefined,
        dtype: o.backend.dtype === 'float64' ? 'F64' : 'F32',
      });
      return saveCheckpoint(ckptDir, checkpointFileName(p.step), bytes, { keep: o.keep ?? 3 });
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
        withFileErrors('write', plotFile, () => writeFileSync(plotFile, renderTrainingCurves(records, `${path.basename(o.dataDir)}: ${config.description || 'HRM'}`)));
        o.onEval?.(r, s);
      },
    });
    flush();
    return { outcome, totalSteps: total, runDir: o.runDir, losses };
  } finally {
    await hrm.dispose();
  }
};
