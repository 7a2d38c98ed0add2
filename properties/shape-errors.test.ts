// Shape errors: on every conformance target, a call with mismatched shapes throws a ShapeError whose
// message names the kernel, the argument, the shape it got and the shape expected. Table-driven for
// every kernel with a shape constraint, plus a property over random mismatches of `linear`.

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../src/core/backend.ts';
import { ShapeError } from '../src/core/backend.ts';
import { conformanceTargets } from '../src/backends/registry.ts';
import type { Shape } from '../src/core/tensor.ts';
import { numel } from '../src/core/tensor.ts';
import { propRuns } from '../src/verify/arbitraries.ts';

type Call = <T>(b: Backend<T>, t: (shape: Shape) => T) => unknown;

interface Mismatch {
  readonly kernel: string;
  readonly argument: string;
  readonly got: string;
  readonly expected: string;
  readonly call: Call;
}

const i32 = (n: number) => new Int32Array(n);
const CASES: readonly Mismatch[] = [
  { kernel: 'linear', argument: 'w', got: '[3, 5]', expected: '[M, 4]', call: (b, t) => b.linear(t([2, 4]), t([3, 5])) },
  { kernel: 'linear', argument: 'b', got: '[2]', expected: '[3]', call: (b, t) => b.linear(t([2, 4]), t([3, 4]), t([2])) },
  { kernel: 'linearBackward', argument: 'dy', got: '[2, 4]', expected: '[2, 3]', call: (b, t) => b.linearBackward(t([2, 4]), t([2, 4]), t([3, 4]), false) },
  { kernel: 'add', argument: 'b', got: '[2, 3]', expected: '[3, 2]', call: (b, t) => b.add(t([3, 2]), t([2, 3])) },
  { kernel: 'addBroadcast', argument: 'y', got: '[3, 4]', expected: '[3, 5]', call: (b, t) => b.addBroadcast(t([2, 3, 5]), t([3, 4])) },
  { kernel: 'sumBatch', argument: 'x', got: '[]', expected: '[B, ...]', call: (b, t) => b.sumBatch(t([])) },
  { kernel: 'rmsNormBackward', argument: 'dy', got: '[2, 3]', expected: '[2, 4]', call: (b, t) => b.rmsNormBackward(t([2, 3]), t([2, 4]), 1e-5) },
  { kernel: 'addRmsNorm', argument: 'b', got: '[2, 5]', expected: '[2, 4]', call: (b, t) => b.addRmsNorm(t([2, 4]), t([2, 5]), 1e-5) },
  { kernel: 'addRmsNormBackward', argument: 'dy', got: '[1, 4]', expected: '[2, 4]', call: (b, t) => b.addRmsNormBackward(t([1, 4]), t([2, 4]), t([2, 4]), 1e-5) },
  { kernel: 'rope', argument: 'cos', got: '[4, 8]', expected: '[3, 8]', call: (b, t) => b.rope(t([1, 3, 16]), t([4, 8]), t([3, 8]), 8, 2) },
  { kernel: 'rope', argument: 'x', got: '[1, 3, 12]', expected: 'multiple of headDim 8', call: (b, t) => b.rope(t([1, 3, 12]), t([3, 8]), t([3, 8]), 8, 1) },
  { kernel: 'ropeBackward', argument: 'sin', got: '[3, 4]', expected: '[3, 8]', call: (b, t) => b.ropeBackward(t([1, 3, 16]), t([3, 8]), t([3, 4]), 8, 2) },
  { kernel: 'attention', argument: 'qkv', got: '[1, 3, 10]', expected: '3·2·hd', call: (b, t) => b.attention(t([1, 3, 10]), 2) },
  { kernel: 'attentionBackward', argument: 'dy', got: '[1, 3, 6]', expected: '[1, 3, 4]', call: (b, t) => b.attentionBackward(t([1, 3, 6]), t([1, 3, 12]), 2) },
  { kernel: 'swiglu', argument: 'gu', got: '[2, 5]', expected: '[..., 2I]', call: (b, t) => b.swiglu(t([2, 5])) },
  { kernel: 'swigluBackward', argument: 'dy', got: '[2, 4]', expected: '[2, 3]', call: (b, t) => b.swigluBackward(t([2, 4]), t([2, 6])) },
  { kernel: 'embedding', argument: 'ids', got: '[5]', expected: '[6]', call: (b, t) => b.embedding(t([4, 3]), i32(5), [2, 3]) },
  { kernel: 'embeddingBackward', argument: 'ids', got: '[5]', expected: '[6]', call: (b, t) => b.embeddingBackward(t([2, 3, 4]), i32(5), 4) },
  { kernel: 'concatSeq', argument: 'b', got: '[2, 3, 5]', expected: '[2, T, 4]', call: (b, t) => b.concatSeq(t([2, 1, 4]), t([2, 3, 5])) },
  { kernel: 'sliceSeq', argument: 'x', got: '[2, 3, 4]', expected: 'S ≥ start + len = 2 + 2', call: (b, t) => b.sliceSeq(t([2, 3, 4]), 2, 2) },
  { kernel: 'sliceSeqBackward', argument: 'dy', got: '[2, 3, 4]', expected: 'start + len ≤ fullLen', call: (b, t) => b.sliceSeqBackward(t([2, 3, 4]), 3, 1) },
  { kernel: 'transpose', argument: 'x', got: '[2, 3]', expected: '[B, M, N]', call: (b, t) => b.transpose(t([2, 3])) },
  { kernel: 'resetRows', argument: 'init', got: '[3]', expected: '[4]', call: (b, t) => b.resetRows(t([2, 3, 4]), t([3]), new Uint8Array(2)) },
  { kernel: 'resetRows', argument: 'mask', got: '[3]', expected: '[2]', call: (b, t) => b.resetRows(t([2, 3, 4]), t([4]), new Uint8Array(3)) },
  { kernel: 'crossEntropy', argument: 'labels', got: '[5]', expected: '[6]', call: (b, t) => b.crossEntropy(t([2, 3, 4]), i32(5), 'softmax_cross_entropy') },
  {
    kernel: 'crossEntropyBackward',
    argument: 'rowScale',
    got: '[3]',
    expected: '[2]',
    call: (b, t) => b.crossEntropyBackward(t([2, 3, 4]), i32(6), 'stablemax_cross_entropy', new Float64Array(3)),
  },
  { kernel: 'argmax', argument: 'x', got: '[]', expected: '[..., V]', call: (b, t) => b.argmax(t([])) },
  { kernel: 'bceWithLogits', argument: 'target', got: '[4]', expected: '[3]', call: (b, t) => b.bceWithLogits(t([3]), t([4])) },
  { kernel: 'bceWithLogitsBackward', argument: 'target', got: '[2, 2]', expected: '[4]', call: (b, t) => b.bceWithLogitsBackward(t([4]), t([2, 2]), 1) },
  {
    kernel: 'adamAtan2',
    argument: 'v',
    got: '[3]',
    expected: '[4]',
    call: (b, t) => b.adamAtan2({ param: t([4]), m: t([4]), v: t([3]) }, t([4]), { lr: 1e-3, weightDecay: 0, beta1: 0.9, beta2: 0.95, step: 1 }),
  },
  { kernel: 'signSgdRows', argument: 'grads', got: '[2, 3]', expected: '[B, 4]', call: (b, t) => b.signSgdRows(t([5, 4]), t([2, 3]), i32(2), 1e-2, 0.1) },
  { kernel: 'signSgdRows', argument: 'ids', got: '[3]', expected: '[2]', call: (b, t) => b.signSgdRows(t([5, 4]), t([2, 4]), i32(3), 1e-2, 0.1) },
  { kernel: 'ema', argument: 'p', got: '[2, 3]', expected: '[3, 2]', call: (b, t) => b.ema(t([3, 2]), t([2, 3]), 0.9) },
];

const expectShapeError = (f: () => unknown, m: Pick<Mismatch, 'kernel' | 'argument' | 'got' | 'expected'>): void => {
  let thrown: unknown;
  try {
    f();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, `${m.kernel} did not throw`).toBeInstanceOf(ShapeError);
  const msg = (thrown as Error).message;
  expect(msg).toContain(`${m.kernel}:`);
  expect(msg).toContain(`'${m.argument}'`);
  expect(msg).toContain(m.got);
  expect(msg).toContain(m.expected);
};

const targets = await conformanceTargets();
for (const target of targets) {
  if ('unavailable' in target) {
    console.warn(`shape errors: target '${target.id}' skipped: ${target.unavailable}`);
    describe.skip(`shape errors on ${target.id} (unavailable: ${target.unavailable})`, () => {
      it('is not run', () => {});
    });
    continue;
  }
  describe(`shape errors on ${target.id}`, () => {
    let b: Backend<unknown>;
    beforeAll(async () => {
      b = await target.create();
    });
    afterAll(async () => {
      await b?.close?.();
    });
    const tensorOn = (shape: Shape) => b.fromArray(shape, new Float64Array(numel(shape)));
    for (const m of CASES) {
      it(`${m.kernel}: '${m.argument}' ${m.got} instead of ${m.expected}`, () => {
        expectShapeError(() => m.call(b, tensorOn), m);
      });
    }
    it('linear: any K mismatch names w, both shapes', () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 }), (N, K, K2, M) => {
          fc.pre(K !== K2);
          expectShapeError(() => b.linear(tensorOn([N, K]), tensorOn([M, K2])), { kernel: 'linear', argument: 'w', got: `[${M}, ${K2}]`, expected: `[M, ${K}]` });
        }),
        { numRuns: propRuns(100) },
      );
    });
  });
}
