// Adapts a loaded dataset to what the training driver and the evaluation need: the training
// stream of one outer iteration (src/data/loader.ts `TrainIterator`, `eval_interval` epochs per
// iteration, seeded, resumable from its saved state) and the padded test batches.

import type { DatasetSplit } from '../data/format.ts';
import { TrainIterator, testBatches, type TrainIteratorState } from '../data/loader.ts';
import type { TestBatch } from './evaluate.ts';
import type { TrainData, TrainStream } from './trainer.ts';

const setOf = (split: DatasetSplit, what: string) => {
  const set = split.sets.all;
  if (!set) throw new Error(`${split.dir}: no set 'all' (${what})`);
  return set;
};

/** Training batches of `split`, `epochsPerIteration` epochs per outer iteration. */
export const trainData = (split: DatasetSplit, globalBatchSize: number, seed: number, epochsPerIteration: number): TrainData => {
  const set = setOf(split, 'training');
  const options = { globalBatchSize, seed, epochsPerIteration };
  let iterator: TrainIterator | undefined;
  return {
    examplesPerEpoch: split.metadata.total_groups * split.metadata.mean_puzzle_examples,
    open(iteration: number, resumeState?: unknown): TrainStream {
      if (resumeState !== undefined && resumeState !== null) {
        iterator = new TrainIterator(set, split.metadata, options, resumeState as TrainIteratorState);
      } else if (iterator === undefined) {
        iterator = new TrainIterator(set, split.metadata, options, { seed, iteration, cursor: 0, rng: null });
      }
      const it = iterator;
      const gen = it.iteration();
      return {
        next: () => {
          const r = gen.next();
          return r.done ? undefined : r.value.batch;
        },
        state: () => it.state(),
      };
    },
  };
};

/** The test split in padded chunks of `globalBatchSize` rows. */
export function* testData(split: DatasetSplit, globalBatchSize: number): Generator<TestBatch> {
  for (const b of testBatches(setOf(split, 'evaluation'), split.metadata, { globalBatchSize })) yield { batch: b.batch, size: b.effectiveSize };
}
