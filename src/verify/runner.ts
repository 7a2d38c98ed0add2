// Runs conformance cases: one case on one backend (upload, call, read back, release), a target
// against the reference under the tolerance table, the immutability check (arguments read back
// bit-identical after the call), and a whole fast-check run per kernel that reports the worst
// element seen and, on failure, the replay seed and path. Shared by properties/ and `hrm verify`.

import fc from 'fast-check';
import type { Backend, KernelName } from '../core/backend.ts';
import type { Tensor } from '../core/tensor.ts';
import { referenceBackend } from '../reference/backend.ts';
import type { CaseInput, HostArray, KernelCase } from './cases.ts';
import type { Comparison, Worst } from './compare.ts';
import { compareTensor, describeWorst, worse } from './compare.ts';
import type { Tolerance } from './tolerances.ts';
import { toleranceFor } from './tolerances.ts';

type T64 = Tensor<Float64Array>;

export interface CaseRun {
  readonly outputs: Readonly<Record<string, T64>>;
  /** names of arguments (tensor or host array) whose values changed during the call */
  readonly mutated: readonly string[];
}

const sameBits = (a: ArrayLike<number>, b: ArrayLike<number>): boolean => {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
};

const copyHost = (a: HostArray): HostArray => a.slice();

/** Uploads a case's tensors to `b`, calls its kernel, reads every output and argument back. */
export const runCase = async <T>(b: Backend<T>, c: KernelCase<unknown>, input: CaseInput<unknown>): Promise<CaseRun> => {
  const hostBefore = Object.fromEntries(Object.entries(input.host).map(([k, v]) => [k, copyHost(v)]));
  const handles: Record<string, T> = {};
  for (const [name, t] of Object.entries(input.tensors)) handles[name] = b.fromArray(t.shape, t.data);
  const released = new Set<T>();
  const release = (h: T): void => {
    if (!released.has(h)) {
      released.add(h);
      b.dispose(h);
    }
  };
  try {
    const out = c.call(b, handles, input);
    const outputs: Record<string, T64> = {};
    for (const [name, h] of Object.entries(out)) outputs[name] = await b.read(h);
    const mutated: string[] = [];
    for (const [name, t] of Object.entries(input.tensors)) {
      if (c.consumed.includes(name)) continue;
      const back = await b.read(handles[name]);
      // a float32 backend stores float32-representable inputs exactly, so bits must round-trip
      if (!sameBits(back.data, t.data)) mutated.push(name);
    }
    for (const [name, before] of Object.entries(hostBefore)) if (!sameBits(input.host[name], before)) mutated.push(name);
    for (const h of Object.values(out)) release(h);
    return { outputs, mutated };
  } finally {
    // consumed arguments belong to the backend after the call (see CONSUMES in the contract)
    for (const [name, h] of Object.entries(handles)) if (!c.consumed.includes(name)) release(h);
  }
};

/** The reference's outputs for a case (computed on the float64 reference backend). */
export const referenceOutputs = async (c: KernelCase<unknown>, input: CaseInput<unknown>): Promise<Readonly<Record<string, T64>>> =>
  (await runCase(referenceBackend, c, input)).outputs;

/** Compares every output of `got` with `ref` (missing or extra outputs fail), allowing each output's `slack` (see KernelCase.slack). */
export const compareOutputs = (ref: Readonly<Record<string, T64>>, got: Readonly<Record<string, T64>>, tol: Tolerance, slack: Readonly<Record<string, Float64Array>> = {}): Comparison => {
  let result: Comparison | undefined;
  for (const name of new Set([...Object.keys(ref), ...Object.keys(got)])) {
    const r = ref[name];
    const g = got[name];
    if (r === undefined || g === undefined) {
      result = worse(result, { ok: false, shapeMismatch: `${name}: ${r === undefined ? 'not produced by the reference' : 'missing'}` });
      continue;
    }
    result = worse(result, compareTensor(name, r.shape, r.data, g.shape, g.data, tol, slack[name]));
  }
  return result ?? { ok: true };
};

export interface CaseCheck {
  readonly comparison: Comparison;
  readonly mutated: readonly string[];
  /** the target threw */
  readonly error?: string;
}

/** One input: target vs reference, and the target's immutability. */
export const checkCase = async <T>(target: Backend<T>, c: KernelCase<unknown>, input: CaseInput<unknown>, tol?: Tolerance): Promise<CaseCheck> => {
  const ref = await referenceOutputs(c, input);
  try {
    const got = await runCase(target, c, input);
    return { comparison: compareOutputs(ref, got.outputs, tol ?? toleranceFor(c.kernel, target.dtype), c.slack?.(input, target.dtype)), mutated: got.mutated };
  } catch (e) {
    return { comparison: { ok: false }, mutated: [], error: `${(e as Error).name}: ${(e as Error).message}` };
  }
};

/** A human-readable reason for a failed CaseCheck. */
export const describeCheck = (kernel: KernelName, r: CaseCheck): string => {
  if (r.error !== undefined) return `${kernel} threw ${r.error}`;
  const parts: string[] = [];
  if (!r.comparison.ok) {
    parts.push(r.comparison.shapeMismatch ?? (r.comparison.worst ? describeWorst(r.comparison.worst) : 'mismatch'));
  }
  if (r.mutated.length > 0) parts.push(`modified its argument(s) ${r.mutated.join(', ')}`);
  return `${kernel}: ${parts.join('; ')}`;
};

const shapesOf = (input: CaseInput<unknown>): string =>
  Object.entries(input.tensors)
    .map(([k, t]) => `${k}[${t.shape.join(',')}]`)
    .concat(Object.entries(input.host).map(([k, a]) => `${k}(${a.length})`))
    .join(' ') + (Object.keys(input.params as object).length ? ` ${JSON.stringify(input.params)}` : '');

export interface KernelReport {
  readonly kernel: KernelName;
  readonly runs: number;
  readonly pass: boolean;
  /** the worst element over every run (err/allowed largest) */
  readonly worst?: Worst;
  readonly seed: number;
  /** fast-check's replay path of the (shrunk) counterexample */
  readonly path?: string;
  readonly failure?: string;
}

export interface VerifyOptions {
  readonly runs: number;
  readonly seed: number;
  /** replay only this fast-check path (from a failure report) */
  readonly path?: string;
  /** also require the arguments to be left bit-identical (default true) */
  readonly immutability?: boolean;
  readonly tolerance?: Tolerance;
}

/** fast-check run of one kernel's case on `target` against the reference. */
export const verifyKernel = async <T>(target: Backend<T>, c: KernelCase<unknown>, options: VerifyOptions): Promise<KernelReport> => {
  const immutability = options.immutability ?? true;
  let worst: Worst | undefined;
  let lastFailure: string | undefined;
  const details = await fc.check(
    fc.asyncProperty(c.arbitrary, async (input) => {
      const r = await checkCase(target, c, input, options.tolerance);
      const w = r.comparison.worst;
      if (w !== undefined && (worst === undefined || w.ratio > worst.ratio)) worst = w;
      const ok = r.comparison.ok && r.error === undefined && (!immutability || r.mutated.length === 0);
      if (!ok) lastFailure = `${describeCheck(c.kernel, r)} (inputs: ${shapesOf(input)})`;
      return ok;
    }),
    { numRuns: options.runs, seed: options.seed, ...(options.path !== undefined ? { path: options.path } : {}) },
  );
  if (!details.failed) return { kernel: c.kernel, runs: details.numRuns, pass: true, worst, seed: details.seed };
  const thrown = details.errorInstance instanceof Error ? details.errorInstance.message : undefined;
  return {
    kernel: c.kernel,
    runs: details.numRuns,
    pass: false,
    worst,
    seed: details.seed,
    path: details.counterexamplePath ?? undefined,
    failure: lastFailure ?? thrown ?? 'property failed',
  };
};
