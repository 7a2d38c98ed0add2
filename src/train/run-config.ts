// How a training run's config is assembled (spec §5.7, `pretrain.py:create_model`): a preset
// name (configs/<name>.json) or a JSON file, the dataset's metadata injected into `arch`
// (seq_len, vocab_size, num_puzzle_identifiers, batch_size), then `key=value` overrides through
// the config codec. Also the consistency checks between a config and a dataset that must pass
// before any compute. File reads only; no model is built here.

import { existsSync, readdirSync } from 'node:fs';
import { totalmem } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyOverrides, decodeConfig, type HrmConfig } from '../model/config.ts';
import { ConfigError } from '../io/codec.ts';
import type { DatasetMetadata } from '../data/format.ts';
import { MAX_TENSOR_ELEMENTS, trainingMemoryEstimate } from '../model/layout.ts';
import { readJsonFile } from '../io/files.ts';
import { InputError } from '../io/codec.ts';

/** Largest config file read. */
export const MAX_CONFIG_BYTES = 1 << 20;

/** The repository's configs/ folder. */
export const PRESET_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../configs');

export const listPresets = (): string[] =>
  existsSync(PRESET_DIR) ? readdirSync(PRESET_DIR).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort() : [];

/** Finds a config: an existing file path, else a preset name. */
export const resolveConfigPath = (nameOrFile: string): string => {
  if (existsSync(nameOrFile)) return nameOrFile;
  const preset = path.join(PRESET_DIR, `${nameOrFile.replace(/\.json$/, '')}.json`);
  if (existsSync(preset)) return preset;
  throw new ConfigError([`--config: '${nameOrFile}' is neither a file nor a preset (presets: ${listPresets().join(', ') || 'none'})`]);
};

/** Fields the dataset decides (the original injects them; the user cannot override them). */
export const INJECTED = ['seq_len', 'vocab_size', 'num_puzzle_identifiers'] as const;

/**
 * The run's config: file → dataset metadata injected → overrides. An override of an injected
 * field is refused with the dataset's value named.
 */
export const assembleConfig = (file: string, metadata: DatasetMetadata, overrides: readonly string[]): HrmConfig => {
  let raw: unknown;
  try {
    raw = readJsonFile(file, MAX_CONFIG_BYTES, 8);
  } catch (e) {
    if (e instanceof InputError) throw new ConfigError(e.problems, file);
    throw e;
  }
  return assembleFromValue(raw, file, metadata, overrides);
};

/** assembleConfig for a config already parsed (e.g. the config of a checkpoint to start from); `file` names it. */
export const assembleFromValue = (raw: unknown, file: string, metadata: DatasetMetadata, overrides: readonly string[]): HrmConfig => {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError([`${file}: expected a JSON object with 'arch' and 'train'`]);
  const obj = raw as Record<string, unknown>;
  const arch = obj.arch;
  if (arch === null || typeof arch !== 'object' || Array.isArray(arch)) throw new ConfigError([`${file}: field 'arch': expected an object`]);
  const train = (obj.train ?? {}) as Record<string, unknown>;
  const injected = {
    ...(arch as Record<string, unknown>),
    seq_len: metadata.seq_len,
    vocab_size: metadata.vocab_size,
    num_puzzle_identifiers: metadata.num_puzzle_identifiers,
    batch_size: typeof train.global_batch_size === 'number' ? train.global_batch_size : null,
  };
  const base = decodeConfig({ ...obj, arch: injected }, file);
  for (const o of overrides) {
    const key = o.replace(/^--/, '').split('=')[0].replace(/^arch\./, '');
    if ((INJECTED as readonly string[]).includes(key)) {
      throw new ConfigError([`override '${o}': ${key} comes from the dataset (${metadata[key as (typeof INJECTED)[number]]}) and cannot be overridden`]);
    }
  }
  const c = overrides.length ? applyOverrides(base, overrides) : base;
  return c.arch.batch_size === c.train.global_batch_size ? c : { ...c, arch: { ...c.arch, batch_size: c.train.global_batch_size } };
};

/**
 * The one compatibility check of a model with a dataset: the sizes the dataset decides (INJECTED)
 * must be the model's. One "key model (model) vs data (dataset)" item per disagreement; empty when it fits.
 */
export const datasetMismatch = (arch: HrmConfig['arch'], metadata: DatasetMetadata): string[] =>
  INJECTED.filter((k) => arch[k] !== metadata[k]).map((k) => `${k} ${arch[k]} (model) vs ${metadata[k]} (dataset)`);

/** Problems between a config and the dataset's splits (empty when training can start). */
export const datasetProblems = (c: HrmConfig, train: DatasetMetadata, test: DatasetMetadata, dataDir: string, trainExamples: number): string[] => {
  const p: string[] = [];
  const mismatch = datasetMismatch(c.arch, train);
  if (mismatch.length > 0) p.push(`config does not fit ${dataDir}: ${mismatch.join(', ')}`);
  for (const k of ['seq_len', 'vocab_size', 'num_puzzle_identifiers', 'pad_id', 'ignore_label_id', 'blank_identifier_id'] as const) {
    if (train[k] !== test[k]) p.push(`${dataDir}: train/dataset.json and test/dataset.json disagree on ${k} (${train[k]} vs ${test[k]})`);
  }
  if (!train.sets.includes('all')) p.push(`${dataDir}/train/dataset.json: field 'sets' must include "all", got ${JSON.stringify(train.sets)}`);
  if (!test.sets.includes('all')) p.push(`${dataDir}/test/dataset.json: field 'sets' must include "all", got ${JSON.stringify(test.sets)}`);
  if (c.arch.puzzle_emb_ndim === 0 && train.num_puzzle_identifiers > 1) {
    p.push(`config: arch.puzzle_emb_ndim is 0 but the dataset has ${train.num_puzzle_identifiers} puzzle identifiers (they would be ignored); set arch.puzzle_emb_ndim`);
  }
  const perEpoch = train.total_groups * train.mean_puzzle_examples;
  if (trainExamples < c.train.global_batch_size) {
    p.push(`train.global_batch_size ${c.train.global_batch_size} exceeds the ${trainExamples} training examples of ${dataDir}`);
  } else if (Math.floor((c.train.epochs * perEpoch) / c.train.global_batch_size) < 1) {
    p.push(`train.epochs ${c.train.epochs} × ${perEpoch} examples per epoch gives no full batch of ${c.train.global_batch_size}`);
  }
  return p;
};

const GiB = 2 ** 30;

/**
 * Problems with the sizes a config asks for, found before anything is created: a tensor beyond
 * what a typed array holds, or an estimated training footprint (at `bytesPerValue` per value)
 * beyond `memoryBytes` (default: this machine's memory).
 */
export const sizeProblems = (c: HrmConfig, bytesPerValue: number, memoryBytes = totalmem()): string[] => {
  const p: string[] = [];
  const est = trainingMemoryEstimate(c.arch, c.train.global_batch_size, bytesPerValue, c.train.ema);
  if (est.largestTensor.elements > MAX_TENSOR_ELEMENTS) {
    p.push(`config: tensor '${est.largestTensor.name}' would hold ${est.largestTensor.elements} values, more than the ${MAX_TENSOR_ELEMENTS} one array can hold; reduce arch.hidden_size, arch.expansion or the vocabulary`);
  }
  if (est.bytes > memoryBytes) {
    p.push(
      `config: training would need at least ${(est.bytes / GiB).toFixed(1)} GiB (${est.parameters} parameters with gradients and Adam moments, ` +
        `activations of global_batch_size ${c.train.global_batch_size}, ${bytesPerValue}-byte values), this machine has ${(memoryBytes / GiB).toFixed(1)} GiB; ` +
        `reduce arch.hidden_size, arch.expansion, the layer counts or train.global_batch_size`,
    );
  }
  return p;
};
