// `hrm verify`: the conformance suite as a command. Every kernel of the Backend contract on every
// selected target (src/backends/registry.ts) against the float64 reference, with fast-check inputs
// and the tolerance table of src/verify/tolerances.ts; prints kernel × target → runs, the worst
// element relative to its tolerance, pass/fail and how to replay a failure; then a `model` row
// per target: three training steps of random tiny HRM configs on the target and on the reference,
// every forward value, gradient, loss, halting decision and parameter compared (src/verify/model.ts).
// Exit 1 on any failure, 2 on bad flags or when no selected target can run here.

import type { Backend, KernelName } from '../../core/backend.ts';
import { KERNEL_NAMES } from '../../core/backend.ts';
import type { ConformanceTarget } from '../../backends/registry.ts';
import { conformanceTargets } from '../../backends/registry.ts';
import { ArgsError, helpText, parseFlags, type FlagSpec } from '../args.ts';
import { caseFor } from '../../verify/cases.ts';
import type { KernelReport } from '../../verify/runner.ts';
import { verifyKernel } from '../../verify/runner.ts';
import { toleranceFor } from '../../verify/tolerances.ts';
import { MODEL_ATOL, MODEL_STEPS, verifyModel } from '../../verify/model.ts';

export const summary = 'check accelerated backends against the reference on this machine';

const DEFAULT_MODEL_RUNS = 5;

/** A row of the table: one kernel, or the whole-model check. */
export type CheckName = KernelName | 'model';
export const CHECK_NAMES: readonly CheckName[] = [...KERNEL_NAMES, 'model'];

const SPECS: Readonly<Record<string, FlagSpec>> = {
  backend: { kind: 'string', help: 'which targets: a family, a target id, or all (default all)' },
  runs: { kind: 'int', min: 1, help: 'fast-check runs per kernel and target (default 100)' },
  'model-runs': { kind: 'int', min: 1, help: `random tiny configs for the whole-model check per target (default ${DEFAULT_MODEL_RUNS})` },
  seed: { kind: 'int', help: 'fast-check seed (default: drawn and printed)' },
  kernels: { kind: 'string', help: `comma-separated kernel names and/or model (default: all ${KERNEL_NAMES.length} kernels and model)` },
  path: { kind: 'string', help: 'replay one fast-check path of a failure (with --seed, one target and one kernel or model)' },
  quiet: { kind: 'boolean', help: 'print only the table' },
  help: { kind: 'boolean', help: 'this text' },
};

const USAGE = 'usage: hrm verify [--backend gpu|simd|reference|all|<target id>] [--runs N] [--model-runs N] [--seed S] [--kernels a,b,model] [--path P]';

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

/** argv → request (throws ArgsError on bad flags). */
export const parseRequest = (argv: readonly string[], defaultSeed: number): VerifyRequest & { quiet: boolean; help: boolean } => {
  const { flags } = parseFlags('verify', argv, SPECS);
  const kernels = flags.kernels === undefined ? [...CHECK_NAMES] : String(flags.kernels).split(',').map((k) => k.trim());
  for (const k of kernels) {
    if (!(CHECK_NAMES as readonly string[]).includes(k)) throw new ArgsError(`verify: option '--kernels': unknown kernel '${k}' (known: ${CHECK_NAMES.join(', ')})`);
  }
  const seed = flags.seed === undefined ? defaultSeed : (flags.seed as number);
  if (flags.path !== undefined && flags.seed === undefined) throw new ArgsError("verify: option '--path' replays a failure and needs the '--seed' it was found with");
  return {
    backend: flags.backend === undefined ? 'all' : String(flags.backend),
    runs: flags.runs === undefined ? 100 : (flags.runs as number),
    modelRuns: flags['model-runs'] === undefined ? DEFAULT_MODEL_RUNS : (flags['model-runs'] as number),
    seed,
    kernels: kernels as CheckName[],
    ...(flags.path !== undefined ? { path: String(flags.path) } : {}),
    quiet: flags.quiet === true,
    help: flags.help === true,
  };
};

export const run = async (argv: readonly string[]): Promise<number> => {
  let req: ReturnType<typeof parseRequest>;
  try {
    req = parseRequest(argv, (Date.now() ^ (process.pid << 16)) >>> 1);
  } catch (e) {
    if (e instanceof ArgsError) {
      console.error(`hrm ${e.message}\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  if (req.help) {
    console.log(helpText(USAGE, SPECS, '\nTargets are the configurations of src/backends/registry.ts (e.g. reference, simd-plain-1t, gpu-webasm).'));
    return 0;
  }
  const all = await conformanceTargets();
  const targets = selectTargets(all, req.backend);
  if (targets.length === 0) {
    console.error(`hrm verify: no target matches '--backend ${req.backend}' (targets: ${all.map((t) => t.id).join(', ')}, or all)`);
    return 2;
  }
  const outcome = await verifyTargets(req, targets, (l) => console.log(l), req.quiet ? () => {} : (l) => process.stderr.write(`${l}\n`));
  return outcome.exitCode;
};
