// Synchronising with a backend: waiting until a result is really computed, at the cost of
// downloading one element, so that timings include queued work on asynchronous backends.

import type { Backend } from '../core/backend.ts';
import { numel } from '../core/tensor.ts';

/**
 * Waits for `t` to be computed by reading a small slice of it. Releases `t` unless `keep`
 * (a kept handle must be three-dimensional, so no reshape alias is needed).
 */
export const settle = async <T>(b: Backend<T>, t: T, keep = false): Promise<void> => {
  const shape = b.shape(t);
  if (shape.length === 3) {
    const first = b.sliceSeq(t, 0, 1); // [B, 1, D]: small next to t
    await b.read(first);
    b.dispose(first);
    if (!keep) b.dispose(t);
    return;
  }
  if (keep) throw new Error(`settle: a kept handle must be 3-D, got shape [${shape.join(',')}]`);
  const flat = b.reshape(t, [1, numel(shape), 1]);
  const tiny = b.sliceSeq(flat, 0, 1);
  await b.read(tiny);
  b.dispose(tiny);
  b.dispose(flat); // flat may alias t: release exactly one of the two
};

/** Settles every handle of `ts` (the last one first: work queued before it is done by then). */
export const settleAll = async <T>(b: Backend<T>, ts: readonly T[], keep = false): Promise<void> => {
  for (let i = ts.length - 1; i >= 0; i--) await settle(b, ts[i], keep);
};
