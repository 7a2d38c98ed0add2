// `hrm trace <case-dir> --out <dir> [--checkpoint <file|folder>] [--backend reference|simd|gpu|auto] [--gpu-mode M] [--compare] [--no-probe]`:
// runs the official-parity trace procedure (src/verify/parity/trace.ts; TRM's, src/verify/parity/trm-trace.ts, for a
// folder whose config.json names TRM's model) on a fixture-shaped folder and writes eval.*,
// train_step{k}.*, train_step1_probe.* (and TRM's eval_ema.*) into --out. With --compare, the outputs
// are checked against the reference files in <case-dir> under the README's tolerances (and the
// optimizer-alone check), the report is printed, and the exit code is 1 on any failure. With
// --checkpoint the procedure runs on other weights of the same architecture (any checkpoint the
// weights loader reads: an hrm-ts checkpoint, or an original HRM or TRM run's step_N with its
// all_config.yaml) instead of the case's own.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Tensor } from '../../core/tensor.ts';
import type { HrmConfig } from '../../model/config.ts';
import { loadWeights } from '../../train/load-model.ts';
import { BACKEND_FLAGS, backendFromFlags, createBackend } from '../../backends/registry.ts';
import { readTraceCase, readTraceOutputs, runTrace, writeTraceOutputs } from '../../verify/parity/trace.ts';
import { compareTraces, formatChecks, optimizerAloneChecks } from '../../verify/parity/compare.ts';
import type { TraceOutputs } from '../../verify/parity/trace.ts';
import { isTrmCaseConfig } from '../../model/config.ts';
import { readTrmTraceCase, runTrmTrace } from '../../verify/parity/trm-trace.ts';
import { compareTrmTraces, emaAloneChecks } from '../../verify/parity/trm-compare.ts';
import { ArgsError, helpText, parseFlags, type FlagSpec } from '../args.ts';

export const summary = 'run the official-parity trace procedure on a fixture-shaped folder';

/** Ignored when comparing architectures: run-time informational fields. */
const INFORMATIONAL_ARCH = ['batch_size', 'forward_dtype'];

/** The parameters of a checkpoint whose architecture is the case's (else an error naming the fields that differ). */
const weightsFor = (checkpoint: string, config: HrmConfig): Map<string, Tensor<Float64Array>> => {
  const a = config.arch;
  const loaded = loadWeights(checkpoint, { fallbackConfig: config, sizes: { seq_len: a.seq_len, vocab_size: a.vocab_size, num_puzzle_identifiers: a.num_puzzle_identifiers } });
  for (const n of loaded.notes) console.error(n);
  const b = loaded.checkpoint.config.arch as Record<string, unknown>;
  const differ = Object.entries(a).filter(([k, v]) => !INFORMATIONAL_ARCH.includes(k) && b[k] !== v).map(([k, v]) => `${k} ${String(b[k])} (checkpoint) vs ${String(v)} (case)`);
  if (differ.length > 0) throw new Error(`--checkpoint: ${loaded.file} is not the case's architecture: ${differ.join(', ')}`);
  console.log(`weights from ${loaded.file} (step ${loaded.checkpoint.progress.step})`);
  return new Map(loaded.checkpoint.state.parameters);
};

const FLAGS: Record<string, FlagSpec> = {
  out: { kind: 'string', help: 'where eval.*, train_step{k}.* and train_step1_probe.* are written' },
  checkpoint: { kind: 'string', help: "run on these weights instead of the case's (a checkpoint file, a run directory, or an original run folder: all_config.yaml + step_<N>; the case's config when none is beside it)" },
  ...BACKEND_FLAGS,
  compare: { kind: 'boolean', help: 'compare with the reference traces in <case-dir> (tolerances of the fixture README)' },
  'no-probe': { kind: 'boolean', help: 'skip the probe of the first training segment' },
  help: { kind: 'boolean', help: 'this text' },
};

const USAGE = 'usage: hrm trace <case-dir> --out <dir> [--checkpoint <file|folder>] [--backend B (default reference)] [--gpu-mode M] [--compare] [--no-probe]';
const EXTRA = "\n<case-dir> is a folder with config.json, weights.safetensors (or checkpoint) and batch.safetensors: an HRM case, or a TRM case when config.json's arch_name names TRM's model.";

export const run = async (argv: readonly string[]): Promise<number> => {
  let parsed;
  try {
    parsed = parseFlags('hrm trace', argv, FLAGS, { positionals: 1 });
  } catch (e) {
    if (e instanceof ArgsError) {
      console.error(`${e.message}\n\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  const f = parsed.flags;
  if (f.help) {
    console.log(helpText(USAGE, FLAGS, EXTRA));
    return 0;
  }
  const [caseDir] = parsed.positionals;
  const out = f.out;
  if (caseDir === undefined || typeof out !== 'string') {
    console.error(`hrm trace: ${caseDir === undefined ? '<case-dir>' : '--out'} is required\n\n${USAGE}`);
    return 2;
  }
  const probe = f['no-probe'] !== true;
  const compare = f.compare === true;
  const checkpoint = typeof f.checkpoint === 'string' ? f.checkpoint : undefined;
  if (!existsSync(join(caseDir, 'config.json'))) {
    console.error(`hrm trace: ${join(caseDir, 'config.json')} does not exist`);
    return 2;
  }
  let trm = false;
  try {
    trm = isTrmCaseConfig(JSON.parse(readFileSync(join(caseDir, 'config.json'), 'utf8')));
  } catch {
    // readTraceCase reports an unreadable config.json with its file name
  }
  let trmCase = trm ? readTrmTraceCase(caseDir) : null;
  let c = trmCase ?? readTraceCase(caseDir);
  if (checkpoint !== undefined) {
    let weights;
    try {
      weights = weightsFor(checkpoint, c.config);
    } catch (e) {
      console.error(`hrm trace: ${(e as Error).message}`);
      return 2;
    }
    c = { ...c, weights };
    if (trmCase !== null) trmCase = { ...trmCase, weights };
  }
  const choice = backendFromFlags(f, 'reference');
  const backend = await createBackend(choice.name, choice.options);
  try {
    const t0 = Date.now();
    const outputs: TraceOutputs = trmCase !== null ? await runTrmTrace(trmCase, backend, { probe }) : await runTrace(c, backend, { probe });
    const files = writeTraceOutputs(out, outputs);
    console.log(`trace ${c.name} on ${backend.name} (${backend.description}): ${files.length} files in ${out} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    if (!compare) return 0;
    const fixture = readTraceOutputs(caseDir, c.lrPerStep.length);
    if (fixture.size === 0) {
      console.error(`hrm trace: --compare: ${caseDir} holds no reference traces`);
      return 2;
    }
    if (!probe) fixture.delete('train_step1_probe'); // not traced, so not compared
    const written = readTraceOutputs(out, c.lrPerStep.length);
    const forward = trm ? [...compareTrmTraces(written, fixture, c.config.train.ema_rate), ...emaAloneChecks(c, fixture)] : compareTraces(written, fixture);
    const checks = [...forward, ...(await optimizerAloneChecks(c, fixture, backend))];
    console.log(formatChecks(checks));
    return checks.every((k) => k.pass) ? 0 : 1;
  } finally {
    await backend.close?.();
  }
};
