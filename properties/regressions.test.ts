// Replays every pinned failing seed of properties/regressions.ts against its property: each must
// now pass. An id whose target is unavailable on this machine is skipped with the reason.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Backend, KernelName } from '../src/core/backend.ts';
import { conformanceTargets } from '../src/backends/registry.ts';
import { caseFor } from '../src/verify/cases.ts';
import { GRAD_CASES } from '../src/verify/gradcheck.ts';
import { arbModelCase, checkModel } from '../src/verify/model.ts';
import { conformanceProperty, gradProperty, immutabilityProperty } from './props.ts';
import { LAW_PROPERTIES } from './laws.ts';
import { PINNED_FAILURES } from './regressions.ts';

const targets = await conformanceTargets();

const backendFor = async (id: string): Promise<Backend<unknown> | string> => {
  const t = targets.find((x) => x.id === id);
  if (t === undefined) return `no conformance target '${id}' in this build`;
  if ('unavailable' in t) return t.unavailable;
  return t.create();
};

describe('pinned failing seeds replay and pass', () => {
  it('every pinned id names a known property', () => {
    for (const p of PINNED_FAILURES) {
      const [kind, ...rest] = p.id.split(':');
      expect(['grad', 'conformance', 'immutable', 'law', 'model'], p.id).toContain(kind);
      if (kind === 'grad') expect(GRAD_CASES.map((c) => c.name), p.id).toContain(rest.join(':'));
      if (kind === 'law') expect(Object.keys(LAW_PROPERTIES), p.id).toContain(rest.join(':'));
      if (kind === 'conformance' || kind === 'immutable') caseFor(rest[1] as KernelName);
    }
  });
  for (const p of PINNED_FAILURES) {
    it(`${p.id} (seed ${p.seed}, path ${p.path}): ${p.note}`, async (ctx) => {
      const [kind, ...rest] = p.id.split(':');
      const params = { seed: p.seed, path: p.path, numRuns: 1 };
      if (kind === 'grad') {
        fc.assert(gradProperty(GRAD_CASES.find((c) => c.name === rest.join(':'))!), params);
      } else if (kind === 'law') {
        const law = LAW_PROPERTIES[rest.join(':')];
        await fc.assert(law() as fc.IAsyncProperty<unknown>, params);
      } else if (kind === 'model') {
        const b = await backendFor(rest[0]);
        if (typeof b === 'string') {
          console.warn(`regression ${p.id} skipped: ${b}`);
          ctx.skip();
          return;
        }
        const model = fc.asyncProperty(arbModelCase, async (m) => {
          const r = await checkModel(b, m);
          if (!r.ok) throw new Error(r.failure);
        });
        await fc.assert(model, params);
        await b.close?.();
      } else {
        const b = await backendFor(rest[0]);
        if (typeof b === 'string') {
          console.warn(`regression ${p.id} skipped: ${b}`);
          ctx.skip();
          return;
        }
        const c = caseFor(rest[1] as KernelName);
        await fc.assert(kind === 'conformance' ? conformanceProperty(b, c) : immutabilityProperty(b, c), params);
        await b.close?.();
      }
    });
  }
});
