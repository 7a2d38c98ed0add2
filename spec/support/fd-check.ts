// Test support for the whole-model gradient properties: one random coordinate of every parameter
// (and of the first row's puzzle vector) compared with a central finite difference, in float64, of
// a loss oracle. Not part of the library.

import type { Tensor } from '../../src/core/tensor.ts';
import { Rng } from '../../src/core/rng.ts';

type T64 = Tensor<Float64Array>;

const FD_H = 1e-5;
// |analytic − FD| ≤ ATOL + RTOL·|FD|: FD truncation ~h²·f''' and rounding ~1e-16/h on losses of O(1)
const ATOL = 1e-8;
const RTOL = 1e-4;

export interface FdCheck {
  readonly weights: ReadonlyMap<string, T64>;
  /** the trainable parameters, in layout order */
  readonly names: readonly string[];
  /** the step's observed tensors: grad.<name> and grad.puzzle_emb.local_weights [B, ndim] */
  readonly grads: ReadonlyMap<string, T64>;
  readonly puzzleIdentifiers: Int32Array;
  /** puzzle_emb_ndim (0: no puzzle vector is checked) */
  readonly ndim: number;
  readonly seed: number;
  /** the oracle: the scaled loss at other weights */
  readonly lossAt: (weights: Map<string, T64>) => Promise<number>;
  /** named in the error (the drawn config) */
  readonly what: string;
}

/** Throws naming the first coordinate whose analytic gradient differs from the finite difference. */
export const checkRandomCoordinates = async (c: FdCheck): Promise<void> => {
  const rng = Rng.fromSeed(c.seed);
  const picks: [string, number][] = c.names.map((n) => [n, rng.int(0, c.weights.get(n)!.data.length - 1)]);
  if (c.ndim > 0) picks.push(['puzzle_emb.weights', c.puzzleIdentifiers[0] * c.ndim + rng.int(0, c.ndim - 1)]);
  for (const [name, i] of picks) {
    let analytic: number;
    if (name === 'puzzle_emb.weights') {
      // the table's gradient: the per-row vector gradients summed over the rows with this id
      const g = c.grads.get('grad.puzzle_emb.local_weights')!.data;
      const id = Math.floor(i / c.ndim);
      const j = i % c.ndim;
      analytic = 0;
      for (let r = 0; r < c.puzzleIdentifiers.length; r++) if (c.puzzleIdentifiers[r] === id) analytic += g[r * c.ndim + j];
    } else {
      analytic = c.grads.get(`grad.${name}`)!.data[i];
    }
    const shifted = async (delta: number) => {
      const w = new Map(c.weights);
      const t = c.weights.get(name)!;
      const d = Float64Array.from(t.data);
      d[i] += delta;
      w.set(name, { shape: t.shape, data: d });
      return c.lossAt(w);
    };
    const fd = ((await shifted(FD_H)) - (await shifted(-FD_H))) / (2 * FD_H);
    if (!(Math.abs(analytic - fd) <= ATOL + RTOL * Math.abs(fd))) {
      throw new Error(`${name}[${i}]: analytic ${analytic}, finite difference ${fd} (config ${c.what})`);
    }
  }
};
