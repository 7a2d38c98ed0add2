// Algebraic laws of the reference kernels (see laws.ts), HRM_PROP_RUNS runs each (default 100).

import fc from 'fast-check';
import { describe, it } from 'vitest';
import { propRuns } from '../src/verify/arbitraries.ts';
import { LAW_PROPERTIES } from './laws.ts';

const runs = propRuns(100);
const titles: Record<string, string> = {
  'rmsNorm-unit-rms': 'RMSNorm rows have RMS sqrt(m/(m + eps)): exactly unit RMS for eps = 0',
  'probabilities-sum-to-1': 'softmax and stablemax rows are non-negative, sum to 1, and ce = −log p_y',
  'stablemax-continuous-at-0': "stablemax's s and s′ are continuous at 0 (s(0) = s′(0) = 1)",
  'stablemax-loss-continuous-at-0': 'the stablemax loss and its gradient move by O(d) when a logit crosses 0',
  'attention-query-equivariant': 'attention is equivariant to permuting query positions (Q rows only)',
  'attention-key-value-invariant': 'attention is invariant to permuting key and value positions together',
  'rope-preserves-head-norm': "RoPE preserves each head's norm",
  'rope-dot-depends-on-offset': 'RoPE: q·k depends only on the position difference',
};

describe(`kernel laws (${runs} runs each)`, () => {
  for (const [id, law] of Object.entries(LAW_PROPERTIES)) {
    it(`${titles[id] ?? id} [law:${id}]`, async () => {
      await fc.assert(law() as fc.IAsyncProperty<unknown>, { numRuns: runs });
    });
  }
});
