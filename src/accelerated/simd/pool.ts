// The engine's threads: the calling thread plus `threads − 1` workers (worker-loop.mjs, started by
// the platform adapter: worker_threads in Node, Web Workers in browsers), all
// running the same compiled module on the one shared memory. A task is an exported kernel, its
// arguments and a count of work items; every thread grabs chunks of items from a shared counter and
// calls the kernel on its chunk with its own scratch area. The main thread takes part, then waits
// only for the chunks workers have claimed: it spins briefly, then sleeps in 1 ms timed waits that
// re-check the count (so a lost wake-up costs at most 1 ms and a descheduled idle worker costs
// nothing). Each task's time
// is counted per kernel (on the main thread: the whole call and the part spent waiting for workers;
// each worker: its busy time), for the bench's breakdown.

import type { Arena } from './arena.ts';
import { RESERVED_BYTES } from './arena.ts';
import type { EngineWorker } from './platform.ts';
import { simdPlatform } from './platform.ts';
import type { ParallelKernel } from './module.ts';
import { PARALLEL_KERNELS } from './module.ts';
import type { WasmInstance, WasmModule } from './wasm-api.ts';
import { Wasm } from './wasm-api.ts';

// control block (Int32 indices at byte 0) and arguments (Float64 at byte 256); see worker.mjs
const SEQ = 0; // task counter, bumped to publish a task
const FINISHED = 1; // chunks finished in the current task
const FUNC = 2;
const NARGS = 3;
const NITEMS = 4;
const CLAIM = 5; // (task sequence << CHUNK_BITS) | next unclaimed chunk
const CHUNK = 6;
const FAILED = 7;
const NCHUNKS = 8;
const ARGS_BYTE = 256;
const ARG_SCRATCH = 30;
const ARG_SCRATCH_STRIDE = 31;
/** Float64 busy milliseconds of worker tid at this byte + 8·tid (written by the worker only) */
const BUSY_BYTE = 1024;
const MAX_BUSY_SLOTS = (RESERVED_BYTES - BUSY_BYTE) / 8;
const CHUNK_BITS = 11;
const CHUNK_MASK = (1 << CHUNK_BITS) - 1;
const SEQ_MASK = (1 << (31 - CHUNK_BITS)) - 1;
/** a CLAIM value whose tag matches no task */
const CLAIM_CLOSED = -1;
/** the main thread spins this long for claimed chunks before it sleeps in short timed waits */
const MAIN_SPIN_MS = 0.2;

/** below this many operations a task runs on the main thread only */
const SERIAL_COST = 100_000;

const KERNEL_NAMES = Object.keys(PARALLEL_KERNELS) as ParallelKernel[];

type Kernel = (...args: number[]) => void;

export interface PoolOptions {
  readonly threads: number;
  readonly relaxed: boolean;
  /** how long a worker spins for the next task before it sleeps (ms) */
  readonly spinMs?: number;
}

/** Where the engine's kernel time went since the last reset (milliseconds of wall time). */
export interface PoolProfile {
  /** per dispatched kernel: calls, time inside `run` on the main thread, and the part of it spent waiting for workers */
  readonly kernels: ReadonlyMap<ParallelKernel, { readonly calls: number; readonly ms: number; readonly waitMs: number }>;
  /** busy time of each worker (index 0 = the first worker) */
  readonly workerBusyMs: readonly number[];
}

export class Pool {
  readonly threads: number;
  private readonly workers: EngineWorker[] = [];
  private readonly ctl: Int32Array;
  private readonly args: Float64Array;
  private readonly fns: Kernel[];
  private readonly errors: string[] = [];
  private readonly busy: Float64Array;
  private readonly prof = new Map<ParallelKernel, { calls: number; ms: number; waitMs: number }>();
  private scratchBase = 0;
  private scratchStride = 0;
  private closed = false;

  private constructor(
    private readonly arena: Arena,
    instance: WasmInstance,
    threads: number,
  ) {
    this.threads = threads;
    this.ctl = new Int32Array(arena.memory.buffer, 0, 64);
    this.args = new Float64Array(arena.memory.buffer, ARGS_BYTE, 32);
    this.fns = KERNEL_NAMES.map((n) => instance.exports[n] as Kernel);
    this.busy = new Float64Array(arena.memory.buffer, BUSY_BYTE, Math.min(threads, MAX_BUSY_SLOTS));
  }

  /** Instantiates the module on the main thread and starts the workers (resolves once all are ready). */
  static async start(arena: Arena, module: WasmModule, options: PoolOptions): Promise<Pool> {
    const instance = await Wasm.instantiate(module, { env: { memory: arena.memory } });
    const pool = new Pool(arena, instance, options.threads);
    const platform = await simdPlatform.get();
    const started = await Promise.allSettled(
      Array.from({ length: options.threads - 1 }, (_, i) =>
        platform.startWorker(
          { module, memory: arena.memory, relaxed: options.relaxed, names: KERNEL_NAMES, tid: i + 1, spinMs: options.spinMs ?? 0.5 },
          (message) => pool.errors.push(message),
        ),
      ),
    );
    for (const r of started) if (r.status === 'fulfilled') pool.workers.push(r.value);
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) {
      await Promise.all(pool.workers.map((w) => w.terminate()));
      throw new Error(`simd: a worker failed to start: ${(failed.reason as Error).message ?? String(failed.reason)}`);
    }
    return pool;
  }

  /** The instance's export of the given name (for single-threaded calls). */
  kernel(name: ParallelKernel): Kernel {
    return this.fns[KERNEL_NAMES.indexOf(name)];
  }

  /** Makes sure every thread has `bytes` of scratch (allocated from the arena, kept until close). */
  ensureScratch(bytes: number): void {
    const stride = Math.ceil(bytes / 64) * 64;
    if (stride <= this.scratchStride) return;
    if (this.scratchStride > 0) this.arena.release(this.scratchBase, this.scratchStride * this.threads);
    this.scratchBase = this.arena.alloc(stride * this.threads);
    this.scratchStride = stride;
  }

  /**
   * Runs kernel `name` over `items` work items on every thread; returns when all are done. `cost`
   * (≈ arithmetic operations) below SERIAL_COST runs on the main thread alone: waking the workers
   * would cost more than it saves.
   */
  run(name: ParallelKernel, args: readonly number[], items: number, scratchBytes: number, cost = Infinity): void {
    if (this.closed) throw new Error('simd: the backend is closed');
    if (args.length !== PARALLEL_KERNELS[name]) {
      throw new Error(`simd: kernel '${name}' takes ${PARALLEL_KERNELS[name]} arguments, got ${args.length}`);
    }
    if (items <= 0) return;
    this.ensureScratch(scratchBytes);
    const fn = this.kernel(name);
    const nw = this.workers.length;
    const start = performance.now();
    if (nw === 0 || items === 1 || cost < SERIAL_COST) {
      fn(...args, this.scratchBase, 0, items);
      this.count(name, performance.now() - start, 0);
      return;
    }
    const ctl = this.ctl;
    // close claiming first: a late worker of the previous task must not claim while the descriptor changes
    Atomics.store(ctl, CLAIM, CLAIM_CLOSED);
    for (let i = 0; i < args.length; i++) this.args[i] = args[i];
    this.args[ARG_SCRATCH] = this.scratchBase;
    this.args[ARG_SCRATCH_STRIDE] = this.scratchStride;
    const chunk = Math.max(1, Math.ceil(items / (this.threads * 4)));
    const nChunks = Math.ceil(items / chunk);
    const seq = (Atomics.load(ctl, SEQ) + 1) & SEQ_MASK;
    const tag = seq << CHUNK_BITS;
    Atomics.store(ctl, FUNC, KERNEL_NAMES.indexOf(name));
    Atomics.store(ctl, NARGS, args.length);
    Atomics.store(ctl, NITEMS, items);
    Atomics.store(ctl, CHUNK, chunk);
    Atomics.store(ctl, NCHUNKS, nChunks);
    Atomics.store(ctl, FINISHED, 0);
    Atomics.store(ctl, CLAIM, tag);
    Atomics.store(ctl, SEQ, seq);
    Atomics.notify(ctl, SEQ);
    const a = [...args, this.scratchBase, 0, 0];
    const n = args.length;
    let failure: unknown;
    let mine = 0;
    for (;;) {
      const w = Atomics.load(ctl, CLAIM);
      const c = w & CHUNK_MASK;
      if (c >= nChunks) break;
      if (Atomics.compareExchange(ctl, CLAIM, w, w + 1) !== w) continue;
      mine++;
      try {
        a[n + 1] = c * chunk;
        a[n + 2] = Math.min((c + 1) * chunk, items);
        fn(...a);
      } catch (e) {
        failure ??= e;
      }
    }
    // wait only for chunks the workers claimed (an idle or late worker is never waited for)
    const t0 = performance.now();
    try {
      this.waitForWorkers(nChunks - mine, t0);
    } finally {
      const end = performance.now();
      this.count(name, end - start, end - t0);
    }
    if (failure !== undefined) throw failure;
    if (Atomics.load(ctl, FAILED) !== 0) {
      Atomics.store(ctl, FAILED, 0);
      throw new Error(`simd: kernel '${name}' failed in a worker${this.errors.length > 0 ? `: ${this.errors.shift()}` : ''}`);
    }
  }

  /** Spins, then sleeps in 1 ms timed waits, until workers have finished `claimed` chunks. */
  private waitForWorkers(claimed: number, t0: number): void {
    const ctl = this.ctl;
    let spins = 0;
    for (;;) {
      const done = Atomics.load(ctl, FINISHED);
      if (done >= claimed) break;
      if ((++spins & 127) === 0 && performance.now() - t0 > MAIN_SPIN_MS) Atomics.wait(ctl, FINISHED, done, 1);
    }
  }

  private count(name: ParallelKernel, ms: number, waitMs: number): void {
    const e = this.prof.get(name);
    if (e === undefined) this.prof.set(name, { calls: 1, ms, waitMs });
    else {
      e.calls++;
      e.ms += ms;
      e.waitMs += waitMs;
    }
  }

  /** Where the kernel time went since the last reset. */
  profile(): PoolProfile {
    return {
      kernels: new Map([...this.prof].map(([k, v]) => [k, { ...v }])),
      workerBusyMs: Array.from(this.busy.subarray(1)),
    };
  }

  resetProfile(): void {
    this.prof.clear();
    this.busy.fill(0);
  }

  /** Stops and joins the workers. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.workers.length > 0) {
      Atomics.store(this.ctl, FUNC, -1);
      Atomics.add(this.ctl, SEQ, 1);
      Atomics.notify(this.ctl, SEQ);
      await Promise.all(this.workers.map((w) => w.terminate()));
    }
  }
}
