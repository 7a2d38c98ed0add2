// The original trainers' run config, `all_config.yaml` (pretrain.py dumps its PretrainConfig with
// yaml.dump), both ways, for HRM (`sapientinc/HRM`) and TRM (`SamsungSAILMontreal/TinyRecursiveModels`,
// whose arch name selects arch.name 'trm' and whose PretrainConfig lists `data_paths`, `ema`, ...):
// read into an HrmConfig through the same config codec, and written for an exported checkpoint so
// the original's evaluate.py and trainer accept it. The originals take seq_len, vocab_size and
// num_puzzle_identifiers from the dataset at run time, so they are not in the file: the caller
// supplies them (from a dataset, or from the weights' shapes).
// Pure: reading files is the caller's business.

import { parseDocument } from 'yaml';
import { ConfigError } from '../io/codec.ts';
import { decodeConfig, type HrmConfig } from './config.ts';

/** The model and loss head the original HRM trainer names in `arch.name` / `arch.loss.name`. */
export const ORIGINAL_ARCH_NAME = 'hrm.hrm_act_v1@HierarchicalReasoningModel_ACTV1';
/** TRM's model (`models/recursive_reasoning/trm.py`), as its `config/arch/trm.yaml` names it. */
export const TRM_ARCH_NAME = 'recursive_reasoning.trm@TinyRecursiveReasoningModel_ACTV1';
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
/** TRM's model config adds these (`TinyRecursiveReasoningModel_ACTV1Config`), with TRM's defaults. */
const TRM_ARCH_DEFAULTS = { mlp_t: false, puzzle_emb_len: 16, no_ACT_continue: true } as const;
/** `arch` fields the original sets at run time from the dataset and the world size; used when present. */
const ARCH_RUNTIME = ['seq_len', 'vocab_size', 'num_puzzle_identifiers', 'batch_size', 'causal'] as const;
/** Top-level fields mapped one to one to `train.*` (TRM's ema/ema_rate share our names). */
const TRAIN_FIELDS = [
  'data_path', 'global_batch_size', 'epochs', 'eval_interval', 'checkpoint_every_eval', 'lr', 'lr_min_ratio', 'lr_warmup_steps',
  'weight_decay', 'beta1', 'beta2', 'puzzle_emb_lr', 'puzzle_emb_weight_decay', 'seed', 'ema', 'ema_rate',
] as const;
/** Top-level fields that name things about the original's run and do not change the model or its training. */
const INFORMATIONAL = ['project_name', 'run_name', 'checkpoint_path', 'eval_save_outputs', 'load_checkpoint'] as const;
/** TRM's PretrainConfig fields besides HRM's (its `data_paths` list replaces HRM's `data_path`). */
const TRM_TOP = ['data_paths', 'data_paths_test', 'evaluators', 'min_eval_interval', 'freeze_weights'] as const;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/** Which model an `arch.name` selects: HRM's class (in HRM's or TRM's repository) or TRM's; undefined for another model. */
const modelOf = (name: unknown): 'hrm' | 'trm' | undefined =>
  typeof name !== 'string' ? undefined
  : name.endsWith('@HierarchicalReasoningModel_ACTV1') ? 'hrm'
  : name.endsWith('@TinyRecursiveReasoningModel_ACTV1') ? 'trm'
  : undefined;

export interface OriginalConfig {
  readonly config: HrmConfig;
  /** what the mapping did that a user should know (ignored fields, filled sizes) */
  readonly notes: readonly string[];
  /** every dataset folder the run trained on (HRM's `data_path`, TRM's `data_paths`) */
  readonly dataPaths: readonly string[];
}

/**
 * Maps all_config.yaml text (HRM's or TRM's trainer) to an HrmConfig. Unknown fields are errors
 * naming them; TRM's fields missing from the file take TRM's defaults (puzzle_emb_len 16,
 * no_ACT_continue true); the dataset sizes come from the file when present, else from `sizes`; a
 * missing one is an error saying how to supply it. `forward_dtype` is kept for provenance (the
 * originals' default is bfloat16).
 */
export const configFromAllConfigYaml = (text: string, fileName: string, sizes: DatasetSizes = {}): OriginalConfig => {
  let doc: unknown;
  try {
    // a YAML warning (an unresolved tag, say) is an error too: the original's yaml.dump writes none
    const d = parseDocument(text, { uniqueKeys: true, logLevel: 'silent' });
    const problem = d.errors[0] ?? d.warnings[0];
    if (problem !== undefined) throw problem;
    doc = d.toJS({ maxAliasCount: 16 });
  } catch (e) {
    const detail = e instanceof RangeError ? 'nesting too deep' : (e as Error).message.split('\n')[0];
    throw new ConfigError([`${fileName}: not valid YAML: ${detail}`]);
  }
  if (!isRecord(doc)) throw new ConfigError([`${fileName}: expected a mapping of the original's run config (arch, lr, epochs, ...)`]);
  const problems: string[] = [];
  const notes: string[] = [];
  const arch = doc.arch;
  if (!isRecord(arch)) throw new ConfigError([`${fileName}: field 'arch': expected a mapping with name, loss and the model fields`]);
  const model = modelOf(arch.name);
  if (model === undefined) {
    problems.push(`${fileName}: field 'arch.name': '${String(arch.name)}' is neither HRM nor TRM (expected ${ORIGINAL_ARCH_NAME} or ${TRM_ARCH_NAME})`);
  }
  const loss = arch.loss;
  if (!isRecord(loss) || loss.name !== ORIGINAL_LOSS_NAME) {
    problems.push(`${fileName}: field 'arch.loss.name': expected ${ORIGINAL_LOSS_NAME}, got ${isRecord(loss) ? String(loss.name) : 'no loss mapping'}`);
  }
  const archFields: readonly string[] = model === 'trm' ? [...ARCH_FIELDS, ...Object.keys(TRM_ARCH_DEFAULTS)] : ARCH_FIELDS;
  const rawArch: Record<string, unknown> = model === 'trm' ? { name: 'trm', ...TRM_ARCH_DEFAULTS } : {};
  for (const [k, v] of Object.entries(arch)) {
    if (k === 'name' || k === 'loss') continue;
    if (archFields.includes(k)) rawArch[k] = v;
    else if ((ARCH_RUNTIME as readonly string[]).includes(k)) {
      if (k !== 'batch_size' && k !== 'causal') rawArch[k] = v;
    } else problems.push(`${fileName}: field 'arch.${k}': not a field of the original ${model === 'trm' ? 'TRM' : 'HRM'} config (known: ${archFields.join(', ')})`);
  }
  if (isRecord(loss)) {
    for (const [k, v] of Object.entries(loss)) {
      if (k === 'name') continue;
      if (k === 'loss_type') rawArch.loss_type = v;
      else problems.push(`${fileName}: field 'arch.loss.${k}': not a field of the original loss head (known: name, loss_type)`);
    }
  }
  if (rawArch.forward_dtype === undefined) rawArch.forward_dtype = 'bfloat16'; // the originals' default
  if (rawArch.forward_dtype === 'bfloat16') {
    notes.push('forward_dtype bfloat16: the original ran its forward pass in bf16; here the weights are used as stored, at float32/float64 precision (outputs differ at the 1e-2 level)');
  }
  if (model === 'trm' && rawArch.mlp_t === true && rawArch.pos_encodings === 'rope') {
    // TRM builds the rotary tables but its mlp_t blocks never read them
    rawArch.pos_encodings = 'none';
    notes.push("pos_encodings rope with mlp_t: TRM's mlp_t blocks have no attention and never apply it; read as 'none'");
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
  let dataPaths: string[] = [];
  for (const [k, v] of Object.entries(doc)) {
    if (k === 'arch') continue;
    if ((TRAIN_FIELDS as readonly string[]).includes(k)) train[k] = v;
    else if ((INFORMATIONAL as readonly string[]).includes(k)) continue;
    else if (!(TRM_TOP as readonly string[]).includes(k)) {
      problems.push(`${fileName}: field '${k}': not a field of the original's run config (known: arch, ${[...TRAIN_FIELDS, ...TRM_TOP, ...INFORMATIONAL].join(', ')})`);
    }
  }
  if (typeof train.data_path === 'string') dataPaths = [train.data_path];
  if (doc.data_paths !== undefined) {
    if (!isStringList(doc.data_paths)) problems.push(`${fileName}: field 'data_paths': expected a list of dataset folders`);
    else if (train.data_path !== undefined) problems.push(`${fileName}: fields 'data_path' and 'data_paths': expected one of them (HRM's or TRM's)`);
    else if (doc.data_paths.length > 0) {
      dataPaths = doc.data_paths;
      train.data_path = dataPaths[0];
      if (dataPaths.length > 1) notes.push(`data_paths: ${dataPaths.length} datasets (TRM merges them; here the run's dataset is the first, ${dataPaths[0]})`);
    }
  }
  if (doc.data_paths_test !== undefined && !isStringList(doc.data_paths_test)) problems.push(`${fileName}: field 'data_paths_test': expected a list of dataset folders`);
  else if (isStringList(doc.data_paths_test) && doc.data_paths_test.length > 0) notes.push(`data_paths_test: the original evaluated on ${doc.data_paths_test.join(', ')} (give it with --data)`);
  if (doc.evaluators !== undefined && !(Array.isArray(doc.evaluators) && doc.evaluators.every((e) => isRecord(e) && typeof e.name === 'string'))) {
    problems.push(`${fileName}: field 'evaluators': expected a list of mappings with a name`);
  }
  if (doc.min_eval_interval !== undefined && doc.min_eval_interval !== null && !(Number.isInteger(doc.min_eval_interval) && (doc.min_eval_interval as number) >= 0)) {
    problems.push(`${fileName}: field 'min_eval_interval': expected a non-negative integer or null`);
  }
  if (doc.freeze_weights !== undefined && typeof doc.freeze_weights !== 'boolean') problems.push(`${fileName}: field 'freeze_weights': expected true or false`);
  else if (doc.freeze_weights === true) notes.push('freeze_weights: the original trained the puzzle embeddings alone; training here updates every weight');
  if (train.eval_interval === null || train.eval_interval === undefined) {
    if (train.epochs !== undefined) train.eval_interval = train.epochs; // the original's None: evaluate once, at the end
  }
  if (train.checkpoint_every_eval === undefined) train.checkpoint_every_eval = false; // the original's default
  if (problems.length > 0) throw new ConfigError(problems);
  const config = decodeConfig(
    { description: `original run config ${fileName}${typeof doc.run_name === 'string' ? ` (run ${doc.run_name})` : ''}`, arch: rawArch, train },
    fileName,
  );
  return { config, notes, dataPaths };
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

/** Why the original code cannot hold this config, or null: HRM's original blocks are attention blocks only (no mlp_t). */
export const originalProblem = (c: HrmConfig): string | null =>
  c.arch.name === 'hrm' && c.arch.mlp_t ? "arch.mlp_t: the original HRM's blocks are attention blocks; an HRM with mlp_t blocks has no original counterpart" : null;

/**
 * all_config.yaml for an exported checkpoint: what the original's pretrain.py and evaluate.py
 * read (PretrainConfig), from an HrmConfig, with `forward_dtype` as given: HRM's trainer's file for
 * arch.name 'hrm', TRM's for 'trm' (TRM's arch name and model fields, `data_paths` as a list, and
 * its EMA and evaluation fields). seq_len, vocab_size and num_puzzle_identifiers are left to the
 * dataset, as the originals do.
 */
export const allConfigYaml = (c: HrmConfig, forwardDtype: 'float32' | 'bfloat16', dataPath: string): string => {
  const a = c.arch;
  const t = c.train;
  const trm = a.name === 'trm';
  const problem = originalProblem(c);
  if (problem !== null) throw new ConfigError([problem]);
  return emit({
    arch: {
      name: trm ? TRM_ARCH_NAME : ORIGINAL_ARCH_NAME,
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
      ...(trm ? { mlp_t: a.mlp_t, puzzle_emb_len: a.puzzle_emb_len, no_ACT_continue: a.no_ACT_continue } : {}),
    },
    ...(trm ? { data_paths: dataPath === '' ? [] : [dataPath], data_paths_test: [], evaluators: [] } : { data_path: dataPath }),
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
    ...(trm ? { ema: t.ema, ema_rate: { float: t.ema_rate }, min_eval_interval: 0, freeze_weights: false, load_checkpoint: null } : {}),
    project_name: null,
    run_name: null,
    checkpoint_path: null,
    eval_save_outputs: [],
  });
};
