// The training-step benchmark: the median time of `Hrm.trainStep` (the anchors' training step:
// one ACT call in training mode with the Q-target segment, backward of loss/B, optimizer step) and
// of `Hrm.evalStep` (one evaluation segment, forward only) for one configuration on one backend,
// plus where the step's time goes per kernel and per kernel family (from the timing proxy around the
// backend, with each call's work), and, for an engine that profiles its own dispatches (the SIMD
// engine), the time spent packing, waiting for workers, and each worker's busy share.

import type { Backend } from '../core/backend.ts';
import type { Carry } from '../model/api.ts';
import { createHrm } from '../model/hrm.ts';
import type { BenchSizes } from './anchors.ts';
import { gflops, now, summarize, type Summary } from './stats.ts';
import { withTiming, type KernelTiming } from './timing-proxy.ts';
import { replay } from './replay.ts';
import { benchBatch, benchConfig, type BenchModel } from './workload.ts';
import { FAMILY, PRODUCT_FAMILIES } from './work.ts';


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
  /** products' GFLOP and least megabytes moved per step (work.ts); absent when not counted */
  readonly gflopPerStep?: number;
  readonly mbPerStep?: number;
  /** process CPU milliseconds per step during these calls (all threads) */
  readonly cpuMsPerStep?: number;
}

/** One kernel family (src/reference file) of a step: its time, share and work. */
export interface FamilyRow {
  readonly family: string;
  readonly msPerStep: number;
  readonly fraction: number;
  readonly gflopPerStep: number;
  readonly mbPerStep: number;
  /** process CPU milliseconds per step (all threads; 0 where not counted) */
  readonly cpuMsPerStep: number;
  /** set against the products' ceiling (true) or memory bandwidth (false) */
  readonly product: boolean;
}

/** An engine that counts its own dispatches (the SIMD engine's pool). */
interface Profiled {
  profile(): { kernels: ReadonlyMap<string, { calls: number; ms: number; waitMs: number }>; workerBusyMs: readonly number[] };
  resetProfile(): void;
}

/** Per step, from the engine's own counts: packing, waiting for workers, and how busy each thread was. */
export interface EngineRows {
  /** packing of product operands into panels (weights once per update, activations for dW) */
  readonly packingMsPerStep: number;
  /** the main thread waiting, after its own share, for chunks workers had claimed */
  readonly waitMsPerStep: number;
  /** the WebAssembly kernels' time on the main thread (dispatch to return) */
  readonly dispatchedMsPerStep: number;
  /** busy time of each worker as a fraction of the step */
  readonly workerBusy: readonly number[];
}

const isProfiled = (b: unknown): b is Profiled =>
  typeof (b as Partial<Profiled>).profile === 'function' && typeof (b as Partial<Profiled>).resetProfile === 'function';

/** Kernel rows grouped by family; memory management and the time outside kernels keep their own rows. */
export const familyRows = (rows: readonly BreakdownRow[]): FamilyRow[] => {
  const by = new Map<string, { ms: number; fraction: number; gflop: number; mb: number; cpu: number }>();
  for (const r of rows) {
    const family = r.kernel === 'outside kernels' ? 'outside kernels (host glue)' : (FAMILY[r.kernel] ?? 'memory (upload, read, dispose)');
    const e = by.get(family) ?? { ms: 0, fraction: 0, gflop: 0, mb: 0, cpu: 0 };
    e.cpu += r.cpuMsPerStep ?? 0;
    e.ms += r.msPerStep;
    e.fraction += r.fraction;
    e.gflop += r.gflopPerStep ?? 0;
    e.mb += r.mbPerStep ?? 0;
    by.set(family, e);
  }
  return [...by]
    .map(([family, e]) => ({ family, msPerStep: e.ms, fraction: e.fraction, gflopPerStep: e.gflop, mbPerStep: e.mb, cpuMsPerStep: e.cpu, product: PRODUCT_FAMILIES.has(family) }))
    .sort((a, b) => b.msPerStep - a.msPerStep);
};

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
  /** the breakdown grouped by kernel family */
  readonly families: readonly FamilyRow[];
  /** present for an engine that profiles its dispatches */
  readonly engine?: EngineRows;
  /** what the device did in one training step after COUNT_AFTER steps (backends that count it: the gpu backend) */
  readonly perStep?: DeviceCounts;
}

/** Device work counts (per training step in a result): see src/accelerated/gpu/batch.ts. */
export interface DeviceCounts {
  readonly dispatches: number;
  readonly submits: number;
  readonly bufferCreations: number;
  readonly bindGroupCreations: number;
  readonly pipelineCreations: number;
  readonly bytesUp: number;
  readonly paramBytes: number;
  readonly bytesDown: number;
  /** buffer-to-buffer copies and clears recorded (e.g. a gradient that could not be computed into its slot) */
  readonly copies?: number;
  /** times the host waited for the device (groups of reads submitted together, throttling) */
  readonly waits: number;
}

/** The device counters of a backend that keeps them (the gpu backend's `device.counters()`), else null. */
export const deviceCounts = (backend: unknown): DeviceCounts | null => {
  const dev = (backend as { device?: { counters?: () => DeviceCounts } }).device;
  return typeof dev?.counters === 'function' ? dev.counters() : null;
};

/** (after − before) / steps, field by field. */
const perStepCounts = (before: DeviceCounts, after: DeviceCounts, steps: number): DeviceCounts => {
  const d = (k: keyof DeviceCounts): number => ((after[k] ?? 0) - (before[k] ?? 0)) / steps;
  return {
    dispatches: d('dispatches'), submits: d('submits'), bufferCreations: d('bufferCreations'), bindGroupCreations: d('bindGroupCreations'),
    pipelineCreations: d('pipelineCreations'), bytesUp: d('bytesUp'), paramBytes: d('paramBytes'), bytesDown: d('bytesDown'), copies: d('copies'), waits: d('waits'),
  };
};

/** Training steps that run before the one whose device work is counted. */
export const COUNT_AFTER = 4;

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
    ...(t.flops !== undefined ? { gflopPerStep: t.flops / steps / 1e9 } : {}),
    ...(t.bytes !== undefined ? { mbPerStep: t.bytes / steps / 1e6 } : {}),
    ...(t.cpuMs !== undefined ? { cpuMsPerStep: t.cpuMs / steps } : {}),
  }));
  const inside = rows.reduce((a, r) => a + r.msPerStep, 0);
  const stepMs = totalMs / steps;
  rows.sort((a, b) => b.msPerStep - a.msPerStep);
  rows.push({ kernel: 'outside kernels', callsPerStep: 0, msPerStep: stepMs - inside, fraction: (stepMs - inside) / stepMs });
  return rows;
};

/** Engine rows per step from a profile taken over `steps` steps of total time `totalMs`. */
const engineRows = (p: ReturnType<Profiled['profile']>, steps: number, totalMs: number): EngineRows => {
  let packing = 0;
  let wait = 0;
  let dispatched = 0;
  for (const [name, k] of p.kernels) {
    if (name === 'packB' || name === 'packBT') packing += k.ms;
    wait += k.waitMs;
    dispatched += k.ms;
  }
  return {
    packingMsPerStep: packing / steps,
    waitMsPerStep: wait / steps,
    dispatchedMsPerStep: dispatched / steps,
    workerBusy: p.workerBusyMs.map((b) => b / totalMs),
  };
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
 * Benchmarks configuration `z` (as HRM, or as TRM of the same width: `model`) on `backend`: training steps (with the
 * per-kernel breakdown) per `trainPlan`, then evaluation segments per `evalPlan` (skipped when it is null). `cpuPerCall`: see withTiming.
 */
export const benchSteps = async (
  backend: Backend<unknown>,
  z: BenchSizes,
  work: { readonly trainGflop: number; readonly evalGflop: number },
  trainPlan: StepPlan,
  evalPlan: StepPlan | null,
  seed = 0,
  cpuPerCall = false,
  model: BenchModel = 'hrm',
): Promise<StepBenchResult> => {
  const proxy = withTiming(backend, cpuPerCall);
  const config = benchConfig(z, model);
  const batch = benchBatch(z);
  const hrm = createHrm(config, { backend: proxy.backend as Backend<unknown>, seed });
  const rates = { lr: config.train.lr, puzzleEmbLr: config.train.puzzle_emb_lr };
  try {
    let carry: Carry = hrm.initialCarry(z.batchSize, batch.seqLen);
    const step = async (): Promise<void> => {
      const r = await hrm.trainStep(carry, batch, rates, z.batchSize);
      carry = r.carry;
    };
    const { samples: trainSamples, cpuPerWall: trainCpu } = await timeCalls(step, trainPlan, () => {
      proxy.reset();
      if (isProfiled(backend)) backend.resetProfile();
    });
    const table = proxy.stats();
    const trainSummary = summarize(trainSamples);
    const trainTotal = trainSamples.reduce((a, b) => a + b, 0);
    const breakdown = breakdownRows(table, trainSamples.length, trainTotal);
    const engine = isProfiled(backend) ? engineRows(backend.profile(), trainSamples.length, trainTotal) : undefined;
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
    // device counts of one more step, once COUNT_AFTER steps have run (the pool and the bind-group
    // cache fill during the first few; the counts are meant for the steady state)
    let perStep: DeviceCounts | undefined;
    const c0 = deviceCounts(backend);
    if (c0 !== null) {
      // (the replay ran kernels outside a step, which reshuffles the pool: settle again after it)
      const ran = replayed ? 0 : trainPlan.warmup + trainSamples.length;
      for (let i = ran; i < COUNT_AFTER; i++) await step();
      const before = deviceCounts(backend) as DeviceCounts;
      await step();
      perStep = perStepCounts(before, deviceCounts(backend) as DeviceCounts, 1);
    }
    hrm.disposeCarry(carry);
    const extra = { breakdownAttributable, families: familyRows(breakdown), ...(replayed ? { replayed } : {}), ...(engine ? { engine } : {}), ...(perStep ? { perStep } : {}) };
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
