// `hrm train`: validates flags, config and dataset before any compute, then runs (or resumes) a
// training session in the run directory with a progress bar; Ctrl-C, SIGTERM and SIGHUP save a checkpoint and exit.
// Exit codes: 0 done, 2 bad flags/config/dataset, 1 failure (e.g. a diverging loss), 130 Ctrl-C, 143 SIGTERM, 129 SIGHUP.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { BACKEND_FLAGS, backendFromFlags, createBackend } from '../../backends/registry.ts';
import { readSplit } from '../../data/format.ts';
import { ConfigError, InputError } from '../../io/codec.ts';
import { ensureDir } from '../../io/files.ts';
import type { HrmConfig } from '../../model/config.ts';
import { ArgsError, helpText, parseFlags, type FlagSpec } from '../args.ts';
import { assembleConfig, assembleFromValue, datasetProblems, resolveConfigPath, sizeProblems } from '../../train/run-config.ts';
import { initialWeights, loadWeights } from '../../train/load-model.ts';
import type { Tensor } from '../../core/tensor.ts';
import { holdsResumableRun, readRunConfig, resumeDataDir, runSession } from '../../train/session.ts';
import { TrainProgress } from '../train-progress.ts';

export const summary = 'train HRM with deep supervision and ACT';

const FLAGS: Record<string, FlagSpec> = {
  config: { kind: 'string', help: 'preset name (configs/<name>.json) or a JSON config file' },
  data: { kind: 'string', help: 'dataset directory (train/ and test/ splits, as `hrm build` writes)' },
  ...BACKEND_FLAGS,
  out: { kind: 'string', help: 'run directory (default runs/<dataset>-<time>)' },
  resume: { kind: 'boolean', help: "continue the run in --out from its latest checkpoint" },
  'init-from': { kind: 'string', help: "start from these weights: an hrm-ts checkpoint or run directory, or an original run folder (all_config.yaml + checkpoint or step_<N>); without --config the run takes its config" },
  'init-config': { kind: 'string', help: "config of --init-from weights that carry none and have no all_config.yaml or config.json beside them" },
  'checkpoint-every': { kind: 'int', help: 'also save every N steps (default: only after each evaluation)', min: 0 },
  keep: { kind: 'int', help: 'checkpoints kept (default 3)', min: 1 },
  'stop-after': { kind: 'int', help: 'stop after step N with a checkpoint (resume later with --resume)', min: 1 },
  quiet: { kind: 'boolean', help: 'no progress bar; a line per evaluation only' },
  help: { kind: 'boolean', help: 'this text' },
};

const USAGE = 'usage: hrm train (--config <preset|file> | --init-from <checkpoint>) --data <dir> [options] [--key=value …]';
const EXTRA = '\nConfig overrides: --lr=3e-4, --arch.hidden_size=128, --train.epochs=2000, … (validated by the config codec).';

const timestamp = (): string => new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);

export const run = async (argv: readonly string[]): Promise<number> => {
  let parsed;
  try {
    parsed = parseFlags('hrm train', argv, FLAGS, true);
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
  // ---- everything is validated before any compute -----------------------------------------
  let config: HrmConfig;
  let dataDir: string;
  let runDir: string;
  let trainSplit;
  let testSplit;
  let initFrom: { parameters: ReadonlyMap<string, Tensor<Float64Array>>; file: string } | undefined;
  try {
    if (f.resume) {
      if (typeof f.out !== 'string') throw new ArgsError('hrm train: --resume needs --out <run dir>');
      if (f['init-from'] !== undefined) throw new ArgsError('hrm train: --resume continues a run from its own checkpoint; --init-from starts a new one (give one of them)');
      if (parsed.overrides.length > 0 || f.config !== undefined) throw new ArgsError(`hrm train: --resume continues with the run's saved config; drop --config and overrides (${parsed.overrides.join(' ')})`);
      if (!existsSync(path.join(f.out, 'config.json'))) throw new ArgsError(`hrm train: --resume: ${f.out} is not a run directory (no config.json)`);
      const saved = readRunConfig(f.out);
      config = saved.config;
      dataDir = resumeDataDir(saved, f.out, typeof f.data === 'string' ? f.data : undefined);
      runDir = f.out;
      trainSplit = readSplit(dataDir, 'train');
      testSplit = readSplit(dataDir, 'test');
    } else {
      if (typeof f.config !== 'string' && typeof f['init-from'] !== 'string') throw new ArgsError('hrm train: --config is required (a preset name or a JSON file), or --init-from <checkpoint>');
      if (typeof f.data !== 'string') throw new ArgsError('hrm train: --data is required (a dataset directory)');
      dataDir = f.data;
      if (!existsSync(dataDir)) throw new ArgsError(`hrm train: --data: ${dataDir} does not exist (build one with \`hrm build\`)`);
      trainSplit = readSplit(dataDir, 'train');
      testSplit = readSplit(dataDir, 'test');
      if (typeof f['init-from'] === 'string') {
        const m = trainSplit.metadata;
        const loaded = loadWeights(f['init-from'], {
          ...(typeof f['init-config'] === 'string' ? { config: f['init-config'] } : {}),
          sizes: { seq_len: m.seq_len, vocab_size: m.vocab_size, num_puzzle_identifiers: m.num_puzzle_identifiers },
        });
        for (const n of loaded.notes) console.error(n);
        config =
          typeof f.config === 'string'
            ? assembleConfig(resolveConfigPath(f.config), m, parsed.overrides)
            : assembleFromValue(loaded.checkpoint.config, `${loaded.file} (its config)`, m, parsed.overrides);
        const weights = loaded.checkpoint.config.train.ema && loaded.checkpoint.state.ema ? loaded.checkpoint.state.ema : loaded.checkpoint.state.parameters;
        initFrom = { parameters: initialWeights(weights, config, loaded.file, (n) => console.error(n)), file: loaded.file };
      } else {
        config = assembleConfig(resolveConfigPath(f.config as string), trainSplit.metadata, parsed.overrides);
      }
      runDir = typeof f.out === 'string' ? f.out : path.join('runs', `${path.basename(path.resolve(dataDir))}-${timestamp()}`);
      if (holdsResumableRun(runDir)) {
        throw new ArgsError(`hrm train: ${runDir} already holds a run with checkpoints; continue it with \`hrm train --resume --out ${runDir}\` or choose another --out`);
      }
    }
    const bytesPerValue = f.backend === 'reference' ? 8 : 4;
    const problems = [
      ...datasetProblems(config, trainSplit.metadata, testSplit.metadata, dataDir, trainSplit.sets.all?.numExamples ?? 0),
      ...sizeProblems(config, bytesPerValue),
    ];
    if (problems.length > 0) throw new ConfigError(problems);
  } catch (e) {
    if (e instanceof ArgsError || e instanceof InputError) {
      console.error(e.message);
      return 2;
    }
    console.error(`hrm train: ${(e as Error).message}`);
    return 2;
  }
  try {
    ensureDir(runDir);
  } catch (e) {
    console.error(`hrm train: ${(e as Error).message}`);
    return 2;
  }
  const choice = backendFromFlags(f);
  const backend = await createBackend(choice.name, choice.options);

  // Ctrl-C, SIGTERM (kill, schedulers) and SIGHUP (a closed terminal) all finish the step and save
  // a checkpoint; a second signal quits at once without saving.
  let stopSignal: NodeJS.Signals | undefined;
  const EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };
  const onSignal = (sig: NodeJS.Signals): void => {
    if (stopSignal === undefined) {
      stopSignal = sig;
      process.stderr.write(`\n${sig === 'SIGINT' ? 'Ctrl-C' : sig}: finishing this step and saving a checkpoint (signal again to quit without saving)\n`);
    } else process.exit(EXIT[sig] ?? 130);
  };
  const SIGNALS: NodeJS.Signals[] = process.platform === 'win32' ? ['SIGINT'] : ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const sig of SIGNALS) process.on(sig, onSignal);
  const progress = new TrainProgress({ quiet: f.quiet === true });
  console.error(`run directory: ${runDir}\nbackend: ${backend.name} (${backend.description})`);
  try {
    const r = await runSession({
      config,
      dataDir,
      trainSplit,
      testSplit,
      backend,
      runDir,
      resume: f.resume === true,
      ...(initFrom !== undefined ? { initFrom } : {}),
      checkpointEvery: typeof f['checkpoint-every'] === 'number' ? f['checkpoint-every'] : 0,
      keep: typeof f.keep === 'number' ? f.keep : 3,
      stopAfterSteps: typeof f['stop-after'] === 'number' ? f['stop-after'] : undefined,
      stopRequested: () => stopSignal !== undefined,
      onStep: (rec, total) => progress.step(rec, total),
      onEval: (rec, s) => progress.eval(rec, s),
      onEvalProgress: (done, total) => progress.evalProgress(done, total),
      log: (m) => progress.log(m),
    });
    progress.end();
    const o = r.outcome;
    if (o.status === 'diverged') {
      console.error(o.message);
      return 1;
    }
    if (o.status === 'interrupted') {
      console.error(`stopped at step ${o.step}/${r.totalSteps}; checkpoint ${o.checkpoint ?? '(none)'}; continue with: hrm train --resume --out ${runDir}`);
      return stopSignal !== undefined ? EXIT[stopSignal] : 0;
    }
    const e = o.lastEval;
    console.error(
      `done: ${o.step} steps; test exact accuracy ${e ? (100 * e.exact_accuracy).toFixed(2) : '?'}%, token accuracy ${e ? (100 * e.accuracy).toFixed(2) : '?'}%; ` +
        `checkpoint ${o.checkpoint ?? '(none)'}; curves ${path.join(runDir, 'curves.svg')}`,
    );
    return 0;
  } finally {
    for (const sig of SIGNALS) process.off(sig, onSignal);
    await backend.close?.();
  }
};
