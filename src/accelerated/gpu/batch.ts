// webgpu dispatch with no fixed cost per call in steady state: every dispatch (a built gpu.js
// kernel or a hand-written WGSL kernel) is recorded into one shared compute pass, up to BATCH per
// queue submit; output and upload buffers come from a pool keyed by size; bind groups are cached by
// (pipeline, buffers and bound ranges: a view into a packed buffer binds its range); every pipeline takes its parameter block from one persistent uniform ring
// through a dynamic offset, so a call's bind group does not depend on where its parameters sit.
// A released buffer is free again at once (later commands of the same queue may overwrite it: the
// implementation orders dispatches and copies), so which buffer a call gets depends only on the
// program's order of calls and releases, never on when batches happen to be submitted: a repeated
// training step repeats its buffers and finds its bind groups cached. Host arrays reach their pool
// buffer by a copy recorded in the command stream from a persistent upload ring (a queue write
// straight into a reused buffer would land before commands recorded earlier that still read it).
// gpu.js still translates and builds its kernels (their first call runs through gpu.js); their
// WGSL is then compiled once more here against the dynamic-offset layout. The counters say what
// happened (dispatches, submits, buffer/bind-group/pipeline creations, bytes each way).
// Not a scheduler: the caller (device.ts) keeps program order and must `flush` before anything
// else touches the queue. No I/O, no Node APIs (this also runs in a browser's WebGPU).

import type { GpuBufferLike, GpuDeviceLike, KernelArg, WebGpuBufferResult } from './gpujs.ts';

/** Dispatches per queue submit at most (a paper-width step issues ≈ 1100 in all). */
const BATCH = 4096;
/** Bytes per parameter slot (WebGPU's minimum uniform-buffer offset alignment is at most 256). */
const SLOT = 256;
/** Parameter slots in the uniform ring (most blocks take one, a gpu.js block up to 4): 2 MiB. */
const RING_SLOTS = 8192;
/** Bytes of the upload ring (host arrays of one batch); a larger array flushes and is written directly. */
const UPLOAD_RING = 4 << 20;
/** Cached bind groups beyond this many are dropped all at once (they reference pool buffers). */
const MAX_GROUPS = 16384;

const USAGE = { MAP_READ: 0x1, COPY_SRC: 0x4, COPY_DST: 0x8, UNIFORM: 0x40, STORAGE: 0x80 } as const;
const STAGE_COMPUTE = 4;

/**
 * A storage binding: a whole buffer, or the byte range [offset, offset + size) of one (a view into
 * a packed buffer; offsets are multiples of 256, WebGPU's largest storage-offset alignment).
 */
export type Binding = GpuBufferLike | { readonly buffer: GpuBufferLike; readonly offset: number; readonly size: number };

const isRange = (b: Binding): b is { readonly buffer: GpuBufferLike; readonly offset: number; readonly size: number } => 'offset' in b && 'buffer' in b;
const bufferOf = (b: Binding): GpuBufferLike => (isRange(b) ? b.buffer : b);
const offsetOf = (b: Binding): number => (isRange(b) ? b.offset : 0);

/** What the device did since it was created (or since `reset`). */
export interface Counters {
  dispatches: number;
  submits: number;
  bufferCreations: number;
  bindGroupCreations: number;
  pipelineCreations: number;
  /** bytes written from host arrays into device buffers (kernel inputs, uploads) */
  bytesUp: number;
  /** bytes of parameter blocks written (sizes, scalars: 256-byte slots) */
  paramBytes: number;
  /** bytes read back to the host */
  bytesDown: number;
  /** buffer-to-buffer copies and clears recorded in the command stream (not dispatches) */
  copies: number;
  /** times the host waited for the device (one per group of reads submitted together, plus throttling waits) */
  waits: number;
}

export const zeroCounters = (): Counters => ({
  dispatches: 0, submits: 0, bufferCreations: 0, bindGroupCreations: 0, pipelineCreations: 0, bytesUp: 0, paramBytes: 0, bytesDown: 0, copies: 0, waits: 0,
});

/** The parts of a built gpu.js WebGPUKernel this module reads. */
interface BuiltKernel {
  readonly built: boolean;
  readonly computePipeline: unknown;
  readonly compiledSource: string;
  readonly workgroupSize: readonly number[];
  readonly context: unknown;
  readonly paramsLayout: {
    readonly arrayArgs: readonly { readonly index: number; readonly dimsOffset: number }[];
    readonly scalarArgs: readonly { readonly index: number; readonly offset: number; readonly type: string }[];
    readonly bufferConstants: readonly unknown[];
    readonly randomSeedOffset: number | null;
    readonly byteLength: number;
  };
  _computeDispatch(threadDim: number[]): { groups: number[]; dispatchWidth: number };
}

interface PassLike {
  setPipeline(p: unknown): void;
  setBindGroup(i: number, g: unknown, offsets?: number[]): void;
  dispatchWorkgroups(x: number, y: number, z: number): void;
  end(): void;
}

type LayoutEntry = { binding: number; visibility: number; buffer: { type: string; hasDynamicOffset?: boolean } };

interface DeviceExt extends GpuDeviceLike {
  createBindGroup(desc: { layout: unknown; entries: { binding: number; resource: { buffer: GpuBufferLike; offset?: number; size?: number } }[] }): unknown;
  createBindGroupLayout(desc: { entries: LayoutEntry[] }): unknown;
  createPipelineLayout(desc: { bindGroupLayouts: unknown[] }): unknown;
  createShaderModule(desc: { code: string }): unknown;
  createComputePipeline(desc: { layout: unknown; compute: { module: unknown; entryPoint: string } }): unknown;
  createCommandEncoder(): ReturnType<GpuDeviceLike['createCommandEncoder']> & { beginComputePass(): PassLike };
}

/** A compiled pipeline with its layout: binding 0 is the parameter block (dynamic offset), then `reads` read-only storage buffers, then `writes` read-write ones. */
export interface Pipe {
  readonly id: number;
  readonly pipeline: unknown;
  readonly layout: unknown;
  readonly paramBytes: number;
  readonly reads: number;
  readonly writes: number;
}

interface Open {
  readonly encoder: ReturnType<DeviceExt['createCommandEncoder']>;
  pass: PassLike;
  /** bytes of the upload ring used by this batch */
  uploaded: number;
  slots: number;
  count: number;
  readonly after: (() => void)[];
  /** resolved once this batch is submitted */
  readonly submitted: Promise<void>;
  /** a flush is scheduled for the next turn of the event loop (reads are waiting for this batch) */
  scheduled: boolean;
  /** a read waits for this batch: the next wait for the device is counted when it is submitted */
  readers: number;
}

/** Ring slots a parameter block takes. */
const slotsOf = (paramBytes: number): number => Math.max(1, Math.ceil(paramBytes / SLOT));

/** Rounds a byte size up to the pool's granularity (sizes differing by less share buffers). */
const poolSize = (bytes: number): number => Math.max(256, Math.ceil(bytes / 256) * 256);

export class Batcher {
  private open: Open | null = null;
  readonly counters: Counters = zeroCounters();
  private readonly ring: GpuBufferLike;
  private readonly ringHost = new ArrayBuffer(RING_SLOTS * SLOT);
  private readonly uploadRing: GpuBufferLike;
  private readonly uploadHost = new Uint8Array(UPLOAD_RING);
  /** free storage buffers by pool size (decreasing id: `acquire` takes the smallest) */
  private readonly free = new Map<number, GpuBufferLike[]>();
  private readonly pooled = new WeakSet<GpuBufferLike>();
  private readonly stagingFree = new Map<number, GpuBufferLike[]>();
  private readonly ids = new WeakMap<object, number>();
  private nextId = 1;
  private readonly groups = new Map<string, unknown>();
  private readonly gpujsPipes = new WeakMap<object, Pipe>();
  private readonly wgslPipes = new Map<string, Pipe>();
  /** result handles that are views into part of their buffer (see `viewResult`) */
  private readonly views = new WeakMap<object, { readonly offset: number; readonly size: number }>();

  constructor(private readonly device: GpuDeviceLike) {
    this.ring = this.createBuffer(RING_SLOTS * SLOT, USAGE.UNIFORM | USAGE.COPY_DST);
    this.uploadRing = this.createBuffer(UPLOAD_RING, USAGE.COPY_SRC | USAGE.COPY_DST);
  }

  private createBuffer(size: number, usage: number): GpuBufferLike {
    this.counters.bufferCreations++;
    return this.device.createBuffer({ size, usage });
  }

  private idOf(o: object): number {
    let id = this.ids.get(o);
    if (id === undefined) {
      id = this.nextId++;
      this.ids.set(o, id);
    }
    return id;
  }

  // ---- buffers ------------------------------------------------------------------------------

  /** A storage buffer of at least `bytes` bytes from the pool (created when none is free). */
  acquire(bytes: number): GpuBufferLike {
    const size = poolSize(bytes);
    // the oldest free buffer (smallest id, lists kept in decreasing id): the choice depends only on
    // which buffers are free, not on the order they came back, so a repeated sequence of calls
    // repeats its buffers and finds its bind groups cached
    const list = this.free.get(size);
    const b = list?.pop() ?? this.createBuffer(size, USAGE.STORAGE | USAGE.COPY_SRC | USAGE.COPY_DST);
    this.pooled.add(b);
    this.idOf(b);
    return b;
  }

  /**
   * A pool buffer holding a copy of `a`, for the next dispatch to read: the bytes go to the upload
   * ring (written before this batch is submitted) and a copy into the buffer is recorded here, in
   * command order. The buffer is free again once that dispatch is recorded (see `dispatch`).
   */
  upload(a: Float32Array): GpuBufferLike {
    const b = this.acquire(a.byteLength);
    this.uploads.push(b);
    if (a.length === 0) return b;
    this.counters.bytesUp += a.byteLength;
    const bytes = Math.ceil(a.byteLength / 4) * 4;
    if (bytes > UPLOAD_RING) {
      // too large for the ring: everything recorded so far goes first, then a direct queue write
      this.flush();
      this.device.queue.writeBuffer(b, 0, a);
      return b;
    }
    let o = this.open;
    if (o !== null && Math.ceil(o.uploaded / 256) * 256 + bytes > UPLOAD_RING) {
      this.flush();
      o = null;
    }
    const open = o ?? this.begin();
    const at = Math.ceil(open.uploaded / 256) * 256;
    this.uploadHost.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at);
    open.uploaded = at + bytes;
    open.pass.end();
    open.encoder.copyBufferToBuffer(this.uploadRing, at, b, 0, bytes);
    open.pass = open.encoder.beginComputePass();
    return b;
  }

  /** Upload buffers of the dispatch being prepared (freed once it is recorded). */
  private uploads: GpuBufferLike[] = [];

  /**
   * Gives a result's buffer back: a pool buffer is free at once (commands recorded later may
   * overwrite it; earlier ones read it first, in queue order); one made by gpu.js is destroyed once
   * the dispatches recorded so far are submitted.
   */
  release(r: WebGpuBufferResult): void {
    const buf = r.buffer as GpuBufferLike & { _refs?: number };
    if (!this.pooled.has(buf)) {
      this.later(() => r.delete());
      return;
    }
    (r as unknown as { _deleted: boolean })._deleted = true;
    if (buf._refs !== undefined && --buf._refs > 0) return;
    this.recycleBuffer(buf);
  }

  private recycleBuffer(b: GpuBufferLike): void {
    (b as GpuBufferLike & { _refs?: number })._refs = undefined; // no longer shared by views
    const size = b.size;
    const list = this.free.get(size);
    if (list === undefined) {
      this.free.set(size, [b]);
      return;
    }
    // insert keeping decreasing ids (the smallest at the end, where `acquire` pops)
    const id = this.idOf(b);
    let i = list.length;
    while (i > 0 && this.idOf(list[i - 1]) < id) i--;
    list.splice(i, 0, b);
  }

  /** A result handle over a pool buffer, as gpu.js kernels take their arguments. */
  result(Result: new (settings: object) => WebGpuBufferResult, buffer: GpuBufferLike, cells: number, context: unknown, kernel: unknown): WebGpuBufferResult {
    return new Result({ buffer, output: [cells], componentCount: 1, context, kernel });
  }

  /**
   * A result handle over `cells` floats of `buffer` from byte `offset` (a view into a packed pool
   * buffer): dispatches bind only that range. The buffer is shared by `refs` such views and
   * returns to the pool when the last one is released.
   */
  viewResult(Result: new (settings: object) => WebGpuBufferResult, buffer: GpuBufferLike, offset: number, cells: number, context: unknown): WebGpuBufferResult {
    const r = this.result(Result, buffer, cells, context, null);
    this.views.set(r, { offset, size: cells * 4 });
    return r;
  }

  /** Marks a pool buffer as shared by `refs` view results (see `release`). */
  share(buffer: GpuBufferLike, refs: number): void {
    (buffer as GpuBufferLike & { _refs?: number })._refs = refs;
  }

  /** The binding of a result: its whole buffer, or a view's range. */
  binding(r: WebGpuBufferResult): Binding {
    const v = this.views.get(r);
    return v === undefined ? r.buffer : { buffer: r.buffer, offset: v.offset, size: v.size };
  }

  /** Whether a result is a view into part of its buffer (gpu.js itself cannot bind those). */
  isView(r: WebGpuBufferResult): boolean {
    return this.views.has(r);
  }

  /** Records a copy of `bytes` bytes between two bindings' starts, in command order. */
  copy(src: Binding, dst: Binding, bytes: number): void {
    const open = this.open ?? this.begin();
    open.pass.end();
    if (bytes > 0) {
      open.encoder.copyBufferToBuffer(bufferOf(src), offsetOf(src), bufferOf(dst), offsetOf(dst), bytes);
      this.counters.copies++;
    }
    open.pass = open.encoder.beginComputePass();
  }

  /** Records zeroing a whole buffer, in command order. */
  clear(buffer: GpuBufferLike): void {
    const open = this.open ?? this.begin();
    open.pass.end();
    open.encoder.clearBuffer(buffer);
    this.counters.copies++;
    open.pass = open.encoder.beginComputePass();
  }

  // ---- pipelines ----------------------------------------------------------------------------

  private makePipe(code: string, paramBytes: number, reads: number, writes: number): Pipe {
    const dev = this.device as DeviceExt;
    const entries: LayoutEntry[] = [{ binding: 0, visibility: STAGE_COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true } }];
    for (let i = 0; i < reads; i++) entries.push({ binding: 1 + i, visibility: STAGE_COMPUTE, buffer: { type: 'read-only-storage' } });
    for (let i = 0; i < writes; i++) entries.push({ binding: 1 + reads + i, visibility: STAGE_COMPUTE, buffer: { type: 'storage' } });
    const layout = dev.createBindGroupLayout({ entries });
    const pipeline = dev.createComputePipeline({
      layout: dev.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module: dev.createShaderModule({ code }), entryPoint: 'main' },
    });
    this.counters.pipelineCreations++;
    return { id: this.nextId++, pipeline, layout, paramBytes, reads, writes };
  }

  /** The pipeline of a hand-written WGSL kernel, compiled on the first request for `key`. */
  wgslPipe(key: string, code: () => string, paramBytes: number, reads: number, writes: number): Pipe {
    let p = this.wgslPipes.get(key);
    if (p === undefined) {
      if (paramBytes > 4 * SLOT) throw new Error(`gpu backend: WGSL kernel '${key}' has a ${paramBytes}-byte parameter block (at most ${4 * SLOT})`);
      p = this.makePipe(code(), paramBytes, reads, writes);
      this.wgslPipes.set(key, p);
    }
    return p;
  }

  /** Whether `kernel` (a gpu.js kernel instance) is built and plain enough to be recorded here. */
  static canRecord(kernel: unknown): boolean {
    const k = kernel as Partial<BuiltKernel>;
    return k.built === true && k.computePipeline != null && typeof k.compiledSource === 'string' && k.paramsLayout !== undefined &&
      k.paramsLayout.bufferConstants.length === 0 && k.paramsLayout.randomSeedOffset === null &&
      k.paramsLayout.byteLength <= SLOT * 4 && k.workgroupSize?.length === 3;
  }

  // ---- recording ----------------------------------------------------------------------------

  /** Opens a batch with room for one more dispatch with a `paramBytes` parameter block (submitting a full one first). */
  reserve(paramBytes: number): void {
    const b = this.open;
    if (b !== null && (b.slots + slotsOf(paramBytes) > RING_SLOTS || b.count >= BATCH)) this.flush();
    if (this.open === null) this.begin();
  }

  /**
   * Records one dispatch of `pipe` over `groups` workgroups with the parameter block `params`
   * (≤ pipe.paramBytes bytes), reading `reads` and writing `writes` (whole buffers or views).
   */
  dispatch(pipe: Pipe, params: ArrayBuffer, reads: readonly Binding[], writes: readonly Binding[], groups: readonly [number, number, number]): void {
    if (reads.length !== pipe.reads || writes.length !== pipe.writes) {
      throw new Error(`gpu backend: dispatch with ${reads.length} inputs and ${writes.length} outputs on a pipeline of ${pipe.reads} and ${pipe.writes}`);
    }
    const slots = slotsOf(pipe.paramBytes);
    this.reserve(pipe.paramBytes);
    const b = this.open as Open;
    const offset = b.slots * SLOT;
    new Uint8Array(this.ringHost, offset, params.byteLength).set(new Uint8Array(params));
    const all = [...reads, ...writes];
    const key = `${pipe.id}|${all.map((x) => (isRange(x) ? `${this.idOf(x.buffer)}@${x.offset}+${x.size}` : this.idOf(x))).join(',')}`;
    let group = this.groups.get(key);
    if (group === undefined) {
      if (this.groups.size >= MAX_GROUPS) this.groups.clear();
      group = (this.device as DeviceExt).createBindGroup({
        layout: pipe.layout,
        entries: [
          { binding: 0, resource: { buffer: this.ring, offset: 0, size: Math.max(16, pipe.paramBytes) } },
          ...all.map((x, i) => ({ binding: 1 + i, resource: isRange(x) ? { buffer: x.buffer, offset: x.offset, size: x.size } : { buffer: x } })),
        ],
      });
      this.counters.bindGroupCreations++;
      this.groups.set(key, group);
    }
    b.pass.setPipeline(pipe.pipeline);
    b.pass.setBindGroup(0, group, [offset]);
    if (groups[0] > 0 && groups[1] > 0 && groups[2] > 0) {
      b.pass.dispatchWorkgroups(groups[0], groups[1], groups[2]);
      this.counters.dispatches++;
    }
    b.slots += slots;
    b.count++;
    for (const u of this.uploads) this.recycleBuffer(u);
    this.uploads = [];
  }

  /**
   * Records one call of a built gpu.js kernel over `threads` threads, each writing `comps`
   * consecutive floats, and returns its output as a flat handle of threads·comps cells: a fresh
   * pool buffer, or `target` (a result whose buffer or view takes the output in place).
   */
  record(kernel: unknown, Result: new (settings: object) => WebGpuBufferResult, args: readonly KernelArg[], threads: number, comps: number, target?: WebGpuBufferResult): WebGpuBufferResult {
    const k = kernel as BuiltKernel;
    const layout = k.paramsLayout;
    let pipe = this.gpujsPipes.get(k);
    if (pipe === undefined) {
      pipe = this.makePipe(k.compiledSource, layout.byteLength, layout.arrayArgs.length, 1);
      this.gpujsPipes.set(k, pipe);
    }
    this.reserve(layout.byteLength);
    const params = new ArrayBuffer(layout.byteLength);
    const u32 = new Uint32Array(params);
    const i32 = new Int32Array(params);
    const f32 = new Float32Array(params);
    const { groups, dispatchWidth } = k._computeDispatch([threads, 1, 1]);
    u32[0] = threads;
    u32[1] = 1;
    u32[2] = 1;
    u32[3] = dispatchWidth;
    const reads = layout.arrayArgs.map((rec) => {
      const a = args[rec.index];
      let buffer: Binding;
      let length: number;
      if (a instanceof Float32Array) {
        buffer = this.upload(a);
        length = a.length;
      } else {
        const r = a as WebGpuBufferResult;
        if (r.componentCount !== 1) throw new Error(`gpu backend: argument #${rec.index} has ${r.componentCount} components per cell, expected 1`);
        buffer = this.binding(r);
        length = r.output.reduce((p, d) => p * d, 1);
      }
      const d = rec.dimsOffset / 4;
      u32[d] = length;
      u32[d + 1] = 1;
      u32[d + 2] = 1;
      u32[d + 3] = length;
      return buffer;
    });
    for (const rec of layout.scalarArgs) {
      const v = args[rec.index] as number;
      const s = rec.offset / 4;
      if (rec.type === 'Integer') i32[s] = v;
      else if (rec.type === 'Boolean') u32[s] = v ? 1 : 0;
      else f32[s] = v;
    }
    if (target !== undefined) {
      this.dispatch(pipe, params, reads, [this.binding(target)], [groups[0], groups[1], groups[2]]);
      return target;
    }
    const out = this.acquire(threads * comps * 4);
    this.dispatch(pipe, params, reads, [out], [groups[0], groups[1], groups[2]]);
    return this.result(Result, out, threads * comps, k.context, kernel);
  }

  /** Runs `f` once the dispatches recorded so far are submitted (now, when none are pending). */
  later(f: () => void): void {
    if (this.open === null) f();
    else this.open.after.push(f);
  }

  /** Submits the recorded dispatches and copies (one queue submit), then runs what waited for that. */
  flush(): void {
    const b = this.open;
    if (b === null) return;
    this.open = null;
    b.pass.end();
    if (b.slots > 0) {
      this.device.queue.writeBuffer(this.ring, 0, new Uint8Array(this.ringHost, 0, b.slots * SLOT));
      this.counters.paramBytes += b.slots * SLOT;
    }
    if (b.uploaded > 0) this.device.queue.writeBuffer(this.uploadRing, 0, this.uploadHost.subarray(0, b.uploaded));
    this.device.queue.submit([b.encoder.finish()]);
    this.counters.submits++;
    for (const f of b.after) f();
  }

  /**
   * Copies `bytes` of `src` to the host. The copy is recorded after everything recorded so far and
   * the batch is submitted on the next turn of the event loop (or earlier when it fills up), so the
   * reads a caller asks for together, and the dispatches it queues meanwhile, share one submit.
   */
  async read(src: Binding, bytes: number): Promise<Float32Array> {
    const size = poolSize(bytes);
    const staging = this.stagingFree.get(size)?.pop() ?? this.createBuffer(size, USAGE.MAP_READ | USAGE.COPY_DST);
    const open = this.open ?? this.begin();
    open.pass.end();
    open.encoder.copyBufferToBuffer(bufferOf(src), offsetOf(src), staging, 0, bytes);
    open.pass = open.encoder.beginComputePass();
    if (open.readers++ === 0) this.counters.waits++;
    if (!open.scheduled) {
      open.scheduled = true;
      nextTurn(() => {
        if (this.open === open) this.flush();
      });
    }
    try {
      await open.submitted;
      await staging.mapAsync(1, 0, bytes);
      const out = new Float32Array(staging.getMappedRange(0, bytes).slice(0));
      staging.unmap();
      this.counters.bytesDown += bytes;
      const list = this.stagingFree.get(size);
      if (list === undefined) this.stagingFree.set(size, [staging]);
      else list.push(staging);
      return out;
    } catch (e) {
      staging.destroy();
      throw e;
    }
  }

  /** Counts a wait for the device that is not a read (the caller's throttling). */
  countWait(): void {
    this.counters.waits++;
  }

  /** Destroys the pooled buffers and drops the cached bind groups (the device stays). */
  destroy(): void {
    this.flush();
    this.groups.clear();
    for (const list of [...this.free.values(), ...this.stagingFree.values()]) for (const b of list) b.destroy();
    this.free.clear();
    this.stagingFree.clear();
    this.ring.destroy();
    this.uploadRing.destroy();
  }

  private begin(): Open {
    const dev = this.device as DeviceExt;
    const encoder = dev.createCommandEncoder();
    const after: (() => void)[] = [];
    const submitted = new Promise<void>((resolve) => after.push(resolve));
    this.open = { encoder, pass: encoder.beginComputePass(), uploaded: 0, slots: 0, count: 0, after, submitted, scheduled: false, readers: 0 };
    return this.open;
  }
}

/**
 * Runs `f` on the next turn of the event loop, after the promise jobs queued now (the device's
 * chain records its dispatches in promise jobs): setImmediate where the host has it, else a
 * zero-delay timer.
 */
const nextTurn = (f: () => void): void => {
  const g = globalThis as { setImmediate?: (f: () => void) => unknown };
  if (typeof g.setImmediate === 'function') g.setImmediate(f);
  else setTimeout(f, 0);
};
