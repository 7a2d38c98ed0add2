// `hrm bench`: benchmarks kernels, training steps and peak memory per backend (see src/bench/run.ts),
// prints a markdown table, writes the JSON record (--json) and appends the table to
// bench/RESULTS.md (unless --no-results; smoke runs append only when --results is given).
// Flags are parsed like every command's (src/cli/args.ts); a bad flag names itself and what was expected.

import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENGINE_NAMES, GPU_MODES } from '../../backends/registry.ts';
import { ANCHOR_NAMES } from '../../bench/anchors.ts';
import { DEFAULT_OPTIONS, runBench, type BenchOptions } from '../../bench/run.ts';
import { renderMarkdown } from '../../bench/report.ts';
import { ArgsError, helpText, parseFlags, type FlagSpec, type FlagValues } from '../args.ts';

export const summary = 'benchmark kernels and training steps per backend';

const RESULTS_DEFAULT = fileURLToPath(new URL('../../../bench/RESULTS.md', import.meta.url));

const USAGE = `usage: hrm bench [options]

Times every kernel (forward and backward, GFLOP/s) at the shapes of each configuration, the
training step (median of ≥ 5 after warm-up) and one evaluation segment, with the ratio to the
original PyTorch HRM's CPU figures, where a step's time goes per kernel, and the peak memory of a
step as H_cycles × L_cycles grows (in child processes). The default run stays within ~30 min:
slow cases get fewer repetitions or are skipped, and the output says which and why.

environment: HRM_GPU_NAME, the GPU's name as the machine reports it (e.g. nvidia-smi's), used only
to find its float32 peak when the WebGPU adapter's name does not say (src/bench/peak.ts).
exit status: 0; 3 when a measured run finds a training step's peak memory growing with the cycles
(not in --smoke runs, whose tiny sizes put the peak within the process's own noise).`;

const d = DEFAULT_OPTIONS;
const FLAGS: Record<string, FlagSpec> = {
  backend: { kind: 'strings', help: `backends (default: ${d.backends.join(',')}; unavailable ones are reported)`, choices: ENGINE_NAMES },
  'gpu-modes': { kind: 'strings', help: `gpu.js modes (default: ${d.gpuModes.join(',')})`, choices: GPU_MODES },
  configs: { kind: 'strings', help: `configurations (default: ${d.configs.join(',')})`, choices: ANCHOR_NAMES },
  threads: { kind: 'list', help: `worker threads of the SIMD engine (default: ${d.threads.join(',')})` },
  reps: { kind: 'int', help: `timed repetitions (default ${d.reps})`, min: 1, max: 1000 },
  smoke: { kind: 'boolean', help: 'tiny sizes, 1 repetition, to check that the bench works (not a measurement)' },
  'no-kernels': { kind: 'boolean', help: 'skip the per-kernel benchmark' },
  'no-steps': { kind: 'boolean', help: 'skip the training-step benchmark' },
  'no-memory': { kind: 'boolean', help: 'skip the memory benchmark' },
  'budget-min': { kind: 'number', help: `time budget of the whole run in minutes (default ${d.budgetMinutes})`, min: 0.01, max: 1e4 },
  'max-step-s': { kind: 'number', help: `skip a step estimated slower than S seconds (default ${d.maxStepSeconds})`, min: 0.001, max: 1e6 },
  json: { kind: 'string', help: 'write the JSON record to this file' },
  results: { kind: 'string', help: 'append the markdown to this file (default bench/RESULTS.md)' },
  'no-results': { kind: 'boolean', help: 'do not append the markdown anywhere' },
  quiet: { kind: 'boolean', help: 'no progress lines on stderr' },
  help: { kind: 'boolean', help: 'this text' },
};

/** The run options of parsed flags (smoke runs default to 1 thread and gpu.js cpu mode). */
const optionsOf = (f: FlagValues, log: (m: string) => void): BenchOptions => {
  const smoke = f.smoke === true;
  return {
    backends: (f.backend as BenchOptions['backends'] | undefined) ?? d.backends,
    gpuModes: (f['gpu-modes'] as BenchOptions['gpuModes'] | undefined) ?? (smoke ? ['cpu'] : d.gpuModes),
    configs: (f.configs as BenchOptions['configs'] | undefined) ?? d.configs,
    threads: (f.threads as readonly number[] | undefined) ?? (smoke ? [1] : d.threads),
    reps: smoke ? 1 : ((f.reps as number | undefined) ?? d.reps),
    smoke,
    kernels: f['no-kernels'] !== true,
    steps: f['no-steps'] !== true,
    memory: f['no-memory'] !== true,
    budgetMinutes: (f['budget-min'] as number | undefined) ?? d.budgetMinutes,
    maxStepSeconds: (f['max-step-s'] as number | undefined) ?? d.maxStepSeconds,
    // what the machine calls its GPU (bench/gpu-check sets it from nvidia-smi): only matched against the peak table
    ...(process.env.HRM_GPU_NAME ? { gpuName: process.env.HRM_GPU_NAME.slice(0, 200) } : {}),
    log,
  };
};

const writeFile = (path: string, text: string, append: boolean): void => {
  const dir = dirname(path);
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
  if (append) appendFileSync(path, text);
  else writeFileSync(path, text);
};

export const run = async (argv: readonly string[]): Promise<number> => {
  let flags: FlagValues;
  try {
    flags = parseFlags('hrm bench', argv, FLAGS).flags;
  } catch (e) {
    if (e instanceof ArgsError) {
      console.error(`${e.message}\n\n${USAGE.split('\n')[0]}`);
      return 2;
    }
    throw e;
  }
  if (flags.help) {
    console.log(helpText(USAGE, FLAGS));
    return 0;
  }
  const log = flags.quiet === true ? () => {} : (m: string) => process.stderr.write(`${m}\n`);
  const report = await runBench(optionsOf(flags, log));
  const markdown = renderMarkdown(report);
  console.log(markdown);
  if (typeof flags.json === 'string') {
    const path = resolve(flags.json);
    writeFile(path, `${JSON.stringify(report, null, 2)}\n`, false);
    log(`JSON written to ${path}`);
  }
  const resultsPath = flags['no-results'] === true ? null : typeof flags.results === 'string' ? resolve(flags.results) : flags.smoke === true ? null : RESULTS_DEFAULT;
  if (resultsPath !== null) {
    writeFile(resultsPath, `\n${markdown}\n`, true);
    log(`markdown appended to ${resultsPath}`);
  }
  return flags.smoke !== true && report.memory.some((m) => !m.flat) ? 3 : 0;
};
