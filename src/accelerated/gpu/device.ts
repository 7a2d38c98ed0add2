// The device layer of the gpu backend: tensor handles, the compiled-kernel cache, dispatch, readback
// and release, for one gpu.js mode. Kernel files describe *what* to compute (a gpu.js body, an
// output size, constants; or on webgpu a hand-written WGSL kernel with its workgroup grid); this
// module decides *how* it runs: synchronously on cpu/webasm, or on webgpu as a chain of queued
// calls whose results stay in pooled device buffers until `read` (gpu.js builds each kernel on its
// first call; later calls and every WGSL call are recorded many per queue submit by batch.ts).
// Tensors derived once from a tensor's values live and die with it. On webgpu a tensor may be a
// view into a packed buffer (`packed`): kernels bind just its range, and a queued kernel's output
// can be redirected into such a view (`place`), so whole packs are updated in one pass
// (`runWgslPacks`). Not a kernel itself.

import type { Shape } from '../../core/tensor.ts';
import { numel, shapeToString } from '../../core/tensor.ts';
import type {
  CompiledKernel, GpuDeviceLike, GpuInstance, GpuMode, KernelArg, KernelBody, WebGpuBufferResult,
} from './gpujs.ts';
import type { Binding, Counters } from './batch.ts';
import { Batcher, zeroCounters } from './batch.ts';
import { EXPECTED_KERNEL_CLASS, webGpuBufferResult } from './gpujs.ts';

/** Values of one tensor: a host array (cpu/webasm), or a device buffer that may still be pending (webgpu). */
type Storage = (
  | { readonly kind: 'host'; readonly data: Float32Array }
  | { readonly kind: 'device'; readonly buffer: Promise<WebGpuBufferResult | null> }
) & {
  /** live handles on these values (the tensor and its reshape aliases) */
  refs: number;
  /** set by the first dispose of any of its handles: the values are gone for every alias */
  released?: boolean;
  /** webgpu: downloads in progress, and a release that waits for them (a freed buffer is reused at once) */
  reading?: number;
  pendingRelease?: WebGpuBufferResult;
  /** tensors computed once from these values (e.g. a transposed weight), released with them */
  derived?: Map<string, GpuTensor>;
  /** webgpu: these values are slot `slot` of a packed buffer (see `pack`) */
  view?: { readonly pack: Pack; readonly slot: number };
  /** webgpu: the call that computes these values and which of its outputs they are (see `place`) */
  producer?: { readonly call: Call; readonly output: number };
};

/**
 * The layout of a packed buffer: slot i holds sizes[i] floats from float offsets[i] (multiples of
 * PACK_ALIGN), total floats in all; the gaps between slots are zero and stay zero under the
 * kernels that run over whole packs (adamAtan2Many keeps 0 at 0 for a zero gradient).
 */
export interface Pack {
  readonly offsets: readonly number[];
  readonly sizes: readonly number[];
  readonly total: number;
}

/** Floats per slot alignment in a pack: 256 bytes, the largest storage-offset alignment WebGPU allows. */
export const PACK_ALIGN = 64;

/**
 * A queued webgpu call: `started` once the chain reaches it (from then on where its outputs go is
 * fixed), the storages it binds, and per output the slot it writes into instead of a fresh buffer.
 */
interface Call {
  started: boolean;
  readonly binds: readonly Storage[];
  readonly targets: (Storage | undefined)[];
}

/** The gpu backend's tensor handle: a shape over shared, reference-counted storage. */
export interface GpuTensor {
  readonly shape: Shape;
  /** @internal */ readonly storage: Storage;
  /** @internal */ disposed: boolean;
}

/** One kernel launch: a body, its 1-D output length, compile-time constants and its arguments. */
export interface Launch {
  readonly name: string;
  readonly body: KernelBody;
  readonly constants?: Readonly<Record<string, number>>;
  readonly args: readonly (GpuTensor | Float32Array | number)[];
  readonly shape: Shape;
  /**
   * webgpu only: each thread returns this many consecutive output cells (`return [a, b, c, d]`),
   * so the body runs numel(shape)/components times; numel(shape) must be a multiple of it.
   */
  readonly components?: 2 | 3 | 4;
}

/**
 * One hand-written WGSL kernel call (webgpu only). The kernel declares binding 0 as its parameter
 * block (`var<uniform>`), then one `var<storage, read>` per input, then one
 * `var<storage, read_write>` per output, in order; its entry point is `main`.
 */
export interface WgslLaunch {
  /** pipeline cache key: the kernel and every compile-time choice baked into its code */
  readonly name: string;
  readonly code: () => string;
  /** the parameter block (≤ 1024 bytes: up to 4 slots of 256; the same size on every call of `name`) */
  readonly params: ArrayBuffer;
  readonly inputs: readonly (GpuTensor | Float32Array)[];
  /** a shape: a fresh buffer; a tensor: written in place, the handle taken over (the caller's handle is spent) */
  readonly outputs: readonly (Shape | GpuTensor)[];
  readonly groups: readonly [number, number, number];
}

/**
 * How many webgpu calls may be queued without a read before the chain waits for the device to
 * catch up: a bound on how far graph building runs ahead (e.g. a loop that never reads), far above
 * a training step's calls between two reads (≈ 1100 at paper width), so a step never waits for it.
 */
const MAX_IN_FLIGHT = 8192;

export class Device {
  private readonly cache = new Map<string, CompiledKernel>();
  /** webgpu: every dispatch, release and readback runs in program order on this chain */
  private tail: Promise<unknown> = Promise.resolve();
  private sinceSync = 0;
  /** number of live storages (what `dispose` has not yet released) */
  live = 0;
  /** number of kernel launches so far */
  launches = 0;
  /** webgpu: steady-state dispatches, many per queue submit (see batch.ts) */
  private readonly batcher: Batcher | null;
  /** webgpu: the first error the device reported (validation, out of memory, loss); reads fail from then on */
  private deviceError: string | null = null;

  constructor(
    readonly mode: GpuMode,
    private readonly gpu: GpuInstance,
    private readonly webgpu: GpuDeviceLike | null,
    /** gpu.js's context for `webgpu` (results handed to gpu.js kernels must carry it) */
    private readonly context: unknown = null,
  ) {
    this.batcher = webgpu === null ? null : new Batcher(webgpu);
    if (webgpu !== null) this.watch(webgpu);
  }

  /**
   * Records the device's first error. WebGPU reports a failed call (a grid past the device's
   * limits, a buffer too large…) as an event and voids its whole submit, whose outputs then read
   * as zeros: a read after such an error throws instead of returning them.
   */
  private watch(webgpu: GpuDeviceLike): void {
    const d = webgpu as GpuDeviceLike & {
      addEventListener?: (type: string, f: (e: { error?: { message?: string } }) => void) => void;
      lost?: Promise<{ reason?: string; message?: string }>;
    };
    d.addEventListener?.('uncapturederror', (e) => {
      this.deviceError ??= e.error?.message ?? 'an unknown error';
    });
    d.lost?.then((info) => {
      if (info.reason !== 'destroyed') this.deviceError ??= `the device was lost: ${info.message ?? info.reason ?? ''}`;
    }, () => undefined);
  }

  /** Throws when the device has reported an error (see `watch`). */
  private healthy(what: string): void {
    if (this.deviceError !== null) {
      throw new Error(`gpu backend: ${what}: the WebGPU device reported an error, so values computed since cannot be trusted: ${this.deviceError.split('\n')[0]}`);
    }
  }

  // ---- handles ------------------------------------------------------------------------------

  private wrap(shape: Shape, storage: Storage): GpuTensor {
    this.live++;
    return { shape: Object.freeze([...shape]), storage, disposed: false };
  }

  /** Throws when a handle (or, through an alias, its values) was already released. */
  check(t: GpuTensor, kernel: string, argument: string): GpuTensor {
    if (t.disposed || t.storage.released === true) throw new Error(`${kernel}: argument '${argument}' ${shapeToString(t.shape)} was used after dispose`);
    return t;
  }

  /**
   * A new handle on the same storage under another shape (same element count). As the Backend
   * contract says for `reshape`: disposing either handle releases the values; disposing the other
   * one afterwards is a harmless no-op, using it is an error.
   */
  alias(t: GpuTensor, shape: Shape): GpuTensor {
    t.storage.refs++;
    return { shape: Object.freeze([...shape]), storage: t.storage, disposed: false };
  }

  /** Uploads host values as float32 (copied). On webgpu one copy kernel places them in a device buffer. */
  upload(shape: Shape, data: ArrayLike<number>): GpuTensor {
    const n = numel(shape);
    if (data.length !== n) {
      throw new Error(`fromArray: data has ${data.length} elements, shape ${shapeToString(shape)} needs ${n}`);
    }
    // a typed array converts in one native pass; Float32Array.from walks an iterator
    const host = ArrayBuffer.isView(data) ? new Float32Array(data as unknown as ArrayLike<number>) : Float32Array.from(data);
    if (this.webgpu === null || n === 0) return this.wrap(shape, { kind: 'host', data: host, refs: 1 });
    return this.run({ name: 'upload', body: copyBody, args: [host], shape });
  }

  /** A tensor of zeros. On webgpu one kernel writes them on the device (nothing crosses the bus). */
  zeros(shape: Shape): GpuTensor {
    if (this.webgpu === null) return this.upload(shape, new Float32Array(numel(shape)));
    return this.run({ name: 'zeros', body: zerosBody, args: [], shape });
  }

  /** Releases a handle's values (for every alias of it; see `alias`). */
  release(t: GpuTensor): void {
    if (t.disposed) throw new Error(`dispose: tensor ${shapeToString(t.shape)} was already disposed`);
    t.disposed = true;
    const s = t.storage;
    s.refs--;
    if (s.released === true) return; // an alias of values already released through another handle
    s.released = true;
    this.live--;
    if (s.derived !== undefined) for (const d of s.derived.values()) this.release(d);
    if (s.kind === 'device') {
      const buffer = s.buffer;
      // deleted once the dispatches recorded so far (which may read it) are submitted
      this.tail = this.tail.then(() => buffer).then((b) => {
        if (!b) return;
        if ((s.reading ?? 0) > 0) s.pendingRelease = b;
        else (this.batcher as Batcher).release(b);
      }, () => undefined);
    }
  }

  /**
   * A tensor computed once from t's values and kept while they live (released with the storage):
   * `make` runs on the first request for `key`; later requests get the same tensor. Callers must
   * not release it.
   */
  derive(t: GpuTensor, key: string, make: () => GpuTensor): GpuTensor {
    const s = t.storage;
    const map = s.derived ?? (s.derived = new Map());
    let d = map.get(key);
    if (d === undefined) {
      d = make();
      map.set(key, d);
    }
    return d;
  }

  /** Downloads float32 values. On webgpu this waits for the queued work that produces them. */
  async download(t: GpuTensor): Promise<Float32Array> {
    this.check(t, 'read', 't');
    const s = t.storage;
    if (s.kind === 'host') return s.data;
    s.reading = (s.reading ?? 0) + 1;
    try {
      const buffer = await s.buffer;
      const n = numel(t.shape);
      if (buffer === null || n === 0) return new Float32Array(0);
      this.sinceSync = 0;
      const batcher = this.batcher as Batcher;
      const values = await batcher.read(batcher.binding(buffer), n * 4);
      this.healthy('read');
      return values;
    } finally {
      if (--s.reading === 0 && s.pendingRelease !== undefined) {
        const b = s.pendingRelease;
        s.pendingRelease = undefined;
        (this.batcher as Batcher).release(b);
      }
    }
  }

  /** What the webgpu device did so far (all zero on cpu/webasm). */
  counters(): Counters {
    return { ...(this.batcher?.counters ?? zeroCounters()) };
  }

  // ---- kernels ------------------------------------------------------------------------------

  /**
   * The compiled kernel for a launch. cpu/webasm: one per body, output length, constants and
   * argument lengths (their compiles are cheap and sizes bake in). webgpu: one per body, sizes
   * dynamic and the constants passed as trailing scalar arguments (see `dynamicSource`), because a
   * WGSL pipeline compile costs 0.1–1 s on a software adapter.
   */
  private kernelFor(launch: Launch, n: number): CompiledKernel {
    const dynamic = this.webgpu !== null;
    const lengths = launch.args.map((a) =>
      typeof a === 'number' ? 's' : a instanceof Float32Array ? `${a.length}` : `${numel((a as GpuTensor).shape)}`,
    );
    const key = dynamic ? launch.name : `${launch.name}|${n}|${JSON.stringify(launch.constants ?? {})}|${lengths.join(',')}`;
    let k = this.cache.get(key);
    if (k === undefined) {
      const settings = { output: [n], pipeline: true, immutable: true, tactic: 'precision', loopMaxIterations: 1 << 30 } as const;
      k = dynamic
        ? this.gpu.createKernel(dynamicSource(launch.body, constantNames(launch)), { ...settings, dynamicOutput: true, dynamicArguments: true })
        : this.gpu.createKernel(launch.body, { ...settings, constants: launch.constants ?? {} });
      this.cache.set(key, k);
    }
    return k;
  }

  /** Fails when gpu.js ran something other than the mode's kernel class (a fallback). */
  private verify(k: CompiledKernel, name: string): void {
    const ran = k.kernel.constructor.name;
    const expected = EXPECTED_KERNEL_CLASS[this.mode];
    if (ran !== expected) {
      const why = k.kernel.fallbackReason ? `: ${k.kernel.fallbackReason}` : '';
      throw new Error(`gpu backend (${this.mode}): kernel '${name}' ran on ${ran}, not ${expected}${why}`);
    }
  }

  /** Launches one kernel with a 1-D output of numel(shape) cells and returns the result handle. */
  run(launch: Launch): GpuTensor {
    launch.args.forEach((a, i) => {
      if (typeof a === 'object' && !(a instanceof Float32Array)) this.check(a, launch.name, `#${i}`);
    });
    const n = numel(launch.shape);
    const comps = launch.components ?? 1;
    if (comps > 1 && (this.webgpu === null || n % comps !== 0)) {
      throw new Error(`gpu backend: kernel '${launch.name}' returns ${comps} cells per thread, which needs webgpu and a multiple of ${comps} cells (got ${n} on ${this.mode})`);
    }
    this.launches++;
    if (n === 0) {
      const empty: Storage = this.webgpu === null
        ? { kind: 'host', data: new Float32Array(0), refs: 1 }
        : { kind: 'device', buffer: Promise.resolve(null), refs: 1 };
      return this.wrap(launch.shape, empty);
    }
    if (this.webgpu === null) {
      const args = launch.args.map((a) => {
        if (typeof a === 'number' || a instanceof Float32Array) return a;
        const s = (a as GpuTensor).storage;
        return s.kind === 'host' ? s.data : new Float32Array(0);
      });
      const k = this.kernelFor(launch, n);
      const out = k(...args) as Float32Array;
      this.verify(k, launch.name);
      return this.wrap(launch.shape, { kind: 'host', data: out, refs: 1 });
    }
    // webgpu: host arrays are copied now (the call runs later); device inputs are awaited in order
    const snap = launch.args.map((a) => (a instanceof Float32Array ? a.slice() : a));
    const call: Call = { started: false, binds: launch.args.filter((a): a is GpuTensor => typeof a === 'object' && !(a instanceof Float32Array)).map((a) => a.storage), targets: [] };
    const buffer = this.tail.then(async () => {
      call.started = true;
      const args: KernelArg[] = [];
      for (const a of snap) {
        if (typeof a === 'number' || a instanceof Float32Array) args.push(a);
        else {
          const s = (a as GpuTensor).storage;
          const b = s.kind === 'host' ? s.data : await s.buffer;
          args.push(b ?? new Float32Array(0));
        }
      }
      const batcher = this.batcher as Batcher;
      if (++this.sinceSync >= MAX_IN_FLIGHT) {
        this.sinceSync = 0;
        batcher.flush();
        batcher.countWait();
        await (this.webgpu as GpuDeviceLike).queue.onSubmittedWorkDone();
      }
      const target = call.targets[0] === undefined ? undefined : ((await bufferOfStorage(call.targets[0])) as WebGpuBufferResult);
      const k = this.kernelFor(launch, n / comps);
      for (const c of constantNames(launch)) args.push((launch.constants as Record<string, number>)[c]);
      if (Batcher.canRecord(k.kernel)) {
        this.verify(k, launch.name);
        return batcher.record(k.kernel, webGpuBufferResult(), args, n / comps, comps, target);
      }
      // first call (gpu.js builds the kernel) or a kernel the batcher cannot record: gpu.js submits,
      // binding whole buffers, so views into packs are copied out first
      const copies: WebGpuBufferResult[] = [];
      for (let i = 0; i < args.length; i++) {
        const a = args[i];
        if (typeof a === 'object' && !(a instanceof Float32Array) && batcher.isView(a)) {
          const cells = a.output[0];
          const c = batcher.result(webGpuBufferResult(), batcher.acquire(cells * 4), cells, this.context, null);
          batcher.copy(batcher.binding(a), c.buffer, cells * 4);
          copies.push(c);
          args[i] = c;
        }
      }
      batcher.flush();
      if (k.output[0] !== n / comps) k.setOutput([n / comps]);
      const made = await (k(...args) as Promise<WebGpuBufferResult>);
      this.verify(k, launch.name);
      for (const c of copies) batcher.release(c);
      const out = comps > 1 ? flatResult(made, n) : made;
      if (target === undefined) return out;
      batcher.copy(batcher.binding(out), batcher.binding(target), n * 4);
      batcher.release(out);
      return target;
    });
    buffer.catch(() => undefined); // failures surface at `read`; the chain itself continues
    this.tail = buffer.then(() => undefined, () => undefined);
    return this.wrap(launch.shape, { kind: 'device', buffer, refs: 1, producer: { call, output: 0 } });
  }

  /** Storage buffers one WGSL kernel may bind (the device's per-stage limit; 0 without webgpu). */
  storageBindings(): number {
    return this.webgpu === null ? 0 : (this.webgpu.limits.maxStorageBuffersPerShaderStage ?? 8);
  }

  /** The largest buffer one binding may cover (bytes): the device's storage-binding and buffer-size limits. */
  maxBindingBytes(): number {
    if (this.webgpu === null) return 0;
    const l = this.webgpu.limits;
    return Math.min(l.maxStorageBufferBindingSize ?? 134217728, l.maxBufferSize ?? 268435456);
  }

  /** The layout of a pack of `shapes`: slots in order, each at a multiple of PACK_ALIGN floats. */
  static packLayout(shapes: readonly Shape[]): Pack {
    const sizes = shapes.map((sh) => numel(sh));
    const offsets: number[] = [];
    let total = 0;
    for (const n of sizes) {
      offsets.push(total);
      total += Math.ceil(n / PACK_ALIGN) * PACK_ALIGN;
    }
    return { offsets, sizes, total };
  }

  /** Whether a WGSL kernel may write into t's buffer in place (webgpu, t's only handle, nothing derived from it). */
  writableInPlace(t: GpuTensor): boolean {
    const s = t.storage;
    return this.webgpu !== null && !t.disposed && s.released !== true && s.refs === 1 && s.kind === 'device' && s.derived === undefined;
  }

  /**
   * Launches a hand-written WGSL kernel (webgpu only) and returns one handle per output. Inputs
   * are awaited in program order like `run`; host arrays are copied now and uploaded into pooled
   * buffers; fresh outputs come from the pool.
   */
  runWgsl(launch: WgslLaunch): GpuTensor[] {
    if (this.webgpu === null) throw new Error(`gpu backend: WGSL kernel '${launch.name}' needs webgpu (mode ${this.mode})`);
    launch.inputs.forEach((a, i) => {
      if (!(a instanceof Float32Array)) this.check(a, launch.name, `#${i}`);
    });
    const inPlace = launch.outputs.filter((o): o is GpuTensor => !Array.isArray(o));
    for (const t of inPlace) {
      this.check(t, launch.name, 'output');
      if (!this.writableInPlace(t)) {
        throw new Error(`gpu backend: WGSL kernel '${launch.name}' writes in place into a tensor that is shared or not on the device`);
      }
    }
    this.launches++;
    const inputs = launch.inputs.map((a) => (a instanceof Float32Array ? a.slice() : a));
    const batcher = this.batcher as Batcher;
    const Result = webGpuBufferResult();
    const call: Call = {
      started: false,
      binds: [...inputs.filter((a): a is GpuTensor => !(a instanceof Float32Array)), ...inPlace].map((t) => t.storage),
      targets: [],
    };
    const done = this.tail.then(async () => {
      call.started = true;
      if (++this.sinceSync >= MAX_IN_FLIGHT) {
        this.sinceSync = 0;
        batcher.flush();
        batcher.countWait();
        await (this.webgpu as GpuDeviceLike).queue.onSubmittedWorkDone();
      }
      // every await first: from `reserve` to `dispatch` nothing may submit the open batch (its
      // uploads return to the pool at that submit)
      const devIn = await Promise.all(inputs.map((a) => (a instanceof Float32Array || a.storage.kind === 'host' ? null : a.storage.buffer)));
      const inPlace = await Promise.all(launch.outputs.map((o, i) => {
        if (!Array.isArray(o)) return ((o as GpuTensor).storage as { buffer: Promise<WebGpuBufferResult | null> }).buffer;
        const target = call.targets[i];
        return target === undefined ? null : bufferOfStorage(target);
      }));
      batcher.reserve(launch.params.byteLength);
      const reads = inputs.map((a, i) => {
        if (a instanceof Float32Array) return batcher.upload(a);
        if (a.storage.kind === 'host') return batcher.upload(a.storage.data);
        const r = devIn[i];
        return r === null ? batcher.upload(new Float32Array(0)) : batcher.binding(r);
      });
      const results = launch.outputs.map((o, i) => {
        const r = inPlace[i];
        if (Array.isArray(o) && r === null) {
          const n = numel(o as Shape);
          return batcher.result(Result, batcher.acquire(n * 4), n, this.context, null);
        }
        if (r === null) throw new Error(`gpu backend: WGSL kernel '${launch.name}' writes in place into an empty tensor`);
        return r;
      });
      const pipe = batcher.wgslPipe(launch.name, launch.code, launch.params.byteLength, reads.length, results.length);
      batcher.dispatch(pipe, launch.params, reads, results.map((r) => batcher.binding(r)), launch.groups);
      return results;
    });
    done.catch(() => undefined); // failures surface at `read`
    this.tail = done.then(() => undefined, () => undefined);
    return launch.outputs.map((o, i) => {
      const buffer = done.then((rs) => rs[i]);
      buffer.catch(() => undefined);
      if (Array.isArray(o)) return this.wrap(o as Shape, { kind: 'device', buffer, refs: 1, producer: { call, output: i } });
      const t = o as GpuTensor;
      t.disposed = true; // the handle is taken over: its buffer now resolves after this call
      return { shape: t.shape, storage: { kind: 'device', buffer, refs: 1, view: t.storage.view }, disposed: false };
    });
  }

  // ---- packs --------------------------------------------------------------------------------

  /**
   * Tensors of `shapes` in one buffer (webgpu): slot i at a multiple of PACK_ALIGN floats, holding
   * sources[i]'s values (copied, then the source released) or zeros where sources[i] is null; the
   * gaps are zero. Returns one view handle per slot. Copies and a clear, no dispatch.
   */
  packed(shapes: readonly Shape[], sources: readonly (GpuTensor | null)[]): GpuTensor[] {
    if (this.webgpu === null) throw new Error(`gpu backend: packs need webgpu (mode ${this.mode})`);
    sources.forEach((t, i) => {
      if (t !== null) this.check(t, 'pack', `#${i}`);
    });
    const pack = Device.packLayout(shapes);
    const { offsets, sizes, total } = pack;
    if (sizes.some((n) => n === 0)) throw new Error('gpu backend: a pack has no empty slots');
    if (total * 4 > this.maxBindingBytes()) throw new Error(`gpu backend: a pack of ${total * 4} bytes is more than one binding may cover (${this.maxBindingBytes()})`);
    const batcher = this.batcher as Batcher;
    const Result = webGpuBufferResult();
    const done = this.tail.then(async () => {
      const ins = await Promise.all(sources.map((t) => (t === null || t.storage.kind === 'host' ? null : bufferOfStorage(t.storage))));
      const buffer = batcher.acquire(total * 4);
      batcher.clear(buffer);
      const views = offsets.map((o, i) => batcher.viewResult(Result, buffer, o * 4, sizes[i], this.context));
      sources.forEach((t, i) => {
        if (t === null) return;
        const r = ins[i];
        if (t.storage.kind === 'host') batcher.copy(batcher.upload(t.storage.data), batcher.binding(views[i]), sizes[i] * 4);
        else if (r !== null) batcher.copy(batcher.binding(r), batcher.binding(views[i]), sizes[i] * 4);
      });
      batcher.share(buffer, views.length);
      return views;
    });
    done.catch(() => undefined);
    this.tail = done.then(() => undefined, () => undefined);
    const out = shapes.map((sh, i) => {
      const buffer = done.then((rs) => rs[i]);
      buffer.catch(() => undefined);
      return this.wrap(sh, { kind: 'device', buffer, refs: 1, view: { pack, slot: i } });
    });
    for (const t of sources) if (t !== null) this.release(t);
    return out;
  }

  /** The pack that `ts` are the views of, every slot once and in order; null otherwise. */
  packOf(ts: readonly GpuTensor[]): Pack | null {
    const pack = ts[0]?.storage.view?.pack;
    if (pack === undefined || ts.length !== pack.offsets.length) return null;
    return ts.every((t, i) => t.storage.view?.pack === pack && t.storage.view.slot === i && !t.disposed && t.storage.released !== true) ? pack : null;
  }

  /**
   * g's values in slot's storage (same element count; both CONSUMED). When the call computing g
   * is still queued and binds nothing of slot's pack, it writes there directly; otherwise one copy
   * is recorded.
   */
  place(g: GpuTensor, slot: GpuTensor): GpuTensor {
    this.check(g, 'place', 'g');
    this.check(slot, 'place', 'slot');
    if (numel(g.shape) !== numel(slot.shape)) throw new Error(`place: g ${shapeToString(g.shape)} does not fit slot ${shapeToString(slot.shape)}`);
    if (!this.writableInPlace(slot) || slot.storage === g.storage) throw new Error('place: the slot is shared or not on the device');
    const s = g.storage;
    const p = s.producer;
    const pack = slot.storage.view?.pack;
    const direct = p !== undefined && !p.call.started && s.refs === 1 && s.derived === undefined &&
      p.call.binds.every((b) => b !== slot.storage && (pack === undefined || b.view?.pack !== pack));
    slot.disposed = true;
    if (direct) {
      p.call.targets[p.output] = slot.storage;
      g.disposed = true;
      s.released = true;
      this.live--;
      return { shape: g.shape, storage: { kind: 'device', buffer: bufferOfStorage(s), refs: 1, view: slot.storage.view }, disposed: false };
    }
    const batcher = this.batcher as Batcher;
    const n = numel(g.shape);
    const src = g.storage;
    const dst = bufferOfStorage(slot.storage);
    const buffer = this.tail.then(async () => {
      const r = await dst;
      const from = src.kind === 'host' ? null : await src.buffer;
      if (r !== null) {
        if (src.kind === 'host') batcher.copy(batcher.upload(src.data), batcher.binding(r), n * 4);
        else if (from !== null) batcher.copy(batcher.binding(from), batcher.binding(r), n * 4);
      }
      return r;
    });
    buffer.catch(() => undefined);
    this.tail = buffer.then(() => undefined, () => undefined);
    this.release(g);
    return { shape: g.shape, storage: { kind: 'device', buffer, refs: 1, view: slot.storage.view }, disposed: false };
  }

  /**
   * A WGSL kernel over whole packs (webgpu): binding 1… the packs of `inputs`, then those of
   * `outputs`, written in place; each group lists all views of one pack in slot order. Returns the
   * outputs' views as new handles (the given ones are taken over).
   */
  runWgslPacks(launch: Omit<WgslLaunch, 'inputs' | 'outputs'>, inputs: readonly (readonly GpuTensor[])[], outputs: readonly (readonly GpuTensor[])[]): GpuTensor[][] {
    for (const group of [...inputs, ...outputs]) {
      if (this.packOf(group) === null) throw new Error(`gpu backend: WGSL kernel '${launch.name}' needs every view of a pack, in slot order`);
    }
    for (const group of outputs) {
      if (!group.every((t) => this.writableInPlace(t))) throw new Error(`gpu backend: WGSL kernel '${launch.name}' writes in place into a shared view`);
    }
    this.launches++;
    const batcher = this.batcher as Batcher;
    const whole = (group: readonly GpuTensor[]): (() => Promise<Binding>) => {
      const first = bufferOfStorage(group[0].storage);
      const bytes = (this.packOf(group) as Pack).total * 4;
      return async () => ({ buffer: ((await first) as WebGpuBufferResult).buffer, offset: 0, size: bytes });
    };
    const readPacks = inputs.map(whole);
    const writePacks = outputs.map(whole);
    const outViews = outputs.map((g) => g.map((t) => bufferOfStorage(t.storage)));
    const done = this.tail.then(async () => {
      const reads = await Promise.all(readPacks.map((f) => f()));
      const writes = await Promise.all(writePacks.map((f) => f()));
      const views = await Promise.all(outViews.map((g) => Promise.all(g)));
      batcher.reserve(launch.params.byteLength);
      const pipe = batcher.wgslPipe(launch.name, launch.code, launch.params.byteLength, reads.length, writes.length);
      batcher.dispatch(pipe, launch.params, reads, writes, launch.groups);
      return views;
    });
    done.catch(() => undefined);
    this.tail = done.then(() => undefined, () => undefined);
    return outputs.map((group, j) => group.map((t, i) => {
      const buffer = done.then((vs) => vs[j][i]);
      buffer.catch(() => undefined);
      t.disposed = true;
      return { shape: t.shape, storage: { kind: 'device', buffer, refs: 1, view: t.storage.view }, disposed: false };
    }));
  }

  /** The kernel class gpu.js actually ran for each compiled kernel (e.g. 'WebGPUKernel'). */
  kernelClasses(): Set<string> {
    return new Set([...this.cache.values()].map((k) => k.kernel.constructor.name));
  }

  /** Waits until every queued call has run (webgpu); immediate elsewhere. */
  async flush(): Promise<void> {
    await this.tail;
    this.batcher?.flush();
    if (this.webgpu !== null) await this.webgpu.queue.onSubmittedWorkDone();
  }

  /** Releases every compiled kernel, the pooled buffers and the gpu.js instance. */
  async close(): Promise<void> {
    await this.flush();
    this.batcher?.destroy();
    for (const k of this.cache.values()) k.destroy();
    this.cache.clear();
    await this.gpu.destroy();
  }
}

/**
 * A vector-returning kernel's result (componentCount c over n/c cells) seen as n scalar cells: the
 * buffer is already laid out that way (cell i's components at i·c … i·c + c − 1). gpu.js accepts
 * only componentCount 1 as a kernel argument, so later kernels get this view; the original handle
 * is released (the buffer's reference count moves to the view).
 */
const flatResult = (out: WebGpuBufferResult, n: number): WebGpuBufferResult => {
  const Result = out.constructor as new (settings: object) => WebGpuBufferResult;
  const o = out as unknown as { context: unknown; kernel: unknown };
  const flat = new Result({ buffer: out.buffer, output: [n], componentCount: 1, context: o.context, kernel: o.kernel });
  out.delete();
  return flat;
};

/** A device storage's buffer (a host storage has none: an error). */
const bufferOfStorage = (s: Storage): Promise<WebGpuBufferResult | null> => {
  if (s.kind !== 'device') throw new Error('gpu backend: expected values on the device');
  return s.buffer;
};

const constantNames = (launch: Launch): string[] => Object.keys(launch.constants ?? {}).sort();

/**
 * The body's source with every `this.constants.X` turned into a trailing scalar parameter `c_X`
 * (in `names` order), so one compiled kernel serves every size.
 */
const dynamicSource = (body: KernelBody, names: readonly string[]): string => {
  const src = body.toString();
  const open = src.indexOf('(');
  const close = src.indexOf(')', open);
  if (!src.startsWith('function') || open < 0 || close < 0) throw new Error(`gpu backend: kernel body is not a plain function: ${src.slice(0, 60)}`);
  const params = src.slice(open + 1, close).trim();
  const extra = names.map((c) => `c_${c}`);
  const header = `${src.slice(0, open + 1)}${[params, ...extra].filter((p) => p.length > 0).join(', ')}${src.slice(close, src.indexOf('{', close) + 1)}`;
  const rest = src.slice(src.indexOf('{', close) + 1).replace(/this\.constants\.([A-Za-z_][A-Za-z0-9_]*)/g, (_, c: string) => {
    if (!names.includes(c)) throw new Error(`gpu backend: kernel body uses constant '${c}' that the launch does not give`);
    return `c_${c}`;
  });
  return header + rest;
};

/** y[i] = 0: the zeros kernel (webgpu). */
function zerosBody(this: { thread: { x: number } }): number {
  return 0;
}

/** y[i] = a[i]: the upload kernel (host array → device buffer). */
function copyBody(this: { thread: { x: number } }, a: Float32Array): number {
  return a[this.thread.x];
}
