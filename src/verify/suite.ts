// The conformance suite over targets: every selected kernel of the Backend contract, and the
// whole-model check, on each conformance target (src/backends/registry.ts) against the float64
// reference, written as a table line by line through `print` (the `hrm verify` command and the web
// page's Verify tab both run it). No I/O of its own.

import type { Backend, KernelName } from '../core/backend.ts';
import { KERNEL_NAMES } from '../core/backend.ts';
import type { ConformanceTarget } from '../backends/registry.ts';
import { caseFor } from './cases.ts';
import type { KernelReport } from './runner.ts';
import { verifyKernel } from './runner.ts';
import { toleranceFor } from './tolerances.ts';
import { MODEL_ATOL, MODEL_STEPS, verifyModel } from './model.ts';

/** A row of the table: one kernel, or the whole-model check. */
export type CheckName = KernelName | 'model';
export const CHECK_NAMES: readonly CheckName[] = [...KERNEL_NAMES, 'model'];

export interface VerifyRequest {
  readonly backend: string;
  /** fast-check runs per kernel */
  readonly runs: number;
  /** drawn configs for the model row */
  readonly modelRuns: number;
  readonly seed: number;
  /** the rows to run per target, in order */
  readonly kernels: readonly CheckName[];
  readonly path?: string;
}

/** One row of the table: a kernel's or the model's report on one target. */
export type VerifyRow = Omit<KernelReport, 'kernel'> & { readonly kernel: CheckName; readonly target: string };

export interface VerifyOutcome {
  readonly reports: readonly VerifyRow[];
  readonly unavailable: readonly { readonly target: string; readonly reason: string }[];
  readonly exitCode: number;
}

/** Targets whose id is `backend`, starts with `backend-` (a family), or all of them. */
export const selectTargets = (all: readonly ConformanceTarget[], backend: string): ConformanceTarget[] =>
  backend === 'all' ? [...all] : all.filter((t) => t.id === backend || t.id.startsWith(`${backend}-`));

const fmt = (x: number): string => (x === 0 ? '0' : Number.isFinite(x) ? x.toExponential(2) : String(x));

/** Runs the request on `targets`, writing the table through `print`; returns the reports and the exit code. */
export const verifyTargets = async (
  req: VerifyRequest,
  targets: readonly ConformanceTarget[],
  print: (line: string) => void,
  progress: (line: string) => void = () => {},
): Promise<VerifyOutcome> => {
  const reports: VerifyRow[] = [];
  const unavailable: { target: string; reason: string }[] = [];
  const header = `${'target'.padEnd(18)} ${'kernel'.padEnd(22)} ${'runs'.padStart(5)}  ${'worst |err|'.padStart(11)} ${'allowed'.padStart(9)} ${'ratio'.padStart(8)}  result`;
  const withModel = req.kernels.includes('model');
  const nKernels = req.kernels.filter((k) => k !== 'model').length;
  if (nKernels > 0) {
    print(`seed ${req.seed}, ${req.runs} runs per kernel; an element passes when |got − ref| ≤ atol + rtol·|ref| + ntol·max|ref| (src/verify/tolerances.ts)`);
  }
  if (withModel) {
    print(
      `model: ${req.modelRuns} random tiny configs (seed ${req.seed}), ${MODEL_STEPS} training steps each on the target and the reference from the same weights and batch; ` +
        `every forward value, gradient and parameter passes when ‖got − ref‖ ≤ tol·‖ref‖ + ${MODEL_ATOL}·√n (src/verify/model.ts), so its worst/allowed are norms`,
    );
  }
  print(header);
  print('-'.repeat(header.length));
  for (const target of targets) {
    if ('unavailable' in target) {
      unavailable.push({ target: target.id, reason: target.unavailable });
      print(`${target.id.padEnd(18)} ${'(all)'.padEnd(22)} ${'-'.padStart(5)}  ${''.padStart(11)} ${''.padStart(9)} ${''.padStart(8)}  unavailable: ${target.unavailable}`);
      continue;
    }
    let backend: Backend<unknown>;
    try {
      backend = await target.create();
    } catch (e) {
      const failure = `could not be created: ${(e as Error).message}`;
      reports.push({ target: target.id, kernel: req.kernels[0], runs: 0, pass: false, seed: req.seed, failure });
      print(`${target.id.padEnd(18)} ${'(all)'.padEnd(22)} ${'0'.padStart(5)}  ${''.padStart(11)} ${''.padStart(9)} ${''.padStart(8)}  FAIL ${failure}`);
      continue;
    }
    try {
      for (const kernel of req.kernels) {
        progress(`verify: ${target.id} ${kernel}…`);
        const r =
          kernel === 'model'
            ? await verifyModel(backend, { runs: req.modelRuns, seed: req.seed, path: req.path })
            : await verifyKernel(backend, caseFor(kernel), { runs: req.runs, seed: req.seed, path: req.path });
        reports.push({ ...r, target: target.id });
        const w = r.worst;
        const noWorst = kernel === 'model' ? '-' : fmt(toleranceFor(kernel, backend.dtype).atol);
        const result = r.pass
          ? kernel === 'model'
            ? `pass${w !== undefined ? ` (worst: ${w.output})` : ''}${'diverged' in r && r.diverged > 0 ? `; ${r.diverged} of ${r.runs} compared only up to a halting tie or a near-zero gradient sign flip` : ''}`
            : 'pass'
          : `FAIL ${r.failure}\n${''.padEnd(20)}replay: hrm verify --backend ${target.id} --kernels ${kernel} --seed ${r.seed}${r.path ? ` --path ${r.path}` : ''}`;
        print(
          `${target.id.padEnd(18)} ${kernel.padEnd(22)} ${String(r.runs).padStart(5)}  ${(w ? fmt(w.err) : '-').padStart(11)} ${(w ? fmt(w.allowed) : noWorst).padStart(9)} ${(w ? fmt(w.ratio) : '-').padStart(8)}  ${result}`,
        );
      }
    } finally {
      await backend.close?.();
    }
  }
  const failed = reports.filter((r) => !r.pass);
  const ran = reports.length > 0;
  print('');
  print(
    !ran
      ? `no selected target can run here (${unavailable.map((u) => `${u.target}: ${u.reason}`).join('; ') || 'none matched'})`
      : failed.length === 0
        ? `all ${reports.length} check${reports.length === 1 ? '' : 's'} passed${unavailable.length ? ` (${unavailable.length} target(s) unavailable, listed above)` : ''}`
        : `${failed.length} of ${reports.length} checks FAILED: ${failed.map((r) => `${r.target} ${r.kernel}`).join(', ')}`,
  );
  return { reports, unavailable, exitCode: !ran ? 2 : failed.length > 0 ? 1 : 0 };
};
