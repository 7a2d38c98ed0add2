// The properties of the kernel suite as named fast-check properties, shared by the test files and
// by the pinned-regression replays (regressions.test.ts): one id per property, e.g.
// 'grad:attention', 'conformance:reference:rope', 'immutable:reference:rope', 'law:…'.

import fc from 'fast-check';
import type { Backend, KernelName } from '../src/core/backend.ts';
import { referenceBackend } from '../src/reference/backend.ts';
import type { KernelCase } from '../src/verify/cases.ts';
import type { GradCase } from '../src/verify/gradcheck.ts';
import { describeGradMismatch, gradCheck } from '../src/verify/gradcheck.ts';
import { checkCase, describeCheck } from '../src/verify/runner.ts';

/** ∂⟨dy, f⟩ of a backward against central differences (or exactly, where f is affine), float64. */
export const gradProperty = (c: GradCase<unknown>, backend = referenceBackend) =>
  fc.property(c.arbitrary, (input) => {
    const r = gradCheck(backend, c, input);
    if (!r.ok && r.mismatch) throw new Error(describeGradMismatch(c, r.mismatch));
    return r.ok;
  });

/** A target's outputs within the tolerance table of the reference's. */
export const conformanceProperty = <T>(target: Backend<T>, c: KernelCase<unknown>) =>
  fc.asyncProperty(c.arbitrary, async (input) => {
    const r = await checkCase(target, c, input);
    if (!r.comparison.ok || r.error !== undefined) throw new Error(describeCheck(c.kernel as KernelName, { ...r, mutated: [] }));
  });

/** A kernel leaves every argument it does not consume bit-identical (tensor handles and host arrays). */
export const immutabilityProperty = <T>(target: Backend<T>, c: KernelCase<unknown>) =>
  fc.asyncProperty(c.arbitrary, async (input) => {
    const r = await checkCase(target, c, input);
    if (r.error !== undefined) throw new Error(`${c.kernel} threw ${r.error}`);
    if (r.mutated.length > 0) throw new Error(`${c.kernel} modified its argument(s) ${r.mutated.join(', ')}`);
  });
