// `hrm verify`: the conformance suite as a command. Every kernel of the Backend contract on every
// selected target (src/backends/registry.ts) against the float64 reference, with fast-check inputs
// and the tolerance table of src/verify/tolerances.ts; prints kernel × target → runs, the worst
// element relative to its tolerance, pass/fail and how to replay a failure; then a `model` row
// per target: three training steps of random tiny HRM configs on the target and on the reference,
// every forward value, gradient, loss, halting decision and parameter compared (src/verify/model.ts).
// Exit 1 on any failure, 2 on bad flags or when no selected target can run here.

import { KERNEL_NAMES } from '../../core/backend.ts';
import { conformanceTargets } from '../../backends/registry.ts';
import { ArgsError, helpText, parseFlags, type FlagSpec } from '../args.ts';
import { CHECK_NAMES, selectTargets, verifyTargets, type CheckName, type VerifyRequest } from '../../verify/suite.ts';

export const summary = 'check accelerated backends against the reference on this machine';

const DEFAULT_MODEL_RUNS = 5;

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
