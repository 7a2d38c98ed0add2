// The bench run: for every requested backend configuration (reference; the SIMD engine per thread
// count; gpu.js per mode), the training-step/eval benchmark and then the per-kernel benchmark of
// each configuration, then the memory benchmark in child processes. Decides repetitions from the time
// budget (plan.ts), records every skip with its reason, and returns the report (report.ts).

import { createBackend, ENGINE_NAMES, GPU_MODES, type EngineName, type GpuMode } from '../backends/registry.ts';
import type { Backend } from '../core/backend.ts';
import { ANCHORS, SMOKE_SIZES, evalGflop, stepGflop, type AnchorName, type BenchSizes } from './anchors.ts';
import { benchKernels, type KernelPlan } from './kernels.ts';
import { machineInfo } from './machine.ts';
import { CYCLE_POINTS, benchMemory } from './memory.ts';
import { decideSteps, type Limits } from './plan.ts';
import {
  REPORT_SCHEMA,
  type BenchReport,
  type KernelRecord,
  type MemoryRecord,
  type PhaseRecord,
  type StepRecord,
  type VariantRecord,
} from './report.ts';
import { countsLine, peakLine } from './report.ts';
import { peakOf } from './peak.ts';
import { now } from './stats.ts';
import { benchSteps, type StepPlan } from './steps.ts';
import { simdCeiling, type Ceiling } from './ceiling.ts';

export interface BenchOptions {
  readonly backends: readonly EngineName[];
  readonly gpuModes: readonly GpuMode[];
  /** anchor names (tiny, small, medium, paper-width); ignored in smoke mode */
  readonly configs: readonly AnchorName[];
  readonly threads: readonly number[];
  readonly reps: number;
  readonly smoke: boolean;
  readonly kernels: boolean;
  readonly steps: boolean;
  readonly memory: boolean;
  /** the whole run's time budget */
  readonly budgetMinutes: number;
  /** a step (or eval segment) estimated slower than this is skipped */
  readonly maxStepSeconds: number;
  /** the GPU's name as the machine reports it, to look up its peak when the adapter name does not say */
  readonly gpuName?: string;
  readonly log: (message: string) => void;
}

export const DEFAULT_OPTIONS: Omit<BenchOptions, 'log'> = {
  backends: ['reference', 'simd', 'gpu'],
  gpuModes: ['webasm', 'cpu', 'webgpu'],
  configs: ['tiny', 'small', 'medium'],
  threads: [1, 2],
  reps: 5,
  smoke: false,
  kernels: true,
  steps: true,
  memory: true,
  budgetMinutes: 30,
  maxStepSeconds: 120,
};

interface Variant {
  readonly record: Omit<VariantRecord, 'available' | 'description' | 'reason'>;
  readonly options: { threads?: number; gpuMode?: GpuMode };
}

/** The backend configurations a run covers, in order; a backend or gpu.js mode the registry does not know is refused. */
export const variantsOf = (o: Pick<BenchOptions, 'backends' | 'gpuModes' | 'threads'>, cores: number): Variant[] => {
  const unknown = (what: string, got: readonly string[], known: readonly string[]): void => {
    const bad = got.filter((x) => !known.includes(x));
    if (bad.length > 0) throw new RangeError(`bench: unknown ${what} ${bad.map((x) => `'${x}'`).join(', ')}: expected ${known.join(', ')}`);
  };
  unknown('backend', o.backends, ENGINE_NAMES);
  if (o.backends.includes('gpu')) unknown('gpu.js mode', o.gpuModes, GPU_MODES);
  const out: Variant[] = [];
  for (const b of o.backends) {
    if (b === 'reference') {
      out.push({ record: { id: 'reference', backend: 'reference', ratioThreads: 1, accelerated: false }, options: {} });
    } else if (b === 'simd') {
      for (const t of o.threads) {
        const ratioThreads = t >= 2 ? 2 : 1;
        out.push({ record: { id: `simd ${t}t`, backend: 'simd', threads: t, ratioThreads, accelerated: true }, options: { threads: t } });
      }
    } else if (b === 'gpu') {
      for (const mode of o.gpuModes) {
        // gpu.js cpu runs on the main thread; webasm's pool and the WebGPU device use every core
        const ratioThreads = mode === 'cpu' || cores < 2 ? 1 : 2;
        out.push({ record: { id: `gpu ${mode}`, backend: 'gpu', mode, ratioThreads, accelerated: true }, options: { gpuMode: mode } });
      }
    }
  }
  return out;
};

const sizesOf = (o: BenchOptions): BenchSizes[] => (o.smoke ? [SMOKE_SIZES] : o.configs.map((c) => ANCHORS[c].sizes));

/** One thread's ceilings for the SIMD engine's variant (measured once per variant and run); none for other backends. */
const ceilings = new Map<string, Promise<Ceiling>>();
const ceilingOf = async (backend: Backend<unknown>): Promise<Ceiling | undefined> => {
  const variant = (backend as { variant?: unknown }).variant;
  if (backend.name !== 'simd' || (variant !== 'relaxed' && variant !== 'plain')) return undefined;
  let c = ceilings.get(variant);
  if (c === undefined) {
    c = simdCeiling(variant);
    ceilings.set(variant, c);
  }
  return c;
};

const pytorchFor = (config: string, threads: 1 | 2): { stepMs: number; evalMs: number } | undefined =>
  config in ANCHORS ? ANCHORS[config as AnchorName].pytorch?.[threads] : undefined;

/** Runs the bench per `o` and returns its report. */
export const runBench = async (o: BenchOptions): Promise<BenchReport> => {
  const t0 = now();
  const deadline = t0 + o.budgetMinutes * 60_000;
  // the memory points run last: kernels and steps leave them a sixth of the budget
  const memoryReserve = o.memory && !o.smoke ? (o.budgetMinutes * 60_000) / 6 : 0;
  const remaining = (): number => deadline - memoryReserve - now();
  const remainingForMemory = (): number => deadline - now();
  const machine = machineInfo();
  const log = o.log;
  const variantRecords: VariantRecord[] = [];
  const kernels: KernelRecord[] = [];
  const steps: StepRecord[] = [];
  const memory: MemoryRecord[] = [];
  const skipped: { what: string; why: string }[] = [];
  const skip = (what: string, why: string): void => {
    skipped.push({ what, why });
    log(`skip ${what}: ${why}`);
  };
  const configs = sizesOf(o);
  const limits: Limits = {
    reps: o.smoke ? 1 : o.reps,
    caseBudgetMs: o.smoke ? 0 : 60_000,
    maxStepMs: o.maxStepSeconds * 1000,
  };
  const kernelPlan: KernelPlan = o.smoke ? { reps: 1, targetMs: 0, budgetMs: 0, configBudgetMs: Infinity }
    : { reps: o.reps, targetMs: 20, budgetMs: 2_000, configBudgetMs: 90_000 };

  for (const v of variantsOf(o, machine.cores)) {
    let backend: Backend<unknown>;
    try {
      backend = await createBackend(v.record.backend, { ...v.options, log: (m) => log(`  ${m}`) });
    } catch (e) {
      const reason = (e as Error).message;
      variantRecords.push({ ...v.record, available: false, reason });
      skip(`backend ${v.record.id}`, reason);
      continue;
    }
    const actualMode = (backend as { mode?: string }).mode;
    if (v.record.mode !== undefined && actualMode !== undefined && actualMode !== v.record.mode) {
      const reason = `requested gpu.js mode '${v.record.mode}' but the backend runs '${actualMode}'`;
      variantRecords.push({ ...v.record, available: false, reason });
      skip(`backend ${v.record.id}`, reason);
      await backend.close?.();
      continue;
    }
    // the adapter's name, plus what the machine says its GPU is (HRM_GPU_NAME, e.g. from nvidia-smi)
    const peak = v.record.accelerated ? peakOf(`${backend.description} ${o.gpuName ?? ''}`) : null;
    variantRecords.push({ ...v.record, available: true, description: backend.description, peak });
    log(`backend ${v.record.id}: ${backend.description}`);
    try {
      // ---- training steps and eval segments ----
      if (o.steps) {
        const who = {
          variant: v.record.id,
          backend: v.record.backend,
          ...(v.record.mode !== undefined ? { mode: v.record.mode } : {}),
          ...(v.record.threads !== undefined ? { threads: v.record.threads } : {}),
        };
        let measuredGflops: { gflops: number; config: string } | undefined;
        let warm = false;
        for (const z of configs) {
          const trainWork = stepGflop(z);
          const evalWork = evalGflop(z);
          const basis = measuredGflops ? `${measuredGflops.gflops.toFixed(2)} GFLOP/s measured on ${measuredGflops.config}` : '';
          const trainDecision = decideSteps(
            measuredGflops ? (trainWork / measuredGflops.gflops) * 1000 : undefined,
            warm,
            remaining(),
            limits,
            basis,
          );
          if (!trainDecision.run) {
            steps.push({ ...who, config: z.name, skipped: trainDecision.why });
            skip(`steps ${v.record.id} ${z.name}`, trainDecision.why);
            continue;
          }
          const trainPlan: StepPlan = { warmup: o.smoke ? 0 : trainDecision.warmup, reps: trainDecision.reps, budgetMs: limits.caseBudgetMs };
          // eval is sized from the same rate (a forward runs at least as fast per GFLOP as a step)
          const evalEstimate = measuredGflops ? (evalWork / measuredGflops.gflops) * 1000 : undefined;
          const evalDecision = decideSteps(evalEstimate, warm, remaining() - (measuredGflops ? (trainWork / measuredGflops.gflops) * 1000 * (trainPlan.warmup + trainPlan.reps) : 0), limits, basis);
          const evalPlan: StepPlan | null = evalDecision.run ? { warmup: o.smoke ? 0 : evalDecision.warmup, reps: evalDecision.reps, budgetMs: limits.caseBudgetMs } : null;
          log(`  ${v.record.id} ${z.name}: training steps (warm-up ${trainPlan.warmup}, up to ${trainPlan.reps} timed)…`);
          const r = await benchSteps(backend, z, { trainGflop: trainWork, evalGflop: evalWork }, trainPlan, evalPlan);
          warm = true;
          measuredGflops = { gflops: r.train.gflops, config: z.name };
          const py = pytorchFor(z.name, v.record.ratioThreads);
          const train: PhaseRecord = {
            ...r.train,
            ...(py ? { pytorchMs: py.stepMs, ratio: py.stepMs / r.train.medianMs } : {}),
            ...(trainDecision.note ? { note: trainDecision.note } : {}),
          };
          const evalRec: PhaseRecord | undefined =
            r.eval === undefined
              ? undefined
              : {
                  ...r.eval,
                  ...(py ? { pytorchMs: py.evalMs, ratio: py.evalMs / r.eval.medianMs } : {}),
                  ...(evalDecision.run && evalDecision.note ? { note: evalDecision.note } : {}),
                };
          if (!evalDecision.run) skip(`eval ${v.record.id} ${z.name}`, evalDecision.why);
          const ceiling = await ceilingOf(backend);
          steps.push({
            ...who,
            config: z.name,
            train,
            ...(evalRec ? { eval: evalRec } : {}),
            breakdown: r.breakdown,
            breakdownAttributable: r.breakdownAttributable,
            families: r.families,
            ...(r.replayed ? { replayed: r.replayed } : {}),
            ...(r.engine ? { engine: r.engine } : {}),
            ...(ceiling ? { ceiling } : {}),
            ...(r.perStep ? { perStep: r.perStep } : {}),
          });
          log(
            `  ${v.record.id} ${z.name}: train ${r.train.medianMs.toFixed(1)} ms (n=${r.train.reps}, ${(r.train.gflops / 1000).toFixed(3)} TFLOP/s, ${peakLine(r.train.gflops, peak)}` +
              (train.ratio !== undefined ? `, ×${train.ratio.toFixed(3)} PyTorch` : '') +
              `)` +
              (r.eval ? `; eval ${r.eval.medianMs.toFixed(1)} ms (n=${r.eval.reps})` : ''),
          );
          if (r.perStep) log(`  ${v.record.id} ${z.name}: per step ${countsLine(r.perStep)}`);
        }
      }
      // ---- kernels ----
      if (o.kernels) {
        for (const z of configs) {
          if (remaining() <= 0) {
            skip(`kernels ${v.record.id} ${z.name}`, 'run budget spent (--budget-min)');
            continue;
          }
          // the float64 reference's kernels are context, not the speed path: give them less time
          const plan = v.record.accelerated ? kernelPlan : { ...kernelPlan, configBudgetMs: kernelPlan.configBudgetMs / 3 };
          const results = await benchKernels(backend, z, plan, log, (kernel, why) => skip(`kernel ${kernel} on ${v.record.id} ${z.name}`, why));
          kernels.push({ variant: v.record.id, config: z.name, results });
        }
      }
    } finally {
      await backend.close?.();
    }
  }

  // ---- memory, in child processes ----
  if (o.memory) {
    const base = o.smoke ? SMOKE_SIZES : ANCHORS.tiny.sizes;
    const points = o.smoke ? CYCLE_POINTS.slice(0, 2) : CYCLE_POINTS;
    // one configuration per backend: the reference only in smoke runs (its steps take seconds to minutes)
    const seen = new Set<string>();
    for (const v of variantRecords) {
      if (!v.available || seen.has(v.backend)) continue;
      if (!v.accelerated && !o.smoke) {
        skip(`memory ${v.id}`, 'the float64 reference takes ~10 s per tiny step and minutes at 16 cycles; memory is measured on the accelerated backends');
        continue;
      }
      seen.add(v.backend);
      // a backend whose tiny step takes seconds gets the smoke sizes: at 16 cycles a tiny step costs ~5×
      const tinyMs = steps.find((r) => r.variant === v.id && r.config === 'tiny')?.train?.medianMs;
      const sizes = !o.smoke && tinyMs !== undefined && tinyMs > 5_000 ? SMOKE_SIZES : base;
      if (sizes !== base) log(`  memory ${v.id}: smoke sizes (its tiny step took ${(tinyMs! / 1000).toFixed(1)} s)`);
      if (remainingForMemory() <= 0) {
        skip(`memory ${v.id}`, 'run budget spent (--budget-min)');
        continue;
      }
      try {
        const m = await benchMemory(
          { backend: v.backend, ...(v.threads !== undefined ? { threads: v.threads } : {}), ...(v.mode !== undefined ? { gpuMode: v.mode } : {}), steps: o.smoke ? 1 : 2 },
          sizes,
          points,
          Math.max(60_000, Math.min(600_000, remainingForMemory())),
          log,
        );
        memory.push({ variant: v.id, config: sizes.name, ...m });
        if (!m.flat) log(`  MEMORY NOT FLAT for ${v.id}: peak RSS grows ${(100 * m.growth).toFixed(1)}% over the cycle points`);
      } catch (e) {
        skip(`memory ${v.id}`, (e as Error).message);
      }
    }
  }

  const { log: _log, ...options } = o;
  return {
    schema: REPORT_SCHEMA,
    date: new Date().toISOString(),
    machine,
    smoke: o.smoke,
    options,
    variants: variantRecords,
    kernels,
    steps,
    memory,
    skipped,
    wallSeconds: (now() - t0) / 1000,
  };
};
