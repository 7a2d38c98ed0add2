// The training driver against a scripted model: step accounting across iterations, evaluation
// and checkpoint points, Ctrl-C, a simulated kill, and a non-finite loss stopping the run
// without a checkpoint.
import { describe, expect, it } from 'vitest';
import type { ActStepResult, Carry, Hrm } from '../model/api.ts';
import type { Batch } from '../core/batch.ts';
import { train, type SavePoint, type TrainData } from './trainer.ts';
import type { EvalSummary } from './evaluate.ts';

const B = 2;
const T = 3;
const batch = (k: number): Batch => ({ inputs: new Int32Array(B * T).fill(k % 5), labels: new Int32Array(B * T), puzzleIdentifiers: new Int32Array(B), batchSize: B, seqLen: T });

/** 3 batches per iteration; the stream state is the cursor. */
const data: TrainData = {
  examplesPerEpoch: 6,
  open: (_iteration, state) => {
    let cursor = typeof state === 'number' ? state : 0;
    return { next: () => (cursor < 3 ? batch(cursor++) : undefined), state: () => cursor };
  },
};

const fakeHrm = (losses: (step: number) => number): Hrm & { steps: number[] } => {
  const steps: number[] = [];
  let n = 0;
  const carry = (): Carry => ({ batchSize: B, steps: new Int32Array(B), halted: new Uint8Array(B).fill(1), currentData: batch(0) });
  const result = (loss: number): ActStepResult => ({
    lmLoss: loss, qHaltLoss: 0, qContinueLoss: 0, totalLoss: loss * B,
    metrics: { count: 1, accuracy: 0.5, exact_accuracy: 0, q_halt_accuracy: 1, steps: 2, lm_loss: loss, q_halt_loss: 0 },
    halted: new Uint8Array(B), steps: new Int32Array(B), allHalted: true, predictions: new Int32Array(B * T), qHaltLogits: new Float64Array(B), qContinueLogits: new Float64Array(B),
  });
  return {
    steps,
    backend: undefined as never,
    config: undefined as never,
    layout: [],
    initialCarry: carry,
    trainStep: async () => {
      n += 1;
      steps.push(n);
      return { carry: carry(), result: result(losses(n)) };
    },
    evalStep: async () => ({ carry: carry(), result: result(0) }),
    disposeCarry: () => {},
    saveState: async () => { throw new Error('unused'); },
    loadState: () => {},
    exportCarry: async () => { throw new Error('unused'); },
    importCarry: () => { throw new Error('unused'); },
    dispose: async () => {},
  };
};

const summary = (step: number): EvalSummary => ({ haltMaxSteps: 2, count: 4, accuracy: step / 100, exact_accuracy: 0, q_halt_accuracy: 1, steps: 2, lm_loss: 1, q_halt_loss: 0, act_segments: 2, act_exact_accuracy: 0, exact_by_segment: [0, 0] });

const common = (hrm: Hrm, saves: SavePoint[]) => ({
  hrm,
  globalBatchSize: B,
  totalIterations: 3,
  rates: (s: number) => ({ lr: s / 10, puzzleEmbLr: 0 }),
  data,
  evaluate: async (step: number) => summary(step),
  save: async (p: SavePoint) => {
    saves.push(p);
    return `ckpt-${p.step}`;
  },
});

describe('training driver', () => {
  it('evaluates and saves after every iteration and stops at total_steps', async () => {
    const saves: SavePoint[] = [];
    const evals: number[] = [];
    const hrm = fakeHrm(() => 1);
    const out = await train({ ...common(hrm, saves), totalSteps: 8, checkpointEvery: 4, start: { step: 0, iteration: 0 }, onEval: (r) => evals.push(r.step) });
    expect(out).toMatchObject({ status: 'done', step: 8, checkpoint: 'ckpt-8' });
    expect(evals).toEqual([3, 6, 8]);
    expect(saves.map((s) => [s.reason, s.step, s.iteration])).toEqual([['eval', 3, 1], ['interval', 4, 1], ['eval', 6, 2], ['interval', 8, 2], ['final', 8, 3]]);
  });

  it('a simulated kill saves the stream position; resuming continues from it', async () => {
    const saves: SavePoint[] = [];
    const steps: number[] = [];
    const first = await train({ ...common(fakeHrm(() => 1), saves), totalSteps: 9, checkpointEvery: 0, stopAfterSteps: 5, start: { step: 0, iteration: 0 } });
    expect(first).toMatchObject({ status: 'interrupted', step: 5 });
    const p = saves[saves.length - 1];
    expect([p.reason, p.step, p.iteration, p.dataState]).toEqual(['stop', 5, 1, 2]);
    const second = await train({ ...common(fakeHrm(() => 1), saves), totalSteps: 9, checkpointEvery: 0, start: { step: p.step, iteration: p.iteration, dataState: p.dataState }, onStep: (r) => steps.push(r.step) });
    expect(second).toMatchObject({ status: 'done', step: 9 });
    expect(steps).toEqual([6, 7, 8, 9]);
  });

  it('Ctrl-C stops after the current step with a checkpoint', async () => {
    const saves: SavePoint[] = [];
    let stop = false;
    const out = await train({ ...common(fakeHrm(() => 1), saves), totalSteps: 9, checkpointEvery: 0, start: { step: 0, iteration: 0 }, stopRequested: () => stop, onStep: (r) => { if (r.step === 2) stop = true; } });
    expect(out).toMatchObject({ status: 'interrupted', step: 2, checkpoint: 'ckpt-2' });
    expect(saves.map((s) => s.reason)).toEqual(['interrupt']);
  });

  it('a non-finite loss stops training, names the step and keeps the last good checkpoint', async () => {
    const saves: SavePoint[] = [];
    const out = await train({ ...common(fakeHrm((n) => (n === 5 ? Number.NaN : 1)), saves), totalSteps: 9, checkpointEvery: 2, start: { step: 0, iteration: 0 } });
    expect(out.status).toBe('diverged');
    expect(out.step).toBe(5);
    expect(out.checkpoint).toBe('ckpt-4');
    expect((out as { message: string }).message).toMatch(/loss became NaN at step 5.*last good checkpoint is ckpt-4/);
    expect(saves.map((s) => s.step)).toEqual([2, 3, 4]);
  });
});
