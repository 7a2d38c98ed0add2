// The recurrence and its one-step gradient (spec §2), as executable examples on tiny models:
// the order of module calls per segment, which calls keep activations for backward, the one-step
// gradient as the full gradient of "last L, then last H" from constant incoming states (and how
// it differs from back-propagating through the whole segment), memory that does not grow with the
// cycle counts, and no leaked or reused-after-dispose handles.

import { describe, expect, it } from 'vitest';
import type { Tensor } from '../src/core/tensor.ts';
import { segmentBackward, segmentForward } from '../src/model/segment.ts';
import { blockNames } from '../src/model/layout.ts';
import type { Grads } from '../src/model/context.ts';
import { contextFor, randomTensor, randomWeights, tinyConfig, trackingBackend } from './support/model-harness.ts';

type T64 = Tensor<Float64Array>;
const B = 2;

/** Runs one segment with gradient on the tracking backend and reports module calls and the grad-carrying ones. */
const traceSegment = (H_cycles: number, L_cycles: number) => {
  const b = trackingBackend();
  const config = tinyConfig({ H_cycles, L_cycles });
  const { ctx, handles } = contextFor(b, config, randomWeights(config, 1));
  const S = ctx.sizes.totalSeqLen;
  const D = config.arch.hidden_size;
  const mk = (seed: number) => { const t = randomTensor([B, S, D], seed); return b.fromArray(t.shape, t.data); };
  const zH = mk(2), zL = mk(3), x = mk(4);
  const qkvH = handles.get(blockNames('H_level', 0).qkv);
  const qkvL = handles.get(blockNames('L_level', 0).qkv);
  const start = b.calls.length;
  const seg = segmentForward(ctx, zH, zL, x, true);
  // the qkv projection: linear, or linearRope with RoPE (the weight is the second argument of both)
  const forwardCalls = b.calls.slice(start).filter((c) => (c.kernel === 'linear' || c.kernel === 'linearRope') && (c.args[1] === qkvH || c.args[1] === qkvL));
  const modules = forwardCalls.map((c) => (c.args[1] === qkvH ? 'H' : 'L'));
  const liveAfterForward = b.live.size;
  const grads: Grads<T64> = new Map();
  const dzH = mk(5);
  const mark = b.calls.length;
  const dx = segmentBackward(ctx, seg.tape!, dzH, grads);
  // the backward of block 0 of each level uses the input of the forward call it belongs to
  const withGrad = b.calls.slice(mark).filter((c) => (c.kernel === 'linearBackward' || c.kernel === 'linearRopeBackward') && (c.args[2] === qkvH || c.args[2] === qkvL))
    .map((c) => forwardCalls.findIndex((f) => f.args[0] === c.args[1]));
  for (const h of [zH, zL, x, dzH, dx, seg.zH, seg.zL, ...grads.values()]) b.dispose(h);
  return { modules, withGrad: withGrad.sort((p, q) => p - q), liveAfterForward, b, handles, ctx };
};

describe('one segment (spec §2)', () => {
  it('H=2, L=2: L, L, H, L, L*, H* (only the last L and the last H keep activations for backward)', () => {
    const r = traceSegment(2, 2);
    expect(r.modules).toEqual(['L', 'L', 'H', 'L', 'L', 'H']);
    expect(r.withGrad).toEqual([4, 5]);
  });

  it('other cycle counts: H·L L-updates and H H-updates, the gradient pair always last', () => {
    const cases: [number, number, string][] = [
      [1, 1, 'L H'],
      [1, 3, 'L L L H'],
      [3, 1, 'L H L H L H'],
      [3, 2, 'L L H L L H L L H'],
      [2, 3, 'L L L H L L L H'],
    ];
    for (const [H, L, order] of cases) {
      const r = traceSegment(H, L);
      const seq = order.split(' ');
      expect(r.modules, `${H}/${L}`).toEqual(seq);
      expect(r.withGrad, `${H}/${L}`).toEqual([seq.length - 2, seq.length - 1]);
    }
  });

  it('activations kept for backward do not grow with H_cycles × L_cycles, and nothing leaks', () => {
    const sizes = [[1, 1], [2, 2], [4, 3]].map(([H, L]) => {
      const r = traceSegment(H, L);
      // everything allocated by the segment was released: only the weights and RoPE tables remain
      expect(r.b.live.size, `${H}/${L}`).toBe(r.handles.size + 2);
      expect(r.b.problems).toEqual([]);
      return r.liveAfterForward;
    });
    expect(sizes[1]).toBe(sizes[0]);
    expect(sizes[2]).toBe(sizes[0]);
  });

  it('the one-step gradient is the full gradient of a 1/1 segment started from the states entering the last L update', async () => {
    const b = trackingBackend();
    const config = tinyConfig({ H_cycles: 2, L_cycles: 3, H_layers: 2, L_layers: 1 });
    const one = tinyConfig({ H_cycles: 1, L_cycles: 1, H_layers: 2, L_layers: 1 });
    const weights = randomWeights(config, 9);
    const probes = new Map<string, T64>();
    const pending: Promise<void>[] = [];
    const { ctx } = contextFor(b, config, weights, (k, h) => pending.push(b.read(h).then((t) => void probes.set(k, t))));
    const S = ctx.sizes.totalSeqLen;
    const D = config.arch.hidden_size;
    const up = (t: T64) => b.fromArray(t.shape, t.data);
    const zH = up(randomTensor([B, S, D], 1)), zL = up(randomTensor([B, S, D], 2)), x = up(randomTensor([B, S, D], 3));
    const c = randomTensor([B, S, D], 4); // loss = Σ c ⊙ z_H*
    const full = segmentForward(ctx, zH, zL, x, true, true);
    await Promise.all(pending);
    const g1: Grads<T64> = new Map();
    const dx1 = await b.read(segmentBackward(ctx, full.tape!, up(c), g1));
    // the states entering the last pair: z_H after H-cycle 0, z_L after the second-to-last L update
    const zHprev = probes.get('H.h0')!, zLprev = probes.get('L.h1.l1')!;
    const { ctx: ctx1 } = contextFor(b, one, weights);
    const short = segmentForward(ctx1, up(zHprev), up(zLprev), x, true);
    expect(Array.from((await b.read(short.zH)).data)).toEqual(Array.from((await b.read(full.zH)).data));
    const g2: Grads<T64> = new Map();
    const dx2 = await b.read(segmentBackward(ctx1, short.tape!, up(c), g2));
    expect([...g2.keys()].sort()).toEqual([...g1.keys()].sort());
    for (const [k, g] of g1) expect(Array.from(g2.get(k)!.data), k).toEqual(Array.from(g.data));
    expect(Array.from(dx2.data)).toEqual(Array.from(dx1.data));
  });

  it('…and differs from back-propagation through the whole segment (finite differences of the full recurrence)', async () => {
    const b = trackingBackend();
    const config = tinyConfig({ H_cycles: 2, L_cycles: 2 });
    const weights = randomWeights(config, 11);
    const S = 6, D = 8;
    const zH = randomTensor([B, S, D], 1), zL = randomTensor([B, S, D], 2), x = randomTensor([B, S, D], 3), c = randomTensor([B, S, D], 4);
    const lossWith = async (w: Map<string, T64>) => {
      const { ctx } = contextFor(b, config, w);
      const r = segmentForward(ctx, b.fromArray(zH.shape, zH.data), b.fromArray(zL.shape, zL.data), b.fromArray(x.shape, x.data), false);
      const out = await b.read(r.zH);
      return out.data.reduce((s, v, i) => s + v * c.data[i], 0);
    };
    const { ctx } = contextFor(b, config, weights);
    const r = segmentForward(ctx, b.fromArray(zH.shape, zH.data), b.fromArray(zL.shape, zL.data), b.fromArray(x.shape, x.data), true);
    const grads: Grads<T64> = new Map();
    segmentBackward(ctx, r.tape!, b.fromArray(c.shape, c.data), grads);
    const name = blockNames('L_level', 0).o;
    const oneStep = (await b.read(grads.get(name)!)).data;
    const h = 1e-5;
    let maxRel = 0;
    for (const i of [0, 5, 17, 40]) {
      const plus = new Map(weights), minus = new Map(weights);
      const base = weights.get(name)!;
      const p = Float64Array.from(base.data); p[i] += h;
      const m = Float64Array.from(base.data); m[i] -= h;
      plus.set(name, { shape: base.shape, data: p });
      minus.set(name, { shape: base.shape, data: m });
      const bptt = ((await lossWith(plus)) - (await lossWith(minus))) / (2 * h);
      maxRel = Math.max(maxRel, Math.abs(bptt - oneStep[i]) / Math.max(Math.abs(bptt), 1e-12));
    }
    // full BPTT also sees the earlier L updates, which share these weights: the gradients differ by far more than FD error
    expect(maxRel).toBeGreaterThan(0.05);
  });
});
