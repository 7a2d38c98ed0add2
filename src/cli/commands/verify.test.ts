// `hrm verify` in-process: the reference against itself passes every kernel and the whole-model
// check (exit 0), and deliberately wrong backends (the reference with one backward's sign flipped,
// or one backward scaled by 1.01) fail with exit 1, naming the kernel or `model`, the worst element
// and a replay seed whose path reproduces the failure. This is the planted-mistake experiment of
// the conformance suite, kept as a test.

import { describe, expect, it } from 'vitest';
import type { Backend } from '../../core/backend.ts';
import { KERNEL_NAMES } from '../../core/backend.ts';
import type { Tensor } from '../../core/tensor.ts';
import { referenceBackend } from '../../reference/backend.ts';
import { selectTargets, verifyTargets } from '../../verify/suite.ts';
import { parseRequest } from './verify.ts';

type T64 = Tensor<Float64Array>;

const flipped: Backend<T64> = {
  ...referenceBackend,
  name: 'flipped',
  description: 'the reference with rmsNormBackward negated',
  rmsNormBackward: (dy, x, eps) => referenceBackend.scale(referenceBackend.rmsNormBackward(dy, x, eps), -1),
};

/** Off by 1% in one backward only: every forward value is right, every gradient through the MLP is not. */
const scaledSwiglu: Backend<T64> = {
  ...referenceBackend,
  name: 'scaled-swiglu',
  description: 'the reference with linearSwigluBackward scaled by 1.01',
  linearSwigluBackward: (dy, x, w, gu) => {
    const g = referenceBackend.linearSwigluBackward(dy, x, w, gu);
    return { dx: referenceBackend.scale(g.dx, 1.01), dw: referenceBackend.scale(g.dw, 1.01) };
  },
};

describe('hrm verify', () => {
  it('passes the reference against itself on every kernel and the model (exit 0)', async () => {
    const lines: string[] = [];
    const out = await verifyTargets(
      { backend: 'reference', runs: 20, modelRuns: 3, seed: 1, kernels: [...KERNEL_NAMES, 'model'] },
      [{ id: 'reference', create: async () => referenceBackend as Backend<unknown> }],
      (l) => lines.push(l),
    );
    expect(out.exitCode).toBe(0);
    expect(out.reports).toHaveLength(KERNEL_NAMES.length + 1);
    expect(out.reports.filter((r) => r.kernel !== 'model').every((r) => r.pass && r.runs === 20)).toBe(true);
    const model = out.reports.find((r) => r.kernel === 'model');
    expect(model).toMatchObject({ pass: true, runs: 3, target: 'reference' });
    expect(model?.worst?.ratio).toBe(0); // the reference is bit-identical to itself
    const text = lines.join('\n');
    expect(text).toMatch(/^reference +model +3 .* pass \(worst: /m);
    expect(text).toMatch(/model: 3 random tiny configs \(seed 1\), 3 training steps/);
    expect(text).toMatch(new RegExp(`all ${KERNEL_NAMES.length + 1} checks passed`));
  });

  it('fails the model row on a backend with one backward off by 1% (exit 1), naming model, the quantity and a replay', async () => {
    const lines: string[] = [];
    const target = { id: 'scaled-swiglu', create: async () => scaledSwiglu as Backend<unknown> };
    const out = await verifyTargets({ backend: 'all', runs: 20, modelRuns: 3, seed: 11, kernels: ['linearSwiglu', 'model'] }, [target], (l) => lines.push(l));
    expect(out.exitCode).toBe(1);
    const byKernel = Object.fromEntries(out.reports.map((r) => [r.kernel, r]));
    expect(byKernel.linearSwiglu.pass).toBe(true); // the forward kernel is untouched
    expect(byKernel.model.pass).toBe(false);
    expect(byKernel.model.failure).toMatch(/^step 1 grad\.\S+: rel-L2 \S+ > 0\.001 .*worst \[\d+\]: got .*reference .*\(config \{.*"hidden"/);
    expect(byKernel.model.worst?.ratio).toBeGreaterThan(1);
    const text = lines.join('\n');
    expect(text).toMatch(/^scaled-swiglu +model +\d+ .* FAIL step 1 grad\./m);
    const replay = text.match(/replay: hrm verify --backend scaled-swiglu --kernels model --seed 11 --path (\S+)/);
    expect(replay).not.toBeNull();
    expect(text).toMatch(/1 of 2 checks FAILED: scaled-swiglu model/);
    // the printed path replays exactly the failing config
    const again = await verifyTargets({ backend: 'all', runs: 20, modelRuns: 3, seed: 11, kernels: ['model'], path: replay![1] }, [target], () => {});
    expect(again.exitCode).toBe(1);
    expect(again.reports[0]).toMatchObject({ kernel: 'model', pass: false, runs: 1 });
    expect(again.reports[0].failure).toBe(byKernel.model.failure);
  });

  it('fails a backend with one backward sign flipped (exit 1), and only that kernel', async () => {
    const lines: string[] = [];
    const out = await verifyTargets(
      { backend: 'all', runs: 30, modelRuns: 1, seed: 5, kernels: ['rmsNorm', 'rmsNormBackward', 'addRmsNormBackward'] },
      [{ id: 'flipped', create: async () => flipped as Backend<unknown> }],
      (l) => lines.push(l),
    );
    expect(out.exitCode).toBe(1);
    const byKernel = Object.fromEntries(out.reports.map((r) => [r.kernel, r]));
    expect(byKernel.rmsNorm.pass).toBe(true);
    expect(byKernel.addRmsNormBackward.pass).toBe(true); // the reference's own addRmsNormBackward is untouched
    expect(byKernel.rmsNormBackward.pass).toBe(false);
    expect(byKernel.rmsNormBackward.failure).toMatch(/rmsNormBackward: dx\[\d+\]: got .*reference/);
    const text = lines.join('\n');
    expect(text).toMatch(/replay: hrm verify --backend flipped --kernels rmsNormBackward --seed 5 --path \S+/);
    expect(text).toMatch(/1 of 3 checks FAILED: flipped rmsNormBackward/);
  });

  it('lists an unavailable target with its reason and exits 2 when nothing can run', async () => {
    const lines: string[] = [];
    const out = await verifyTargets({ backend: 'gpu', runs: 1, modelRuns: 1, seed: 1, kernels: ['add'] }, [{ id: 'gpu-x', unavailable: 'no adapter here' }], (l) =>
      lines.push(l),
    );
    expect(out.exitCode).toBe(2);
    expect(lines.join('\n')).toMatch(/gpu-x .*unavailable: no adapter here/);
  });

  it('parses flags and selects targets by family or id', () => {
    const r = parseRequest(['--backend', 'simd', '--runs', '7', '--seed', '3', '--kernels', 'add,ema'], 99);
    expect(r).toMatchObject({ backend: 'simd', runs: 7, modelRuns: 5, seed: 3, kernels: ['add', 'ema'] });
    expect(parseRequest([], 42)).toMatchObject({ backend: 'all', runs: 100, modelRuns: 5, seed: 42, kernels: [...KERNEL_NAMES, 'model'] });
    expect(parseRequest(['--kernels', 'model,add', '--model-runs', '2'], 1)).toMatchObject({ modelRuns: 2, kernels: ['model', 'add'] });
    expect(() => parseRequest(['--model-runs', '0'], 1)).toThrow(/model-runs/);
    expect(() => parseRequest(['--kernels', 'nope'], 1)).toThrow(/unknown kernel 'nope'/);
    expect(() => parseRequest(['--path', '1:2'], 1)).toThrow(/needs the '--seed'/);
    const all = [
      { id: 'reference', unavailable: '' },
      { id: 'simd-plain-1t', unavailable: '' },
      { id: 'gpu-webasm', unavailable: '' },
    ];
    expect(selectTargets(all, 'simd').map((t) => t.id)).toEqual(['simd-plain-1t']);
    expect(selectTargets(all, 'gpu-webasm').map((t) => t.id)).toEqual(['gpu-webasm']);
    expect(selectTargets(all, 'all')).toHaveLength(3);
  });
});
