// `hrm bench`: benchmarks kernels, training steps and peak memory per backend (see src/bench/run.ts),
// prints a markdown table, writes the JSON record (--json) and appends the table to
// bench/RESULTS.md (unless --no-results; smoke runs append only when --results is given).
// Flags are decoded through an io-ts codec; a bad flag names itself and what was expected.

import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import * as t from 'io-ts';
import { fileURLToPath } from 'node:url';
import { decodeOrThrow, intIn, numberIn, oneOf, strictObject } from '../../io/codec.ts';
import { ANCHOR_NAMES } from '../../bench/anchors.ts';
import { DEFAULT_OPTIONS, runBench, type BenchOptions } from '../../bench/run.ts';
import { renderMarkdown } from '../../bench/report.ts';

export const summary = 'benchmark kernels and training steps per backend';

const RESULTS_DEFAULT = fileURLToPath(new URL('../../../bench/RESULTS.md', import.meta.url));

const HELP = `usage: hrm bench [options]

Times every kernel (forward and backward, GFLOP/s) at the shapes of each configuration, the
training step (median of ≥ 5 after warm-up) and one evaluation segment, with the ratio to the
original PyTorch HRM's CPU figures, where a step's time goes per kernel, and the peak memory of a
step as H_cycles × L_cycles grows (in child processes). The default run stays within ~30 min:
slow cases get fewer repetitions or are skipped, and the output says which and why.

options:
  --backend LIST      reference,simd,gpu (default: all three; unavailable ones are reported)
  --gpu-modes LIST    gpu.js modes: webasm,cpu,webgpu,headlessgl (default: webasm,cpu,webgpu)
  --configs LIST      tiny,small,medium,paper-width,paper (default: tiny,small,medium; paper =
                      hidden 512, 8 heads, 4+4 layers, batch 384, 81 + 1 puzzle position)
  --threads LIST      worker threads of the SIMD engine (default: 1,2)
  --reps N            timed repetitions (default 5)
  --smoke             tiny sizes, 1 repetition, to check that the bench works (not a measurement)
  --no-kernels        skip the per-kernel benchmark
  --no-steps          skip the training-step benchmark
  --no-memory         skip the memory benchmark
  --budget-min M      time budget of the whole run in minutes (default 30)
  --max-step-s S      skip a step estimated slower than S seconds (default 120)
  --json FILE         write the JSON record to FILE
  --results FILE      append the markdown to FILE (default bench/RESULTS.md)
  --no-results        do not append the markdown anywhere
  --quiet             no progress lines on stderr

environment:
  HRM_GPU_NAME        the GPU's name as the machine reports it (e.g. nvidia-smi's), used only to find
                      its float32 peak when the WebGPU adapter's name does not say (src/bench/peak.ts)

exit status: 0; 3 when a measured run finds a training step's peak memory growing with the cycles
(not in --smoke runs, whose tiny sizes put the peak within the process's own noise)`;

const list = <L extends string>(values: readonly L[]) => t.array(oneOf(values));

const FlagsCodec = strictObject('hrm bench flags', {
  backend: [list(['reference', 'simd', 'gpu'] as const), DEFAULT_OPTIONS.backends],
  'gpu-modes': [list(['webasm', 'cpu', 'webgpu', 'headlessgl'] as const), DEFAULT_OPTIONS.gpuModes],
  configs: [list(ANCHOR_NAMES), DEFAULT_OPTIONS.configs],
  threads: [t.array(intIn(1, 256)), DEFAULT_OPTIONS.threads],
  reps: [intIn(1, 1000), DEFAULT_OPTIONS.reps],
  smoke: [t.boolean, false],
  'no-kernels': [t.boolean, false],
  'no-steps': [t.boolean, false],
  'no-memory': [t.boolean, false],
  'budget-min': [numberIn(0, 1e4, true), DEFAULT_OPTIONS.budgetMinutes],
  'max-step-s': [numberIn(0, 1e6, true), DEFAULT_OPTIONS.maxStepSeconds],
  json: [t.union([t.string, t.null]), null],
  results: [t.union([t.string, t.null]), null],
  'no-results': [t.boolean, false],
  quiet: [t.boolean, false],
});
type Flags = t.TypeOf<typeof FlagsCodec>;

const BOOLEAN_FLAGS = new Set(['smoke', 'no-kernels', 'no-steps', 'no-memory', 'no-results', 'quiet']);
const LIST_FLAGS = new Set(['backend', 'gpu-modes', 'configs', 'threads']);
const NUMBER_FLAGS = new Set(['reps', 'budget-min', 'max-step-s', 'threads']);
const KNOWN_FLAGS = new Set([...BOOLEAN_FLAGS, ...LIST_FLAGS, ...NUMBER_FLAGS, 'json', 'results']);

/** argv → raw flag object (strings split into lists and numbers), for the codec to check. */
const rawFlags = (argv: readonly string[]): Record<string, unknown> => {
  const raw: Record<string, unknown> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new Error(`unexpected argument '${arg}' (flags start with --; see --help)`);
    let name = arg.slice(2);
    let value: string | undefined;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    if (!KNOWN_FLAGS.has(name)) throw new Error(`unknown flag --${name} (expected one of ${[...KNOWN_FLAGS].map((f) => `--${f}`).join(', ')})`);
    if (BOOLEAN_FLAGS.has(name)) {
      raw[name] = value === undefined ? true : value === 'true' ? true : value === 'false' ? false : value;
      continue;
    }
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new Error(`flag --${name} needs a value`);
    }
    const parseNum = (s: string): unknown => (s.trim() !== '' && Number.isFinite(Number(s)) ? Number(s) : s);
    if (LIST_FLAGS.has(name)) {
      const items = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
      raw[name] = NUMBER_FLAGS.has(name) ? items.map(parseNum) : items;
    } else raw[name] = NUMBER_FLAGS.has(name) ? parseNum(value) : value;
  }
  return raw;
};

/** The run options of decoded flags (smoke runs default to 1 thread and gpu.js cpu mode). */
const optionsOf = (f: Flags, argv: readonly string[], log: (m: string) => void): BenchOptions => {
  const given = (name: string): boolean => argv.some((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  return {
    backends: f.backend,
    gpuModes: f.smoke && !given('gpu-modes') ? ['cpu'] : f['gpu-modes'],
    configs: f.configs,
    threads: f.smoke && !given('threads') ? [1] : f.threads,
    reps: f.smoke ? 1 : f.reps,
    smoke: f.smoke,
    kernels: !f['no-kernels'],
    steps: !f['no-steps'],
    memory: !f['no-memory'],
    budgetMinutes: f['budget-min'],
    maxStepSeconds: f['max-step-s'],
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
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(HELP);
    return 0;
  }
  const flags = decodeOrThrow(FlagsCodec, rawFlags(argv), 'hrm bench flags');
  const log = flags.quiet ? () => {} : (m: string) => process.stderr.write(`${m}\n`);
  const report = await runBench(optionsOf(flags, argv, log));
  const markdown = renderMarkdown(report);
  console.log(markdown);
  if (flags.json !== null) {
    const path = resolve(flags.json);
    writeFile(path, `${JSON.stringify(report, null, 2)}\n`, false);
    log(`JSON written to ${path}`);
  }
  const resultsPath = flags['no-results'] ? null : flags.results !== null ? resolve(flags.results) : flags.smoke ? null : RESULTS_DEFAULT;
  if (resultsPath !== null) {
    writeFile(resultsPath, `\n${markdown}\n`, true);
    log(`markdown appended to ${resultsPath}`);
  }
  return !flags.smoke && report.memory.some((m) => !m.flat) ? 3 : 0;
};
