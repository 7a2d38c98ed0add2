// The per-kernel benchmark: forward and backward time and GFLOP/s of each kernel case of a
// configuration on one backend, going through the Backend interface and synchronising with a
// small read so queued work is counted. Fast calls are batched so each sample lasts ≈ targetMs.

import type { Backend } from '../core/backend.ts';
import type { BenchSizes } from './anchors.ts';
import { kernelCases } from './kernel-cases.ts';
import { gflops, now, summarize, type Summary } from './stats.ts';
import { settleAll } from './sync.ts';

export interface KernelPlan {
  readonly reps: number;
  /** aim of one timed sample (ms): fast kernels are called several times per sample */
  readonly targetMs: number;
  /** no more than this much time per case and direction (ms), at least one sample */
  readonly budgetMs: number;
  /** once one configuration's cases took this long (ms), its remaining cases are skipped */
  readonly configBudgetMs: number;
}

export interface KernelDirectionResult extends Summary {
  readonly flops: number;
  /** GFLOP/s at the median */
  readonly gflops: number;
  readonly callsPerSample: number;
}

export interface KernelResult {
  readonly kernel: string;
  readonly shapes: string;
  readonly flopNote: string;
  readonly forward: KernelDirectionResult;
  readonly backward?: KernelDirectionResult;
}

/** Times one direction: warm-up call, calibration of calls per sample, then `plan.reps` samples. */
const timeDirection = async <T>(
  b: Backend<T>,
  call: () => T[],
  flops: number,
  keep: boolean,
  plan: KernelPlan,
): Promise<KernelDirectionResult> => {
  const t0 = now();
  await settleAll(b, call(), keep);
  const first = now() - t0;
  const inner = Math.max(1, Math.min(1000, Math.floor(plan.targetMs / Math.max(first, 1e-3))));
  const samples: number[] = [];
  let spent = 0;
  while (samples.length < Math.max(1, plan.reps) && (samples.length === 0 || spent < plan.budgetMs)) {
    const produced: T[][] = [];
    const s0 = now();
    for (let i = 0; i < inner; i++) produced.push(call());
    // Kept outputs belong to a chain (the optimizer consumes its previous state): only the last
    // call's outputs are still valid, and waiting for them waits for the whole chain.
    if (keep) await settleAll(b, produced[produced.length - 1], keep);
    else for (let i = produced.length - 1; i >= 0; i--) await settleAll(b, produced[i], keep);
    const dt = now() - s0;
    spent += dt;
    samples.push(dt / inner);
  }
  const s = summarize(samples);
  return { ...s, flops, gflops: gflops(flops, s.medianMs), callsPerSample: inner };
};

/** Benchmarks every kernel case of configuration `z` on `b`; `log` reports progress. */
export const benchKernels = async <T>(
  b: Backend<T>,
  z: BenchSizes,
  plan: KernelPlan,
  log: (m: string) => void = () => {},
  skipped: (kernel: string, why: string) => void = () => {},
): Promise<KernelResult[]> => {
  const cases = kernelCases(b, z);
  const results: KernelResult[] = [];
  const start = now();
  try {
    for (const c of cases) {
      const spent = now() - start;
      if (spent > plan.configBudgetMs) {
        skipped(c.name, `the ${z.name} kernel cases already took ${(spent / 1000).toFixed(0)} s (limit ${(plan.configBudgetMs / 1000).toFixed(0)} s per configuration)`);
        continue;
      }
      const forward = await timeDirection(b, c.forward, c.forwardFlops, c.keepsOutputs === true, plan);
      const backward = c.backward === undefined ? undefined : await timeDirection(b, c.backward, c.backwardFlops, false, plan);
      results.push({ kernel: c.name, shapes: c.shapes, flopNote: c.flopNote, forward, ...(backward ? { backward } : {}) });
      log(
        `  ${z.name} ${c.name.padEnd(22)} fwd ${forward.medianMs.toFixed(3)} ms (${forward.gflops.toFixed(2)} GFLOP/s)` +
          (backward ? `  bwd ${backward.medianMs.toFixed(3)} ms (${backward.gflops.toFixed(2)} GFLOP/s)` : ''),
      );
    }
  } finally {
    for (const c of cases) c.release();
  }
  return results;
};
