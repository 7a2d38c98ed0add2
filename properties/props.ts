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

/**
 * Packs keep values (pack, packedZeros, place), and adamAtan2Many over packed states with placed
 * gradients gives exactly what adamAtan2 gives per tensor on the same backend.
 */
export const packingProperty = <T>(target: Backend<T>) =>
  fc.asyncProperty(
    fc.array(fc.array(fc.integer({ min: 1, max: 70 }), { minLength: 1, maxLength: 2 }), { minLength: 1, maxLength: 5 }),
    fc.integer({ min: 1, max: 2 ** 31 - 1 }),
    async (shapes, seed) => {
      const b = target;
      let s = seed;
      const next = (): number => {
        s = (Math.imul(s, 1103515245) + 12345) >>> 0;
        return Math.fround((s / 2 ** 32) * 2 - 1);
      };
      const sizes = shapes.map((sh) => sh.reduce((a, d) => a * d, 1));
      const fresh = (scale: (x: number) => number): number[][] => sizes.map((n) => Array.from({ length: n }, () => scale(next())));
      const [p, m, v, g] = [fresh((x) => x), fresh((x) => x * 1e-2), fresh((x) => x * x * 1e-3), fresh((x) => x)];
      const upload = (xs: number[][]): T[] => shapes.map((sh, i) => b.fromArray(sh, xs[i]));
      const same = async (ts: readonly T[], want: readonly T[] | number[][], what: string): Promise<void> => {
        for (let i = 0; i < ts.length; i++) {
          const got = Array.from((await b.read(ts[i])).data);
          const w = Array.isArray(want[i]) ? (want[i] as number[]) : Array.from((await b.read(want[i] as T)).data);
          if (got.some((x, j) => !Object.is(x, w[j]))) throw new Error(`${what}: tensor ${i} differs`);
        }
      };
      const packed = b.pack(upload(p));
      await same(packed, p, 'pack');
      const zeros = b.packedZeros(shapes);
      await same(zeros, sizes.map((n) => new Array<number>(n).fill(0)), 'packedZeros');
      // the gradients placed into zero slots, as the training step does
      const grads = zeros.map((z, i) => b.place(b.scale(b.fromArray(shapes[i], g[i]), 1), z));
      await same(grads, g, 'place');
      const hyper = { lr: 3e-3, weightDecay: 0.1, beta1: 0.9, beta2: 0.95, step: 2 };
      const [pm, pv] = [b.pack(upload(m)), b.pack(upload(v))];
      const after = b.adamAtan2Many(packed.map((t, i) => ({ param: t, m: pm[i], v: pv[i] })), grads, hyper);
      const [qp, qm, qv, qg] = [p, m, v, g].map(upload);
      const single = qp.map((t, i) => b.adamAtan2({ param: t, m: qm[i], v: qv[i] }, qg[i], hyper));
      for (const k of ['param', 'm', 'v'] as const) await same(after.map((x) => x[k]), single.map((x) => x[k]), `adamAtan2Many on packs: ${k}`);
      for (const t of [...after.flatMap((x) => [x.param, x.m, x.v]), ...single.flatMap((x) => [x.param, x.m, x.v]), ...grads, ...qg]) b.dispose(t);
    },
  );
