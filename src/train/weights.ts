// The one weights loader's format-independent core: a checkpoint's bytes (held in memory or behind
// a ByteSource) and, where the file carries none, a config text, decoded into a Checkpoint the
// model loads. Three sources: an hrm-ts checkpoint (safetensors with its own config), a plain
// safetensors weights file, and a PyTorch checkpoint of the original (`checkpoint`, `step_N`)
// with its `all_config.yaml` or a config JSON. Torch weights are checked against the config's
// layout (every missing or mis-shaped tensor named), bf16/half storages are widened exactly and
// said so, key prefixes are stripped and said so. Pure and browser-safe (the web page passes the
// bytes it was given); the file-system edge is load-model.ts.

import type { Tensor } from '../core/tensor.ts';
import { wrap64 } from '../core/tensor.ts';
import { ConfigError, inputError, parseJsonText } from '../io/codec.ts';
import { configFromFixture, configFromTrmFixture, isTrmCaseConfig, parseConfigText, type HrmConfig } from '../model/config.ts';
import { buildLayout, PUZZLE_TABLE } from '../model/layout.ts';
import { configFromAllConfigYaml, type DatasetSizes } from '../model/original-config.ts';
import { checkStateDict } from '../io/state-dict.ts';
import { readSafetensors } from '../io/safetensors.ts';
import { readTorchStateDict, stripKeyPrefix } from '../io/torch-checkpoint.ts';
import { memorySource, type ByteSource } from '../io/zip.ts';
import { decodeCheckpoint, floatTensorProblems, type Checkpoint } from './checkpoint.ts';

/** A config given as text: all_config.yaml (by name), or JSON (an hrm-ts config, a run's config.json, or a parity fixture's config.json). */
export interface ConfigText {
  readonly name: string;
  readonly text: string;
}

export interface WeightsOptions {
  /** the config for weights that carry none (torch checkpoints, plain safetensors) */
  readonly config?: ConfigText | HrmConfig;
  /** sizes from the dataset in use (the original's all_config.yaml does not record them) */
  readonly sizes?: DatasetSizes;
  /** the optimizer step, when the file name says it (step_N) */
  readonly step?: number;
}

export type WeightsSource = 'hrm-ts' | 'safetensors' | 'torch';

export interface LoadedWeights {
  readonly checkpoint: Checkpoint;
  readonly source: WeightsSource;
  /** what the loader did that the user should know (prefixes, upcasts, ignored tensors, filled sizes) */
  readonly notes: readonly string[];
}

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];

/** Whether the bytes start like a zip archive (a PyTorch checkpoint) rather than safetensors. */
export const looksLikeZip = (head: Uint8Array): boolean => ZIP_MAGIC.every((b, i) => head[i] === b);

const isHrmConfig = (c: ConfigText | HrmConfig): c is HrmConfig => 'arch' in c;

/**
 * A config from text: YAML when the name ends in .yaml/.yml (the original's all_config.yaml),
 * else JSON: a parity fixture's config.json (HRM's has `optimizer`, TRM's `arch_name`), a run directory's config.json
 * (`{config, dataDir}`), or an hrm-ts config.
 */
export const configFromText = (c: ConfigText, sizes: DatasetSizes = {}): { config: HrmConfig; notes: readonly string[] } => {
  if (/\.ya?ml$/i.test(c.name)) return configFromAllConfigYaml(c.text, c.name, sizes);
  const value = parseJsonText(c.text, c.name, 8);
  const v = value as Record<string, unknown> | null;
  if (v !== null && typeof v === 'object' && 'optimizer' in v && 'loss_type' in v) return { config: configFromFixture(value, c.name), notes: [] };
  if (isTrmCaseConfig(value)) return { config: configFromTrmFixture(value, c.name), notes: [] };
  if (v !== null && typeof v === 'object' && 'config' in v && 'dataDir' in v) return { config: parseConfigText(JSON.stringify(v.config), c.name), notes: [] };
  return { config: parseConfigText(c.text, c.name), notes: [] };
};

/** Sizes the weights themselves reveal: vocab from embed_tokens, identifiers from the puzzle table, S from learned positions. */
const sizesFromWeights = (tensors: ReadonlyMap<string, PlainTensor>): DatasetSizes => {
  const embed = tensors.get('embed_tokens.embedding_weight');
  const table = tensors.get(PUZZLE_TABLE);
  return {
    ...(embed?.shape.length === 2 ? { vocab_size: embed.shape[0] } : {}),
    ...(table?.shape.length === 2 ? { num_puzzle_identifiers: table.shape[0] } : {}),
  };
};

/** A tensor of a weights file without a config of its own, widened to float32 or kept as read. */
interface PlainTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array | Float64Array;
}

/** Decodes plain weights (torch, or safetensors without hrm-ts metadata) against a config into a Checkpoint (parameters only). */
const plainCheckpoint = (fileName: string, tensors: Map<string, PlainTensor>, config: HrmConfig, step: number, notes: string[]): Checkpoint => {
  const layout = buildLayout(config.arch);
  const bad = floatTensorProblems(tensors);
  if (bad.length > 0) throw inputError(fileName, bad.join('; '));
  const check = checkStateDict(tensors, layout, fileName);
  notes.push(...check.warnings);
  const parameters = new Map<string, Tensor<Float64Array>>();
  for (const e of layout) {
    const t = tensors.get(e.name)!;
    parameters.set(e.name, wrap64(e.shape, t.data instanceof Float64Array ? t.data : Float64Array.from(t.data)));
    tensors.delete(e.name); // let the float32 copy go before the next (large) tensor is widened
  }
  return {
    config,
    state: { parameters, adamM: new Map(), adamV: new Map(), optimizerStep: step, rng: { s: [1, 0, 0, 0] } },
    progress: { step, iteration: 0, data: null, dataPath: config.train.data_path ?? '' },
    dtype: 'F32',
  };
};

/** The config for plain weights: given, or an error saying how to give one. */
const configFor = (fileName: string, options: WeightsOptions, sizes: DatasetSizes, notes: string[]): HrmConfig => {
  const c = options.config;
  if (c === undefined) {
    throw new ConfigError([`${fileName}: these weights carry no config: put the original's all_config.yaml beside them, or pass --config <all_config.yaml | config JSON>`]);
  }
  if (isHrmConfig(c)) return c;
  const r = configFromText(c, sizes);
  notes.push(...r.notes.map((n) => `${c.name}: ${n}`));
  return r.config;
};

/**
 * Decodes any checkpoint this project reads, from its bytes: an hrm-ts checkpoint, a plain
 * safetensors weights file (config required), or a PyTorch checkpoint (config required: the
 * original's all_config.yaml, or a JSON config). Errors name `fileName` (and the config's name).
 */
export const decodeWeights = (input: Uint8Array | ByteSource, fileName: string, options: WeightsOptions = {}): LoadedWeights => {
  const src = input instanceof Uint8Array ? memorySource(input) : input;
  const notes: string[] = [];
  let tensors: Map<string, PlainTensor>;
  if (!looksLikeZip(src.read(0, 4))) {
    const bytes = input instanceof Uint8Array ? input : src.read(0, src.size);
    const file = readSafetensors(bytes, fileName);
    if (file.metadata.format !== undefined) return { checkpoint: decodeCheckpoint(bytes, fileName), source: 'hrm-ts', notes };
    tensors = new Map();
    const prefixes = new Set<string>();
    for (const [k, t] of file.tensors) {
      if (!(t.data instanceof Float32Array || t.data instanceof Float64Array)) throw new ConfigError([`${fileName}: tensor '${k}' has dtype ${t.dtype}, expected a floating dtype (F32, F64, BF16)`]);
      const key = stripKeyPrefix(k);
      if (key !== k) prefixes.add(k.slice(0, k.length - key.length));
      if (tensors.has(key)) throw new ConfigError([`${fileName}: tensor '${k}' collides with another after prefix stripping (both become '${key}')`]);
      tensors.set(key, { shape: t.shape, data: t.data });
    }
    if (prefixes.size > 0) notes.push(`${fileName}: keys saved under '${[...prefixes].join("', '")}'; read as the model's own names`);
    const config = configFor(fileName, options, { ...sizesFromWeights(tensors), ...options.sizes }, notes);
    return { checkpoint: plainCheckpoint(fileName, tensors, config, options.step ?? 0, notes), source: 'safetensors', notes };
  }
  const sd = readTorchStateDict(src, fileName);
  if (sd.prefix !== '') notes.push(`${fileName}: keys saved under '${sd.prefix}' (the original's wrappers); read as the model's own names`);
  const widened = [...sd.tensors].filter(([, t]) => t.stored !== 'float32').map(([k, t]) => `${k} (${t.stored})`);
  if (widened.length > 0) notes.push(`${fileName}: ${widened.join(', ')} stored in reduced precision, widened exactly to float32`);
  tensors = sd.tensors;
  const config = configFor(fileName, options, { ...sizesFromWeights(tensors), ...options.sizes }, notes);
  return { checkpoint: plainCheckpoint(fileName, tensors, config, options.step ?? 0, notes), source: 'torch', notes };
};
