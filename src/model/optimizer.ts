// The optimizer driver (spec §5.1, §5.3, §5.4): SignSGD on the puzzle-table rows named in the batch
// (duplicate ids summed by the kernel) with the puzzle lr, then AdamATan2 on every parameter (not
// the buffers) with step counter t, all in one adamAtan2Many call, then the optional EMA in one
// emaMany call. It replaces handles in the maps it is given (the optimizer kernels consume their
// inputs). Where the backend keeps packs, the parameters, both moments, the EMA copies and the
// gradients live in packs of one layout (the gradients placed into their slots as the backward
// makes them, see `newGrads`), so AdamATan2 and the EMA are one pass each; the gradients' memory is
// kept as the next step's slots. Elsewhere the gradients are released.

import type { Backend } from '../core/backend.ts';
import type { StepRates } from './api.ts';
import type { TrainConfig } from './config.ts';
import type { Grads } from './context.ts';
import { PUZZLE_TABLE } from './layout.ts';

export interface OptimizerState<T> {
  readonly m: Map<string, T>;
  readonly v: Map<string, T>;
  /** whether the backend packed the parameters (see packOptimizer) */
  packed: boolean;
  /** where the next step's gradients go (a pack like the parameters'); null without packs */
  slots: Map<string, T> | null;
  /** AdamATan2's t of the last update (0 before any) */
  step: number;
  /** EMA copies of the parameters, when enabled */
  readonly ema: Map<string, T> | null;
}

/**
 * Zero moments for every parameter (and EMA copies of the current values when enabled); the
 * parameters `names` are packed in `params` (see `packOptimizer`).
 */
export const initOptimizerState = <T>(b: Backend<T>, params: Map<string, T>, names: readonly string[], withEma: boolean): OptimizerState<T> => {
  const state: OptimizerState<T> = {
    m: new Map(names.map((n) => [n, b.zeros(b.shape(params.get(n) as T))])),
    v: new Map(names.map((n) => [n, b.zeros(b.shape(params.get(n) as T))])),
    packed: false,
    slots: null,
    step: 0,
    ema: withEma ? new Map(names.map((n) => [n, b.scale(params.get(n) as T, 1)])) : null,
  };
  packOptimizer(b, params, names, state);
  return state;
};

/**
 * Packs the parameters `names`, their moments, their EMA copies and a set of gradient slots, each in one storage
 * with one layout, where the backend keeps packs (after new values were loaded, say); elsewhere
 * nothing changes. Replaces the handles in `params` and `state`.
 */
export const packOptimizer = <T>(b: Backend<T>, params: Map<string, T>, names: readonly string[], state: OptimizerState<T>): void => {
  const repack = (m: Map<string, T>): boolean => {
    const before = names.map((n) => m.get(n) as T);
    const after = b.pack(before);
    names.forEach((n, i) => m.set(n, after[i]));
    return after.some((t, i) => t !== before[i]);
  };
  const packs = repack(params);
  repack(state.m);
  repack(state.v);
  if (state.ema !== null) repack(state.ema);
  if (state.slots !== null) for (const t of state.slots.values()) b.dispose(t);
  state.packed = packs;
  const slots = packs ? b.packedZeros(names.map((n) => b.shape(params.get(n) as T))) : null;
  state.slots = slots === null ? null : new Map(names.map((n, i) => [n, slots[i]]));
};

/** An empty gradient map for the next step, holding the state's gradient slots (taken from it). */
export const newGrads = <T>(state: OptimizerState<T>): Grads<T> => {
  const grads: Grads<T> = new Map();
  if (state.slots !== null) grads.slots = state.slots;
  state.slots = null;
  return grads;
};

/** Releases the moments, the gradient slots and the EMA copies. */
export const disposeOptimizerState = <T>(b: Backend<T>, state: OptimizerState<T>): void => {
  for (const m of [state.m, state.v, state.slots ?? new Map<string, T>(), state.ema ?? new Map<string, T>()]) {
    for (const h of m.values()) b.dispose(h);
    m.clear();
  }
  state.slots = null;
};

/**
 * One optimizer step: SignSGD on the puzzle table (when `puzzle` is given), AdamATan2 on each
 * name in `names` with grads[name], EMA. Updates `params` and `state` in place; the gradients
 * become the next step's slots where the backend packs (disposed elsewhere, as is the puzzle
 * gradient and whatever else `grads` holds).
 */
export const optimizerStep = <T>(
  b: Backend<T>,
  params: Map<string, T>,
  names: readonly string[],
  grads: Grads<T>,
  puzzle: { readonly grad: T; readonly ids: Int32Array } | null,
  rates: StepRates,
  train: TrainConfig,
  state: OptimizerState<T>,
): void => {
  if (puzzle !== null) {
    const table = params.get(PUZZLE_TABLE);
    if (table === undefined) throw new Error(`optimizerStep: no '${PUZZLE_TABLE}' for the puzzle gradient`);
    params.set(PUZZLE_TABLE, b.signSgdRows(table, puzzle.grad, puzzle.ids, rates.puzzleEmbLr, train.puzzle_emb_weight_decay));
    b.dispose(puzzle.grad);
  }
  state.step += 1;
  const hyper = { lr: rates.lr, weightDecay: train.weight_decay, beta1: train.beta1, beta2: train.beta2, step: state.step };
  const gs = names.map((n) => {
    const g = grads.get(n);
    if (g === undefined) throw new Error(`optimizerStep: no gradient for parameter '${n}'`);
    return g;
  });
  // every dense parameter in one call: an engine may update several tensors per pass
  const next = b.adamAtan2Many(names.map((n) => ({ param: params.get(n) as T, m: state.m.get(n) as T, v: state.v.get(n) as T })), gs, hyper);
  // with packs, the gradients' memory is the next step's slots (AdamATan2 only read them)
  const keep = state.packed;
  names.forEach((n, i) => {
    params.set(n, next[i].param);
    state.m.set(n, next[i].m);
    state.v.set(n, next[i].v);
    if (!keep) b.dispose(gs[i]);
    grads.delete(n);
  });
  if (state.ema !== null) {
    const ema = state.ema;
    const averaged = b.emaMany(names.map((n) => ema.get(n) as T), next.map((s) => s.param), train.ema_rate);
    names.forEach((n, i) => ema.set(n, averaged[i]));
  }
  for (const [n, g] of grads) {
    b.dispose(g);
    grads.delete(n);
  }
  if (grads.slots !== undefined) for (const t of grads.slots.values()) b.dispose(t);
  grads.slots = undefined;
  if (keep) {
    if (state.slots !== null) for (const t of state.slots.values()) b.dispose(t);
    state.slots = new Map(names.map((n, i) => [n, gs[i]]));
  }
};
