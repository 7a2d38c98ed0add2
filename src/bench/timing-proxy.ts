// A timing proxy around a Backend: the same record of kernels (a wrapper object), each call timed and counted by
// kernel name, so a training step run through it says where its time goes. It forwards every call
// unchanged (same arguments, same results); it does not change what is computed.
//
// What the times mean: for a backend whose kernels finish before they return (the reference, the
// SIMD engine, gpu.js cpu/webasm), a call's time is its compute time. For a backend that queues
// work and finishes it later (WebGPU), a call's time is only its submission cost, and the wait
// shows up under `read` (only the part of it no other call ran in, so the times add up to at most
// the step).

import type { Backend } from '../core/backend.ts';
import { KERNEL_NAMES } from '../core/backend.ts';
import { now } from './stats.ts';
import { callWork } from './work.ts';

export interface KernelTiming {
  readonly calls: number;
  readonly ms: number;
  /** product operations and least bytes moved by these calls (work.ts); absent = none counted */
  readonly flops?: number;
  readonly bytes?: number;
  /** process CPU milliseconds (all threads) during these calls, when counted (see withTiming's cpuPerCall) */
  readonly cpuMs?: number;
}

/** A kernel call seen while recording: its name and its arguments (handles kept alive). */
export interface RecordedCall {
  readonly kernel: string;
  readonly args: readonly unknown[];
}

export interface TimingProxy<T> {
  /** the wrapped backend: pass this to the model instead of the original */
  readonly backend: Backend<T>;
  /** time and call count per method name since the last reset */
  stats(): ReadonlyMap<string, KernelTiming>;
  reset(): void;
  /** from now on, kernel calls are also recorded and `dispose` is held back (see replay.ts) */
  startRecording(): void;
  /** ends recording; `release` performs the held-back disposals once the calls were replayed */
  stopRecording(): { readonly calls: readonly RecordedCall[]; release(): void };
}

const KERNELS = new Set<string>(KERNEL_NAMES);

/** Methods that are metadata lookups, not work: forwarded without timing. */
const UNTIMED = new Set(['shape']);

const isPromise = (x: unknown): x is Promise<unknown> =>
  typeof x === 'object' && x !== null && typeof (x as { then?: unknown }).then === 'function';

/**
 * Wraps `inner` so every method call is timed (async ones until they settle) and counted by name, with
 * its work (work.ts). `cpuPerCall` also counts the process CPU time of each call: what a busy machine
 * still lets one compare, at the price of two getrusage calls per call (≈ 1–20 µs each, more under
 * load), which the step then includes; off unless asked for.
 */
export const withTiming = <T>(inner: Backend<T>, cpuPerCall = false): TimingProxy<T> => {
  const table = new Map<string, { calls: number; ms: number; flops: number; bytes: number; cpuMs: number }>();
  const record = (name: string, ms: number, flops = 0, bytes = 0, cpuMs = 0): void => {
    const e = table.get(name);
    if (e === undefined) table.set(name, { calls: 1, ms, flops, bytes, cpuMs });
    else {
      e.calls += 1;
      e.ms += ms;
      e.flops += flops;
      e.bytes += bytes;
      e.cpuMs += cpuMs;
    }
  };
  const cpuNow = (): number => {
    if (!cpuPerCall) return 0;
    const c = process.cpuUsage();
    return (c.user + c.system) / 1000;
  };
  const shapeOf = (t: unknown): readonly number[] => inner.shape(t as T);
  // An async call (a read) is charged its synchronous part plus the time until it settles that no
  // other call was charged for: while it is pending the caller may run other kernels (the model
  // starts reading the losses, then queues backward and optimizer), and two reads pending together
  // share one wait. `attributed` sums every charged millisecond; `lastSettle` is where the last
  // wait ended, so waits never overlap.
  let attributed = 0;
  let lastSettle = { t: -Infinity, attributed: 0 };
  const unattributedSince = (since: { t: number; attributed: number }): number => {
    const t = now();
    const from = lastSettle.t > since.t ? lastSettle : since;
    const waited = Math.max(0, t - from.t - (attributed - from.attributed));
    attributed += waited;
    lastSettle = { t, attributed };
    return waited;
  };
  // a fresh object, not a JS Proxy: backends may be frozen, and a Proxy of a frozen object must
  // return the target's own values
  const names = new Set<string>();
  for (let o: object | null = inner as object; o !== null && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) {
    for (const k of Object.getOwnPropertyNames(o)) if (k !== 'constructor') names.add(k);
  }
  const target = inner as unknown as Record<string, unknown>;
  const wrapper: Record<string, unknown> = {};
  let recording: { calls: RecordedCall[]; deferred: unknown[] } | null = null;
  for (const prop of names) {
    const value = target[prop];
    if (typeof value !== 'function') {
      Object.defineProperty(wrapper, prop, { get: () => target[prop], enumerable: true });
      continue;
    }
    const fn = value as (...a: unknown[]) => unknown;
    if (UNTIMED.has(prop)) {
      wrapper[prop] = (...args: unknown[]): unknown => fn.apply(target, args);
      continue;
    }
    const isKernel = KERNELS.has(prop);
    wrapper[prop] = (...args: unknown[]): unknown => {
      if (recording !== null) {
        if (prop === 'dispose') {
          recording.deferred.push(args[0]);
          return undefined;
        }
        if (isKernel) recording.calls.push({ kernel: prop, args });
        // the optimizer consumes the parameters that earlier recorded calls read: hand it a copy,
        // and keep the original alive for the replay
        if (prop === 'adamAtan2') {
          const state = args[0] as { param: T; m: T; v: T };
          recording.deferred.push(state.param);
          args = [{ ...state, param: inner.scale(state.param, 1) }, ...args.slice(1)];
        } else if (prop === 'adamAtan2Many') {
          const states = args[0] as { param: T; m: T; v: T }[];
          for (const s of states) recording.deferred.push(s.param);
          // copies packed as the parameters were (an engine that packs keeps its one-pass update)
          const copies = inner.pack(states.map((s) => inner.scale(s.param, 1)));
          args = [states.map((s, i) => ({ ...s, param: copies[i] })), ...args.slice(1)];
        } else if (prop === 'signSgdRows') {
          recording.deferred.push(args[0]);
          args = [inner.scale(args[0] as T, 1), ...args.slice(1)];
        }
      }
      // the work is counted before the call: an optimizer consumes its arguments
      const work = isKernel ? callWork(prop, args, shapeOf) : undefined;
      const c0 = cpuNow();
      const t0 = now();
      const out = fn.apply(target, args);
      const t1 = now();
      attributed += t1 - t0;
      if (isPromise(out)) {
        const since = { t: t1, attributed };
        const settle = (): void => {
          const waited = unattributedSince(since);
          record(prop, t1 - t0 + waited);
        };
        return out.then(
          (v) => {
            settle();
            return v;
          },
          (e: unknown) => {
            settle();
            throw e;
          },
        );
      }
      record(prop, t1 - t0, work?.flops, work?.bytes, cpuNow() - c0);
      return out;
    };
  }
  const backend = wrapper as unknown as Backend<T>;
  return {
    backend,
    stats: () => new Map([...table].map(([k, { cpuMs, ...v }]) => [k, cpuPerCall ? { ...v, cpuMs } : v])),
    reset: () => table.clear(),
    startRecording: () => {
      recording = { calls: [], deferred: [] };
    },
    stopRecording: () => {
      const r = recording ?? { calls: [], deferred: [] };
      recording = null;
      return { calls: r.calls, release: () => r.deferred.forEach((t) => inner.dispose(t as T)) };
    },
  };
};
