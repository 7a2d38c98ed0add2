// Embedding lookup on the CPU engine (row copies within the shared memory) and its backward, a
// scatter-add of dy rows into the table's shape in float64. Legend: R table rows, D width, N ids.

import { checkIds, shapes } from '../../core/shapes.ts';
import type { Shape } from '../../core/tensor.ts';
import type { Engine } from './engine.ts';
import type { SimdTensor } from './memory.ts';
import { at } from './memory.ts';

/** y[...idsShape, D] = table[ids[n], :]. */
export const embedding = (e: Engine, table: SimdTensor, ids: Int32Array, idsShape: Shape): SimdTensor => {
  e.mem.check('embedding', 'table', table);
  const shape = shapes.embedding(table.shape, ids.length, idsShape);
  const [R, D] = table.shape;
  checkIds('embedding', 'ids', ids, R);
  const y = e.mem.alloc(shape);
  const v = e.mem.f32;
  const it = at(table);
  const iy = at(y);
  for (let n = 0; n < ids.length; n++) v.copyWithin(iy + n * D, it + ids[n] * D, it + ids[n] * D + D);
  return y;
};

/** g[rows, D] = Σ over n with ids[n] = r of dy[n, :]. */
export const embeddingBackward = (e: Engine, dy: SimdTensor, ids: Int32Array, rows: number): SimdTensor => {
  e.mem.check('embeddingBackward', 'dy', dy);
  const shape = shapes.embeddingBackward(dy.shape, ids.length, rows);
  checkIds('embeddingBackward', 'ids', ids, rows);
  const D = shape[1];
  const acc = new Float64Array(rows * D);
  const v = e.mem.f32;
  const id = at(dy);
  for (let n = 0; n < ids.length; n++) for (let d = 0; d < D; d++) acc[ids[n] * D + d] += v[id + n * D + d];
  const g = e.mem.alloc(shape);
  e.mem.f32.set(acc, at(g));
  return g;
};
