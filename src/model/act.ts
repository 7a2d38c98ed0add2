// The host side of the ACT loss head (spec §3, §4): replacing the data of halted rows, halting
// decisions (training: max steps, Q (strict >), exploration; eval: max steps only), the Q-learning
// target's logit selection, and the per-call losses and metrics from the few values read back
// (per-token CE, argmax, per-element BCE). Pure functions on small host arrays [B] / [B,T].

import type { Rng } from '../core/rng.ts';
import type { StepMetrics } from './api.ts';
import { IGNORE_LABEL, type Batch } from '../core/batch.ts';

/** The data a call processes: batch rows where the carry halted, the carry's data elsewhere. */
export const mergeData = (current: Batch, batch: Batch, halted: Uint8Array): Batch => {
  const B = batch.batchSize;
  const T = batch.seqLen;
  const inputs = new Int32Array(current.inputs);
  const labels = new Int32Array(current.labels);
  const ids = new Int32Array(current.puzzleIdentifiers);
  for (let b = 0; b < B; b++) {
    if (halted[b] === 0) continue;
    inputs.set(batch.inputs.subarray(b * T, (b + 1) * T), b * T);
    labels.set(batch.labels.subarray(b * T, (b + 1) * T), b * T);
    ids[b] = batch.puzzleIdentifiers[b];
  }
  return { inputs, labels, puzzleIdentifiers: ids, batchSize: B, seqLen: T };
};

/** steps ← 0 where halted, then +1 (the steps after this call). */
export const advanceSteps = (steps: Int32Array, halted: Uint8Array): Int32Array =>
  Int32Array.from(steps, (s, b) => (halted[b] !== 0 ? 0 : s) + 1);

/**
 * Halting after a call (spec §3.2). Always: steps ≥ haltMaxSteps. Training with haltMaxSteps > 1:
 * also q_halt > q_continue (strict), then held back while steps < min_halt, where per row
 * min_halt = randint[2, haltMaxSteps] with probability `explorationProb`, else 0. The generator
 * draws B uniforms, then B integers, in every training call (independent of the values).
 * `fixedSegments`: training halts at haltMaxSteps only (Q is not consulted; the draws still happen).
 */
export const decideHalting = (args: {
  readonly steps: Int32Array;
  readonly qHalt: Float64Array;
  readonly qContinue: Float64Array;
  readonly training: boolean;
  readonly haltMaxSteps: number;
  readonly explorationProb: number;
  readonly rng: Rng;
  readonly fixedSegments?: boolean;
}): { halted: Uint8Array; isLast: Uint8Array } => {
  const { steps, qHalt, qContinue, haltMaxSteps: M } = args;
  const B = steps.length;
  const isLast = Uint8Array.from(steps, (s) => (s >= M ? 1 : 0));
  const halted = new Uint8Array(isLast);
  if (args.training && M > 1) {
    const explore = Array.from({ length: B }, () => args.rng.uniform() < args.explorationProb);
    const draw = Array.from({ length: B }, () => args.rng.int(2, M));
    for (let b = 0; b < B; b++) {
      let h = halted[b] !== 0 || (args.fixedSegments !== true && qHalt[b] > qContinue[b]);
      const minHalt = explore[b] ? draw[b] : 0;
      h = h && steps[b] >= minHalt;
      halted[b] = h ? 1 : 0;
    }
  }
  return { halted, isLast };
};

/** Whether Q says halt: q_halt > q_continue (HRM), or q_halt > 0 with no_ACT_continue (TRM). Strict. */
export const haltsByQ = (noActContinue: boolean, qHalt: number, qContinue: number): boolean => (noActContinue ? qHalt > 0 : qHalt > qContinue);

/** The logit whose sigmoid is the Q-continue target: next q_halt on the last step, else max(next q_halt, next q_continue). */
export const qTargetLogits = (isLast: Uint8Array, nextHalt: Float64Array, nextContinue: Float64Array): Float64Array =>
  Float64Array.from(nextHalt, (h, b) => (isLast[b] !== 0 ? h : Math.max(h, nextContinue[b])));

/** Per-row label statistics of one call (spec §4.3). */
export interface RowStats {
  readonly count: Int32Array; // valid labels per row
  readonly correct: Int32Array; // valid labels predicted right per row
  readonly seqCorrect: Uint8Array; // every valid label right (true when count = 0)
  readonly lmPerRow: Float64Array; // Σ_t CE / max(count, 1)
}

/** Row statistics from per-token CE [B,T] (0 where ignored), argmax predictions [B,T] and labels [B,T]. */
export const rowStats = (ce: Float64Array, predictions: Int32Array, labels: Int32Array, B: number, T: number): RowStats => {
  const count = new Int32Array(B);
  const correct = new Int32Array(B);
  const seqCorrect = new Uint8Array(B);
  const lmPerRow = new Float64Array(B);
  for (let b = 0; b < B; b++) {
    let sum = 0;
    for (let t = 0; t < T; t++) {
      const i = b * T + t; // [b, t]
      if (labels[i] === IGNORE_LABEL) continue;
      count[b]++;
      if (predictions[i] === labels[i]) correct[b]++;
    }
    const div = Math.max(count[b], 1);
    for (let t = 0; t < T; t++) sum += ce[b * T + t] / div;
    lmPerRow[b] = sum;
    seqCorrect[b] = correct[b] === count[b] ? 1 : 0;
  }
  return { count, correct, seqCorrect, lmPerRow };
};

/** Loss sums over all rows and metrics over rows that halted with ≥ 1 label (spec §4.3, §4.4). */
export const lossesAndMetrics = (args: {
  readonly stats: RowStats;
  readonly bceHalt: Float64Array; // [B]
  readonly bceContinue: Float64Array | null; // [B] when there is a Q target
  readonly qHalt: Float64Array;
  readonly halted: Uint8Array;
  readonly steps: Int32Array;
}): { lmLoss: number; qHaltLoss: number; qContinueLoss: number; totalLoss: number; metrics: StepMetrics } => {
  const { stats, halted, steps, qHalt } = args;
  const B = halted.length;
  const sum = (a: ArrayLike<number>): number => {
    let s = 0;
    for (let i = 0; i < a.length; i++) s += a[i];
    return s;
  };
  const lmLoss = sum(stats.lmPerRow);
  const qHaltLoss = sum(args.bceHalt);
  const qContinueLoss = args.bceContinue === null ? 0 : sum(args.bceContinue);
  let count = 0;
  let accuracy = 0;
  let exact = 0;
  let qAcc = 0;
  let stepSum = 0;
  for (let b = 0; b < B; b++) {
    if (halted[b] === 0 || stats.count[b] === 0) continue;
    count++;
    accuracy += stats.correct[b] / Math.max(stats.count[b], 1);
    exact += stats.seqCorrect[b];
    qAcc += (qHalt[b] >= 0 ? 1 : 0) === stats.seqCorrect[b] ? 1 : 0;
    stepSum += steps[b];
  }
  const metrics: StepMetrics = {
    count,
    accuracy,
    exact_accuracy: exact,
    q_halt_accuracy: qAcc,
    steps: stepSum,
    lm_loss: lmLoss,
    q_halt_loss: qHaltLoss,
    ...(args.bceContinue === null ? {} : { q_continue_loss: qContinueLoss }),
  };
  return { lmLoss, qHaltLoss, qContinueLoss, totalLoss: lmLoss + 0.5 * (qHaltLoss + qContinueLoss), metrics };
};
