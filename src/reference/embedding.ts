// Reference embedding lookup (float64) and its backward, a scatter-add into a zero table.
// Legend: R table rows, D width, N ids (any leading shape `idsShape`).

import type { Shape, Tensor } from '../core/tensor.ts';
import { wrap64 } from '../core/tensor.ts';
import { checkIds, shapes } from '../core/shapes.ts';

type T64 = Tensor<Float64Array>;

/** y[n,d] = table[ids[n], d]; y has shape [...idsShape, D]. */
export const embedding = (table: T64, ids: Int32Array, idsShape: Shape): T64 => {
  const shape = shapes.embedding(table.shape, ids.length, idsShape);
  const [R, D] = table.shape;
  checkIds('embedding', 'ids', ids, R);
  const y = new Float64Array(ids.length * D);
  for (let n = 0; n < ids.length; n++) {
    for (let d = 0; d < D; d++) y[n * D + d] = table.data[ids[n] * D + d]; // table[ids[n]*D + d]
  }
  return wrap64(shape, y);
};

/** dtable[rows,D] = Σ_{n: ids[n] = r} dy[n,:] (duplicate ids accumulate). */
export const embeddingBackward = (dy: T64, ids: Int32Array, rows: number): T64 => {
  const shape = shapes.embeddingBackward(dy.shape, ids.length, rows);
  const D = shape[1];
  checkIds('embeddingBackward', 'ids', ids, rows);
  const g = new Float64Array(rows * D);
  for (let n = 0; n < ids.length; n++) {
    for (let d = 0; d < D; d++) g[ids[n] * D + d] += dy.data[n * D + d];
  }
  return wrap64(shape, g);
};
