// The learning-rate schedule of spec §5.5 (`cosine_schedule_with_warmup_lr_lambda`): linear warm-up
// over W steps, then cosine decay to `minRatio`·base at totalSteps (constant when minRatio = 1).
// The step counter s starts at 1 for the first update. Pure.

import type { StepRates } from './api.ts';
import type { TrainConfig } from './config.ts';

/** lr at step s ≥ 1 for base lr, warm-up W, total steps, minimum ratio r. */
export const scheduledLr = (base: number, s: number, warmup: number, totalSteps: number, minRatio: number): number => {
  if (s < warmup) return (base * s) / warmup;
  const p = (s - warmup) / Math.max(1, totalSteps - warmup);
  return base * (minRatio + Math.max(0, (1 - minRatio) * 0.5 * (1 + Math.cos(Math.PI * p))));
};

/** Both optimizers' rates at step s (each with its own base lr, the same schedule). */
export const stepRates = (train: TrainConfig, s: number, totalSteps: number): StepRates => ({
  lr: scheduledLr(train.lr, s, train.lr_warmup_steps, totalSteps, train.lr_min_ratio),
  puzzleEmbLr: scheduledLr(train.puzzle_emb_lr, s, train.lr_warmup_steps, totalSteps, train.lr_min_ratio),
});

/** total_steps = floor(epochs · total_groups · mean_puzzle_examples / global_batch_size) (spec §5.6). */
export const totalSteps = (epochs: number, totalGroups: number, meanPuzzleExamples: number, globalBatchSize: number): number =>
  Math.floor((epochs * totalGroups * meanPuzzleExamples) / globalBatchSize);
