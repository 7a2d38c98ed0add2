// `hrm verify` in-process: the reference against itself passes every kernel (exit 0), and a
// deliberately wrong backend (the reference with the sign of one backward flipped) fails with
// exit 1, naming the kernel, the worst element and a replay seed. This is the planted-mistake
// experiment of the conformance suite, kept as a test.

import { describe, expect, it } from 'vitest';
import type { Backend } from '../../core/backend.ts';
import { KERNEL_NAMES } from '../../core/backend.ts';
import type { Tensor } from '../../core/tensor.ts';
import { referenceBackend } from '../../reference/backend.ts';
import { parseRequest, selectTargets, verifyTargets } from './verify.ts';

type T64 = Tensor<Float64Array>;

const flipped: Backend<T64> = {
  ...referenceBackend,
  name: 'flipped',
  description: 'the reference with rmsNormBackward negated',
  rmsNormBackward: (dy, x, eps) => referenceBackend.scale(referenceBackend.rmsNormBackward(dy, x, eps), -1),
};

describe('hrm verify', () => {
  it('passes the reference against itself on every kernel (exit 0)', async () => {
    const lines: string[] = [];
    const out = await verifyTargets(
      { backend: 'reference', runs: 20, seed: 1, kernels: [...KERNEL_NAMES] },
      [{ id: 'reference', create: async () => referenceBackend as Backend<unknown> }],
      (l) => lines.push(l),
    );
    expect(out.exitCode).toBe(0);
    expect(out.reports).toHaveLength(KERNEL_NAMES.length);
    expect(out.reports.every((r) => r.pass && r.runs === 20)).toBe(true);
    expect(lines.join('\n')).toMatch(/all 31 kernel checks passed/);
  });

  it('fails a backend with one backward sign flipped (exit 1), and only that kernel', async () => {
    const lines: string[] = [];
    const out = await verifyTargets(
      { backend: 'all', runs: 30, seed: 5, kernels: ['rmsNorm', 'rmsNormBackward', 'addRmsNormBackward'] },
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
    expect(text).toMatch(/1 of 3 kernel checks FAILED/);
  });

  it('lists an unavailable target with its reason and exits 2 when nothing can run', async () => {
    const lines: string[] = [];
    const out = await verifyTargets({ backend: 'gpu', runs: 1, seed: 1, kernels: ['add'] }, [{ id: 'gpu-x', unavailable: 'no adapter here' }], (l) =>
      lines.push(l),
    );
    expect(out.exitCode).toBe(2);
    expect(lines.join('\n')).toMatch(/gpu-x .*unavailable: no adapter here/);
  });

  it('parses flags and selects targets by family or id', () => {
    const r = parseRequest(['--backend', 'simd', '--runs', '7', '--seed', '3', '--kernels', 'add,ema'], 99);
    expect(r).toMatchObject({ backend: 'simd', runs: 7, seed: 3, kernels: ['add', 'ema'] });
    expect(parseRequest([], 42)).toMatchObject({ backend: 'all', runs: 100, seed: 42 });
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
