// SignSGD on the rows of a sparse embedding table (the puzzle embeddings) on the CPU engine, in JS
// over the shared memory: gradients of repeated ids summed in float64, then decay and a signed step.
// Legend: R table rows, E width. The old table handle is consumed.

import { checkIds, shapes } from '../../core/shapes.ts';
import type { Engine } from './engine.ts';
import type { SimdTensor } from './memory.ts';
import { at } from './memory.ts';

const f = Math.fround;

/** table'[R,E]: rows ids[b] updated by grads[b,:], every other row unchanged. */
export const signSgdRows = (e: Engine, table: SimdTensor, grads: SimdTensor, ids: Int32Array, lr: number, weightDecay: number): SimdTensor => {
  const { mem } = e;
  mem.check('signSgdRows', 'table', table);
  mem.check('signSgdRows', 'grads', grads);
  const shape = shapes.signSgdRows(table.shape, grads.shape, ids.length);
  const [R, E] = shape;
  checkIds('signSgdRows', 'ids', ids, R);
  const sum = new Map<number, Float64Array>();
  const v = mem.f32;
  for (let b = 0; b < ids.length; b++) {
    let s = sum.get(ids[b]);
    if (s === undefined) {
      s = new Float64Array(E);
      sum.set(ids[b], s);
    }
    for (let i = 0; i < E; i++) s[i] += v[at(grads) + b * E + i];
  }
  const out = mem.consume(table, shape);
  const w = mem.f32;
  if (out.offset !== table.offset) w.copyWithin(at(out), at(table), at(table) + R * E);
  const decay = f(1 - lr * weightDecay);
  const step = f(-lr);
  for (const [u, g] of sum) {
    for (let i = 0; i < E; i++) {
      const sign = g[i] > 0 ? 1 : g[i] < 0 ? -1 : 0;
      w[at(out) + u * E + i] = f(w[at(table) + u * E + i] * decay) + step * sign;
    }
  }
  mem.retire(table);
  return out;
};
