// The training-step benchmark: the median time of `Hrm.trainStep` (the anchors' training step:
// one ACT call in training mode with the Q-target segment, backward of loss/B, optimizer step) and
// of `Hrm.evalStep` (one evaluation segment, forward only) for one configuration on one backend,
// plus where the step's time goes per kernel (from the timing proxy around the backend).

import type { Backend } from '../core/backend.ts';
import type { Carry } from '../model/api.ts';
import { createHrm } from '../model/hrm.ts';
import type { BenchSizes } from './anchors.ts';
import { gflops, now, summarize, type Summary } from './stats.ts';
import { withTiming, type KernelTiming } from './timing-proxy.ts';
import { replay } from './replay.ts';
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
  /**
   * process CPU time (all threads) over wall time during the timed calls: ≈ threads used when the
   * machine is otherwise idle; lower means the run was starved by other work
   */
  readonly cpuPerWall: number;
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
  /**
   * false when the backend queues its work and finishes it later: then the kernel times are
   * submission costs, the device work is waited for inside `read`, and the shares do not say
   * where the time goes
   */
  readonly breakdownAttributable: boolean;
  /**
   * for such a backend: each kernel call of one recorded step replayed alone and waited for
   * (fractions of the sum of the replayed times); absent when the step was too slow to replay
   */
  readonly replayed?: readonly BreakdownRow[];
}

/** A step is replayed for its breakdown only when it takes less than this (ms). */
export const REPLAY_LIMIT_MS = 30_000;

/**
 * Whether per-call times attribute a step's time to kernels: not when waiting in `read` (several
 * reads may overlap) takes over a third of the step, or the calls add up to more than the step.
 */
export const attributable = (rows: readonly BreakdownRow[]): boolean => {
  const read = rows.find((r) => r.kernel === 'read')?.fraction ?? 0;
  const outside = rows.find((r) => r.kernel === 'outside kernels')?.fraction ?? 0;
  return read < 1 / 3 && outside > -0.05;
};

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

/** Times `run` per `plan` (each call one sample); returns the samples (ms) and CPU time per wall time. */
const timeCalls = async (
  run: () => Promise<void>,
  plan: StepPlan,
  onWarm?: () => void,
): Promise<{ samples: number[]; cpuPerWall: number }> => {
  for (let i = 0; i < plan.warmup; i++) await run();
  onWarm?.();
  const samples: number[] = [];
  const cpu0 = process.cpuUsage();
  const wall0 = now();
  let spent = 0;
  while (samples.length < Math.max(1, plan.reps) && (samples.length === 0 || spent < plan.budgetMs)) {
    const t0 = now();
    await run();
    const dt = now() - t0;
    samples.push(dt);
    spent += dt;
  }
  const cpu = process.cpuUsage(cpu0);
  return { samples, cpuPerWall: (cpu.user + cpu.system) / 1000 / (now() - wall0) };
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
    const { samples: trainSamples, cpuPerWall: trainCpu } = await timeCalls(
      async () => {
        const r = await hrm.trainStep(carry, batch, rates, z.batchSize);
        carry = r.carry;
      },
      trainPlan,
      () => proxy.reset(),
    );
    const table = proxy.stats();
    const trainSummary = summarize(trainSamples);
    const breakdown = breakdownRows(table, trainSamples.length, trainSamples.reduce((a, b) => a + b, 0));
    const train = { ...trainSummary, gflops: gflops(work.trainGflop * 1e9, trainSummary.medianMs), cpuPerWall: trainCpu };
    const breakdownAttributable = attributable(breakdown);
    let replayed: BreakdownRow[] | undefined;
    if (!breakdownAttributable && trainSummary.medianMs < REPLAY_LIMIT_MS) {
      proxy.startRecording();
      const r = await hrm.trainStep(carry, batch, rates, z.batchSize);
      carry = r.carry;
      const rec = proxy.stopRecording();
      try {
        const t = await replay(backend, rec.calls);
        const total = [...t.values()].reduce((a, e) => a + e.ms, 0);
        replayed = breakdownRows(t, 1, total).filter((row) => row.kernel !== 'outside kernels');
      } finally {
        rec.release();
      }
    }
    hrm.disposeCarry(carry);
    const extra = { breakdownAttributable, ...(replayed ? { replayed } : {}) };
    if (evalPlan === null) return { train, breakdown, ...extra };
    let evalCarry: Carry = hrm.initialCarry(z.batchSize, batch.seqLen);
    const { samples: evalSamples, cpuPerWall: evalCpu } = await timeCalls(async () => {
      const r = await hrm.evalStep(evalCarry, batch);
      evalCarry = r.carry;
    }, evalPlan);
    hrm.disposeCarry(evalCarry);
    const evalSummary = summarize(evalSamples);
    return { train, eval: { ...evalSummary, gflops: gflops(work.evalGflop * 1e9, evalSummary.medianMs), cpuPerWall: evalCpu }, breakdown, ...extra };
  } finally {
    await hrm.dispose();
  }
};
