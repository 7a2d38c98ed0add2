// The CPU engine `simd`: every kernel of the Backend interface in float32 on one shared
// WebAssembly.Memory. Heavy kernels (the three products of a linear layer, attention forward and
// backward, residual + RMSNorm, SwiGLU) run as WebAssembly SIMD (wat.ts) on the worker pool
// (pool.ts); the small ones (sequence plumbing, losses, optimizers) run here in JS over Float32Array
// views of the same memory, without host copies. Handles are arena blocks
// (reshape aliases a block; disposing any one handle of a block releases it: "dispose either one"). A weight's
// packed copy for the forward product is cached per handle and dropped when the handle is disposed.

import os from 'node:os';
import type { AdamAtan2Hyper, AdamState, Backend, LinearGrads, LossKind } from '../../core/backend.ts';
import { ShapeError } from '../../core/backend.ts';
import { checkIds, checkLabels, shapes } from '../../core/shapes.ts';
import type { Shape, Tensor } from '../../core/tensor.ts';
import { numel, shapeToString, wrap64 } from '../../core/tensor.ts';
import { IGNORE_LABEL } from '../../core/batch.ts';
import { sigmoidScalar, stablemaxS, stablemaxSPrime } from '../../core/formulas.ts';
import { Arena } from './arena.ts';
import { engineModule, relaxedSupport } from './module.ts';
import { Pool } from './pool.ts';
import type { SimdVariant } from './wat.ts';
import { attentionScratchBytes, gemmScratchBytes, microRows } from './wat.ts';

export interface SimdTensor {
  readonly id: number;
  readonly shape: Shape;
  /** byte offset of element 0 in the engine's memory */
  readonly offset: number;
}

export interface SimdOptions {
  /** threads including the main thread (default: os.availableParallelism()); 1 = no workers */
  readonly threads?: number;
  /** 'relaxed' (6×8 relaxed-FMA micro-kernel) or 'plain' (4×8); default relaxed when V8 allows it */
  readonly simd?: SimdVariant;
  /** where the chosen variant is reported (default: nothing) */
  readonly log?: (message: string) => void;
  /** how long idle workers spin before sleeping, ms (default 0.5) */
  readonly spinMs?: number;
}

export interface SimdBackend extends Backend<SimdTensor> {
  readonly variant: SimdVariant;
  readonly threads: number;
  /** bytes held by live tensors and caches */
  liveBytes(): number;
  close(): Promise<void>;
}

interface Block {
  readonly offset: number;
  readonly bytes: number;
  /** every live handle on this block (a tensor and its reshapes) */
  readonly handles: Set<SimdTensor>;
}

const f = Math.fround;

const checkShape = (kernel: string, shape: Shape): void => {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new ShapeError(kernel, 'shape', shape, 'non-negative integer dimensions');
  }
};

/** Creates the engine: picks the SIMD variant, compiles the module, starts the workers. */
export const createSimdBackend = async (options: SimdOptions = {}): Promise<SimdBackend> => {
  const threads = options.threads ?? os.availableParallelism();
  if (!Number.isInteger(threads) || threads < 1) {
    throw new RangeError(`createSimdBackend: option 'threads' is ${threads}, expected an integer ≥ 1`);
  }
  let variant: SimdVariant;
  if (options.simd === 'plain') variant = 'plain';
  else {
    const support = await relaxedSupport();
    if (support.ok) variant = 'relaxed';
    else if (options.simd === 'relaxed') throw new Error(`createSimdBackend: simd 'relaxed' requested but ${support.reason}`);
    else {
      variant = 'plain';
      options.log?.(`simd: ${support.reason}; using plain SIMD`);
    }
  }
  if (options.simd !== undefined && options.simd !== 'plain' && options.simd !== 'relaxed') {
    throw new RangeError(`createSimdBackend: option 'simd' is '${String(options.simd)}', expected 'relaxed' or 'plain'`);
  }
  const module = await engineModule(variant);
  const arena = new Arena(64 << 20);
  const pool = await Pool.start(arena, module, { threads, relaxed: variant === 'relaxed', spinMs: options.spinMs });
  const description = `wasm simd128 ${variant === 'relaxed' ? 'relaxed-fma 6x8' : 'plain 4x8'}, ${threads} thread${threads === 1 ? '' : 's'}`;
  options.log?.(`simd: ${description}`);
  return makeBackend(arena, pool, variant, description);
};

const makeBackend = (arena: Arena, pool: Pool, variant: SimdVariant, description: string): SimdBackend => {
  const MR = microRows(variant);
  const gemmScratch = gemmScratchBytes(variant);
  const live = new WeakMap<SimdTensor, Block>();
  // aliases whose block was released through another handle: disposing them too is harmless
  const releasedAliases = new WeakSet<SimdTensor>();
  const packed = new Map<SimdTensor, Block>();
  const packedN = new Map<SimdTensor, Block>();
  let nextId = 1;
  let closed = false;

  // ---- handles ------------------------------------------------------------------------------
  const block = (bytes: number): Block => ({ offset: arena.alloc(bytes), bytes, handles: new Set() });
  const handle = (shape: Shape, b: Block): SimdTensor => {
    const t: SimdTensor = Object.freeze({ id: nextId++, shape: Object.freeze([...shape]), offset: b.offset });
    live.set(t, b);
    b.handles.add(t);
    return t;
  };
  const alloc = (shape: Shape): SimdTensor => handle(shape, block(numel(shape) * 4));
  const check = (kernel: string, arg: string, t: SimdTensor): void => {
    if (closed) throw new Error(`simd ${kernel}: the backend is closed`);
    if (t === undefined || t === null || !live.has(t)) throw new Error(`simd ${kernel}: argument '${arg}' is a disposed or foreign tensor`);
  };
  const dropPacked = (t: SimdTensor): void => {
    for (const cache of [packed, packedN]) {
      const p = cache.get(t);
      if (p !== undefined) {
        cache.delete(t);
        arena.release(p.offset, p.bytes);
      }
    }
  };
  /** Stops `t` from being usable without releasing its block (its memory lives on in another handle). */
  const retire = (t: SimdTensor): void => {
    const b = live.get(t) as Block;
    live.delete(t);
    b.handles.delete(t);
    dropPacked(t);
  };
  /** Releases t's block; every alias of it (reshape) becomes unusable, and disposing one later is a no-op. */
  const release = (t: SimdTensor): void => {
    const b = live.get(t);
    if (b === undefined) {
      if (t !== null && typeof t === 'object' && releasedAliases.has(t)) {
        releasedAliases.delete(t);
        return;
      }
      throw new Error(`simd dispose: tensor #${t?.id} is already disposed or foreign`);
    }
    for (const h of b.handles) {
      live.delete(h);
      dropPacked(h);
      if (h !== t) releasedAliases.add(h);
    }
    b.handles.clear();
    arena.release(b.offset, b.bytes);
  };
  /** Float32 index of element 0. */
  const at = (t: SimdTensor): number => t.offset >> 2;
  const F = (): Float32Array => arena.f32;

  /** B = wᵀ packed in 8-column panels for the forward product (cached per handle). */
  const packedWeight = (w: SimdTensor): number => {
    const cached = packed.get(w);
    if (cached !== undefined) return cached.offset;
    const [M, K] = w.shape;
    const panels = Math.ceil(M / 8);
    const b = block(panels * K * 8 * 4);
    pool.run('packBT', [w.offset, M, K, b.offset], panels, 0);
    packed.set(w, b);
    return b.offset;
  };

  /** B = w itself packed in 8-column panels for dX = dY·W (cached per handle). */
  const packedWeightN = (w: SimdTensor): number => {
    const cached = packedN.get(w);
    if (cached !== undefined) return cached.offset;
    const [M, K] = w.shape;
    const panels = Math.ceil(K / 8);
    const b = block(panels * M * 8 * 4);
    pool.run('packB', [w.offset, M, K, b.offset], panels, 0, M * K);
    packedN.set(w, b);
    return b.offset;
  };

  const rowsOf = (shape: Shape): number => {
    const d = shape[shape.length - 1];
    return d === 0 ? 0 : numel(shape) / d;
  };

  // ---- elementwise helpers --------------------------------------------------------------------
  const map2 = (a: SimdTensor, b: SimdTensor, shape: Shape, fn: (x: number, y: number) => number): SimdTensor => {
    const y = alloc(shape);
    const x = F();
    const n = numel(shape);
    const ia = at(a);
    const ib = at(b);
    const iy = at(y);
    for (let i = 0; i < n; i++) x[iy + i] = fn(x[ia + i], x[ib + i]);
    return y;
  };

  const backend: SimdBackend = {
    name: 'simd',
    description,
    dtype: 'float32',
    variant,
    threads: pool.threads,
    liveBytes: () => arena.liveBytes,

    // ---- memory -------------------------------------------------------------------------------
    fromArray(shape: Shape, data: ArrayLike<number>): SimdTensor {
      checkShape('fromArray', shape);
      if (data.length !== numel(shape)) {
        throw new ShapeError('fromArray', 'data', [data.length], `${numel(shape)} values for shape ${shapeToString(shape)}`);
      }
      const t = alloc(shape);
      F().set(data as ArrayLike<number>, at(t));
      return t;
    },
    zeros(shape: Shape): SimdTensor {
      checkShape('zeros', shape);
      const t = alloc(shape);
      F().fill(0, at(t), at(t) + numel(shape));
      return t;
    },
    shape: (t: SimdTensor): Shape => t.shape,
    async read(t: SimdTensor): Promise<Tensor<Float64Array>> {
      check('read', 't', t);
      const n = numel(t.shape);
      const out = new Float64Array(n);
      const x = F();
      const o = at(t);
      for (let i = 0; i < n; i++) out[i] = x[o + i];
      return wrap64(t.shape, out);
    },
    dispose(t: SimdTensor): void {
      release(t);
    },
    reshape(t: SimdTensor, shape: Shape): SimdTensor {
      check('reshape', 't', t);
      checkShape('reshape', shape);
      if (numel(shape) !== numel(t.shape)) {
        throw new ShapeError('reshape', 't', t.shape, `${numel(shape)} elements to become ${shapeToString(shape)}`);
      }
      return handle(shape, live.get(t) as Block);
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await pool.close();
    },

    // ---- dense algebra ------------------------------------------------------------------------
    linear(x: SimdTensor, w: SimdTensor, b?: SimdTensor): SimdTensor {
      check('linear', 'x', x);
      check('linear', 'w', w);
      if (b !== undefined) check('linear', 'b', b);
      const shape = shapes.linear(x.shape, w.shape, b?.shape);
      const [M, K] = w.shape;
      const N = numel(x.shape.slice(0, -1));
      const y = alloc(shape);
      if (N === 0 || M === 0) return y;
      const wp = packedWeight(w);
      pool.run('linear', [x.offset, wp, b === undefined ? 0 : b.offset, y.offset, N, K, M], Math.ceil(N / MR), gemmScratch, 2 * N * K * M);
      return y;
    },
    linearBackward(dy: SimdTensor, x: SimdTensor, w: SimdTensor, withBias: boolean): LinearGrads<SimdTensor> {
      check('linearBackward', 'dy', dy);
      check('linearBackward', 'x', x);
      check('linearBackward', 'w', w);
      const s = shapes.linearBackward(dy.shape, x.shape, w.shape);
      const [M, K] = w.shape;
      const N = numel(dy.shape.slice(0, -1));
      const dx = alloc(s.dx);
      const dw = alloc(s.dw);
      if (K > 0 && N > 0) {
        if (M > 0) pool.run('linearDx', [dy.offset, packedWeightN(w), dx.offset, N, K, M], Math.ceil(N / MR), gemmScratch, 2 * N * K * M);
        else F().fill(0, at(dx), at(dx) + N * K);
      }
      if (M > 0 && K > 0) {
        if (N > 0) {
          const panels = Math.ceil(K / 8);
          const xp = block(panels * N * 8 * 4);
          pool.run('packB', [x.offset, N, K, xp.offset], panels, 0, N * K);
          pool.run('linearDw', [dy.offset, xp.offset, dw.offset, N, K, M], Math.ceil(M / MR), gemmScratch, 2 * N * K * M);
          arena.release(xp.offset, xp.bytes);
        }
        else F().fill(0, at(dw), at(dw) + M * K);
      }
      if (!withBias) return { dx, dw };
      const db = alloc(s.db);
      const acc = new Float64Array(M);
      const v = F();
      const o = at(dy);
      for (let n = 0; n < N; n++) for (let m = 0; m < M; m++) acc[m] += v[o + n * M + m];
      v.set(acc, at(db));
      return { dx, dw, db };
    },
    add(a: SimdTensor, b: SimdTensor): SimdTensor {
      check('add', 'a', a);
      check('add', 'b', b);
      const shape = shapes.add(a.shape, b.shape);
      const y = alloc(shape);
      const n = numel(shape);
      pool.run('ewAxpb', [a.offset, b.offset, y.offset, 0, n], Math.ceil(n / 4096), 0, n);
      return y;
    },
    scale(a: SimdTensor, s: number): SimdTensor {
      check('scale', 'a', a);
      const shape = shapes.scale(a.shape);
      const y = alloc(shape);
      const n = numel(shape);
      pool.run('ewAxpb', [a.offset, 0, y.offset, s, n], Math.ceil(n / 4096), 0, n);
      return y;
    },
    addBroadcast(x: SimdTensor, yb: SimdTensor): SimdTensor {
      check('addBroadcast', 'x', x);
      check('addBroadcast', 'y', yb);
      const shape = shapes.addBroadcast(x.shape, yb.shape);
      const out = alloc(shape);
      const v = F();
      const per = shape[1] * shape[2];
      const ix = at(x);
      const iy = at(yb);
      const io = at(out);
      for (let b = 0; b < shape[0]; b++) {
        for (let i = 0; i < per; i++) v[io + b * per + i] = v[ix + b * per + i] + v[iy + i];
      }
      return out;
    },
    sumBatch(x: SimdTensor): SimdTensor {
      check('sumBatch', 'x', x);
      const shape = shapes.sumBatch(x.shape);
      const per = numel(shape);
      const acc = new Float64Array(per);
      const v = F();
      const ix = at(x);
      for (let b = 0; b < x.shape[0]; b++) for (let i = 0; i < per; i++) acc[i] += v[ix + b * per + i];
      const y = alloc(shape);
      F().set(acc, at(y));
      return y;
    },

    // ---- normalization ------------------------------------------------------------------------
    rmsNorm(x: SimdTensor, eps: number): SimdTensor {
      check('rmsNorm', 'x', x);
      const shape = shapes.rmsNorm(x.shape);
      const y = alloc(shape);
      pool.run('addRms', [x.offset, 0, y.offset, shape[shape.length - 1], eps], rowsOf(shape), 0, 3 * numel(shape));
      return y;
    },
    rmsNormBackward(dy: SimdTensor, x: SimdTensor, eps: number): SimdTensor {
      check('rmsNormBackward', 'dy', dy);
      check('rmsNormBackward', 'x', x);
      const shape = shapes.rmsNormBackward(dy.shape, x.shape);
      const dx = alloc(shape);
      pool.run('addRmsBwd', [dy.offset, x.offset, 0, dx.offset, shape[shape.length - 1], eps], rowsOf(shape), 0, 5 * numel(shape));
      return dx;
    },
    addRmsNorm(a: SimdTensor, b: SimdTensor, eps: number): SimdTensor {
      check('addRmsNorm', 'a', a);
      check('addRmsNorm', 'b', b);
      const shape = shapes.addRmsNorm(a.shape, b.shape);
      const y = alloc(shape);
      pool.run('addRms', [a.offset, b.offset, y.offset, shape[shape.length - 1], eps], rowsOf(shape), 0, 4 * numel(shape));
      return y;
    },
    addRmsNormBackward(dy: SimdTensor, a: SimdTensor, b: SimdTensor, eps: number): SimdTensor {
      check('addRmsNormBackward', 'dy', dy);
      check('addRmsNormBackward', 'a', a);
      check('addRmsNormBackward', 'b', b);
      const shape = shapes.addRmsNormBackward(dy.shape, a.shape, b.shape);
      const dx = alloc(shape);
      pool.run('addRmsBwd', [dy.offset, a.offset, b.offset, dx.offset, shape[shape.length - 1], eps], rowsOf(shape), 0, 6 * numel(shape));
      return dx;
    },

    // ---- attention block pieces ---------------------------------------------------------------
    rope(x: SimdTensor, cos: SimdTensor, sin: SimdTensor, headDim: number, rotatedHeads: number): SimdTensor {
      check('rope', 'x', x);
      check('rope', 'cos', cos);
      check('rope', 'sin', sin);
      const shape = shapes.rope(x.shape, cos.shape, sin.shape, headDim, rotatedHeads);
      return ropeApply(x, cos, sin, shape, headDim, rotatedHeads, 1);
    },
    ropeBackward(dy: SimdTensor, cos: SimdTensor, sin: SimdTensor, headDim: number, rotatedHeads: number): SimdTensor {
      check('ropeBackward', 'dy', dy);
      check('ropeBackward', 'cos', cos);
      check('ropeBackward', 'sin', sin);
      const shape = shapes.ropeBackward(dy.shape, cos.shape, sin.shape, headDim, rotatedHeads);
      return ropeApply(dy, cos, sin, shape, headDim, rotatedHeads, -1);
    },
    attention(qkv: SimdTensor, numHeads: number): SimdTensor {
      check('attention', 'qkv', qkv);
      const shape = shapes.attention(qkv.shape, numHeads);
      const [B, S, W] = shape;
      const hd = W / numHeads;
      const out = alloc(shape);
      if (S > 0) {
        pool.run('attnFwd', [qkv.offset, out.offset, S, numHeads, hd, f(1 / Math.sqrt(hd))], B * numHeads, attentionScratchBytes(variant, S, hd), 4 * B * numHeads * S * S * hd);
      }
      return out;
    },
    attentionBackward(dy: SimdTensor, qkv: SimdTensor, numHeads: number): SimdTensor {
      check('attentionBackward', 'dy', dy);
      check('attentionBackward', 'qkv', qkv);
      const shape = shapes.attentionBackward(dy.shape, qkv.shape, numHeads);
      const [B, S, W3] = shape;
      const hd = W3 / (3 * numHeads);
      const dqkv = alloc(shape);
      if (S > 0) {
        pool.run(
          'attnBwd',
          [qkv.offset, dy.offset, dqkv.offset, S, numHeads, hd, f(1 / Math.sqrt(hd))],
          B * numHeads,
          attentionScratchBytes(variant, S, hd),
          8 * B * numHeads * S * S * hd,
        );
      }
      return dqkv;
    },
    swiglu(gu: SimdTensor): SimdTensor {
      check('swiglu', 'gu', gu);
      const shape = shapes.swiglu(gu.shape);
      const y = alloc(shape);
      pool.run('swiglu', [gu.offset, y.offset, shape[shape.length - 1]], rowsOf(shape), 0, 20 * numel(shape));
      return y;
    },
    swigluBackward(dy: SimdTensor, gu: SimdTensor): SimdTensor {
      check('swigluBackward', 'dy', dy);
      check('swigluBackward', 'gu', gu);
      const shape = shapes.swigluBackward(dy.shape, gu.shape);
      const dgu = alloc(shape);
      pool.run('swigluBwd', [dy.offset, gu.offset, dgu.offset, shape[shape.length - 1] / 2], rowsOf(dy.shape), 0, 15 * numel(shape));
      return dgu;
    },

    // ---- embeddings and sequence plumbing -----------------------------------------------------
    embedding(table: SimdTensor, ids: Int32Array, idsShape: Shape): SimdTensor {
      check('embedding', 'table', table);
      const shape = shapes.embedding(table.shape, ids.length, idsShape);
      const [R, D] = table.shape;
      checkIds('embedding', 'ids', ids, R);
      const y = alloc(shape);
      const v = F();
      const it = at(table);
      const iy = at(y);
      for (let n = 0; n < ids.length; n++) v.copyWithin(iy + n * D, it + ids[n] * D, it + ids[n] * D + D);
      return y;
    },
    embeddingBackward(dy: SimdTensor, ids: Int32Array, rows: number): SimdTensor {
      check('embeddingBackward', 'dy', dy);
      const shape = shapes.embeddingBackward(dy.shape, ids.length, rows);
      checkIds('embeddingBackward', 'ids', ids, rows);
      const D = shape[1];
      const acc = new Float64Array(rows * D);
      const v = F();
      const id = at(dy);
      for (let n = 0; n < ids.length; n++) for (let d = 0; d < D; d++) acc[ids[n] * D + d] += v[id + n * D + d];
      const g = alloc(shape);
      F().set(acc, at(g));
      return g;
    },
    concatSeq(a: SimdTensor, b: SimdTensor): SimdTensor {
      check('concatSeq', 'a', a);
      check('concatSeq', 'b', b);
      const shape = shapes.concatSeq(a.shape, b.shape);
      const [B, S, D] = shape;
      const P = a.shape[1];
      const T = b.shape[1];
      const y = alloc(shape);
      const v = F();
      for (let i = 0; i < B; i++) {
        v.copyWithin(at(y) + i * S * D, at(a) + i * P * D, at(a) + (i + 1) * P * D);
        v.copyWithin(at(y) + (i * S + P) * D, at(b) + i * T * D, at(b) + (i + 1) * T * D);
      }
      return y;
    },
    sliceSeq(x: SimdTensor, start: number, len: number): SimdTensor {
      check('sliceSeq', 'x', x);
      const shape = shapes.sliceSeq(x.shape, start, len);
      const [B, S, D] = x.shape;
      const y = alloc(shape);
      const v = F();
      for (let i = 0; i < B; i++) v.copyWithin(at(y) + i * len * D, at(x) + (i * S + start) * D, at(x) + (i * S + start + len) * D);
      return y;
    },
    sliceSeqBackward(dy: SimdTensor, fullLen: number, start: number): SimdTensor {
      check('sliceSeqBackward', 'dy', dy);
      const shape = shapes.sliceSeqBackward(dy.shape, fullLen, start);
      const [B, len, D] = dy.shape;
      const y = alloc(shape);
      const v = F();
      v.fill(0, at(y), at(y) + numel(shape));
      for (let i = 0; i < B; i++) v.copyWithin(at(y) + (i * fullLen + start) * D, at(dy) + i * len * D, at(dy) + (i + 1) * len * D);
      return y;
    },
    resetRows(state: SimdTensor, init: SimdTensor, mask: Uint8Array): SimdTensor {
      check('resetRows', 'state', state);
      check('resetRows', 'init', init);
      const shape = shapes.resetRows(state.shape, init.shape, mask.length);
      const [B, S, D] = shape;
      const y = alloc(shape);
      const v = F();
      for (let b = 0; b < B; b++) {
        if (mask[b] === 0) v.copyWithin(at(y) + b * S * D, at(state) + b * S * D, at(state) + (b + 1) * S * D);
        else for (let s = 0; s < S; s++) v.copyWithin(at(y) + (b * S + s) * D, at(init), at(init) + D);
      }
      return y;
    },

    // ---- heads and losses ---------------------------------------------------------------------
    crossEntropy(logits: SimdTensor, labels: Int32Array, kind: LossKind): SimdTensor {
      check('crossEntropy', 'logits', logits);
      const shape = shapes.crossEntropy(logits.shape, labels.length);
      checkKind('crossEntropy', kind);
      const V = logits.shape[2];
      checkLabels('crossEntropy', labels, V);
      const ce = alloc(shape);
      const v = F();
      const ix = at(logits);
      const ic = at(ce);
      for (let n = 0; n < labels.length; n++) {
        const y = labels[n];
        if (y === IGNORE_LABEL) {
          v[ic + n] = 0;
          continue;
        }
        const o = ix + n * V; // logits[(b*T + t)*V + v]
        if (kind === 'stablemax_cross_entropy') {
          let sum = 0;
          for (let j = 0; j < V; j++) sum += stablemaxS(v[o + j]);
          v[ic + n] = -Math.log(stablemaxS(v[o + y]) / sum);
        } else {
          let max = -Infinity;
          for (let j = 0; j < V; j++) if (v[o + j] > max) max = v[o + j];
          let sum = 0;
          for (let j = 0; j < V; j++) sum += Math.exp(v[o + j] - max);
          v[ic + n] = max + Math.log(sum) - v[o + y];
        }
      }
      return ce;
    },
    crossEntropyBackward(logits: SimdTensor, labels: Int32Array, kind: LossKind, rowScale: Float64Array): SimdTensor {
      check('crossEntropyBackward', 'logits', logits);
      const shape = shapes.crossEntropyBackward(logits.shape, labels.length, rowScale.length);
      checkKind('crossEntropyBackward', kind);
      const [, T, V] = shape;
      checkLabels('crossEntropyBackward', labels, V);
      const g = alloc(shape);
      const v = F();
      const ix = at(logits);
      const ig = at(g);
      const p = new Float64Array(V);
      for (let n = 0; n < labels.length; n++) {
        const y = labels[n];
        const o = n * V;
        if (y === IGNORE_LABEL) {
          v.fill(0, ig + o, ig + o + V);
          continue;
        }
        const r = rowScale[Math.floor(n / T)];
        if (kind === 'stablemax_cross_entropy') {
          let sum = 0;
          for (let j = 0; j < V; j++) sum += stablemaxS(v[ix + o + j]);
          for (let j = 0; j < V; j++) p[j] = (r * stablemaxSPrime(v[ix + o + j])) / sum;
          p[y] -= (r * stablemaxSPrime(v[ix + o + y])) / stablemaxS(v[ix + o + y]);
        } else {
          let max = -Infinity;
          for (let j = 0; j < V; j++) if (v[ix + o + j] > max) max = v[ix + o + j];
          let sum = 0;
          for (let j = 0; j < V; j++) {
            p[j] = Math.exp(v[ix + o + j] - max);
            sum += p[j];
          }
          for (let j = 0; j < V; j++) p[j] = (r * p[j]) / sum;
          p[y] -= r;
        }
        for (let j = 0; j < V; j++) v[ig + o + j] = p[j];
      }
      return g;
    },
    argmax(x: SimdTensor): SimdTensor {
      check('argmax', 'x', x);
      const shape = shapes.argmax(x.shape);
      const V = x.shape[x.shape.length - 1];
      const N = numel(shape);
      const y = alloc(shape);
      const v = F();
      const ix = at(x);
      for (let n = 0; n < N; n++) {
        let best = 0;
        for (let j = 1; j < V; j++) if (v[ix + n * V + j] > v[ix + n * V + best]) best = j;
        v[at(y) + n] = best;
      }
      return y;
    },
    sigmoid(x: SimdTensor): SimdTensor {
      check('sigmoid', 'x', x);
      const shape = shapes.sigmoid(x.shape);
      const y = alloc(shape);
      const v = F();
      const n = numel(shape);
      for (let i = 0; i < n; i++) v[at(y) + i] = sigmoidScalar(v[at(x) + i]);
      return y;
    },
    bceWithLogits(x: SimdTensor, target: SimdTensor): SimdTensor {
      check('bceWithLogits', 'x', x);
      check('bceWithLogits', 'target', target);
      return map2(x, target, shapes.bceWithLogits(x.shape, target.shape), (p, q) => Math.max(p, 0) - p * q + Math.log1p(Math.exp(-Math.abs(p))));
    },
    /** σ is rounded to float32 exactly as `sigmoid` stores it, so σ(x) − sigmoid(x) is exactly 0. */
    bceWithLogitsBackward(x: SimdTensor, target: SimdTensor, s: number): SimdTensor {
      check('bceWithLogitsBackward', 'x', x);
      check('bceWithLogitsBackward', 'target', target);
      return map2(x, target, shapes.bceWithLogitsBackward(x.shape, target.shape), (p, q) => s * (f(sigmoidScalar(p)) - q));
    },

    // ---- optimizers ---------------------------------------------------------------------------
    adamAtan2(state: AdamState<SimdTensor>, grad: SimdTensor, hyper: AdamAtan2Hyper): AdamState<SimdTensor> {
      check('adamAtan2', 'param', state.param);
      check('adamAtan2', 'm', state.m);
      check('adamAtan2', 'v', state.v);
      check('adamAtan2', 'grad', grad);
      const shape = shapes.adamAtan2(state.param.shape, state.m.shape, state.v.shape, grad.shape);
      const { lr, weightDecay, beta1, beta2, step } = hyper;
      if (!(step >= 1)) throw new RangeError(`adamAtan2: hyper 'step' is ${step}, expected ≥ 1 (1 on the first update)`);
      const stepSize = f(lr / (1 - Math.pow(beta1, step)));
      const wdAlpha = f(1 - lr * weightDecay);
      const bc2Sqrt = f(Math.sqrt(1 - Math.pow(beta2, step)));
      const w1 = f(1 - beta1);
      const w2 = f(1 - beta2);
      const p = consume(state.param, shape);
      const m = consume(state.m, shape);
      const vv = consume(state.v, shape);
      const n = numel(shape);
      // in wasm (f64 lanes rounded to float32 where the formula rounds; atan2 by a series within ≈1e−14)
      pool.run(
        'adam',
        [state.param.offset, state.m.offset, state.v.offset, grad.offset, p.offset, m.offset, vv.offset, n, stepSize, wdAlpha, bc2Sqrt, w1, w2],
        Math.ceil(n / 4096),
        0,
        60 * n,
      );
      retire(state.param);
      retire(state.m);
      retire(state.v);
      return { param: p, m, v: vv };
    },
    signSgdRows(table: SimdTensor, grads: SimdTensor, ids: Int32Array, lr: number, weightDecay: number): SimdTensor {
      check('signSgdRows', 'table', table);
      check('signSgdRows', 'grads', grads);
      const shape = shapes.signSgdRows(table.shape, grads.shape, ids.length);
      const [R, E] = shape;
      checkIds('signSgdRows', 'ids', ids, R);
      const sum = new Map<number, Float64Array>();
      const v = F();
      for (let b = 0; b < ids.length; b++) {
        let s = sum.get(ids[b]);
        if (s === undefined) {
          s = new Float64Array(E);
          sum.set(ids[b], s);
        }
        for (let e = 0; e < E; e++) s[e] += v[at(grads) + b * E + e];
      }
      const out = consume(table, shape);
      if (out.offset !== table.offset) v.copyWithin(at(out), at(table), at(table) + R * E);
      const decay = f(1 - lr * weightDecay);
      const step = f(-lr);
      for (const [u, g] of sum) {
        for (let e = 0; e < E; e++) {
          const sign = g[e] > 0 ? 1 : g[e] < 0 ? -1 : 0;
          v[at(out) + u * E + e] = f(v[at(table) + u * E + e] * decay) + step * sign;
        }
      }
      retire(table);
      return out;
    },
    ema(e: SimdTensor, p: SimdTensor, decay: number): SimdTensor {
      check('ema', 'e', e);
      check('ema', 'p', p);
      const shape = shapes.ema(e.shape, p.shape);
      const out = consume(e, shape);
      const v = F();
      const n = numel(shape);
      const w = 1 - decay;
      for (let i = 0; i < n; i++) v[at(out) + i] = decay * v[at(e) + i] + w * v[at(p) + i];
      retire(e);
      return out;
    },
  };

  /** A new handle that reuses a consumed tensor's block when nothing else aliases it (the caller then retires the old handle). */
  function consume(t: SimdTensor, shape: Shape): SimdTensor {
    const b = live.get(t) as Block;
    return b.handles.size === 1 ? handle(shape, b) : alloc(shape);
  }

  /** RoPE (dir 1) or its transpose (dir −1) on the first rotatedHeads heads of x[B,S,W]; other channels copied. */
  function ropeApply(x: SimdTensor, cos: SimdTensor, sin: SimdTensor, shape: Shape, hd: number, heads: number, dir: 1 | -1): SimdTensor {
    const [B, S, W] = shape;
    const y = alloc(shape);
    pool.run('rope', [x.offset, cos.offset, sin.offset, y.offset, S, W, hd, heads, dir === 1 ? 1 : 0], B * S, 0, 2 * B * S * W);
    return y;
  }

  return backend;
};

const checkKind = (kernel: string, kind: string): void => {
  if (kind !== 'stablemax_cross_entropy' && kind !== 'softmax_cross_entropy') {
    throw new RangeError(`${kernel}: argument 'kind' is '${kind}', expected 'stablemax_cross_entropy' or 'softmax_cross_entropy'`);
  }
};
