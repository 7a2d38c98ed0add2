// What a benchmarked training step works on: the model config of a benchmark configuration
// (decoded through the project's config codec) and a fixed random Sudoku-shaped batch.
// The batch's values do not change the work of a step: every step runs both segments in full.

import type { Batch } from '../core/batch.ts';
import { decodeConfig, type HrmConfig } from '../model/config.ts';
import { Rng } from '../core/rng.ts';
import { SHARED, type BenchSizes } from './anchors.ts';

/**
 * Which model a benchmarked step runs: HRM (the anchors), or TRM at the same width and layers per
 * network with TRM's Sudoku cycles (H_cycles 3, L_cycles 6), with attention or mlp_t blocks.
 */
export type BenchModel = 'hrm' | 'trm-att' | 'trm-mlp';

/** TRM's fields for a benchmark model (none for HRM). */
const trmFields = (model: BenchModel, z: BenchSizes) =>
  model === 'hrm'
    ? {}
    : { name: 'trm', H_layers: 0, L_layers: z.layers, H_cycles: 3, L_cycles: 6, no_ACT_continue: true, ...(model === 'trm-mlp' ? { mlp_t: true, pos_encodings: 'none' } : {}) };

/** The HrmConfig of benchmark sizes `z` (anchor constants for everything else), as HRM or TRM. */
export const benchConfig = (z: BenchSizes, model: BenchModel = 'hrm'): HrmConfig =>
  decodeConfig(
    {
      description: `benchmark configuration '${z.name}'`,
      arch: {
        batch_size: z.batchSize,
        seq_len: SHARED.seqLen,
        puzzle_emb_ndim: z.puzzleEmb === true ? z.hidden : SHARED.puzzleEmbNdim,
        num_puzzle_identifiers: 1,
        vocab_size: SHARED.vocab,
        H_cycles: z.hCycles,
        L_cycles: z.lCycles,
        H_layers: z.layers,
        L_layers: z.layers,
        hidden_size: z.hidden,
        expansion: SHARED.expansion,
        num_heads: z.heads,
        pos_encodings: SHARED.posEncodings,
        rms_norm_eps: SHARED.rmsNormEps,
        rope_theta: SHARED.ropeTheta,
        halt_max_steps: SHARED.haltMaxSteps,
        halt_exploration_prob: SHARED.haltExplorationProb,
        loss_type: SHARED.loss,
        ...trmFields(model, z),
      },
      train: { global_batch_size: z.batchSize, lr_warmup_steps: 0 },
    },
    `benchmark configuration '${z.name}'${model === 'hrm' ? '' : ` (${model})`}`,
  );

/** A random batch [B, 81]: inputs are digits 1..10 or blank (1), labels the digits (token ids 2..10). */
export const benchBatch = (z: BenchSizes, seed = 7): Batch => {
  const rng = Rng.fromSeed(seed);
  const n = z.batchSize * SHARED.seqLen;
  const inputs = new Int32Array(n);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = rng.int(2, SHARED.vocab - 1);
    inputs[i] = rng.uniform() < 0.3 ? labels[i] : 1;
  }
  return {
    inputs,
    labels,
    puzzleIdentifiers: new Int32Array(z.batchSize),
    batchSize: z.batchSize,
    seqLen: SHARED.seqLen,
  };
};
