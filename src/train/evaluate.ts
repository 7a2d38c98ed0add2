// Evaluation of a model on a test split (spec §3.2, §4.4): every batch starts from a fresh carry
// and runs halt_max_steps ACT calls in eval mode (halting ignores Q); metrics are those of the
// final call, summed over batches and divided by the number of counted rows. Also reports what
// ACT halting at inference would do (the first segment where q_halt > q_continue, or q_halt > 0 for TRM) and keeps the
// final predictions when asked (ARC voting, `hrm solve`). Effects: model calls only.

import type { Hrm, StepMetrics } from '../model/api.ts';
import { haltsByQ } from '../model/act.ts';
import { IGNORE_LABEL, type Batch } from '../core/batch.ts';

/** A test batch: padded to the global batch size, `size` real rows first. */
export interface TestBatch {
  readonly batch: Batch;
  readonly size: number;
}

/**
 * The model's metrics over a whole test split, as means over the rows with ≥ 1 supervised label
 * (`count`); `steps` is the mean segments run (= halt_max_steps in eval mode). No Q-continue loss in eval.
 */
export type EvalMetrics = Required<Omit<StepMetrics, 'q_continue_loss'>>;

export interface EvalSummary extends EvalMetrics {
  readonly haltMaxSteps: number;
  /** mean segment at which Q first said halt (q_halt > q_continue; TRM: q_halt > 0) (halt_max_steps if never) */
  readonly act_segments: number;
  /** exact accuracy if every row had stopped at that segment */
  readonly act_exact_accuracy: number;
  /** exact accuracy after each segment 1..halt_max_steps (the refinement curve) */
  readonly exact_by_segment: readonly number[];
}

export interface RowOutput {
  readonly predictions: Int32Array; // [T]
  readonly qHaltLogit: number;
  readonly qContinueLogit: number;
  readonly puzzleIdentifier: number;
  readonly inputs: Int32Array; // [T]
  readonly labels: Int32Array; // [T]
}

export interface EvalOptions {
  readonly haltMaxSteps: number;
  /** evaluate the EMA copy of the weights (only for configs with EMA) */
  readonly weights?: 'live' | 'ema';
  /** keep every real row's final outputs (memory: B·T ints per batch) */
  readonly keepOutputs?: boolean;
  /** called after each batch with the rows done so far */
  readonly onBatch?: (rowsDone: number) => void;
}

/** Whether row b's predictions match every supervised label (true when none is supervised). */
const rowExact = (pred: Int32Array, labels: Int32Array, b: number, T: number): { exact: boolean; counted: boolean } => {
  let counted = false;
  let exact = true;
  for (let t = 0; t < T; t++) {
    const y = labels[b * T + t];
    if (y === IGNORE_LABEL) continue;
    counted = true;
    if (pred[b * T + t] !== y) exact = false;
  }
  return { exact, counted };
};

/** Runs the whole test split; returns reduced metrics and, if asked, every row's final outputs. */
export const evaluate = async (
  hrm: Hrm,
  batches: Iterable<TestBatch> | AsyncIterable<TestBatch>,
  options: EvalOptions,
): Promise<{ summary: EvalSummary; outputs: RowOutput[] }> => {
  const M = options.haltMaxSteps;
  const sums = { count: 0, accuracy: 0, exact_accuracy: 0, q_halt_accuracy: 0, steps: 0, lm_loss: 0, q_halt_loss: 0 };
  const exactBySegment = new Float64Array(M);
  let actSegments = 0;
  let actExact = 0;
  let rowsDone = 0;
  const outputs: RowOutput[] = [];
  for await (const { batch, size } of batches as AsyncIterable<TestBatch>) {
    const B = batch.batchSize;
    const T = batch.seqLen;
    let carry = hrm.initialCarry(B, T);
    const haltedAt = new Int32Array(B); // segment where ACT would halt (0 = not yet)
    const exactAtHalt = new Uint8Array(B);
    let segment = 0;
    for (;;) {
      const { carry: next, result } = await hrm.evalStep(carry, batch, { haltMaxSteps: M, ...(options.weights ? { weights: options.weights } : {}) });
      carry = next;
      segment += 1;
      if (segment > M) throw new Error(`evaluate: the model did not halt after halt_max_steps = ${M} segments`);
      for (let b = 0; b < size; b++) {
        const { exact, counted } = rowExact(result.predictions, batch.labels, b, T);
        if (counted && exact) exactBySegment[segment - 1] += 1;
        if (haltedAt[b] === 0 && (haltsByQ(hrm.config.arch.no_ACT_continue, result.qHaltLogits[b], result.qContinueLogits[b]) || result.allHalted)) {
          haltedAt[b] = segment;
          exactAtHalt[b] = counted && exact ? 1 : 0;
        }
      }
      if (result.allHalted) {
        const m = result.metrics;
        sums.count += m.count;
        sums.accuracy += m.accuracy;
        sums.exact_accuracy += m.exact_accuracy;
        sums.q_halt_accuracy += m.q_halt_accuracy;
        sums.steps += m.steps;
        sums.lm_loss += m.lm_loss;
        sums.q_halt_loss += m.q_halt_loss;
        for (let b = 0; b < size; b++) {
          if (!rowExact(result.predictions, batch.labels, b, T).counted) continue;
          actSegments += haltedAt[b];
          actExact += exactAtHalt[b];
        }
        if (options.keepOutputs) {
          for (let b = 0; b < size; b++) {
            outputs.push({
              predictions: result.predictions.slice(b * T, (b + 1) * T),
              qHaltLogit: result.qHaltLogits[b],
              qContinueLogit: result.qContinueLogits[b],
              puzzleIdentifier: batch.puzzleIdentifiers[b],
              inputs: batch.inputs.slice(b * T, (b + 1) * T),
              labels: batch.labels.slice(b * T, (b + 1) * T),
            });
          }
        }
        break;
      }
    }
    hrm.disposeCarry(carry);
    rowsDone += size;
    options.onBatch?.(rowsDone);
  }
  const n = Math.max(sums.count, 1);
  return {
    summary: {
      haltMaxSteps: M,
      count: sums.count,
      accuracy: sums.accuracy / n,
      exact_accuracy: sums.exact_accuracy / n,
      q_halt_accuracy: sums.q_halt_accuracy / n,
      steps: sums.steps / n,
      lm_loss: sums.lm_loss / n,
      q_halt_loss: sums.q_halt_loss / n,
      act_segments: actSegments / n,
      act_exact_accuracy: actExact / n,
      exact_by_segment: [...exactBySegment].map((v) => v / n),
    },
    outputs,
  };
};
