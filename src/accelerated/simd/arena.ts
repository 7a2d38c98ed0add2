// The engine's memory: one shared WebAssembly.Memory holding every tensor, and a free-list arena
// over it. Blocks are rounded to size classes (64-byte steps for small blocks, eighths of a power of
// two above) and recycled by exact class, so the repeating shapes of a training step reuse the same
// blocks; the top grows the memory when needed. The first 64 KiB hold the worker control block.
// What is not here: tensor handles and their lifetimes (memory.ts).

import type { WasmMemory } from './wasm-api.ts';
import { Wasm } from './wasm-api.ts';

/** Bytes reserved at the bottom of the memory (control block of pool.ts). */
export const RESERVED_BYTES = 65536;
/** Slack kept past the highest block: kernels may read (never write) a few floats past a tensor. */
const GUARD_BYTES = 4096;
const PAGE = 65536;
export const MAX_PAGES = 65536;

/** The size class of a request: what a block of `bytes` really occupies. */
export const sizeClass = (bytes: number): number => {
  if (bytes <= 4096) return Math.max(64, Math.ceil(bytes / 64) * 64);
  const step = 2 ** (Math.floor(Math.log2(bytes - 1)) - 3);
  return Math.ceil(bytes / step) * step;
};

export class Arena {
  readonly memory: WasmMemory;
  private top = RESERVED_BYTES;
  private readonly free = new Map<number, number[]>();
  private f32View: Float32Array;
  private i32View: Int32Array;
  /** bytes in live blocks (for leak checks and the log) */
  liveBytes = 0;

  constructor(initialBytes: number) {
    const pages = Math.max(2, Math.ceil(initialBytes / PAGE));
    this.memory = new Wasm.Memory({ initial: pages, maximum: MAX_PAGES, shared: true });
    this.f32View = new Float32Array(this.memory.buffer);
    this.i32View = new Int32Array(this.memory.buffer);
  }

  /** A block of at least `bytes` bytes (64-byte aligned); contents are arbitrary. */
  alloc(bytes: number): number {
    const cls = sizeClass(bytes);
    const list = this.free.get(cls);
    this.liveBytes += cls;
    if (list !== undefined && list.length > 0) return list.pop() as number;
    const offset = this.top;
    this.ensure(offset + cls + GUARD_BYTES);
    this.top = offset + cls;
    return offset;
  }

  /** Returns a block obtained from `alloc(bytes)`. */
  release(offset: number, bytes: number): void {
    const cls = sizeClass(bytes);
    this.liveBytes -= cls;
    let list = this.free.get(cls);
    if (list === undefined) {
      list = [];
      this.free.set(cls, list);
    }
    list.push(offset);
  }

  private ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    const current = have / PAGE;
    const needed = Math.ceil(end / PAGE) - current;
    const grow = Math.min(MAX_PAGES - current, Math.max(needed, Math.ceil(current / 2)));
    if (grow < needed) {
      throw new RangeError(`simd: out of memory: ${end} bytes needed, the engine's memory is limited to ${MAX_PAGES * PAGE} bytes`);
    }
    this.memory.grow(grow);
    this.f32View = new Float32Array(this.memory.buffer);
    this.i32View = new Int32Array(this.memory.buffer);
  }

  /** A Float32Array over the whole memory (refreshed after growth: do not keep it across allocations). */
  get f32(): Float32Array {
    return this.f32View;
  }

  get i32(): Int32Array {
    return this.i32View;
  }

  /** Total bytes the memory spans now. */
  get capacity(): number {
    return this.memory.buffer.byteLength;
  }
}
