// The optimizer driver (spec §5.1, §5.3, §5.4): SignSGD on the puzzle-table rows named in the batch
// (duplicate ids summed by the kernel) with the puzzle lr, then AdamATan2 on every parameter (not
// the buffers) with step counter t, all in one adamAtan2Many call, then the optional EMA. It replaces handles in the maps it is
// given (the optimizer kernels consume their inputs) and releases the gradients.

import type { Backend } from '../core/backend.ts';
import type { StepRates } from './api.ts';
import type { TrainConfig } from './config.ts';
import type { Grads } from './context.ts';
import { PUZZLE_TABLE } from './layout.ts';

export interface OptimizerState<T> {
  readonly m: Map<string, T>;
  readonly v: Map<string, T>;
  /** AdamATan2's t of the last update (0 before any) */
  step: number;
  /** EMA copies of the parameters, when enabled */
  readonly ema: Map<string, T> | null;
}

/** Zero moments for every parameter (and EMA copies of the current values when enabled). */
export const initOptimizerState = <T>(b: Backend<T>, params: ReadonlyMap<string, T>, names: readonly string[], withEma: boolean): OptimizerState<T> => ({
  m: new Map(names.map((n) => [n, b.zeros(b.shape(params.get(n) as T))])),
  v: new Map(names.map((n) => [n, b.zeros(b.shape(params.get(n) as T))])),
  step: 0,
  ema: withEma ? new Map(names.map((n) => [n, b.scale(params.get(n) as T, 1)])) : null,
});

/**
 * One optimizer step: SignSGD on the puzzle table (when `puzzle` is given), AdamATan2 on each
 * name in `names` with grads[name], EMA. Updates `params` and `state` in place; disposes `grads`
 * and the puzzle gradient.
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
  names.forEach((n, i) => {
    params.set(n, next[i].param);
    state.m.set(n, next[i].m);
    state.v.set(n, next[i].v);
    b.dispose(gs[i]);
    grads.delete(n);
    if (state.ema !== null) state.ema.set(n, b.ema(state.ema.get(n) as T, next[i].param, train.ema_rate));
  });
  for (const [n, g] of grads) {
    b.dispose(g);
    grads.delete(n);
  }
};
