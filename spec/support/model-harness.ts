// Test support for the model spec and properties: a backend wrapper that logs kernel calls and
// tracks live handles (catching use after dispose and double dispose), tiny configs, random
// weights, and a low-level model context built from host values. Not part of the library.

import type { Backend } from '../../src/core/backend.ts';
import type { Tensor } from '../../src/core/tensor.ts';
import { referenceBackend } from '../../src/reference/backend.ts';
import { ropeTables } from '../../src/model/rope-tables.ts';
import type { ArchConfig, HrmConfig } from '../../src/model/config.ts';
import { decodeConfig, deriveSizes } from '../../src/model/config.ts';
import type { ModelContext } from '../../src/model/context.ts';
import { buildLayout } from '../../src/model/layout.ts';
import { initialValues } from '../../src/model/init.ts';
import { embedForward } from '../../src/model/embedding.ts';
import { Rng } from '../../src/core/rng.ts';

type T64 = Tensor<Float64Array>;

export interface Call {
  readonly kernel: string;
  readonly args: readonly unknown[];
  readonly result: unknown;
}

/** A wrapped reference backend: every call logged; handles tracked (created − disposed − consumed). */
export interface TrackingBackend extends Backend<T64> {
  readonly calls: Call[];
  readonly live: Set<T64>;
  readonly problems: string[];
}

const CONSUMING: Record<string, (args: unknown[]) => unknown[]> = {
  adamAtan2: (a) => {
    const s = a[0] as { param: unknown; m: unknown; v: unknown };
    return [s.param, s.m, s.v];
  },
  adamAtan2Many: (a) => (a[0] as { param: unknown; m: unknown; v: unknown }[]).flatMap((s) => [s.param, s.m, s.v]),
  signSgdRows: (a) => [a[0]],
  pack: (a) => [...(a[0] as unknown[])],
  place: (a) => [a[0], a[1]],
  ema: (a) => [a[0]],
  emaMany: (a) => [...(a[0] as unknown[])],
  reshape: (a) => [a[0]], // aliasing: the input handle is considered consumed by its view
};

export const trackingBackend = (): TrackingBackend => {
  const calls: Call[] = [];
  const live = new Set<T64>();
  const known = new WeakSet<object>();
  const problems: string[] = [];
  const base = referenceBackend as unknown as Record<string, unknown>;
  const isHandle = (v: unknown): v is T64 => typeof v === 'object' && v !== null && known.has(v);
  const checkArgs = (kernel: string, args: unknown[]) => {
    const visit = (v: unknown) => {
      if (isHandle(v) && !live.has(v)) problems.push(`${kernel}: argument used after dispose`);
      else if (typeof v === 'object' && v !== null && !ArrayBuffer.isView(v) && !known.has(v) && !('data' in v)) {
        for (const x of Object.values(v)) visit(x);
      }
    };
    args.forEach(visit);
  };
  const adopt = (r: unknown) => {
    if (typeof r !== 'object' || r === null) return;
    if ('data' in r && 'shape' in r) {
      known.add(r);
      live.add(r as T64);
      return;
    }
    for (const x of Object.values(r)) adopt(x);
  };
  const wrapped: Record<string, unknown> = { ...base, name: 'tracking-reference', description: 'reference with call log and handle tracking' };
  for (const [k, f] of Object.entries(base)) {
    if (typeof f !== 'function' || k === 'read' || k === 'shape' || k === 'dispose') continue;
    wrapped[k] = (...args: unknown[]) => {
      checkArgs(k, args);
      const result = (f as (...a: unknown[]) => unknown)(...args);
      calls.push({ kernel: k, args, result });
      for (const c of CONSUMING[k]?.(args) ?? []) live.delete(c as T64);
      adopt(result);
      return result;
    };
  }
  wrapped.read = async (t: T64) => {
    checkArgs('read', [t]);
    return referenceBackend.read(t);
  };
  wrapped.shape = (t: T64) => referenceBackend.shape(t);
  wrapped.dispose = (t: T64) => {
    if (!live.has(t)) problems.push(known.has(t) ? 'double dispose' : 'dispose of an unknown handle');
    live.delete(t);
  };
  return Object.assign(wrapped as unknown as Backend<T64>, { calls, live, problems });
};

/** A tiny config (RoPE, no puzzle embedding unless given) with overrides of arch fields. */
export const tinyConfig = (arch: Partial<ArchConfig> = {}, train: Partial<HrmConfig['train']> = {}): HrmConfig =>
  decodeConfig(
    {
      description: 'tiny test model',
      arch: {
        seq_len: 6, vocab_size: 7, num_puzzle_identifiers: 3, puzzle_emb_ndim: 0, H_cycles: 2, L_cycles: 2, H_layers: 1, L_layers: 1,
        hidden_size: 8, expansion: 1, num_heads: 2, pos_encodings: 'rope', halt_max_steps: 3, halt_exploration_prob: 0, ...arch,
      },
      train: { global_batch_size: 2, lr_warmup_steps: 1, lr: 1e-3, ...train },
    },
    'tiny test config',
  );

/** Host values for every layout entry (seeded), with q_head made non-trivial when `liveQ`. */
export const randomWeights = (config: HrmConfig, seed: number, liveQ = true): Map<string, T64> => {
  const rng = Rng.fromSeed(seed);
  const v = initialValues(buildLayout(config.arch), rng);
  const perturb = (name: string, std: number) => {
    const t = v.get(name);
    if (t === undefined) return;
    const d = Float64Array.from(t.data, (x) => x + std * rng.normal());
    v.set(name, { shape: t.shape, data: d });
  };
  if (liveQ) {
    perturb('q_head.weight', 0.3);
    perturb('q_head.bias', 0.3);
  }
  perturb('puzzle_emb.weights', 0.5);
  return v;
};

/** A model context over `b` whose weights are uploaded from host values. */
export const contextFor = <T>(b: Backend<T>, config: HrmConfig, weights: ReadonlyMap<string, T64>, record?: (k: string, h: T) => void) => {
  const sizes = deriveSizes(config.arch);
  const handles = new Map<string, T>();
  for (const [k, t] of weights) handles.set(k, b.fromArray(t.shape, t.data));
  let rope: { cos: T; sin: T } | null = null;
  if (config.arch.pos_encodings === 'rope') {
    const r = ropeTables(sizes.totalSeqLen, sizes.headDim, config.arch.rope_theta);
    rope = { cos: b.fromArray(r.cos.shape, r.cos.data), sin: b.fromArray(r.sin.shape, r.sin.data) };
  }
  const ctx: ModelContext<T> = {
    b, arch: config.arch, sizes, rope, record,
    w: (n) => {
      const h = handles.get(n);
      if (h === undefined) throw new Error(`no weight ${n}`);
      return h;
    },
  };
  return { ctx, handles };
};

/** A deterministic batch of B rows for a config (tokens in [1, V), some labels ignored). */
export const randomBatch = (config: HrmConfig, B: number, seed: number, ignoreFraction = 0.3) => {
  const rng = Rng.fromSeed(seed);
  const T = config.arch.seq_len;
  const V = config.arch.vocab_size;
  return {
    inputs: Int32Array.from({ length: B * T }, () => rng.int(1, V - 1)),
    labels: Int32Array.from({ length: B * T }, () => (rng.uniform() < ignoreFraction ? -100 : rng.int(1, V - 1))),
    puzzleIdentifiers: Int32Array.from({ length: B }, () => rng.int(0, config.arch.num_puzzle_identifiers - 1)),
    batchSize: B,
    seqLen: T,
  };
};

/** Host tensor of random values. */
export const randomTensor = (shape: number[], seed: number, std = 1): T64 => {
  const rng = Rng.fromSeed(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, data: Float64Array.from({ length: n }, () => std * rng.normal()) };
};

/**
 * A segment's forward without gradient on the reference at `weights`, from H_init/L_init broadcast
 * over the batch ([B, S, D]), with every probed state read back: `forward` is HRM's segmentForward
 * or TRM's trmSegmentForward. Returns the probes (by key, e.g. 'H.h0', 'L.h1.l0') and the two
 * broadcast initial states.
 */
export const probedSegment = async (
  config: HrmConfig,
  weights: ReadonlyMap<string, T64>,
  batch: ReturnType<typeof randomBatch>,
  forward: (ctx: ModelContext<T64>, zH0: T64, zL0: T64, x: T64, withGrad: boolean, probe: boolean) => unknown,
): Promise<{ probes: Map<string, T64>; zH0: T64; zL0: T64 }> => {
  const b = referenceBackend;
  const probes = new Map<string, T64>();
  const pending: Promise<void>[] = [];
  const { ctx } = contextFor(b, config, weights, (k, h) => pending.push(b.read(h).then((t) => void probes.set(k, t))));
  const B = batch.batchSize;
  const S = ctx.sizes.totalSeqLen;
  const D = config.arch.hidden_size;
  const bcast = (name: string): T64 => {
    const v = weights.get(name)!.data;
    return b.fromArray([B, S, D], Float64Array.from({ length: B * S * D }, (_, i) => v[i % D]));
  };
  const zH0 = bcast('H_init');
  const zL0 = bcast('L_init');
  forward(ctx, zH0, zL0, embedForward(ctx, batch.inputs, batch.puzzleIdentifiers, B), false, true);
  await Promise.all(pending);
  return { probes, zH0, zL0 };
};
