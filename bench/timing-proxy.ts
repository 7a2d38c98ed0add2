// A timing proxy around a Backend: the same record of kernels, each call timed and counted by
// kernel name, so a training step run through it says where its time goes. It forwards every call
// unchanged (same arguments, same results); it does not change what is computed.
//
// What the times mean: for a backend whose kernels finish before they return (the reference, the
// SIMD engine, gpu.js cpu/webasm), a call's time is its compute time. For a backend that queues
// work and finishes it later (WebGPU), a call's time is only its submission cost, and the wait
// shows up under `read`; `synchronous` below tells the reader which case applies.

import type { Backend } from '../src/core/backend.ts';
import { now } from './stats.ts';

export interface KernelTiming {
  readonly calls: number;
  readonly ms: number;
}

export interface TimingProxy<T> {
  /** the wrapped backend: pass this to the model instead of the original */
  readonly backend: Backend<T>;
  /** time and call count per method name since the last reset */
  stats(): ReadonlyMap<string, KernelTiming>;
  reset(): void;
}

/** Methods that are metadata lookups, not work: forwarded without timing. */
const UNTIMED = new Set(['shape']);

const isPromise = (x: unknown): x is Promise<unknown> =>
  typeof x === 'object' && x !== null && typeof (x as { then?: unknown }).then === 'function';

/** Wraps `inner` so every method call is timed (async ones until they settle) and counted by name. */
export const withTiming = <T>(inner: Backend<T>): TimingProxy<T> => {
  const table = new Map<string, { calls: number; ms: number }>();
  const record = (name: string, ms: number): void => {
    const e = table.get(name);
    if (e === undefined) table.set(name, { calls: 1, ms });
    else {
      e.calls += 1;
      e.ms += ms;
    }
  };
  const wrapped = new Map<PropertyKey, unknown>();
  const backend = new Proxy(inner as object, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function' || typeof prop !== 'string' || UNTIMED.has(prop)) {
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      }
      const cached = wrapped.get(prop);
      if (cached !== undefined) return cached;
      const fn = value as (...a: unknown[]) => unknown;
      const timed = (...args: unknown[]): unknown => {
        const t0 = now();
        const out = fn.apply(target, args);
        if (isPromise(out)) {
          return out.then(
            (v) => {
              record(prop, now() - t0);
              return v;
            },
            (e: unknown) => {
              record(prop, now() - t0);
              throw e;
            },
          );
        }
        record(prop, now() - t0);
        return out;
      };
      wrapped.set(prop, timed);
      return timed;
    },
  }) as Backend<T>;
  return {
    backend,
    stats: () => new Map([...table].map(([k, v]) => [k, { calls: v.calls, ms: v.ms }])),
    reset: () => table.clear(),
  };
};
