// Executable examples of what the kernels compute, small enough to check by hand: RoPE's half-split
// pairing, stablemax values, ignored labels and the per-sequence mean, the fused QKV head layout,
// SwiGLU's gate-then-up layout, AdamATan2's scale-free first step and SignSGD's duplicate ids.

import { describe, expect, it } from 'vitest';
import { referenceBackend as R } from '../src/reference/backend.ts';
import { ropeTables } from '../src/model/rope-tables.ts';

const T = (shape: number[], data: number[]) => R.fromArray(shape, data);
const arr = (t: { data: Float64Array }) => Array.from(t.data);

describe('RoPE is half-split (GPT-NeoX / Llama-HF), not interleaved', () => {
  it('pairs channel i with i + hd/2: a 90° rotation of [1,2,3,4] gives [−3,−4,1,2]', () => {
    const x = T([1, 1, 4], [1, 2, 3, 4]);
    const cos = T([1, 4], [0, 0, 0, 0]);
    const sin = T([1, 4], [1, 1, 1, 1]);
    // v·cos + rotate_half(v)·sin with rotate_half([1,2,3,4]) = [−3,−4,1,2]
    expect(arr(R.rope(x, cos, sin, 4, 1))).toEqual([-3, -4, 1, 2]);
    // interleaved pairs (0,1), (2,3) would have given [−2, 1, −4, 3]
    expect(arr(R.rope(x, cos, sin, 4, 1))).not.toEqual([-2, 1, -4, 3]);
  });
  it('rotates only the first rotatedHeads heads (Q and K of a fused qkv), V is copied', () => {
    const x = T([1, 1, 6], [1, 2, 3, 4, 5, 6]);
    const cos = T([1, 2], [0, 0]);
    const sin = T([1, 2], [1, 1]);
    expect(arr(R.rope(x, cos, sin, 2, 2))).toEqual([-2, 1, -4, 3, 5, 6]);
  });
  it('tables: inv_freq = 1/θ^(2i/hd) in float32, each half repeated; position 0 is the identity', () => {
    const { cos, sin } = ropeTables(2, 4, 10000);
    expect(arr(cos).slice(0, 4)).toEqual([1, 1, 1, 1]);
    expect(arr(sin).slice(0, 4)).toEqual([0, 0, 0, 0]);
    // inv_freq = [1, 10000^(−1/2) = 0.01]: position 1 rotates by 1 rad and by 0.01 rad
    expect(arr(cos).slice(4)).toEqual([Math.fround(Math.cos(1)), Math.fround(Math.cos(Math.fround(0.01))), Math.fround(Math.cos(1)), Math.fround(Math.cos(Math.fround(0.01)))]);
    expect(arr(sin)[4]).toBe(Math.fround(Math.sin(1)));
  });
});

describe('stablemax cross-entropy (the default loss)', () => {
  it('s(x) = x + 1 (x ≥ 0), 1/(1 − x) (x < 0): logits [0, 1, −1] give s = [1, 2, 0.5], ce(y = 1) = −log(2/3.5)', () => {
    const ce = R.crossEntropy(T([1, 1, 3], [0, 1, -1]), new Int32Array([1]), 'stablemax_cross_entropy');
    expect(ce.data[0]).toBeCloseTo(Math.log(1.75), 15);
  });
  it('differs from softmax on the same logits', () => {
    const sm = R.crossEntropy(T([1, 1, 3], [0, 1, -1]), new Int32Array([1]), 'softmax_cross_entropy');
    expect(sm.data[0]).toBeCloseTo(Math.log(1 + Math.exp(-1) + Math.exp(-2)), 15);
  });
});

describe('ignored labels (−100) and the per-sequence mean', () => {
  it('an ignored token has ce = 0 and zero gradient; rowScale = 1/max(count, 1) makes the per-sequence mean', () => {
    // B = 2, T = 2, V = 2, all logits 0: row 0 has one label, row 1 none
    const logits = T([2, 2, 2], [0, 0, 0, 0, 0, 0, 0, 0]);
    const labels = new Int32Array([0, -100, -100, -100]);
    expect(arr(R.crossEntropy(logits, labels, 'softmax_cross_entropy'))).toEqual([Math.LN2, 0, 0, 0]);
    const g = R.crossEntropyBackward(logits, labels, 'softmax_cross_entropy', new Float64Array([1 / 1, 1 / 1]));
    expect(arr(g)).toEqual([-0.5, 0.5, 0, 0, 0, 0, 0, 0]);
    const g2 = R.crossEntropyBackward(T([1, 2, 2], [0, 0, 0, 0]), new Int32Array([0, 1]), 'stablemax_cross_entropy', new Float64Array([1 / 2]));
    // each token: s = [1, 1], ∂ce/∂x = s′/Σs − [v = y]·s′/s_y = [0.5 − 1, 0.5] for y = 0, halved by the mean over 2 tokens
    expect(arr(g2)).toEqual([-0.25, 0.25, 0.25, -0.25]);
  });
});

describe('fused QKV: all Q heads, then all K heads, then all V heads', () => {
  it('head h reads Q columns h·hd…, K columns C + h·hd…, V columns 2C + h·hd…', () => {
    // S = 2, Hh = 2, hd = 1 → row = [Q0, Q1, K0, K1, V0, V1]
    // head 0: Q0 = 1, K0 = [0, 20] → attends to position 1 (V0 = 3); head 1: Q1 = 0 → uniform over V1 = [10, 20]
    const qkv = T([1, 2, 6], [1, 0, 0, 5, 1, 10, 1, 0, 20, -5, 3, 20]);
    const y = arr(R.attention(qkv, 2));
    const p1 = 1 / (1 + Math.exp(-20));
    expect(y[0]).toBeCloseTo(1 * (1 - p1) + 3 * p1, 12);
    expect(y[1]).toBeCloseTo(15, 12);
    expect(y[2]).toBeCloseTo(1 * (1 - p1) + 3 * p1, 12);
    expect(y[3]).toBeCloseTo(15, 12);
  });
});

describe('SwiGLU: gate first, then up', () => {
  it('gu = [g, u] = [1, 2] gives silu(1)·2, not silu(2)·1', () => {
    const y = R.swiglu(T([1, 2], [1, 2])).data[0];
    expect(y).toBeCloseTo(2 / (1 + Math.exp(-1)), 15);
    expect(y).not.toBeCloseTo(2 / (1 + Math.exp(-2)), 3);
  });
});

describe('AdamATan2 (as released)', () => {
  it('first step is scale-free: ±(lr/0.1)·atan(0.1) for any g ≠ 0, exactly 0 for g = 0', () => {
    const lr = 1e-3;
    const s = R.adamAtan2({ param: R.zeros([4]), m: R.zeros([4]), v: R.zeros([4]) }, T([4], [1e-8, -5, 0, 1e3]), {
      lr,
      weightDecay: 0,
      beta1: 0.9,
      beta2: 0.95,
      step: 1,
    });
    const step = (lr / 0.1) * Math.atan(0.1); // ≈ 9.9669e−4
    const [a, b, c, d] = arr(s.param);
    expect(Math.abs(a + step)).toBeLessThanOrEqual(2 ** -23 * step);
    expect(Math.abs(b - step)).toBeLessThanOrEqual(2 ** -23 * step);
    expect(Object.is(c, 0)).toBe(true);
    expect(d).toBe(a);
  });
  it('decoupled decay comes first and applies even when g = 0: θ·f(1 − lr·wd)', () => {
    const s = R.adamAtan2({ param: T([1], [2]), m: R.zeros([1]), v: R.zeros([1]) }, R.zeros([1]), { lr: 0.01, weightDecay: 0.1, beta1: 0.9, beta2: 0.95, step: 1 });
    expect(s.param.data[0]).toBe(Math.fround(2 * Math.fround(1 - 0.01 * 0.1)));
  });
});

describe('SignSGD on puzzle-embedding rows', () => {
  it('sums the gradients of duplicate ids, steps by −lr·sign, and leaves rows not in the batch untouched', () => {
    const table = T([3, 2], [0.5, -0.25, 1, 1, 0.3, 0.7]);
    const grads = T([3, 2], [1, -1, -3, 0.5, 0, 0]);
    const ids = new Int32Array([1, 1, 2]); // id 1 twice: g_1 = [1 − 3, −1 + 0.5] = [−2, −0.5]
    const lr = 0.01;
    const wd = 0.1;
    const out = arr(R.signSgdRows(table, grads, ids, lr, wd));
    const f = Math.fround;
    const decay = f(1 - lr * wd);
    expect(out.slice(0, 2)).toEqual([0.5, -0.25]); // row 0 not in the batch: no step, no decay
    expect(out.slice(2, 4)).toEqual([f(f(1 * decay) + f(-lr) * -1), f(f(1 * decay) + f(-lr) * -1)]);
    expect(out.slice(4, 6)).toEqual([f(0.3 * decay), f(0.7 * decay)]); // sign(0) = 0: decay only
  });
});
