// The one model/dataset compatibility check (used by `hrm train`, also on resume with another
// --data, and by `hrm eval`): the sizes a dataset decides must be the model's.

import { describe, expect, it } from 'vitest';
import type { DatasetMetadata } from '../data/format.ts';
import { decodeConfig } from '../model/config.ts';
import { datasetMismatch, datasetProblems } from './run-config.ts';

const meta: DatasetMetadata = {
  pad_id: 0, ignore_label_id: 0, blank_identifier_id: 0, vocab_size: 11, seq_len: 81, num_puzzle_identifiers: 1,
  total_groups: 100, mean_puzzle_examples: 1, sets: ['all'],
};
const config = decodeConfig(
  {
    arch: { seq_len: 81, vocab_size: 11, num_puzzle_identifiers: 1, puzzle_emb_ndim: 0, H_cycles: 1, L_cycles: 1, H_layers: 1, L_layers: 1, hidden_size: 8, num_heads: 2, expansion: 2, pos_encodings: 'rope', halt_max_steps: 2, halt_exploration_prob: 0.1 },
    train: { global_batch_size: 10, epochs: 1, eval_interval: 1 },
  },
  'test config',
);

describe('dataset compatibility', () => {
  it('a config made for the dataset fits it', () => {
    expect(datasetMismatch(config.arch, meta)).toEqual([]);
    expect(datasetProblems(config, meta, meta, 'data/x', 100)).toEqual([]);
  });
  it('names every size the model and the dataset disagree on', () => {
    const other = { ...meta, seq_len: 16, vocab_size: 6 };
    expect(datasetMismatch(config.arch, other)).toEqual(['seq_len 81 (model) vs 16 (dataset)', 'vocab_size 11 (model) vs 6 (dataset)']);
    expect(datasetProblems(config, other, other, 'data/4x4', 100)).toEqual(['config does not fit data/4x4: seq_len 81 (model) vs 16 (dataset), vocab_size 11 (model) vs 6 (dataset)']);
  });
});
