// What `hrm analyze` measures, on hand-built models whose answers are known: with the attention
// and MLP outputs zeroed and a zero input embedding, each block is RMSNorm∘RMSNorm, so per
// position z_L ← r(r(z_L + z_H)) and z_H ← r(r(z_H + z_L)) from H_init, L_init; the residual of
// every update is computed here by hand and must match. ACT handling: a q-head that always halts
// stops every puzzle after its first segment with --act, and changes nothing without it. The
// analysis leaves the weights unchanged.

import { describe, expect, it } from 'vitest';
import { referenceBackend } from '../src/reference/backend.ts';
import type { Backend } from '../src/core/backend.ts';
import type { Tensor } from '../src/core/tensor.ts';
import { createHrm } from '../src/model/hrm.ts';
import { blockNames } from '../src/model/layout.ts';
import type { Hrm } from '../src/model/api.ts';
import { collectDynamics, updateSchedule, type PuzzleBatch } from '../src/analyze/dynamics.ts';
import { analyzeModels, companionModels } from '../src/analyze/analysis.ts';
import { weightsDigest } from '../src/analyze/digest.ts';
import { randomBatch, tinyConfig } from './support/model-harness.ts';

const backend = referenceBackend as Backend<unknown>;
const D = 8;
const EPS = 1e-5;
const H0 = [1.5, 0, 0, 0.5, 0, 0, 0, -1];
const L0 = [0, 1, 0, 0, -2, 0, 0.25, 0];

/** A model whose blocks are RMSNorm∘RMSNorm and whose input embedding is zero. */
const handBuilt = (arch: Parameters<typeof tinyConfig>[0] = {}, halt = false): Hrm => {
  const config = tinyConfig({ hidden_size: D, num_heads: 2, ...arch });
  const hrm = createHrm(config, { backend });
  const params = new Map<string, Tensor<Float64Array>>();
  for (const e of hrm.layout) params.set(e.name, { shape: e.shape, data: new Float64Array(e.shape.reduce((a, b) => a * b, 1)) });
  const set = (name: string, values: number[]) => (params.get(name) as Tensor<Float64Array>).data.set(values);
  // attention and MLP inputs keep their (irrelevant) weights; their outputs are zeroed
  for (const level of ['H_level', 'L_level'] as const) {
    const n = blockNames(level, 0);
    set(n.qkv, Array.from({ length: 3 * D * D }, (_, i) => Math.sin(i)));
    set(n.gateUp, Array.from({ length: (params.get(n.gateUp) as Tensor<Float64Array>).data.length }, (_, i) => Math.cos(i)));
  }
  set('H_init', H0);
  set('L_init', L0);
  set('q_head.bias', halt ? [5, -5] : [-5, 5]);
  hrm.loadState({ parameters: params });
  return hrm;
};

const rms = (v: number[]): number[] => {
  const s = Math.sqrt(v.reduce((a, x) => a + x * x, 0) / v.length + EPS);
  return v.map((x) => x / s);
};
const block = (v: number[]) => rms(rms(v)); // post-norm block with zero attention and MLP outputs
const add = (a: number[], b: number[]) => a.map((x, i) => x + b[i]);
const rel = (next: number[], prev: number[]) => Math.sqrt(next.reduce((s, x, i) => s + (x - prev[i]) ** 2, 0) / prev.reduce((s, x) => s + x * x, 0));

/** The residual of every update, by hand (the same at every position, hence for every puzzle). */
const expectedResiduals = (segments: number, hCycles: number, lCycles: number): number[] => {
  let zH = H0;
  let zL = L0;
  const out: number[] = [];
  for (const u of updateSchedule(segments, hCycles, lCycles)) {
    if (u.module === 'L') {
      const next = block(add(zL, zH));
      out.push(rel(next, zL));
      zL = next;
    } else {
      const next = block(add(zH, zL));
      out.push(rel(next, zH));
      zH = next;
    }
  }
  return out;
};

const batches = (hrm: Hrm, rows: number[]): PuzzleBatch[] => rows.map((size, i) => ({ batch: randomBatch(hrm.config, 4, 10 + i), size }));

describe('forward residuals of a hand-built model', () => {
  it('the schedule lists L_cycles L updates then an H update, H_cycles times per segment', () => {
    const s = updateSchedule(2, 2, 3);
    expect(s.length).toBe(2 * 2 * 4);
    expect(s.slice(0, 4).map((u) => `${u.module}${u.h}${u.l}`)).toEqual(['L00', 'L01', 'L02', 'H0-1']);
    expect(s[8]).toEqual({ segment: 2, module: 'L', h: 0, l: 0 });
  });

  for (const [H, L] of [[2, 2], [3, 1], [1, 3]]) {
    it(`every L and H update of every segment, H_cycles ${H} × L_cycles ${L}`, async () => {
      const hrm = handBuilt({ H_cycles: H, L_cycles: L, halt_max_steps: 3 });
      const d = await collectDynamics(hrm, batches(hrm, [4, 3]), { segments: 3, act: false, keepStates: 2 });
      const want = expectedResiduals(3, H, L);
      expect(d.puzzles).toBe(7);
      expect(d.residuals.length).toBe(want.length);
      want.forEach((w, k) => {
        for (let p = 0; p < 7; p++) expect(Math.abs(d.residuals[k][p] - w)).toBeLessThanOrEqual(1e-12 * Math.max(1, w));
      });
      // the kept states: the start and every update of each module
      expect(d.statesH[0].length).toBe(1 + 3 * H);
      expect(d.statesL[1].length).toBe(1 + 3 * H * L);
      expect(d.statesH.length).toBe(2);
      await hrm.dispose();
    });
  }

  it('H frozen: H_cycles 1 and L_cycles H·L, same weights', async () => {
    const hrm = handBuilt({ H_cycles: 2, L_cycles: 2 });
    const { frozen, untrained } = await companionModels(hrm);
    expect(frozen?.config.arch.H_cycles).toBe(1);
    expect(frozen?.config.arch.L_cycles).toBe(4);
    const d = await collectDynamics(frozen as Hrm, batches(hrm, [2]), { segments: 2, act: false, keepStates: 0 });
    const want = expectedResiduals(2, 1, 4);
    want.forEach((w, k) => expect(Math.abs(d.residuals[k][0] - w)).toBeLessThanOrEqual(1e-12));
    await Promise.all([hrm.dispose(), frozen?.dispose(), untrained.dispose()]);
  });
});

describe('ACT-halted puzzles', () => {
  it('--act stops each puzzle at the segment where ACT halts; without it every segment counts', async () => {
    const hrm = handBuilt({ halt_max_steps: 3 }, true); // q_halt 5 > q_continue −5: halts at once
    const bs = batches(hrm, [4, 2]);
    const all = await collectDynamics(hrm, bs, { segments: 3, act: false, keepStates: 1 });
    const act = await collectDynamics(hrm, bs, { segments: 3, act: true, keepStates: 1 });
    const one = await collectDynamics(hrm, bs, { segments: 1, act: false, keepStates: 0 });
    const per = all.schedule.length / 3;
    expect(Array.from(all.haltSegment)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(Array.from(act.haltSegment)).toEqual([1, 1, 1, 1, 1, 1]);
    all.residuals.forEach((r) => expect(r.every(Number.isFinite)).toBe(true));
    act.residuals.forEach((r, k) => expect(r.every((v) => (k < per ? Number.isFinite(v) : Number.isNaN(v)))).toBe(true));
    expect(Array.from(act.finalH)).toEqual(Array.from(one.finalH)); // the state where it halted
    expect(Array.from(act.finalL)).toEqual(Array.from(one.finalL));
    expect(Array.from(all.finalH)).not.toEqual(Array.from(one.finalH));
    expect(act.statesL[0].length).toBe(1 + per - hrm.config.arch.H_cycles);
    await hrm.dispose();
  });

  it('a q-head that never halts runs every segment either way', async () => {
    const hrm = handBuilt({ halt_max_steps: 2 }, false);
    const act = await collectDynamics(hrm, batches(hrm, [3]), { segments: 2, act: true, keepStates: 0 });
    expect(Array.from(act.haltSegment)).toEqual([2, 2, 2]);
    act.residuals.forEach((r) => expect(r.every(Number.isFinite)).toBe(true));
    await hrm.dispose();
  });
});

describe('the analysis', () => {
  it('leaves the weights unchanged and reports every number', async () => {
    const config = tinyConfig({ hidden_size: D, num_heads: 2 });
    const hrm = createHrm(config, { backend, seed: 3 });
    const before = weightsDigest((await hrm.saveState()).parameters);
    const { untrained, frozen } = await companionModels(hrm);
    const r = await analyzeModels({ trained: hrm, untrained, frozen }, batches(hrm, [4, 4, 2]), { bootstrap: 20, trajectories: 2 });
    expect(weightsDigest((await hrm.saveState()).parameters)).toBe(before);
    expect(r.puzzles).toBe(10);
    expect(r.trained.residuals.length).toBe(3 * 2 * 3);
    expect(r.frozen?.residuals.length).toBe(3 * 5);
    for (const m of [r.trained, r.untrained]) {
      for (const kind of ['per_puzzle', 'per_token'] as const) {
        for (const z of ['z_H', 'z_L'] as const) {
          const iv = m.pr[kind][z];
          expect(iv.value).toBeGreaterThan(0);
          expect(iv.lo).toBeLessThanOrEqual(iv.value);
          expect(iv.hi).toBeGreaterThanOrEqual(iv.value);
          expect(m.pr_curve[kind][z].at(-1)?.mean).toBeCloseTo(iv.value, 9);
        }
        expect(m.pr[kind].ratio.value).toBeCloseTo(m.pr[kind].z_H.value / m.pr[kind].z_L.value, 12);
      }
    }
    expect(r.trained.pr.per_puzzle.z_H.value).toBeLessThanOrEqual(9 + 1e-9); // ≤ rank: 10 puzzles
    expect(r.trained.trajectories.z_H.points.length).toBe(2);
    expect(r.trained.trajectories.z_H.points[0].length).toBe(1 + 3 * 2);
    expect(r.trained.trajectories.z_L.labels.length).toBe(1 + 3 * 2 * 2);
    // the untrained companion starts from the trained run's initialization (same seed scheme)
    const init = createHrm(config, { backend, seed: config.train.seed });
    expect(weightsDigest((await untrained.saveState()).parameters)).toBe(weightsDigest((await init.saveState()).parameters));
    await Promise.all([hrm.dispose(), untrained.dispose(), frozen?.dispose(), init.dispose()]);
  });
});
