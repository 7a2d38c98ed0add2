// What a benchmarked training step works on: the model config of a benchmark configuration
// (decoded through the project's config codec) and a fixed random Sudoku-shaped batch.
// The batch's values do not change the work of a step: every step runs both segments in full.

import type { Batch } from '../core/batch.ts';
import { decodeConfig, type HrmConfig } from '../model/config.ts';
import { Rng } from '../core/rng.ts';
import { SHARED, type BenchSizes } from './anchors.ts';

/** The HrmConfig of benchmark sizes `z` (anchor constants for everything else). */
export const benchConfig = (z: BenchSizes): HrmConfig =>
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
      },
      train: { global_batch_size: z.batchSize, lr_warmup_steps: 0 },
    },
    `benchmark configuration '${z.name}'`,
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
