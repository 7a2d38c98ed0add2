// The model configuration: an io-ts codec for the architecture (spec §1.1, plus `loss_type`; `name`
// switches between HRM, the default, and TRM, spec §10, with TRM's fields) and the
// training hyperparameters (spec §5.2), `key=value` overrides decoded through the same codec, the
// mapping of an official-parity fixture's config.json (HRM's and TRM's), and the derived sizes of spec §1.2.
// Pure: reading files is the caller's business (see parseConfigText).

import * as t from 'io-ts';
import { ConfigError, decodeOrThrow, intIn, numberIn, oneOf, strictObject } from '../io/codec.ts';
import type { LossKind } from '../core/backend.ts';
import { parseJsonText } from '../io/codec.ts';

/**
 * Most layers per module and cycles per level a config may declare: far above any published
 * recipe (HRM 4 + 4 layers, 2 × 2 cycles), and low enough that the parameter layout of a hostile
 * config (one entry per layer) stays small: 1e9 layers would exhaust memory before any size check.
 */
export const MAX_LAYERS = 1024;
export const MAX_CYCLES = 1024;

export const ArchCodec = strictObject('arch', {
  /** which model: 'hrm' (two modules, one-step gradient) or 'trm' (one network, last cycle back-propagated) */
  name: [oneOf(['hrm', 'trm'] as const), 'hrm'],
  /** informational (the original sizes scratch buffers with it); the model takes B from each batch */
  batch_size: [t.union([intIn(1), t.null]), null],
  seq_len: intIn(1),
  puzzle_emb_ndim: [intIn(0), 0],
  num_puzzle_identifiers: intIn(1),
  vocab_size: intIn(2),
  H_cycles: intIn(1, MAX_CYCLES),
  L_cycles: intIn(1, MAX_CYCLES),
  /** HRM's H module depth; TRM requires the field but reads nothing from it */
  H_layers: intIn(0, MAX_LAYERS),
  L_layers: intIn(1, MAX_LAYERS),
  hidden_size: intIn(1),
  expansion: numberIn(0, 1e6, true),
  num_heads: intIn(1),
  pos_encodings: oneOf(['rope', 'learned', 'none'] as const),
  rms_norm_eps: [numberIn(0, 1, true), 1e-5],
  rope_theta: [numberIn(0, 1e12, true), 10000],
  halt_max_steps: intIn(1),
  halt_exploration_prob: numberIn(0, 1),
  /**
   * The original's activation dtype. Recorded for provenance only: this implementation computes in
   * the backend's dtype (float64 reference, float32 accelerated) and does not emulate bf16 rounding.
   */
  forward_dtype: [oneOf(['bfloat16', 'float32'] as const), 'float32'],
  loss_type: [oneOf(['stablemax_cross_entropy', 'softmax_cross_entropy'] as const), 'stablemax_cross_entropy'],
  /** puzzle slots P; 0 means ceil(puzzle_emb_ndim / hidden_size) (TRM's recipes use 16) */
  puzzle_emb_len: [intIn(0), 0],
  /** the token mixer of every block is a SwiGLU across the sequence axis instead of attention (TRM's option; HRM's blocks too) */
  mlp_t: [t.boolean, false],
  /** halt on q_halt > 0 with no Q-continue target or loss (TRM's default) instead of q_halt > q_continue */
  no_ACT_continue: [t.boolean, false],
  /** training halts only at halt_max_steps (every puzzle gets all its segments of deep supervision, no early halting by Q); the Q head still trains; evaluation is unchanged */
  fixed_segments: [t.boolean, false],
});
export type ArchConfig = t.TypeOf<typeof ArchCodec>;

export const TrainCodec = strictObject('train', {
  data_path: [t.union([t.string, t.null]), null],
  global_batch_size: [intIn(1), 768],
  epochs: [intIn(1), 100000],
  eval_interval: [intIn(1), 10000],
  checkpoint_every_eval: [t.boolean, true],
  lr: [numberIn(0, 10), 1e-4],
  lr_min_ratio: [numberIn(0, 1), 1.0],
  lr_warmup_steps: [intIn(0), 2000],
  beta1: [numberIn(0, 1, false, true), 0.9],
  beta2: [numberIn(0, 1, false, true), 0.95],
  weight_decay: [numberIn(0, 1e3), 0.1],
  puzzle_emb_lr: [numberIn(0, 10), 1e-2],
  puzzle_emb_weight_decay: [numberIn(0, 1e3), 0.1],
  seed: [intIn(-(2 ** 53) + 1), 0],
  /** exponential moving average of the parameters (TRM's option; off in HRM) */
  ema: [t.boolean, false],
  ema_rate: [numberIn(0, 1), 0.999],
});
export type TrainConfig = t.TypeOf<typeof TrainCodec>;

const TRAIN_DEFAULTS: TrainConfig = decodeOrThrow(TrainCodec, {}, 'train defaults');

export const HrmConfigCodec = strictObject('config', {
  description: [t.string, ''],
  arch: ArchCodec,
  train: [TrainCodec, TRAIN_DEFAULTS],
});
export type HrmConfig = t.TypeOf<typeof HrmConfigCodec>;

/** Cross-field checks the per-field codecs cannot express; returns problems (empty when valid). */
const crossFieldProblems = (c: HrmConfig, source: string): string[] => {
  const a = c.arch;
  const p: string[] = [];
  const field = (f: string, m: string) => p.push(`${source}: field 'arch.${f}': ${m}`);
  if (a.name === 'hrm' && a.H_layers < 1) field('H_layers', `${a.H_layers}, expected ≥ 1 for HRM's H module`);
  if (a.mlp_t && a.pos_encodings === 'rope') field('pos_encodings', "'rope' rotates attention's queries and keys; mlp_t has no attention (use 'none' or 'learned')");
  if (a.puzzle_emb_ndim === 0 && a.puzzle_emb_len !== 0) field('puzzle_emb_len', `${a.puzzle_emb_len} slots without a puzzle embedding (puzzle_emb_ndim 0): expected 0`);
  if (a.puzzle_emb_len > 0 && a.puzzle_emb_ndim > a.puzzle_emb_len * a.hidden_size) {
    field('puzzle_emb_len', `${a.puzzle_emb_len} slots of ${a.hidden_size} cannot hold puzzle_emb_ndim ${a.puzzle_emb_ndim}`);
  }
  if (a.mlp_t) {
    // no attention: num_heads is not read
  } else if (a.hidden_size % a.num_heads !== 0) {
    p.push(`${source}: field 'arch.num_heads': ${a.num_heads} does not divide hidden_size ${a.hidden_size}`);
  } else if (a.pos_encodings === 'rope' && (a.hidden_size / a.num_heads) % 2 !== 0) {
    p.push(`${source}: field 'arch.num_heads': RoPE needs an even head_dim, got ${a.hidden_size / a.num_heads}`);
  }
  const inter = roundUpToMultiple(roundHalfEven((a.expansion * a.hidden_size * 2) / 3), 256);
  if (inter < 1) {
    p.push(`${source}: field 'arch.expansion': ${a.expansion} × hidden_size ${a.hidden_size} gives an MLP of ${inter} units (round(expansion·hidden_size·2/3) must be ≥ 1)`);
  }
  if (c.train.epochs % c.train.eval_interval !== 0) {
    p.push(`${source}: field 'train.eval_interval': ${c.train.eval_interval} must divide epochs ${c.train.epochs}`);
  }
  return p;
};

/** Decodes a parsed JSON value as a full config; throws ConfigError naming `source` and the fields. */
export const decodeConfig = (value: unknown, source: string): HrmConfig => {
  const c = decodeOrThrow(HrmConfigCodec, value, source);
  const problems = crossFieldProblems(c, source);
  if (problems.length > 0) throw new ConfigError(problems);
  return c;
};

/** Parses and decodes config text (a file's content); `fileName` appears in every message. */
export const parseConfigText = (text: string, fileName: string): HrmConfig => {
  let value: unknown;
  try {
    value = parseJsonText(text, fileName, 8);
  } catch (e) {
    throw new ConfigError([(e as Error).message], fileName);
  }
  return decodeConfig(value, fileName);
};

const archKeys = (): string[] => Object.keys(decodeOrThrow(ArchCodec, minimalArch, 'arch'));
const trainKeys = (): string[] => Object.keys(TRAIN_DEFAULTS);
const minimalArch = {
  seq_len: 1, num_puzzle_identifiers: 1, vocab_size: 2, H_cycles: 1, L_cycles: 1, H_layers: 1, L_layers: 1,
  hidden_size: 2, expansion: 1, num_heads: 1, pos_encodings: 'rope', halt_max_steps: 1, halt_exploration_prob: 0,
};

/** Parses an override's value: JSON when it parses (numbers, booleans, null, quoted strings), else the raw string. */
const parseOverrideValue = (raw: string): unknown => {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
};

/**
 * Applies `key=value` overrides (leading `--` allowed) to a config and decodes the result through
 * the same codec. Keys: `arch.<field>`, `train.<field>`, `description`, the original's
 * `arch.loss.loss_type`, or a bare field name of either section.
 */
export const applyOverrides = (config: HrmConfig, overrides: readonly string[], source = 'overrides'): HrmConfig => {
  const raw = { description: config.description, arch: { ...config.arch }, train: { ...config.train } } as {
    description: unknown;
    arch: Record<string, unknown>;
    train: Record<string, unknown>;
  };
  const aKeys = archKeys();
  const tKeys = trainKeys();
  const problems: string[] = [];
  for (const o of overrides) {
    const text = o.startsWith('--') ? o.slice(2) : o;
    const eq = text.indexOf('=');
    if (eq <= 0) {
      problems.push(`${source}: '${o}' is not of the form key=value`);
      continue;
    }
    let key = text.slice(0, eq);
    const value = parseOverrideValue(text.slice(eq + 1));
    if (key === 'arch.loss.loss_type') key = 'arch.loss_type';
    // only fields the codec knows (a key such as __proto__ would otherwise be assigned and dropped)
    const field = key.startsWith('arch.') ? key.slice(5) : key.startsWith('train.') ? key.slice(6) : key;
    const known = key.startsWith('arch.') ? aKeys : key.startsWith('train.') ? tKeys : [...aKeys, ...tKeys, 'description'];
    if (!known.includes(field)) {
      problems.push(`${source}: unknown key '${key}' (expected arch.<field>, train.<field> or one of: ${[...aKeys, ...tKeys].join(', ')})`);
      continue;
    }
    if (key === 'description') {
      raw.description = value;
    } else if (key.startsWith('arch.')) {
      raw.arch[key.slice(5)] = value;
    } else if (key.startsWith('train.')) {
      raw.train[key.slice(6)] = value;
    } else if (aKeys.includes(key)) {
      raw.arch[key] = value;
    } else if (tKeys.includes(key)) {
      raw.train[key] = value;
    } else {
      problems.push(`${source}: unknown key '${key}' (expected arch.<field>, train.<field> or one of: ${[...aKeys, ...tKeys].join(', ')})`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return decodeConfig(raw, `${source} (${overrides.join(' ')})`);
};

/**
 * A config from an official-parity fixture's config.json: its `arch` section, its top-level
 * `loss_type`, and the optimizer hyperparameters of its `optimizer` section.
 */
export const configFromFixture = (value: unknown, fileName: string): HrmConfig => {
  const FixtureCodec = t.type({
    arch: t.UnknownRecord,
    loss_type: t.string,
    optimizer: t.type({
      dense: t.type({ lr: t.number, betas: t.tuple([t.number, t.number]), weight_decay: t.number }),
      puzzle_emb: t.union([t.null, t.type({ lr: t.number, weight_decay: t.number })]),
      lr_warmup_steps: t.number,
      lr_min_ratio: t.number,
      total_steps: t.number,
      global_batch_size: t.number,
    }),
  });
  const f = decodeOrThrow(FixtureCodec, value, fileName);
  const o = f.optimizer;
  return decodeConfig(
    {
      description: `official-parity fixture (${fileName})`,
      arch: { ...f.arch, loss_type: f.loss_type },
      train: {
        global_batch_size: o.global_batch_size,
        epochs: 1,
        eval_interval: 1,
        lr: o.dense.lr,
        lr_min_ratio: o.lr_min_ratio,
        lr_warmup_steps: o.lr_warmup_steps,
        beta1: o.dense.betas[0],
        beta2: o.dense.betas[1],
        weight_decay: o.dense.weight_decay,
        ...(o.puzzle_emb === null ? {} : { puzzle_emb_lr: o.puzzle_emb.lr, puzzle_emb_weight_decay: o.puzzle_emb.weight_decay }),
      },
    },
    fileName,
  );
};

/** True for a fixture config.json written from TRM's code (its arch_name names TRM's module). */
export const isTrmCaseConfig = (json: unknown): boolean =>
  typeof json === 'object' && json !== null && typeof (json as { arch_name?: unknown }).arch_name === 'string' && /(^|[.])trm@/.test((json as { arch_name: string }).arch_name);

const TrmFixtureCodec = t.type({
  arch: t.UnknownRecord,
  arch_name: t.string,
  loss: t.type({ loss_type: t.string }),
  pretrain: t.type({
    global_batch_size: t.number,
    lr: t.number,
    lr_min_ratio: t.number,
    lr_warmup_steps: t.number,
    weight_decay: t.number,
    beta1: t.number,
    beta2: t.number,
    puzzle_emb_lr: t.number,
    puzzle_emb_weight_decay: t.number,
    ema: t.boolean,
    ema_rate: t.number,
  }),
  train: t.type({ lr_per_step: t.array(t.number), puzzle_emb_lr_per_step: t.union([t.array(t.number), t.null]) }),
});

/** The model config of a TRM official-parity fixture's config.json (its `arch`, `loss` and `pretrain` sections). */
export const configFromTrmFixture = (value: unknown, fileName: string): HrmConfig => {
  const f = decodeOrThrow(TrmFixtureCodec, value, fileName);
  const p = f.pretrain;
  return decodeConfig(
    {
      description: `TRM official-parity fixture (${fileName})`,
      arch: { ...f.arch, name: 'trm', loss_type: f.loss.loss_type },
      train: {
        global_batch_size: p.global_batch_size, epochs: 1, eval_interval: 1, lr: p.lr, lr_min_ratio: p.lr_min_ratio,
        lr_warmup_steps: p.lr_warmup_steps, beta1: p.beta1, beta2: p.beta2, weight_decay: p.weight_decay,
        puzzle_emb_lr: p.puzzle_emb_lr, puzzle_emb_weight_decay: p.puzzle_emb_weight_decay, ema: p.ema, ema_rate: p.ema_rate,
      },
    },
    fileName,
  );
};

/** Python's round(): nearest integer, ties to even. */
export const roundHalfEven = (x: number): number => {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
};

/** The smallest multiple of `k` that is ≥ n. */
export const roundUpToMultiple = (n: number, k: number): number => Math.ceil(n / k) * k;

/** Sizes derived from the architecture (spec §1.2). */
export interface DerivedSizes {
  readonly headDim: number;
  readonly puzzleEmbLen: number; // P
  readonly totalSeqLen: number; // S = seq_len + P
  readonly swigluInter: number; // I
  /** mlp_t: the SwiGLU inner size over the sequence axis (from S instead of D); 0 without mlp_t */
  readonly mlpTInter: number;
  readonly lossKind: LossKind;
}

/** ceil_to_multiple(round(expansion·width·2/3), 256), in the original's operation order. */
const swigluSize = (expansion: number, width: number): number => roundUpToMultiple(roundHalfEven((expansion * width * 2) / 3), 256);

export const deriveSizes = (a: ArchConfig): DerivedSizes => {
  const P = a.puzzle_emb_ndim === 0 ? 0 : a.puzzle_emb_len > 0 ? a.puzzle_emb_len : Math.ceil(a.puzzle_emb_ndim / a.hidden_size);
  return {
    headDim: a.hidden_size / a.num_heads,
    puzzleEmbLen: P,
    totalSeqLen: a.seq_len + P,
    swigluInter: swigluSize(a.expansion, a.hidden_size),
    mlpTInter: a.mlp_t ? swigluSize(a.expansion, a.seq_len + P) : 0,
    lossKind: a.loss_type,
  };
};
