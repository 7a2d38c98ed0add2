// The model API every backend offers (types only). `createHrm(config, { backend })` in
// src/model/hrm.ts returns an `Hrm`; training, evaluation, the CLI and the benchmarks use only this.
// Shapes: B batch, T seq_len, S = T + puzzle_emb_len, D hidden, V vocab.

/**
 * The metrics of the original (spec §4.4), declared once: per call they are sums over the rows that
 * halted at this call and have ≥ 1 label; the training log and the evaluation reduce them to means
 * (src/train/metrics-log.ts, src/train/evaluate.ts) under the same names.
 */
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

import type { Backend } from '../core/backend.ts';
import type { Batch } from '../core/batch.ts';
import type { Tensor } from '../core/tensor.ts';
import type { RngState } from '../core/rng.ts';
import type { HrmConfig } from './config.ts';
import type { Layout } from './layout.ts';

/**
 * Optional observer of one call: receives host copies of named intermediates (used by `hrm trace`
 * and the executable spec; costs a read per key, so leave it out in training). Keys:
 * training: `reset.z_H`, `reset.z_L` (the states the segment starts from), `logits`, `q_halt_logits`, `q_continue_logits`, `next_q_halt_logits`,
 * `next_q_continue_logits`, `target_q_continue`, `ce`, `carry.z_H`, `carry.z_L`,
 * `puzzle_emb.local_weights` (P > 0), with `gradients`: `grad.<parameter>` and
 * `grad.puzzle_emb.local_weights`; with `probe`: `x`, `z_H.in`, `z_L.in`, `L.h{h}.l{l}`, `H.h{h}` (TRM also `call0.*`: the first network call's input and per-block values).
 * Eval: the same forward keys (no `next_*`, `target_*`, gradients).
 */
export interface StepObserver {
  readonly tensor: (key: string, value: Tensor<Float64Array>) => void;
  readonly probe?: boolean;
  readonly gradients?: boolean;
}

/**
 * The ACT carry, owned by the model's backend: z_H, z_L [B,S,D] as backend handles, plus host
 * bookkeeping. Opaque to callers except for the host fields.
 */
export interface Carry {
  readonly batchSize: number;
  readonly steps: Int32Array; // [B]
  readonly halted: Uint8Array; // [B]
  readonly currentData: Batch;
}

/**
 * Host copies of a carry (for checkpoints and exact resume): z_H, z_L [B,S,D], the per-row step
 * counters and halted flags [B], and the data the rows are working on (as `Carry.currentData`).
 */
export interface CarrySnapshot {
  readonly zH: Tensor<Float64Array>; // [B, S, D]
  readonly zL: Tensor<Float64Array>; // [B, S, D]
  readonly steps: Int32Array; // [B]
  readonly halted: Uint8Array; // [B]
  readonly currentData: Batch;
}

/** Learning rates of one optimizer step (from the schedule). */
export interface StepRates {
  readonly lr: number; // AdamATan2
  readonly puzzleEmbLr: number; // SignSGD on the puzzle table
}

/** Everything needed to save and restore training exactly (host copies). */
export interface TrainingState {
  readonly parameters: ReadonlyMap<string, Tensor<Float64Array>>; // original names (spec §8), buffers included
  readonly adamM: ReadonlyMap<string, Tensor<Float64Array>>;
  readonly adamV: ReadonlyMap<string, Tensor<Float64Array>>;
  readonly ema?: ReadonlyMap<string, Tensor<Float64Array>>;
  readonly optimizerStep: number; // AdamATan2's t of the last update (0 before any)
  readonly rng: RngState; // the model's exploration generator
}

/**
 * One HRM on one backend. The model code is shared by every backend; `createHrm(config, { backend })`
 * in src/model/hrm.ts builds one.
 */
export interface Hrm {
  readonly backend: Backend<unknown>;
  readonly config: HrmConfig;
  /** the state-dict layout (original names, order, shapes, parameter/buffer) */
  readonly layout: Layout;
  /** Every row counts as halted, so the first call resets it (spec §3.1). */
  initialCarry(batchSize: number, seqLen: number): Carry;
  /**
   * One training step (anchors' definition): one ACT call in training mode (segment with the
   * one-step gradient + the Q-target segment), backward of total/globalBatchSize, SignSGD on the
   * puzzle table, AdamATan2 (then EMA if enabled). Consumes `carry`, returns the next one.
   */
  trainStep(
    carry: Carry,
    batch: Batch,
    rates: StepRates,
    globalBatchSize: number,
    options?: { observe?: StepObserver },
  ): Promise<{ carry: Carry; result: ActStepResult }>;
  /**
   * One ACT call in eval mode (halting ignores Q; no gradients). Consumes `carry`. `haltMaxSteps`
   * overrides the config's (inference-time scaling); `weights: 'ema'` evaluates the EMA copy
   * (only when the config enables EMA).
   */
  evalStep(
    carry: Carry,
    batch: Batch,
    options?: { haltMaxSteps?: number; weights?: 'live' | 'ema'; observe?: StepObserver },
  ): Promise<{ carry: Carry; result: ActStepResult }>;
  /** Host copies of a live carry of this model; does not consume it. */
  exportCarry(carry: Carry): Promise<CarrySnapshot>;
  /**
   * A live carry of this model holding a snapshot's contents. Every field is checked against the
   * model's sizes (z_H, z_L [B,S,D], steps, halted [B], currentData [B,T] with tokens and ids in
   * range); an error names the field and what was expected.
   */
  importCarry(snapshot: CarrySnapshot): Carry;
  /** Releases a carry's device memory without stepping. */
  disposeCarry(carry: Carry): void;
  /** Host copies of the full training state (for checkpoints). */
  saveState(): Promise<TrainingState>;
  /** Restores parameters (and optimizer state / rng when present); shapes are checked by name. */
  loadState(state: Partial<TrainingState> & Pick<TrainingState, 'parameters'>): void;
  /** Releases all device memory and worker threads of this model. */
  dispose(): Promise<void>;
}
