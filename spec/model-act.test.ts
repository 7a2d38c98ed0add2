// ACT and the loss head (spec §3, §4) as examples: halting rules in training (max steps, strict
// q_halt > q_continue, exploration only delays) and in eval (always haltMaxSteps, overridable),
// reset of halted rows, the Q-learning target from a second segment, halt_max_steps = 1 (no Q
// target, no continue gradient), buffers never trained, and no leaked handles over training steps.

import { describe, expect, it } from 'vitest';
import { Rng } from '../src/core/rng.ts';
import type { Tensor } from '../src/core/tensor.ts';
import type { Backend } from '../src/core/backend.ts';
import { advanceSteps, decideHalting, mergeData, qTargetLogits } from '../src/model/act.ts';
import { createHrm } from '../src/model/hrm.ts';
import type { Hrm } from '../src/model/api.ts';
import { randomBatch, randomWeights, tinyConfig, trackingBackend } from './support/model-harness.ts';

type T64 = Tensor<Float64Array>;
const rates = { lr: 1e-3, puzzleEmbLr: 1e-2 };

const observed = () => {
  const m = new Map<string, T64>();
  return { m, observe: { tensor: (k: string, v: T64) => void m.set(k, v), probe: true, gradients: true } };
};

const modelWith = (config: ReturnType<typeof tinyConfig>, seed: number, liveQ = true): { hrm: Hrm; b: ReturnType<typeof trackingBackend> } => {
  const b = trackingBackend();
  const hrm = createHrm(config, { backend: b as Backend<unknown>, seed });
  hrm.loadState({ parameters: randomWeights(config, seed, liveQ) });
  return { hrm, b };
};

describe('halting decisions (spec §3.2)', () => {
  const f64 = (...v: number[]) => Float64Array.from(v);
  it('training: max steps always halts; Q halts on a strict >; a tie does not', () => {
    const r = decideHalting({
      steps: Int32Array.from([4, 1, 1, 1]), qHalt: f64(-9, 0.5, -5, 1), qContinue: f64(0, 0.4, -5, 2),
      training: true, haltMaxSteps: 4, explorationProb: 0, rng: Rng.fromSeed(1),
    });
    expect(Array.from(r.halted)).toEqual([1, 1, 0, 0]);
    expect(Array.from(r.isLast)).toEqual([1, 0, 0, 0]);
  });
  it('training: exploration only delays halting to a random minimum in [2, M], never forces it', () => {
    const steps = Int32Array.from({ length: 400 }, (_, i) => 1 + (i % 4));
    const r = decideHalting({
      steps, qHalt: new Float64Array(400).fill(1), qContinue: new Float64Array(400), training: true, haltMaxSteps: 4, explorationProb: 1, rng: Rng.fromSeed(2),
    });
    for (let i = 0; i < 400; i++) {
      if (steps[i] === 1) expect(r.halted[i]).toBe(0); // min_halt ≥ 2
      if (steps[i] === 4) expect(r.halted[i]).toBe(1); // max steps
    }
    const mid = Array.from(r.halted).filter((_, i) => steps[i] === 2 || steps[i] === 3);
    expect(mid.some((h) => h === 1) && mid.some((h) => h === 0)).toBe(true);
    const calm = decideHalting({ steps, qHalt: new Float64Array(400), qContinue: new Float64Array(400).fill(1), training: true, haltMaxSteps: 4, explorationProb: 1, rng: Rng.fromSeed(2) });
    expect(Array.from(calm.halted)).toEqual(Array.from(steps, (s) => (s >= 4 ? 1 : 0)));
  });
  it('training with fixed_segments: Q is not consulted, every row runs haltMaxSteps segments', () => {
    const r = decideHalting({
      steps: Int32Array.from([4, 1, 2, 3]), qHalt: f64(-9, 9, 9, 9), qContinue: f64(0, -9, -9, -9),
      training: true, haltMaxSteps: 4, explorationProb: 0, rng: Rng.fromSeed(1), fixedSegments: true,
    });
    expect(Array.from(r.halted)).toEqual([1, 0, 0, 0]);
    const act = decideHalting({
      steps: Int32Array.from([4, 1, 2, 3]), qHalt: f64(-9, 9, 9, 9), qContinue: f64(0, -9, -9, -9),
      training: true, haltMaxSteps: 4, explorationProb: 0, rng: Rng.fromSeed(1),
    });
    expect(Array.from(act.halted)).toEqual([1, 1, 1, 1]);
  });
  it('eval ignores Q; the Q target is σ(next q_halt) on the last step, else σ(max(next q_halt, next q_continue))', () => {
    const r = decideHalting({ steps: Int32Array.from([1, 2]), qHalt: f64(9, 9), qContinue: f64(-9, -9), training: false, haltMaxSteps: 2, explorationProb: 1, rng: Rng.fromSeed(1) });
    expect(Array.from(r.halted)).toEqual([0, 1]);
    expect(Array.from(qTargetLogits(Uint8Array.from([1, 0, 0]), f64(-1, -1, 3), f64(2, 2, 1)))).toEqual([-1, 2, 3]);
  });
  it('reset: halted rows take the new batch row and restart at step 0', () => {
    const cur = { inputs: Int32Array.from([1, 1, 2, 2]), labels: Int32Array.from([1, 1, 2, 2]), puzzleIdentifiers: Int32Array.from([0, 1]), batchSize: 2, seqLen: 2 };
    const nxt = { inputs: Int32Array.from([5, 5, 6, 6]), labels: Int32Array.from([5, 5, 6, 6]), puzzleIdentifiers: Int32Array.from([2, 2]), batchSize: 2, seqLen: 2 };
    const m = mergeData(cur, nxt, Uint8Array.from([0, 1]));
    expect(Array.from(m.inputs)).toEqual([1, 1, 6, 6]);
    expect(Array.from(m.puzzleIdentifiers)).toEqual([0, 2]);
    expect(Array.from(advanceSteps(Int32Array.from([3, 3]), Uint8Array.from([0, 1])))).toEqual([4, 1]);
  });
});

describe('the ACT loss head through createHrm', () => {
  it('training: reset to H_init/L_init, Q target from the second segment, carry chained, buffers untouched, no leaks', async () => {
    const config = tinyConfig({ halt_max_steps: 3, puzzle_emb_ndim: 8, pos_encodings: 'learned' }, { global_batch_size: 3 });
    const { hrm, b } = modelWith(config, 5);
    const before = await hrm.saveState();
    const batch = randomBatch(config, 3, 1);
    let carry = hrm.initialCarry(3, 6);
    let prevCarry: { zH: T64; zL: T64 } | null = null;
    const liveAtStart = b.live.size;
    for (let k = 1; k <= 4; k++) {
      const o = observed();
      const wasHalted = Uint8Array.from(carry.halted);
      const step = await hrm.trainStep(carry, batch, rates, 3, { observe: o.observe });
      carry = step.carry;
      const D = 8, S = 7;
      const zHin = o.m.get('z_H.in')!.data;
      const Hinit = before.parameters.get('H_init')!.data;
      for (let r = 0; r < 3; r++) {
        for (let i = 0; i < S * D; i++) {
          const expected = wasHalted[r] ? Hinit[i % D] : prevCarry!.zH.data[r * S * D + i];
          if (zHin[r * S * D + i] !== expected) throw new Error(`step ${k} row ${r}: z_H.in differs at ${i}`);
        }
      }
      // the Q target: sigmoid of the selected next-step logit
      const nh = o.m.get('next_q_halt_logits')!.data, nc = o.m.get('next_q_continue_logits')!.data, tgt = o.m.get('target_q_continue')!.data;
      for (let r = 0; r < 3; r++) {
        const last = step.result.steps[r] >= 3;
        const logit = last ? nh[r] : Math.max(nh[r], nc[r]);
        expect(tgt[r]).toBeCloseTo(1 / (1 + Math.exp(-logit)), 14);
      }
      // gradients exist for exactly the parameters (never for H_init, L_init or the table)
      const gradKeys = [...o.m.keys()].filter((k2) => k2.startsWith('grad.')).map((k2) => k2.slice(5)).sort();
      expect(gradKeys).toEqual([...hrm.layout.filter((e) => e.kind === 'parameter').map((e) => e.name), 'puzzle_emb.local_weights'].sort());
      prevCarry = { zH: o.m.get('carry.z_H')!, zL: o.m.get('carry.z_L')! };
      expect(step.result.totalLoss).toBeCloseTo(step.result.lmLoss + 0.5 * (step.result.qHaltLoss + step.result.qContinueLoss), 12);
    }
    const after = await hrm.saveState();
    expect(Array.from(after.parameters.get('H_init')!.data)).toEqual(Array.from(before.parameters.get('H_init')!.data));
    expect(Array.from(after.parameters.get('L_init')!.data)).toEqual(Array.from(before.parameters.get('L_init')!.data));
    expect(after.optimizerStep).toBe(4);
    hrm.disposeCarry(carry);
    expect(b.live.size).toBe(liveAtStart - 2); // the initial carry's two states were released, nothing else left behind
    expect(b.problems).toEqual([]);
    await hrm.dispose();
    expect(b.live.size).toBe(0);
  });

  it('eval: every row runs exactly halt_max_steps segments (or the override), whatever Q says', async () => {
    const config = tinyConfig({ halt_max_steps: 3 });
    const { hrm } = modelWith(config, 6);
    const batch = randomBatch(config, 2, 2);
    for (const [override, expected] of [[undefined, 3], [5, 5], [1, 1]] as const) {
      let carry = hrm.initialCarry(2, 6);
      let calls = 0;
      for (;;) {
        const r = await hrm.evalStep(carry, batch, override === undefined ? {} : { haltMaxSteps: override });
        carry = r.carry;
        calls++;
        if (r.result.allHalted) {
          expect(Array.from(r.result.steps)).toEqual([expected, expected]);
          expect(r.result.metrics.q_continue_loss).toBeUndefined();
          break;
        }
        expect(r.result.metrics.count).toBe(0); // metrics only over rows that halted
      }
      expect(calls).toBe(expected);
      hrm.disposeCarry(carry);
    }
    await hrm.dispose();
  });

  it('halt_max_steps = 1 disables ACT: every call halts, no Q target, and the continue row gets exactly zero gradient', async () => {
    const config = tinyConfig({ halt_max_steps: 1 });
    const { hrm } = modelWith(config, 7);
    const o = observed();
    const r = await hrm.trainStep(hrm.initialCarry(2, 6), randomBatch(config, 2, 3), rates, 2, { observe: o.observe });
    expect(r.result.allHalted).toBe(true);
    expect(r.result.qContinueLoss).toBe(0);
    expect(o.m.has('target_q_continue')).toBe(false);
    const gw = o.m.get('grad.q_head.weight')!.data;
    expect(Array.from(gw.slice(8, 16))).toEqual(new Array(8).fill(0));
    expect(o.m.get('grad.q_head.bias')!.data[1]).toBe(0);
    expect(o.m.get('grad.q_head.bias')!.data[0]).not.toBe(0);
    await hrm.dispose();
  });

  it('a consumed carry cannot be stepped again; a batch that does not fit is named', async () => {
    const config = tinyConfig();
    const { hrm } = modelWith(config, 8);
    const batch = randomBatch(config, 2, 4);
    const c0 = hrm.initialCarry(2, 6);
    const r = await hrm.evalStep(c0, batch);
    await expect(hrm.evalStep(c0, batch)).rejects.toThrow(/already consumed/);
    const bad = { ...batch, inputs: Int32Array.from(batch.inputs, (v, i) => (i === 3 ? 7 : v)) };
    await expect(hrm.evalStep(r.carry, bad)).rejects.toThrow(/batch\.inputs\[3\] = 7, expected a token in \[0, 7\)/);
    await hrm.dispose();
  });
});
