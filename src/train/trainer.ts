// The training driver (spec §5.4, §5.7): outer iterations of `eval_interval` epochs; inside, one
// optimizer step per ACT call with a carry that persists across batches (halted rows take fresh
// samples); after each iteration an evaluation on the test split and a checkpoint. Also a
// checkpoint every N steps when asked, on Ctrl-C (via `stopRequested`) and at a simulated kill
// (`stopAfterSteps`, for tests). A non-finite loss stops training without saving. Every effect
// (data, evaluation, saving, logging) is injected, so this module is the loop and nothing else.

import type { Carry, Hrm, StepRates } from '../model/api.ts';
import type { Batch } from '../core/batch.ts';
import type { EvalSummary } from './evaluate.ts';
import type { EvalRecord, TrainRecord } from './metrics-log.ts';
import { reduceTrainMetrics } from './metrics-log.ts';

/** Batches of one outer iteration (its `eval_interval` epochs), in order; saveable mid-way. */
export interface TrainStream {
  /** the next full global batch, or undefined when the iteration's batches are exhausted */
  next(): Batch | undefined;
  /** JSON state that `TrainData.open(iteration, state)` continues from exactly */
  state(): unknown;
}

export interface TrainData {
  /** examples in one epoch (groups × mean examples per puzzle), for the epoch counter */
  readonly examplesPerEpoch: number;
  open(iteration: number, resumeState?: unknown): TrainStream;
}

export type SaveReason = 'eval' | 'interval' | 'interrupt' | 'stop' | 'final';

/** What the saver is given: everything that is not inside the model. */
export interface SavePoint {
  readonly reason: SaveReason;
  readonly step: number;
  /** iterations fully done (evaluated) */
  readonly iteration: number;
  /** state of the data stream after the last batch used (continues exactly from there) */
  readonly dataState: unknown;
  readonly carry: Carry | undefined;
  readonly lastEval?: EvalSummary;
}

export interface TrainerOptions {
  readonly hrm: Hrm;
  readonly globalBatchSize: number;
  readonly totalSteps: number;
  readonly totalIterations: number;
  readonly rates: (step: number) => StepRates;
  readonly data: TrainData;
  readonly evaluate: (step: number) => Promise<EvalSummary>;
  readonly save: (point: SavePoint) => Promise<string | undefined>;
  /** save also every this many steps (0: only after evaluations) */
  readonly checkpointEvery: number;
  readonly onStep?: (record: TrainRecord) => void;
  readonly onEval?: (record: EvalRecord, summary: EvalSummary) => void;
  /** polled after every step (Ctrl-C) */
  readonly stopRequested?: () => boolean;
  /** stop (and save) once this step is done: a simulated interruption */
  readonly stopAfterSteps?: number;
  /** where to start (a fresh run: step 0, iteration 0) */
  readonly start: { readonly step: number; readonly iteration: number; readonly dataState?: unknown; readonly carry?: Carry };
  readonly now?: () => number;
}

export type TrainOutcome =
  | { readonly status: 'done'; readonly step: number; readonly lastEval?: EvalSummary; readonly checkpoint?: string }
  | { readonly status: 'interrupted'; readonly step: number; readonly checkpoint?: string }
  | { readonly status: 'diverged'; readonly step: number; readonly message: string; readonly checkpoint?: string };

/** Runs training from `start` to the end (or an interruption); returns how it ended. */
export const train = async (o: TrainerOptions): Promise<TrainOutcome> => {
  const now = o.now ?? (() => performance.now() / 1000);
  const t0 = now();
  const { hrm, globalBatchSize: B } = o;
  let step = o.start.step;
  let carry: Carry | undefined = o.start.carry;
  let lastCheckpoint: string | undefined;
  let lastEval: EvalSummary | undefined;
  const epochOf = (s: number): number => (s * B) / o.data.examplesPerEpoch;
  const saveNow = async (reason: SaveReason, iteration: number, dataState: unknown): Promise<void> => {
    const path = await o.save({ reason, step, iteration, dataState, carry, lastEval });
    if (path !== undefined) lastCheckpoint = path;
  };
  for (let iteration = o.start.iteration; iteration < o.totalIterations; iteration++) {
    const stream = o.data.open(iteration, iteration === o.start.iteration ? o.start.dataState : undefined);
    for (;;) {
      if (step >= o.totalSteps) break;
      const batch = stream.next();
      if (batch === undefined) break;
      if (batch.batchSize !== B) throw new Error(`training batch has ${batch.batchSize} rows, expected global_batch_size ${B}`);
      step += 1;
      carry ??= hrm.initialCarry(B, batch.seqLen);
      const rates = o.rates(step);
      const { carry: next, result } = await hrm.trainStep(carry, batch, rates, B);
      carry = next;
      const loss = result.totalLoss / B;
      if (!Number.isFinite(loss)) {
        return {
          status: 'diverged',
          step,
          checkpoint: lastCheckpoint,
          message:
            `training stopped: the loss became ${loss} at step ${step} (lm ${result.lmLoss}, q_halt ${result.qHaltLoss}, q_continue ${result.qContinueLoss}); ` +
            (lastCheckpoint ? `the last good checkpoint is ${lastCheckpoint}` : 'no checkpoint was saved yet') +
            '. Try a lower lr or a longer warm-up.',
        };
      }
      o.onStep?.({
        kind: 'train',
        step,
        epoch: epochOf(step),
        time_s: now() - t0,
        lr: rates.lr,
        puzzle_emb_lr: rates.puzzleEmbLr,
        loss,
        ...reduceTrainMetrics(result.metrics, result.qContinueLoss, B),
      });
      // let signal handlers (Ctrl-C) run: a backend whose reads resolve at once never yields otherwise
      await new Promise<void>((resolve) => setImmediate(resolve));
      const interrupted = o.stopRequested?.() === true;
      const killed = o.stopAfterSteps !== undefined && step >= o.stopAfterSteps;
      if (interrupted || killed) {
        await saveNow(interrupted ? 'interrupt' : 'stop', iteration, stream.state());
        return { status: 'interrupted', step, checkpoint: lastCheckpoint };
      }
      if (o.checkpointEvery > 0 && step % o.checkpointEvery === 0) await saveNow('interval', iteration, stream.state());
    }
    // evaluation and checkpoint at the end of the iteration (spec §5.7)
    const summary = await o.evaluate(step);
    lastEval = summary;
    o.onEval?.(
      {
        kind: 'eval',
        step,
        epoch: epochOf(step),
        time_s: now() - t0,
        halt_max_steps: summary.haltMaxSteps,
        count: summary.count,
        accuracy: summary.accuracy,
        exact_accuracy: summary.exact_accuracy,
        q_halt_accuracy: summary.q_halt_accuracy,
        steps: summary.steps,
        lm_loss: summary.lm_loss,
        q_halt_loss: summary.q_halt_loss,
      },
      summary,
    );
    await saveNow(iteration + 1 === o.totalIterations ? 'final' : 'eval', iteration + 1, stream.state());
    if (o.stopRequested?.() === true) return { status: 'interrupted', step, checkpoint: lastCheckpoint };
  }
  return { status: 'done', step, lastEval, checkpoint: lastCheckpoint };
};
