// The one layout table of a model (HRM, or TRM: one L_level network whose blocks mix tokens by
// attention or by the sequence-axis MLP `mlp_t`): every state-dict entry under its original name (spec §8), in
// state-dict order, with its shape and whether AdamATan2 trains it ('parameter') or not ('buffer':
// H_init, L_init, and the puzzle table that SignSGD trains). It drives initialization, gradients,
// optimizer state and checkpoints alike.

import type { Shape } from '../core/tensor.ts';
import { numel } from '../core/tensor.ts';
import type { ArchConfig } from './config.ts';
import { deriveSizes } from './config.ts';

export type EntryKind = 'parameter' | 'buffer';

export interface LayoutEntry {
  readonly name: string;
  readonly shape: Shape;
  readonly kind: EntryKind;
  /** std of the truncated-normal init (0 = zeros); `fill` overrides with a constant */
  readonly initStd: number;
  readonly fill?: number;
}

export type Layout = readonly LayoutEntry[];

export const PUZZLE_TABLE = 'puzzle_emb.weights';

/** The four weights of one post-norm block, under `<level>.layers.<i>.` (spec §1.7, §8). */
export const blockNames = (level: 'H_level' | 'L_level', i: number) => ({
  qkv: `${level}.layers.${i}.self_attn.qkv_proj.weight`,
  o: `${level}.layers.${i}.self_attn.o_proj.weight`,
  gateUp: `${level}.layers.${i}.mlp.gate_up_proj.weight`,
  down: `${level}.layers.${i}.mlp.down_proj.weight`,
});

/** The token-mixing MLP of block i of a level (SwiGLU over the sequence axis: gate_up [2·I_t, S], down [S, I_t]); TRM has only the L level. */
export const mlpTNames = (level: 'H_level' | 'L_level', i: number) => ({
  gateUp: `${level}.layers.${i}.mlp_t.gate_up_proj.weight`,
  down: `${level}.layers.${i}.mlp_t.down_proj.weight`,
});

/**
 * The layout of a config: H_init, L_init, embed_tokens, lm_head, q_head, [puzzle table], [embed_pos],
 * then HRM's H and L layers, or TRM's L layers alone (mlp_t or attention, then the channel MLP).
 */
export const buildLayout = (a: ArchConfig): Layout => {
  const D = a.hidden_size;
  const V = a.vocab_size;
  const { totalSeqLen: S, swigluInter: I, mlpTInter: It } = deriveSizes(a);
  const lecun = (fanIn: number) => 1 / Math.sqrt(fanIn);
  const out: LayoutEntry[] = [
    { name: 'H_init', shape: [D], kind: 'buffer', initStd: 1 },
    { name: 'L_init', shape: [D], kind: 'buffer', initStd: 1 },
    { name: 'embed_tokens.embedding_weight', shape: [V, D], kind: 'parameter', initStd: lecun(D) },
    { name: 'lm_head.weight', shape: [V, D], kind: 'parameter', initStd: lecun(D) },
    { name: 'q_head.weight', shape: [2, D], kind: 'parameter', initStd: 0 },
    { name: 'q_head.bias', shape: [2], kind: 'parameter', initStd: 0, fill: -5 },
  ];
  if (a.puzzle_emb_ndim > 0) {
    out.push({ name: PUZZLE_TABLE, shape: [a.num_puzzle_identifiers, a.puzzle_emb_ndim], kind: 'buffer', initStd: 0 });
  }
  if (a.pos_encodings === 'learned') {
    out.push({ name: 'embed_pos.embedding_weight', shape: [S, D], kind: 'parameter', initStd: lecun(D) });
  }
  const levels = a.name === 'trm' ? ([['L_level', a.L_layers]] as const) : ([['H_level', a.H_layers], ['L_level', a.L_layers]] as const);
  for (const [level, layers] of levels) {
    for (let i = 0; i < layers; i++) {
      const n = blockNames(level, i);
      if (a.mlp_t) {
        const t = mlpTNames(level, i);
        out.push(
          { name: t.gateUp, shape: [2 * It, S], kind: 'parameter', initStd: lecun(S) },
          { name: t.down, shape: [S, It], kind: 'parameter', initStd: lecun(It) },
        );
      } else {
        out.push(
          { name: n.qkv, shape: [3 * D, D], kind: 'parameter', initStd: lecun(D) },
          { name: n.o, shape: [D, D], kind: 'parameter', initStd: lecun(D) },
        );
      }
      out.push(
        { name: n.gateUp, shape: [2 * I, D], kind: 'parameter', initStd: lecun(D) },
        { name: n.down, shape: [D, I], kind: 'parameter', initStd: lecun(I) },
      );
    }
  }
  return Object.freeze(out.map((e) => Object.freeze({ ...e, shape: Object.freeze([...e.shape]) })));
};

/** Number of trainable (AdamATan2) parameters (spec §1.2: buffers and the puzzle table excluded). */
export const parameterCount = (layout: Layout): number =>
  layout.filter((e) => e.kind === 'parameter').reduce((s, e) => s + numel(e.shape), 0);

/** Names of the trainable parameters in layout order. */
export const parameterNames = (layout: Layout): string[] => layout.filter((e) => e.kind === 'parameter').map((e) => e.name);

/**
 * The original model's module tree (PyTorch's `_metadata` of its state dict), pre-order, under
 * `prefix` (e.g. `_orig_mod.model.inner`): the wrappers, then embed_tokens, lm_head, q_head,
 * [puzzle_emb], [rotary_emb or embed_pos], and each level's blocks (TRM: L_level alone) with their
 * attention (or mlp_t) and MLP.
 */
export const layoutModules = (a: ArchConfig, prefix: string): string[] => {
  const parts = prefix.split('.').filter((p) => p !== '');
  const out = [''];
  for (let i = 1; i <= parts.length; i++) out.push(parts.slice(0, i).join('.'));
  const at = (m: string): string => (prefix === '' ? m : `${prefix}.${m}`);
  out.push(at('embed_tokens'), at('lm_head'), at('q_head'));
  if (a.puzzle_emb_ndim > 0) out.push(at('puzzle_emb'));
  if (a.pos_encodings !== 'none') out.push(at(a.pos_encodings === 'rope' ? 'rotary_emb' : 'embed_pos'));
  const levels = a.name === 'trm' ? ([['L_level', a.L_layers]] as const) : ([['H_level', a.H_layers], ['L_level', a.L_layers]] as const);
  for (const [level, layers] of levels) {
    out.push(at(level), at(`${level}.layers`));
    for (let i = 0; i < layers; i++) {
      const b = `${level}.layers.${i}`;
      const mixer = a.mlp_t ? [`${b}.mlp_t`, `${b}.mlp_t.gate_up_proj`, `${b}.mlp_t.down_proj`] : [`${b}.self_attn`, `${b}.self_attn.qkv_proj`, `${b}.self_attn.o_proj`];
      out.push(at(b), ...mixer.map(at), at(`${b}.mlp`), at(`${b}.mlp.gate_up_proj`), at(`${b}.mlp.down_proj`));
    }
  }
  return out;
};

/** Largest element count of one tensor (typed arrays and WebAssembly memories stop near 2³¹). */
export const MAX_TENSOR_ELEMENTS = 2 ** 31 - 1;

/**
 * A lower-bound estimate of the memory training needs, in bytes, at `bytesPerValue` (8 float64,
 * 4 float32): every layout entry with its gradient, two Adam moments (and an EMA copy), the
 * one-step-gradient tapes of the last H and L calls (per layer and row: about 8·D + 3·I values per
 * position plus the S×S attention of every head) and the carry. Also the largest tensor. Used to
 * refuse a config before anything is created, not to plan allocations.
 */
export const trainingMemoryEstimate = (
  a: ArchConfig,
  batchSize: number,
  bytesPerValue: number,
  ema = false,
): { bytes: number; parameters: number; largestTensor: { name: string; elements: number } } => {
  const layout = buildLayout(a);
  const { totalSeqLen: S, swigluInter: I } = deriveSizes(a);
  const D = a.hidden_size;
  let values = 0;
  let largest = { name: '', elements: 0 };
  for (const e of layout) {
    const n = numel(e.shape);
    values += n * (e.kind === 'parameter' ? (ema ? 5 : 4) : 2);
    if (n > largest.elements) largest = { name: e.name, elements: n };
  }
  const perLayer = batchSize * S * (8 * D + 3 * I + a.num_heads * S);
  values += (a.H_layers + a.L_layers) * perLayer + 4 * batchSize * S * D;
  return { bytes: values * bytesPerValue, parameters: parameterCount(layout), largestTensor: largest };
};
