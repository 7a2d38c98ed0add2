// Where a step's time goes on a backend that queues its work (WebGPU): per-call times there are
// submission costs, so one extra training step is recorded by the timing proxy (every kernel call
// with its arguments, releases held back until the replay is done) and each recorded call is then
// replayed alone and waited for, giving each kernel's own time. The replayed calls compute the same things as the
// step's; the optimizer kernels, which consume their inputs, are replayed on fresh zero tensors of
// the same shapes. Host-side calls (uploads, reads, reshapes) are not replayed.

import type { Backend } from '../core/backend.ts';
import { now } from './stats.ts';
import type { RecordedCall } from './timing-proxy.ts';
import { settleAll } from './sync.ts';

/** The handles a kernel returned (a tensor, LinearGrads or AdamState). */
const handlesOf = <T>(out: unknown): T[] => {
  if (Array.isArray(out)) return out.flatMap((o) => handlesOf<T>(o));
  if (out !== null && typeof out === 'object') {
    const o = out as Record<string, unknown>;
    if ('dx' in o && 'dw' in o) return [o.dx, o.dw, ...(o.db !== undefined ? [o.db] : [])] as T[];
    if ('param' in o && 'm' in o && 'v' in o) return [o.param, o.m, o.v] as T[];
    if ('y' in o && 'gu' in o) return [o.y, o.gu] as T[];
  }
  return [out as T];
};

/**
 * Arguments for replaying a call. The optimizer kernels consume their state, which the recorded
 * step already did: adamAtan2, adamAtan2Many, ema and emaMany get fresh zero tensors of the gradients' / parameters' shapes.
 * signSgdRows is not replayed (its consumed table's shape is not known afterwards): null.
 */
const replayArgs = <T>(b: Backend<T>, c: RecordedCall): unknown[] | null => {
  if (c.kernel === 'adamAtan2') {
    const shape = b.shape(c.args[1] as T);
    return [{ param: b.zeros(shape), m: b.zeros(shape), v: b.zeros(shape) }, c.args[1], c.args[2]];
  }
  if (c.kernel === 'adamAtan2Many') {
    const grads = c.args[1] as T[];
    const fresh = grads.map((g) => {
      const shape = b.shape(g);
      return { param: b.zeros(shape), m: b.zeros(shape), v: b.zeros(shape) };
    });
    return [fresh, grads, c.args[2]];
  }
  if (c.kernel === 'ema') return [b.zeros(b.shape(c.args[1] as T)), ...c.args.slice(1)];
  if (c.kernel === 'emaMany') return [(c.args[1] as T[]).map((p) => b.zeros(b.shape(p))), ...c.args.slice(1)];
  if (c.kernel === 'signSgdRows') return null;
  return [...c.args];
};

/** Median time (ms) of waiting for an already computed small tensor: the cost of one synchronisation. */
const syncOverhead = async <T>(b: Backend<T>): Promise<number> => {
  const samples: number[] = [];
  for (let i = 0; i < 7; i++) {
    const t = b.zeros([1, 4, 4]);
    await settleAll(b, [b.add(t, t)]);
    const u = b.zeros([1, 4, 4]);
    const t0 = now();
    await settleAll(b, [u]);
    samples.push(now() - t0);
    b.dispose(t);
  }
  samples.sort((x, y) => x - y);
  return samples[3];
};

/**
 * Replays every recorded call alone and waits for it, returning per kernel the call count and the
 * time (ms) net of one synchronisation's cost. signSgdRows is counted, not timed (see replayArgs).
 */
export const replay = async <T>(b: Backend<T>, calls: readonly RecordedCall[]): Promise<Map<string, { calls: number; ms: number }>> => {
  const table = new Map<string, { calls: number; ms: number }>();
  const add = (k: string, ms: number): void => {
    const e = table.get(k) ?? { calls: 0, ms: 0 };
    e.calls += 1;
    e.ms += ms;
    table.set(k, e);
  };
  const overhead = await syncOverhead(b);
  const kernels = b as unknown as Record<string, (...a: unknown[]) => unknown>;
  for (const c of calls) {
    const args = replayArgs(b, c);
    if (args === null) {
      add(c.kernel, 0);
      continue;
    }
    const t0 = now();
    const out = kernels[c.kernel].apply(b, args);
    await settleAll(b, handlesOf<T>(out));
    add(c.kernel, Math.max(0, now() - t0 - overhead));
  }
  return table;
};
