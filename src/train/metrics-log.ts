// The run's metrics log: one JSON object per line in `<run dir>/metrics.jsonl`, appended as
// training goes (train records every step, eval records after each evaluation). The records are
// what the plot and any later analysis read back; this module does not decide what to log.

import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { withFileErrors } from '../io/files.ts';
import { inputError, parseJsonText } from '../io/codec.ts';
import type { StepMetrics } from '../model/api.ts';
import type { EvalMetrics } from './evaluate.ts';

/** One training step, reduced as the original logs it (losses ÷ global batch, rates ÷ count). */
interface TrainRecordBase {
  readonly kind: 'train';
  readonly step: number;
  readonly epoch: number;
  readonly time_s: number;
  readonly lr: number;
  readonly puzzle_emb_lr: number;
  /** total loss ÷ global batch size (what backward differentiates) */
  readonly loss: number;
  /** losses ÷ global batch size; count: rows that halted at this step with ≥ 1 label */
  readonly lm_loss: StepMetrics['lm_loss'];
  readonly q_halt_loss: StepMetrics['q_halt_loss'];
  readonly q_continue_loss: number;
  readonly count: StepMetrics['count'];
}

/** A training step's log record: present only when count > 0, per-row means over the halted rows. */
export type TrainRecord = TrainRecordBase & Partial<Pick<StepMetrics, 'accuracy' | 'exact_accuracy' | 'q_halt_accuracy' | 'steps'>>;

/** One evaluation over the whole test split (metrics of the final ACT call, ÷ count). */
export interface EvalRecord extends EvalMetrics {
  readonly kind: 'eval';
  readonly step: number;
  readonly epoch: number;
  readonly time_s: number;
  readonly halt_max_steps: number;
}

export type MetricRecord = TrainRecord | EvalRecord;

/** Reduces one step's summed metrics as the original trainer does (spec §4.4). */
export const reduceTrainMetrics = (
  m: StepMetrics,
  qContinueLoss: number,
  globalBatchSize: number,
): Pick<TrainRecord, 'lm_loss' | 'q_halt_loss' | 'q_continue_loss' | 'count' | 'accuracy' | 'exact_accuracy' | 'q_halt_accuracy' | 'steps'> => {
  const base = {
    lm_loss: m.lm_loss / globalBatchSize,
    q_halt_loss: m.q_halt_loss / globalBatchSize,
    q_continue_loss: qContinueLoss / globalBatchSize,
    count: m.count,
  };
  if (m.count === 0) return base;
  return {
    ...base,
    accuracy: m.accuracy / m.count,
    exact_accuracy: m.exact_accuracy / m.count,
    q_halt_accuracy: m.q_halt_accuracy / m.count,
    steps: m.steps / m.count,
  };
};

/** Appends records to a JSONL file (created if missing). */
export const appendRecords = (file: string, records: readonly MetricRecord[]): void => {
  if (records.length === 0) return;
  withFileErrors('append to', file, () => appendFileSync(file, records.map((r) => JSON.stringify(r)).join('\n') + '\n'));
};

/**
 * Reads a metrics log. A torn last line (a crash mid-write) is ignored; a malformed line elsewhere
 * is an error naming the file and line.
 */
export const readRecords = (file: string): MetricRecord[] => {
  if (!existsSync(file)) return [];
  const lines = withFileErrors('read', file, () => readFileSync(file, 'utf8')).split('\n');
  const out: MetricRecord[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = parseJsonText(line, `${file}:${i + 1}`, 4);
    } catch {
      if (i >= lines.length - 2) return; // a torn final line
      throw inputError(`${file}:${i + 1}`, `not a JSON object`);
    }
    const kind = (value as { kind?: unknown } | null)?.kind;
    const step = (value as { step?: unknown } | null)?.step;
    if (typeof value !== 'object' || value === null || (kind !== 'train' && kind !== 'eval') || !Number.isSafeInteger(step)) {
      throw inputError(`${file}:${i + 1}`, `expected a record with kind "train" or "eval" and an integer step`);
    }
    out.push(value as MetricRecord);
  });
  return out;
};

/**
 * Keeps only records up to `step` (used on resume: steps after the checkpoint are replayed and
 * logged again, so the log never holds two records for one step).
 */
export const truncateAfterStep = (records: readonly MetricRecord[], step: number): MetricRecord[] =>
  records.filter((r) => r.step <= step);
