// The model API every backend offers (types only). `createHrm(config, { backend })` in
// src/model/hrm.ts returns an `Hrm`; training, evaluation, the CLI and the benchmarks use only this.
// Shapes: B batch, T seq_len, S = T + puzzle_emb_len, D hidden, V vocab.

/** One batch as the data loader delivers it (labels already mapped: −100 = ignored). */
export interface Batch {
  readonly inputs: Int32Array; // [B, T]
  readonly labels: Int32Array; // [B, T]
  readonly puzzleIdentifiers: Int32Array; // [B]
  readonly batchSize: number;
  readonly seqLen: number;
}

/** Per-call metrics, as sums over rows that halted at this call and have ≥ 1 label (spec §4.4). */
export interface StepMetrics {
  readonly count: number;
  readonly accuracy: number;
  readonly exact_accuracy: number;
  readonly q_halt_accuracy: number;
  readonly steps: number;
  readonly lm_loss: number;
  readonly q_halt_loss: number;
  readonly q_continue_loss?: number;
}

/** Host-side results of one ACT call (one segment) of the loss head. */
export interface ActStepResult {
  readonly lmLoss: number;
  readonly qHaltLoss: number;
  readonly qContinueLoss: number; // 0 when there is no Q target (eval, or halt_max_steps = 1)
  readonly totalLoss: number;
  readonly metrics: StepMetrics;
  readonly halted: Uint8Array; // [B] after this call
  readonly steps: Int32Array; // [B] after this call
  readonly allHalted: boolean;
  /** argmax predictions [B, T] of this call (token ids) */
  readonly predictions: Int32Array;
  readonly qHaltLogits: Float64Array; // [B]
  readonly qContinueLogits: Float64Array; // [B]
}
