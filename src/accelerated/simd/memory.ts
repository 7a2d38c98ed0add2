// The engine's tensors: handles on blocks of the arena (arena.ts) in the one shared memory. A
// reshape is a second handle on the same block; disposing any one handle of a block releases it
// ("dispose either one"), and the other handles become unusable (disposing them later is a no-op).
// A handle may carry derived blocks (a weight's packed copies), released with the handle.
// What is not here: the allocator itself (arena.ts), the kernels (one file per family).

import type { Shape } from '../../core/tensor.ts';
import { numel } from '../../core/tensor.ts';
import type { Arena } from './arena.ts';

export interface SimdTensor {
  readonly id: number;
  readonly shape: Shape;
  /** byte offset of element 0 in the engine's memory */
  readonly offset: number;
}

/** A span of the arena and every live handle on it (a tensor and its reshapes). */
export interface Block {
  readonly offset: number;
  readonly bytes: number;
  readonly handles: Set<SimdTensor>;
}

export class Memory {
  private readonly live = new WeakMap<SimdTensor, Block>();
  // aliases whose block was released through another handle: disposing them too is harmless
  private readonly releasedAliases = new WeakSet<SimdTensor>();
  private readonly derived = new Map<SimdTensor, Map<string, Block>>();
  private nextId = 1;
  /** set when the backend closes: every later kernel call fails */
  closed = false;

  constructor(readonly arena: Arena) {}

  /** A Float32Array over the whole memory (refreshed after growth: fetch it again after any allocation). */
  get f32(): Float32Array {
    return this.arena.f32;
  }

  /** Bytes held by live tensors and derived blocks. */
  get liveBytes(): number {
    return this.arena.liveBytes;
  }

  /** A block of `bytes` bytes with no handle yet (scratch: give it back with `free`). */
  block(bytes: number): Block {
    return { offset: this.arena.alloc(bytes), bytes, handles: new Set() };
  }

  free(b: Block): void {
    this.arena.release(b.offset, b.bytes);
  }

  /** A new handle of the given shape on block b. */
  handle(shape: Shape, b: Block): SimdTensor {
    const t: SimdTensor = Object.freeze({ id: this.nextId++, shape: Object.freeze([...shape]), offset: b.offset });
    this.live.set(t, b);
    b.handles.add(t);
    return t;
  }

  /** A fresh tensor of `shape` (contents arbitrary). */
  alloc(shape: Shape): SimdTensor {
    return this.handle(shape, this.block(numel(shape) * 4));
  }

  /** A second handle on t's block with another shape of as many elements (the caller checks that). */
  alias(t: SimdTensor, shape: Shape): SimdTensor {
    return this.handle(shape, this.live.get(t) as Block);
  }

  /** Fails with the kernel and argument named unless t is a live handle of this engine. */
  check(kernel: string, arg: string, t: SimdTensor): void {
    if (this.closed) throw new Error(`simd ${kernel}: the backend is closed`);
    if (t === undefined || t === null || !this.live.has(t)) throw new Error(`simd ${kernel}: argument '${arg}' is a disposed or foreign tensor`);
  }

  /**
   * The byte offset of a block derived from t under `key` (made once by `fill(offset)` into `bytes`
   * fresh bytes, kept until t is disposed or retired).
   */
  derive(t: SimdTensor, key: string, bytes: number, fill: (offset: number) => void): number {
    let cache = this.derived.get(t);
    const cached = cache?.get(key);
    if (cached !== undefined) return cached.offset;
    const b = this.block(bytes);
    fill(b.offset);
    if (cache === undefined) {
      cache = new Map();
      this.derived.set(t, cache);
    }
    cache.set(key, b);
    return b.offset;
  }

  private dropDerived(t: SimdTensor): void {
    const cache = this.derived.get(t);
    if (cache === undefined) return;
    this.derived.delete(t);
    for (const b of cache.values()) this.free(b);
  }

  /** A new handle for the result of an update of t: t's own block when nothing else aliases it. The caller then retires t. */
  consume(t: SimdTensor, shape: Shape): SimdTensor {
    const b = this.live.get(t) as Block;
    return b.handles.size === 1 ? this.handle(shape, b) : this.alloc(shape);
  }

  /** Stops `t` from being usable without releasing its block (its memory lives on in another handle). */
  retire(t: SimdTensor): void {
    const b = this.live.get(t) as Block;
    this.live.delete(t);
    b.handles.delete(t);
    this.dropDerived(t);
  }

  /** Releases t's block; every alias of it (reshape) becomes unusable, and disposing one later is a no-op. */
  release(t: SimdTensor): void {
    const b = this.live.get(t);
    if (b === undefined) {
      if (t !== null && typeof t === 'object' && this.releasedAliases.has(t)) {
        this.releasedAliases.delete(t);
        return;
      }
      throw new Error(`simd dispose: tensor #${t?.id} is already disposed or foreign`);
    }
    for (const h of b.handles) {
      this.live.delete(h);
      this.dropDerived(h);
      if (h !== t) this.releasedAliases.add(h);
    }
    b.handles.clear();
    this.free(b);
  }
}

/** Float32 index of element 0. */
export const at = (t: SimdTensor): number => t.offset >> 2;
