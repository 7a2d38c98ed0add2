// Loading a trained model for `hrm eval`, `hrm solve`, `hrm train --init-from`, `hrm export` (and
// `hrm analyze`): the one weights loader's file-system edge. `loadWeights` takes a path or bytes:
// an hrm-ts checkpoint file or run directory (its latest valid checkpoint), a plain weights file
// with a config, or an original run folder (`all_config.yaml` + `checkpoint` or `step_<N>`) or
// such a file with `--config`. PyTorch checkpoints are read entry by entry from the file (the
// archive is never held whole). Decoding is weights.ts; building the model is loadModel.

import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Backend } from '../core/backend.ts';
import type { Hrm } from '../model/api.ts';
import type { HrmConfig } from '../model/config.ts';
import type { Tensor } from '../core/tensor.ts';
import { wrap64 } from '../core/tensor.ts';
import { buildLayout, PUZZLE_TABLE } from '../model/layout.ts';
import { checkStateDict } from '../io/state-dict.ts';
import { ConfigError, utf8Text } from '../io/codec.ts';
import { readFileBounded } from '../io/files.ts';
import type { DatasetSizes } from '../model/original-config.ts';
import { parse } from 'yaml';
import { readMetadata } from '../data/format.ts';
import { withFileSource } from '../io/file-source.ts';
import { latestCheckpoint } from './checkpoint-store.ts';
import type { Checkpoint } from './checkpoint.ts';
import { decodeWeights, type ConfigText, type LoadedWeights } from './weights.ts';
import { modelFrom } from './model-bytes.ts';

/** Config files bounded before reading (all_config.yaml and config JSONs are a few KB). */
const MAX_CONFIG_BYTES = 1 << 20;
const STEP_FILE = /^step_(\d+)$/;

/** The latest `step_<N>` file (by N) of an original run folder, else its `checkpoint` file. */
const originalCheckpointIn = (dir: string): string | undefined => {
  const steps = readdirSync(dir)
    .map((n) => STEP_FILE.exec(n))
    .filter((m): m is RegExpExecArray => m !== null && statSync(path.join(dir, m[0])).isFile())
    .sort((a, b) => Number(BigInt(a[1]) - BigInt(b[1])));
  if (steps.length > 0) return path.join(dir, steps[steps.length - 1][0]);
  return existsSync(path.join(dir, 'checkpoint')) ? path.join(dir, 'checkpoint') : undefined;
};

/** The checkpoint file a `--checkpoint` argument names (a file, a run directory's latest, or an original run folder's). */
export const resolveCheckpoint = (arg: string): string => {
  if (!existsSync(arg)) throw new ConfigError([`--checkpoint: ${arg} does not exist`]);
  if (!statSync(arg).isDirectory()) return arg;
  if (existsSync(path.join(arg, 'all_config.yaml'))) {
    const f = originalCheckpointIn(arg);
    if (f !== undefined) return f;
  }
  for (const dir of [path.join(arg, 'checkpoints'), arg]) {
    if (!existsSync(dir)) continue;
    const f = latestCheckpoint(dir);
    if (f !== undefined) return f;
  }
  const original = originalCheckpointIn(arg);
  if (original !== undefined) return original;
  throw new ConfigError([`--checkpoint: no checkpoint in ${arg} (expected an hrm-ts run directory, or the original's all_config.yaml with checkpoint or step_<N>)`]);
};

/** A config file's text, bounded in size and strictly UTF-8 (InputError naming the file). */
const readConfigText = (file: string): ConfigText => ({ name: file, text: utf8Text(readFileBounded(file, MAX_CONFIG_BYTES, 'config'), file) });

/** The config beside a weights file that carries none: all_config.yaml (the original's), else config.json. */
const configBeside = (file: string): ConfigText | undefined => {
  for (const name of ['all_config.yaml', 'config.json']) {
    const f = path.join(path.dirname(file), name);
    if (existsSync(f)) return readConfigText(f);
  }
  return undefined;
};

export interface LoadOptions {
  /** a config file (all_config.yaml or JSON) or a decoded config, for weights that carry none */
  readonly config?: string | HrmConfig;
  /** dataset sizes in use (seq_len, vocab_size, num_puzzle_identifiers) */
  readonly sizes?: DatasetSizes;
  /** the config for weights that carry none when none is given and none lies beside them */
  readonly fallbackConfig?: HrmConfig;
}

/** Bytes given directly (the web page, tests): the checkpoint and, where needed, its config text. */
export interface WeightsBytes {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly config?: ConfigText;
}

export interface LoadedCheckpoint extends LoadedWeights {
  /** the checkpoint file read (or the bytes' name) */
  readonly file: string;
}

/**
 * The one weights loader: a path (file or folder, see resolveCheckpoint) or bytes, decoded into a
 * Checkpoint with notes on what was converted. A config given in `options` overrides one found
 * beside the file; an hrm-ts checkpoint's own config is used as saved.
 */
export const loadWeights = (input: string | WeightsBytes, options: LoadOptions = {}): LoadedCheckpoint => {
  if (typeof input !== 'string') {
    const config = typeof options.config === 'string' ? readConfigText(options.config) : options.config ?? input.config;
    return { ...decodeWeights(input.bytes, input.name, { config, sizes: options.sizes }), file: input.name };
  }
  const file = resolveCheckpoint(input);
  const step = STEP_FILE.exec(path.basename(file));
  const config = typeof options.config === 'string' ? readConfigText(options.config) : options.config ?? configBeside(file) ?? options.fallbackConfig;
  const sizes = options.sizes ?? (config !== undefined && 'text' in config ? sizesFromDataPath(config) : undefined);
  const loaded = withFileSource(file, (src) =>
    decodeWeights(src, file, { ...(config !== undefined ? { config } : {}), ...(sizes ? { sizes } : {}), ...(step ? { step: Number(step[1]) } : {}) }),
  );
  const notes = [...loaded.notes];
  if (loaded.source === 'hrm-ts' && options.config !== undefined) notes.push(`${file}: carries its own config; the one given was not used`);
  return { ...loaded, notes, file };
};

/**
 * The dataset sizes an all_config.yaml's data_path (HRM) or data_paths (TRM) gives, when those
 * datasets are here, as the originals read them: TRM merges several datasets of one seq_len and
 * vocabulary and sums their puzzle identifiers.
 */
const sizesFromDataPath = (config: ConfigText): DatasetSizes | undefined => {
  if (!/\.ya?ml$/i.test(config.name)) return undefined;
  let doc: { data_path?: unknown; data_paths?: unknown } | null;
  try {
    doc = parse(config.text, { maxAliasCount: 16, logLevel: 'silent' }) as { data_path?: unknown; data_paths?: unknown } | null;
  } catch {
    return undefined; // the config's own decoding reports it
  }
  const paths = typeof doc?.data_path === 'string' ? [doc.data_path] : Array.isArray(doc?.data_paths) && doc.data_paths.every((p) => typeof p === 'string') ? (doc.data_paths as string[]) : [];
  const found = paths.map((p) => [p, path.resolve(path.dirname(config.name), p)].find((dir) => existsSync(path.join(dir, 'train', 'dataset.json'))));
  if (paths.length === 0 || found.some((dir) => dir === undefined)) return undefined;
  const metas = found.map((dir) => readMetadata(dir!, 'train'));
  const [first] = metas;
  const differ = metas.find((m) => m.seq_len !== first.seq_len || m.vocab_size !== first.vocab_size);
  if (differ !== undefined) {
    throw new ConfigError([`${config.name}: data_paths: the datasets differ in seq_len or vocab_size (${metas.map((m) => `${m.seq_len}/${m.vocab_size}`).join(', ')}); the original requires them equal`]);
  }
  return { seq_len: first.seq_len, vocab_size: first.vocab_size, num_puzzle_identifiers: metas.reduce((n, m) => n + m.num_puzzle_identifiers, 0) };
};

export { modelFrom };

/** Loads weights (any source loadWeights reads) and builds the model with them. */
export const loadModel = async (
  input: string | WeightsBytes,
  backend: Backend<unknown>,
  options: LoadOptions = {},
): Promise<{ hrm: Hrm; checkpoint: Checkpoint; file: string; notes: readonly string[] }> => {
  const loaded = loadWeights(input, options);
  const hrm = await modelFrom(loaded.checkpoint, backend, loaded.file);
  return { hrm, checkpoint: loaded.checkpoint, file: loaded.file, notes: loaded.notes };
};

/**
 * The weights a new run starts from: checked against the run config's layout (every missing or
 * mis-shaped tensor named). A puzzle table with another number of rows (fine-tuning on another
 * dataset) starts every row at the mean of the saved rows, as TRM's trainer does, and says so.
 */
export const initialWeights = (
  weights: ReadonlyMap<string, Tensor<Float64Array>>,
  config: HrmConfig,
  file: string,
  note: (message: string) => void,
): Map<string, Tensor<Float64Array>> => {
  const layout = buildLayout(config.arch);
  const out = new Map(weights);
  const table = layout.find((e) => e.name === PUZZLE_TABLE);
  const saved = weights.get(PUZZLE_TABLE);
  if (table !== undefined && saved !== undefined && saved.shape.length === 2 && saved.shape[1] === table.shape[1] && saved.shape[0] !== table.shape[0]) {
    const [rows, cols] = saved.shape;
    const mean = new Float64Array(cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) mean[c] += saved.data[r * cols + c] / rows; // saved[r, c]
    const fresh = new Float64Array(table.shape[0] * cols);
    for (let r = 0; r < table.shape[0]; r++) fresh.set(mean, r * cols);
    out.set(PUZZLE_TABLE, wrap64(table.shape, fresh));
    note(`${file}: puzzle table has ${rows} rows, this dataset ${table.shape[0]}: every row starts at the mean of the saved ones`);
  }
  const check = checkStateDict(out, layout, file);
  for (const w of check.warnings) note(w);
  return new Map(layout.map((e) => [e.name, out.get(e.name)!]));
};
