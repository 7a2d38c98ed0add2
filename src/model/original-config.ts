// The original trainer's run config, `all_config.yaml` (pretrain.py dumps its PretrainConfig with
// yaml.dump), both ways: read into an HrmConfig through the same config codec, and written for an
// exported checkpoint so the original's evaluate.py and trainer accept it. The original takes
// seq_len, vocab_size and num_puzzle_identifiers from the dataset at run time, so they are not in
// the file: the caller supplies them (from a dataset, or from the weights' shapes).
// Pure: reading files is the caller's business.

import { parse } from 'yaml';
import { ConfigError } from '../io/codec.ts';
import { decodeConfig, type HrmConfig } from './config.ts';

/** The model and loss head the original trainer names in `arch.name` / `arch.loss.name`. */
export const ORIGINAL_ARCH_NAME = 'hrm.hrm_act_v1@HierarchicalReasoningModel_ACTV1';
export const ORIGINAL_LOSS_NAME = 'losses@ACTLossHead';

/** Sizes the original reads from the dataset (not recorded in all_config.yaml). */
export interface DatasetSizes {
  readonly seq_len?: number;
  readonly vocab_size?: number;
  readonly num_puzzle_identifiers?: number;
}

/** `arch` fields mapped one to one (the rest of `arch` is `name`, `loss` and run-time sizes). */
const ARCH_FIELDS = [
  'H_cycles', 'L_cycles', 'H_layers', 'L_layers', 'hidden_size', 'num_heads', 'expansion', 'puzzle_emb_ndim',
  'pos_encodings', 'halt_max_steps', 'halt_exploration_prob', 'rms_norm_eps', 'rope_theta', 'forward_dtype',
] as const;
/** `arch` fields the original sets at run time from the dataset and the world size; used when present. */
const ARCH_RUNTIME = ['seq_len', 'vocab_size', 'num_puzzle_identifiers', 'batch_size', 'causal'] as const;
/** Top-level fields mapped one to one to `train.*` (TRM's ema/ema_rate share our names). */
const TRAIN_FIELDS = [
  'data_path', 'global_batch_size', 'epochs', 'eval_interval', 'checkpoint_every_eval', 'lr', 'lr_min_ratio', 'lr_warmup_steps',
  'weight_decay', 'beta1', 'beta2', 'puzzle_emb_lr', 'puzzle_emb_weight_decay', 'seed', 'ema', 'ema_rate',
] as const;
/** Top-level fields that name things about the original's run and do not change the model or its training. */
const INFORMATIONAL = ['project_name', 'run_name', 'checkpoint_path', 'eval_save_outputs', 'load_checkpoint'] as const;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface OriginalConfig {
  readonly config: HrmConfig;
  /** what the mapping did that a user should know (ignored fields, filled sizes) */
  readonly notes: readonly string[];
}

/**
 * Maps all_config.yaml text to an HrmConfig. Unknown fields are errors naming them; the dataset
 * sizes come from the file when present, else from `sizes`; a missing one is an error saying how
 * to supply it. `forward_dtype` is kept for provenance (the original's default is bfloat16).
 */
export const configFromAllConfigYaml = (text: string, fileName: string, sizes: DatasetSizes = {}): OriginalConfig => {
  let doc: unknown;
  try {
    doc = parse(text, { maxAliasCount: 16, uniqueKeys: true });
  } catch (e) {
    const detail = e instanceof RangeError ? 'nesting too deep' : (e as Error).message.split('\n')[0];
    throw new ConfigError([`${fileName}: not valid YAML: ${detail}`]);
  }
  if (!isRecord(doc)) throw new ConfigError([`${fileName}: expected a mapping of the original's run config (arch, lr, epochs, ...)`]);
  const problems: string[] = [];
  const notes: string[] = [];
  const arch = doc.arch;
  if (!isRecord(arch)) throw new ConfigError([`${fileName}: field 'arch': expected a mapping with name, loss and the model fields`]);
  if (typeof arch.name !== 'string' || !arch.name.endsWith('@HierarchicalReasoningModel_ACTV1')) {
    problems.push(`${fileName}: field 'arch.name': '${String(arch.name)}' is not HRM (expected ${ORIGINAL_ARCH_NAME})`);
  }
  const loss = arch.loss;
  if (!isRecord(loss) || loss.name !== ORIGINAL_LOSS_NAME) {
    problems.push(`${fileName}: field 'arch.loss.name': expected ${ORIGINAL_LOSS_NAME}, got ${isRecord(loss) ? String(loss.name) : 'no loss mapping'}`);
  }
  const rawArch: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(arch)) {
    if (k === 'name' || k === 'loss') continue;
    if ((ARCH_FIELDS as readonly string[]).includes(k)) rawArch[k] = v;
    else if ((ARCH_RUNTIME as readonly string[]).includes(k)) {
      if (k !== 'batch_size' && k !== 'causal') rawArch[k] = v;
    } else problems.push(`${fileName}: field 'arch.${k}': not a field of the original HRM config (known: ${ARCH_FIELDS.join(', ')})`);
  }
  if (isRecord(loss)) {
    for (const [k, v] of Object.entries(loss)) {
      if (k === 'name') continue;
      if (k === 'loss_type') rawArch.loss_type = v;
      else problems.push(`${fileName}: field 'arch.loss.${k}': not a field of the original loss head (known: name, loss_type)`);
    }
  }
  if (rawArch.forward_dtype === undefined) rawArch.forward_dtype = 'bfloat16'; // the original's default
  if (rawArch.forward_dtype === 'bfloat16') {
    notes.push('forward_dtype bfloat16: the original ran its forward pass in bf16; here the weights are used as stored, at float32/float64 precision (outputs differ at the 1e-2 level)');
  }
  for (const k of ['seq_len', 'vocab_size', 'num_puzzle_identifiers'] as const) {
    if (rawArch[k] !== undefined) continue;
    const v = sizes[k];
    if (v === undefined) problems.push(`${fileName}: ${k} is not recorded (the original takes it from the dataset): give the dataset (--data) it was trained on`);
    else {
      rawArch[k] = v;
      notes.push(`${k} ${v} from the dataset or the weights (all_config.yaml does not record it)`);
    }
  }
  const train: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc)) {
    if (k === 'arch') continue;
    if ((TRAIN_FIELDS as readonly string[]).includes(k)) train[k] = v;
    else if ((INFORMATIONAL as readonly string[]).includes(k)) continue;
    else problems.push(`${fileName}: field '${k}': not a field of the original's run config (known: arch, ${[...TRAIN_FIELDS, ...INFORMATIONAL].join(', ')})`);
  }
  if (train.eval_interval === null || train.eval_interval === undefined) {
    if (train.epochs !== undefined) train.eval_interval = train.epochs; // the original's None: evaluate once, at the end
  }
  if (train.checkpoint_every_eval === undefined) train.checkpoint_every_eval = false; // the original's default
  if (problems.length > 0) throw new ConfigError(problems);
  const config = decodeConfig(
    { description: `original run config ${fileName}${typeof doc.run_name === 'string' ? ` (run ${doc.run_name})` : ''}`, arch: rawArch, train },
    fileName,
  );
  return { config, notes };
};

/** A float as PyYAML writes one: always a dot, exponents as e-05. */
const pyFloat = (x: number): string => {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? '.nan' : x > 0 ? '.inf' : '-.inf';
  if (Number.isInteger(x) && Math.abs(x) < 1e16) return `${x}.0`;
  const s = String(x);
  const m = /^(-?[\d.]+)e([+-])(\d+)$/.exec(s);
  if (m === null) return s;
  const mant = m[1].includes('.') ? m[1] : `${m[1]}.0`;
  return `${mant}e${m[2]}${m[3].padStart(2, '0')}`;
};

type YamlValue = { float: number } | number | string | boolean | null | readonly string[] | { readonly [k: string]: YamlValue };

/** Block-style YAML with sorted keys (as yaml.dump writes); strings double-quoted (valid YAML 1.1 and 1.2). */
const emit = (value: { readonly [k: string]: YamlValue }, indent = ''): string =>
  Object.keys(value)
    .sort()
    .map((k) => {
      const v = value[k];
      if (v !== null && typeof v === 'object' && !Array.isArray(v) && !('float' in v)) return `${indent}${k}:\n${emit(v as { [k: string]: YamlValue }, `${indent}  `)}`;
      const text =
        v === null ? 'null'
        : typeof v === 'string' ? JSON.stringify(v)
        : typeof v === 'number' || typeof v === 'boolean' ? String(v)
        : Array.isArray(v) ? (v.length === 0 ? '[]' : `[${v.map((x: string) => JSON.stringify(x)).join(', ')}]`)
        : pyFloat((v as { float: number }).float);
      return `${indent}${k}: ${text}\n`;
    })
    .join('');

/**
 * all_config.yaml for an exported checkpoint: what the original's pretrain.py and evaluate.py
 * read (PretrainConfig), from an HrmConfig, with `forward_dtype` as given. seq_len, vocab_size and
 * num_puzzle_identifiers are left to the dataset, as the original does.
 */
export const allConfigYaml = (c: HrmConfig, forwardDtype: 'float32' | 'bfloat16', dataPath: string): string => {
  const a = c.arch;
  const t = c.train;
  return emit({
    arch: {
      name: ORIGINAL_ARCH_NAME,
      loss: { name: ORIGINAL_LOSS_NAME, loss_type: a.loss_type },
      H_cycles: a.H_cycles,
      L_cycles: a.L_cycles,
      H_layers: a.H_layers,
      L_layers: a.L_layers,
      hidden_size: a.hidden_size,
      num_heads: a.num_heads,
      expansion: { float: a.expansion },
      puzzle_emb_ndim: a.puzzle_emb_ndim,
      pos_encodings: a.pos_encodings,
      halt_max_steps: a.halt_max_steps,
      halt_exploration_prob: { float: a.halt_exploration_prob },
      rms_norm_eps: { float: a.rms_norm_eps },
      rope_theta: { float: a.rope_theta },
      forward_dtype: forwardDtype,
    },
    data_path: dataPath,
    global_batch_size: t.global_batch_size,
    epochs: t.epochs,
    eval_interval: t.eval_interval,
    checkpoint_every_eval: t.checkpoint_every_eval,
    lr: { float: t.lr },
    lr_min_ratio: { float: t.lr_min_ratio },
    lr_warmup_steps: t.lr_warmup_steps,
    weight_decay: { float: t.weight_decay },
    beta1: { float: t.beta1 },
    beta2: { float: t.beta2 },
    puzzle_emb_lr: { float: t.puzzle_emb_lr },
    puzzle_emb_weight_decay: { float: t.puzzle_emb_weight_decay },
    seed: t.seed,
    project_name: null,
    run_name: null,
    checkpoint_path: null,
    eval_save_outputs: [],
  });
};
