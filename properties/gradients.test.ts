// Every backward of the contract against central finite differences of its forward, in float64
// on the reference (exact column checks where the forward is affine in an argument). Run count:
// HRM_PROP_RUNS (default 100).

import fc from 'fast-check';
import { describe, it } from 'vitest';
import { GRAD_CASES } from '../src/verify/gradcheck.ts';
import { propRuns } from '../src/verify/arbitraries.ts';
import { gradProperty } from './props.ts';

const runs = propRuns(100);

describe(`reference backward = ∂⟨dy, forward⟩ (finite differences, ${runs} runs each)`, () => {
  for (const c of GRAD_CASES) {
    it(`${c.name}: ${c.kernels.join(' / ')} (w.r.t. ${c.wrt.join(', ')}${c.linearIn.length ? `; exact in ${c.linearIn.join(', ')}` : ''})`, () => {
      fc.assert(gradProperty(c), { numRuns: runs });
    });
  }
});
