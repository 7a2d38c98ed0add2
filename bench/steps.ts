// The training-step benchmark: the median time of `Hrm.trainStep` (the anchors' training step:
// one ACT call in training mode with the Q-target segment, backward of loss/B, optimizer step) and
// of `Hrm.evalStep` (one evaluation segment, forward only) for one configuration on one backend,
// plus where the step's time goes per kernel (from the timing proxy around the backend).

import type { Backend } from '../src/core/backend.ts';
import type { Carry } from '../src/model/api.ts';
import { createHrm } from '../src/model/hrm.ts';
import type { BenchSizes } from './anchors.ts';
import { gflops, now, summarize, type Summary } from './stats.ts';
import { withTiming, type KernelTiming } from './timing-proxy.ts';
import { benchBatch, benchConfig } from './workload.ts';


/** How many samples to take: `warmup` untimed calls, then up to `reps` timed calls within `budgetMs`. */
export interface StepPlan {
  readonly warmup: number;
  readonly reps: number;
  readonly budgetMs: number;
}

export interface TimedPhase extends Summary {
  /** effective GFLOP/s at the median, from the matmul work of the phase */
  readonly gflops: number;
}

export interface BreakdownRow {
  readonly kernel: string;
  readonly callsPerStep: number;
  readonly msPerStep: number;
  /** fraction of the mean step time */
  readonly fraction: number;
}

export interface StepBenchResult {
  readonly train: TimedPhase;
  readonly eval?: TimedPhase;
  /** per kernel over the timed training steps, largest first; 'outside kernels' is the rest */
  readonly breakdown: readonly BreakdownRow[];
}

/** Per-kernel rows from the proxy's table over `steps` steps of total time `totalMs`. */
export const breakdownRows = (table: ReadonlyMap<string, KernelTiming>, steps: number, totalMs: number): BreakdownRow[] => {
  const rows = [...table].map(([kernel, t]) => ({
    kernel,
    callsPerStep: t.calls / steps,
    msPerStep: t.ms / steps,
    fraction: t.ms / totalMs,
  }));
  const inside = rows.reduce((a, r) => a + r.msPerStep, 0);
  const stepMs = totalMs / steps;
  rows.sort((a, b) => b.msPerStep - a.msPerStep);
  rows.push({ kernel: 'outside kernels', callsPerStep: 0, msPerStep: stepMs - inside, fraction: (stepMs - inside) / stepMs });
  return rows;
};

/** Times `run` per `plan` (each call one sample); returns the samples in ms. */
const timeCalls = async (run: () => Promise<void>, plan: StepPlan, onWarm?: () => void): Promise<number[]> => {
  for (let i = 0; i < plan.warmup; i++) await run();
  onWarm?.();
  const samples: number[] = [];
  let spent = 0;
  while (samples.length < Math.max(1, plan.reps) && (samples.length === 0 || spent < plan.budgetMs)) {
    const t0 = now();
    await run();
    const dt = now() - t0;
    samples.push(dt);
    spent += dt;
  }
  return samples;
};

/**
 * Benchmarks configuration `z` on `backend`: training steps (with the per-kernel breakdown) per
 * `trainPlan`, then evaluation segments per `evalPlan` (skipped when it is null).
 */
export const benchSteps = async (
  backend: Backend<unknown>,
  z: BenchSizes,
  work: { readonly trainGflop: number; readonly evalGflop: number },
  trainPlan: StepPlan,
  evalPlan: StepPlan | null,
  seed = 0,
): Promise<StepBenchResult> => {
  const proxy = withTiming(backend);
  const config = benchConfig(z);
  const batch = benchBatch(z);
  const hrm = createHrm(config, { backend: proxy.backend as Backend<unknown>, seed });
  const rates = { lr: config.train.lr, puzzleEmbLr: config.train.puzzle_emb_lr };
  try {
    let carry: Carry = hrm.initialCarry(z.batchSize, batch.seqLen);
    const trainSamples = await timeCalls(
      async () => {
        const r = await hrm.trainStep(carry, batch, rates, z.batchSize);
        carry = r.carry;
      },
      trainPlan,
      () => proxy.reset(),
    );
    const table = proxy.stats();
    hrm.disposeCarry(carry);
    const trainSummary = summarize(trainSamples);
    const breakdown = breakdownRows(table, trainSamples.length, trainSamples.reduce((a, b) => a + b, 0));
    const train = { ...trainSummary, gflops: gflops(work.trainGflop * 1e9, trainSummary.medianMs) };
    if (evalPlan === null) return { train, breakdown };
    let evalCarry: Carry = hrm.initialCarry(z.batchSize, batch.seqLen);
    const evalSamples = await timeCalls(async () => {
      const r = await hrm.evalStep(evalCarry, batch);
      evalCarry = r.carry;
    }, evalPlan);
    hrm.disposeCarry(evalCarry);
    const evalSummary = summarize(evalSamples);
    return { train, eval: { ...evalSummary, gflops: gflops(work.evalGflop * 1e9, evalSummary.medianMs) }, breakdown };
  } finally {
    await hrm.dispose();
  }
};
