// The bench is kept working, not timed: the pure pieces (statistics, anchors' work formulas, the
// repetition planner, memory flatness, the timing proxy) are checked on exact values, and one smoke
// run of `hrm bench` must produce well-formed JSON and markdown tables. No assertion is on speed.

import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { ANCHORS, evalGflop, stepGflop, trainableParams } from './anchors.ts';
import { flatness, type MemorySample } from './memory.ts';
import { decideSteps } from './plan.ts';
import { REPORT_SCHEMA, type BenchReport } from './report.ts';
import { summarize } from './stats.ts';
import { breakdownRows, familyRows } from './steps.ts';
import { callWork } from './work.ts';
import { withTiming } from './timing-proxy.ts';
import { replay } from './replay.ts';
import { createHrm } from '../model/hrm.ts';
import { benchBatch, benchConfig } from './workload.ts';
import { SMOKE_SIZES } from './anchors.ts';
import { referenceBackend } from '../reference/backend.ts';
import { run } from '../cli/commands/bench.ts';
import { variantsOf } from './run.ts';

describe('bench statistics', () => {
  it('summarises medians, extremes and means', () => {
    expect(summarize([5, 1, 3])).toEqual({ reps: 3, medianMs: 3, minMs: 1, maxMs: 5, meanMs: 3 });
    expect(summarize([4, 1, 3, 2]).medianMs).toBe(2.5);
    expect(() => summarize([])).toThrow(/no samples/);
  });
});

describe('anchor configurations', () => {
  it('reproduce the anchors\' parameter counts and matmul work', () => {
    for (const a of Object.values(ANCHORS)) {
      expect(trainableParams(a.sizes)).toBe(a.trainableParams);
      // the anchors round to 2–3 significant digits
      expect(Math.abs(stepGflop(a.sizes) - a.stepGflop) / a.stepGflop).toBeLessThan(0.01);
      expect(evalGflop(a.sizes)).toBeLessThan(stepGflop(a.sizes) / 2);
    }
  });
});

describe('repetition planner', () => {
  const limits = { reps: 5, caseBudgetMs: 60_000, maxStepMs: 120_000 };
  it('measures first when nothing is known', () => {
    expect(decideSteps(undefined, false, 1e6, limits, '')).toEqual({ run: true, warmup: 1, reps: 5 });
  });
  it('cuts repetitions of slow calls and says so', () => {
    const d = decideSteps(25_000, true, 1e6, limits, 'x');
    expect(d).toMatchObject({ run: true, warmup: 0, reps: 2 });
    expect(d.run && d.note).toMatch(/2 repetitions instead of 5/);
  });
  it('skips a call over the limit or over the remaining budget, naming why', () => {
    const over = decideSteps(500_000, true, 1e7, limits, '0.6 GFLOP/s measured on small');
    expect(over.run).toBe(false);
    expect(!over.run && over.why).toMatch(/0\.6 GFLOP\/s measured on small\) exceeds the 120 s limit/);
    const late = decideSteps(50_000, true, 20_000, limits, 'b');
    expect(!late.run && late.why).toMatch(/left of the run budget/);
  });
});

describe('memory flatness', () => {
  const sample = (peak: number): MemorySample => ({ hCycles: 1, lCycles: 1, peakRssMb: peak, setupRssMb: 80, setupPeakRssMb: 80 });
  it('is flat within 10% and flags more', () => {
    expect(flatness([sample(100), sample(109)]).flat).toBe(true);
    const f = flatness([sample(100), sample(130), sample(105)]);
    expect(f.flat).toBe(false);
    expect(f.growth).toBeCloseTo(0.3, 12);
  });
  it('judges the peaks during the steps when every sample has one (start-up transients do not count)', () => {
    const withSteps = (peak: number, steps: number): MemorySample => ({ ...sample(peak), stepsPeakRssMb: steps });
    expect(flatness([withSteps(130, 100), withSteps(100, 104)]).flat).toBe(true);
    expect(flatness([withSteps(100, 100), withSteps(100, 120)]).flat).toBe(false);
    // one sample without it: the whole processes' peaks decide
    expect(flatness([withSteps(130, 100), sample(100)]).flat).toBe(false);
  });
});

describe('timing proxy', () => {
  it('forwards results unchanged and counts calls per kernel', async () => {
    const proxy = withTiming(referenceBackend);
    const b = proxy.backend;
    const x = b.fromArray([2, 3], [1, 2, 3, 4, 5, 6]);
    const w = b.fromArray([2, 3], [1, 0, 0, 0, 1, 1]);
    const y = b.linear(x, w);
    b.linear(x, w);
    expect(Array.from((await b.read(y)).data)).toEqual([1, 5, 4, 11]);
    expect(b.name).toBe(referenceBackend.name);
    const stats = proxy.stats();
    expect(stats.get('linear')?.calls).toBe(2);
    expect(stats.get('fromArray')?.calls).toBe(2);
    expect(stats.get('read')?.calls).toBe(1);
    expect(stats.has('shape')).toBe(false);
    proxy.reset();
    expect(proxy.stats().size).toBe(0);
  });
  it('charges a pending read none of the kernels that run before it settles (no negative host glue)', async () => {
    const proxy = withTiming(referenceBackend);
    const b = proxy.backend;
    const x = b.fromArray([64, 64], Array.from({ length: 64 * 64 }, (_, i) => (i % 7) - 3));
    const pending = [b.read(x), b.read(x)];
    const t0 = performance.now();
    for (let i = 0; i < 20; i++) b.linear(x, x);
    await Promise.all(pending);
    const wall = performance.now() - t0;
    const stats = proxy.stats();
    const linearMs = stats.get('linear')!.ms;
    expect(linearMs).toBeGreaterThan(0);
    // before, each read was charged from its call to its settling: both reads ≥ the 20 products
    expect(stats.get('read')!.ms).toBeLessThan(linearMs / 2);
    expect(linearMs + stats.get('read')!.ms).toBeLessThanOrEqual(wall + 1);
  });
  it('records a training step and replays every kernel call of it', async () => {
    const proxy = withTiming(referenceBackend);
    const z = SMOKE_SIZES;
    const config = benchConfig(z);
    const batch = benchBatch(z);
    const hrm = createHrm(config, { backend: proxy.backend, seed: 3 });
    const rates = { lr: 1e-4, puzzleEmbLr: 1e-2 };
    let carry = (await hrm.trainStep(hrm.initialCarry(z.batchSize, batch.seqLen), batch, rates, z.batchSize)).carry;
    proxy.reset();
    proxy.startRecording();
    carry = (await hrm.trainStep(carry, batch, rates, z.batchSize)).carry;
    const rec = proxy.stopRecording();
    const counted = proxy.stats();
    const replayed = await replay(referenceBackend, rec.calls);
    rec.release();
    expect(rec.calls.length).toBeGreaterThan(20);
    // every kernel of the step is replayed exactly as often as the step called it
    for (const [name, t] of replayed) expect(t.calls).toBe(counted.get(name)?.calls);
    expect(replayed.get('linear')!.ms).toBeGreaterThan(0);
    expect(replayed.has('adamAtan2Many')).toBe(true); // the optimizer's one call over every dense parameter
    // the model's state went on normally: a further step runs
    carry = (await hrm.trainStep(carry, batch, rates, z.batchSize)).carry;
    hrm.disposeCarry(carry);
    await hrm.dispose();
  });
  it('breakdown rows add up to the step time', () => {
    const rows = breakdownRows(new Map([['linear', { calls: 4, ms: 60 }], ['attention', { calls: 2, ms: 20 }]]), 2, 100);
    expect(rows.map((r) => r.kernel)).toEqual(['linear', 'attention', 'outside kernels']);
    expect(rows[0]).toMatchObject({ callsPerStep: 2, msPerStep: 30, fraction: 0.6 });
    expect(rows[2].msPerStep).toBeCloseTo(10, 12);
    expect(rows.reduce((a, r) => a + r.fraction, 0)).toBeCloseTo(1, 12);
  });
});

describe('work per kernel call', () => {
  it('counts a linear layer as 2·N·K·M and its backward as twice that', () => {
    const shapeOf = (t: unknown): number[] => t as number[];
    expect(callWork('linear', [[2, 5, 3], [7, 3]], shapeOf).flops).toBe(2 * 10 * 3 * 7);
    expect(callWork('linearBackward', [[2, 5, 7], [2, 5, 3], [7, 3], false], shapeOf).flops).toBe(4 * 10 * 3 * 7);
    expect(callWork('attention', [[2, 9, 24], 2], shapeOf).flops).toBe(4 * 2 * 2 * 9 * 9 * 4);
    expect(callWork('add', [[4, 5], [4, 5]], shapeOf)).toEqual({ flops: 0, bytes: 3 * 20 * 4 });
    expect(callWork('dispose', [[4]], shapeOf)).toEqual({ flops: 0, bytes: 0 });
  });
  it('adds up, over a training step, to the anchors\' product count (attention backward recomputes QKᵀ)', async () => {
    const proxy = withTiming(referenceBackend);
    const z = SMOKE_SIZES;
    const config = benchConfig(z);
    const batch = benchBatch(z);
    const hrm = createHrm(config, { backend: proxy.backend, seed: 3 });
    await hrm.trainStep(hrm.initialCarry(z.batchSize, batch.seqLen), batch, { lr: 1e-4, puzzleEmbLr: 1e-2 }, z.batchSize);
    const rows = breakdownRows(proxy.stats(), 1, 1);
    const families = familyRows(rows);
    const counted = families.reduce((a, f) => a + (f.product ? f.gflopPerStep : 0), 0);
    // each of the 2·layers attention backward blocks evaluates QKᵀ again: 2·B·S²·D more than the
    // anchors' 2× forward; the Q-target segment needs only the Q head: no lm_head (2·B·S·D·V less)
    const S = batch.seqLen;
    const recompute = (2 * z.layers * 2 * z.batchSize * S * S * z.hidden) / 1e9;
    const noLmHead = (2 * z.batchSize * S * z.hidden * config.arch.vocab_size) / 1e9;
    expect(counted).toBeCloseTo(stepGflop(z) + recompute - noLmHead, 9);
    expect(families.find((f) => f.family === 'linear')?.product).toBe(true);
    // SwiGLU and RoPE run inside their products (linearSwiglu, linearRope): no family of their own
    expect(families.find((f) => f.family === 'swiglu')).toBeUndefined();
    expect(families.find((f) => f.family === 'rms-norm')?.mbPerStep).toBeGreaterThan(0);
    await hrm.dispose();
  });
});

describe('bench variants', () => {
  it('covers the registry\'s backends and refuses a backend or gpu.js mode it does not know', () => {
    const ids = variantsOf({ backends: ['reference', 'simd', 'gpu'], gpuModes: ['webasm', 'cpu'], threads: [1, 2] }, 2).map((v) => v.record.id);
    expect(ids).toEqual(['reference', 'simd 1t', 'simd 2t', 'gpu webasm', 'gpu cpu']);
    const bogus = ['tpu'] as unknown as Parameters<typeof variantsOf>[0]['backends'];
    expect(() => variantsOf({ backends: bogus, gpuModes: ['webasm'], threads: [1] }, 2)).toThrow(/unknown backend 'tpu': expected reference, simd, gpu/);
    const badMode = ['opengl'] as unknown as Parameters<typeof variantsOf>[0]['gpuModes'];
    expect(() => variantsOf({ backends: ['gpu'], gpuModes: badMode, threads: [1] }, 2)).toThrow(/unknown gpu.js mode 'opengl'/);
  });
  it('hrm bench refuses an unknown backend flag before running anything', async () => {
    const errors: string[] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void errors.push(a.join(' ')));
    try {
      expect(await run(['--backend', 'reference,tpu', '--no-results'])).toBe(2);
    } finally {
      spy.mockRestore();
    }
    expect(errors.join('\n')).toMatch(/'--backend' must be one of reference, simd, gpu, got 'tpu'/);
  });
});

describe('hrm bench --smoke', () => {
  it('produces well-formed JSON and markdown tables', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hrm-bench-'));
    const json = join(dir, 'bench.json');
    const results = join(dir, 'RESULTS.md');
    const printed: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void printed.push(a.join(' ')));
    let code: number;
    try {
      code = await run(['--smoke', '--quiet', '--json', json, '--results', results]);
    } finally {
      spy.mockRestore();
    }
    expect(code).toBe(0);
    const report = JSON.parse(readFileSync(json, 'utf8')) as BenchReport;
    expect(report.schema).toBe(REPORT_SCHEMA);
    expect(report.smoke).toBe(true);
    expect(report.machine.cores).toBeGreaterThan(0);
    expect(report.machine.node).toBe(process.version);
    const ref = report.variants.find((v) => v.id === 'reference');
    expect(ref?.available).toBe(true);
    // every variant is either measured or carries the reason it is not
    for (const v of report.variants) expect(v.available || (v.reason ?? '').length > 0).toBe(true);
    const available = report.variants.filter((v) => v.available).map((v) => v.id);
    for (const id of available) {
      const k = report.kernels.find((r) => r.variant === id);
      expect(k?.results.map((r) => r.kernel)).toContain('attention');
      for (const r of k!.results) {
        expect(Number.isFinite(r.forward.medianMs) && r.forward.medianMs > 0).toBe(true);
        expect(r.forward.reps).toBeGreaterThanOrEqual(1);
      }
      const s = report.steps.find((r) => r.variant === id);
      expect(s?.train?.reps).toBe(1);
      expect(s!.train!.minMs).toBeLessThanOrEqual(s!.train!.maxMs);
      expect(s?.eval?.medianMs).toBeGreaterThan(0);
      expect(s?.breakdown?.some((row) => row.kernel === 'linear')).toBe(true);
    }
    expect(report.memory.length).toBeGreaterThanOrEqual(1);
    expect(report.memory[0].samples.length).toBe(2);
    expect(report.memory[0].samples[0].peakRssMb).toBeGreaterThan(0);
    if (process.platform === 'linux') expect(report.memory[0].samples[0].stepsPeakRssMb).toBeGreaterThan(0);
    const md = printed.join('\n');
    expect(md).toMatch(/\| backend \| config \| train step \|/);
    expect(md).toMatch(/\| reference \| smoke \|/);
    expect(md).toMatch(/\| kernel \| smoke fwd \| smoke bwd \|/);
    expect(md).toMatch(/H×L cycles/);
    expect(existsSync(results) && readFileSync(results, 'utf8')).toContain('(smoke run: not a measurement)');
  });
});
