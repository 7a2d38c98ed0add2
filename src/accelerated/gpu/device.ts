// The device layer of the gpu backend: tensor handles, the compiled-kernel cache, dispatch, readback
// and release, for one gpu.js mode. Kernel files describe *what* to compute (a gpu.js body, an
// output size, constants; or on webgpu a hand-written WGSL kernel with its workgroup grid); this
// module decides *how* it runs: synchronously on cpu/webasm, or on webgpu as a chain of queued
// calls whose results stay in pooled device buffers until `read` (gpu.js builds each kernel on its
// first call; later calls and every WGSL call are recorded many per queue submit by batch.ts).
// Tensors derived once from a tensor's values live and die with it. Not a kernel itself.

import type { Shape } from '../../core/tensor.ts';
import { numel, shapeToString } from '../../core/tensor.ts';
import type {
  CompiledKernel, GpuDeviceLike, GpuInstance, GpuMode, KernelArg, KernelBody, WebGpuBufferResult,
} from './gpujs.ts';
import type { Counters } from './batch.ts';
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
};

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

  constructor(
    readonly mode: GpuMode,
    private readonly gpu: GpuInstance,
    private readonly webgpu: GpuDeviceLike | null,
    /** gpu.js's context for `webgpu` (results handed to gpu.js kernels must carry it) */
    private readonly context: unknown = null,
  ) {
    this.batcher = webgpu === null ? null : new Batcher(webgpu);
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
      return await (this.batcher as Batcher).read(buffer.buffer, n * 4);
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
    const buffer = this.tail.then(async () => {
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
      const k = this.kernelFor(launch, n / comps);
      for (const c of constantNames(launch)) args.push((launch.constants as Record<string, number>)[c]);
      if (Batcher.canRecord(k.kernel)) {
        this.verify(k, launch.name);
        return batcher.record(k.kernel, webGpuBufferResult(), args, n / comps, comps);
      }
      // first call (gpu.js builds the kernel) or a kernel the batcher cannot record: gpu.js submits
      batcher.flush();
      if (k.output[0] !== n / comps) k.setOutput([n / comps]);
      const out = await (k(...args) as Promise<WebGpuBufferResult>);
      this.verify(k, launch.name);
      return comps > 1 ? flatResult(out, n) : out;
    });
    buffer.catch(() => undefined); // failures surface at `read`; the chain itself continues
    this.tail = buffer.then(() => undefined, () => undefined);
    return this.wrap(launch.shape, { kind: 'device', buffer, refs: 1 });
  }

  /** Storage buffers one WGSL kernel may bind (the device's per-stage limit; 0 without webgpu). */
  storageBindings(): number {
    return this.webgpu === null ? 0 : (this.webgpu.limits.maxStorageBuffersPerShaderStage ?? 8);
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
    const done = this.tail.then(async () => {
      if (++this.sinceSync >= MAX_IN_FLIGHT) {
        this.sinceSync = 0;
        batcher.flush();
        batcher.countWait();
        await (this.webgpu as GpuDeviceLike).queue.onSubmittedWorkDone();
      }
      // every await first: from `reserve` to `dispatch` nothing may submit the open batch (its
      // uploads return to the pool at that submit)
      const devIn = await Promise.all(inputs.map((a) => (a instanceof Float32Array || a.storage.kind === 'host' ? null : a.storage.buffer)));
      const inPlace = await Promise.all(launch.outputs.map((o) => (Array.isArray(o) ? null : ((o as GpuTensor).storage as { buffer: Promise<WebGpuBufferResult | null> }).buffer)));
      batcher.reserve(launch.params.byteLength);
      const reads = inputs.map((a, i) => {
        if (a instanceof Float32Array) return batcher.upload(a);
        if (a.storage.kind === 'host') return batcher.upload(a.storage.data);
        const r = devIn[i];
        return r === null ? batcher.upload(new Float32Array(0)) : r.buffer;
      });
      const results = launch.outputs.map((o, i) => {
        if (Array.isArray(o)) {
          const n = numel(o as Shape);
          return batcher.result(Result, batcher.acquire(n * 4), n, this.context, null);
        }
        const r = inPlace[i];
        if (r === null) throw new Error(`gpu backend: WGSL kernel '${launch.name}' writes in place into an empty tensor`);
        return r;
      });
      const pipe = batcher.wgslPipe(launch.name, launch.code, launch.params.byteLength, reads.length, results.length);
      batcher.dispatch(pipe, launch.params, reads, results.map((r) => r.buffer), launch.groups);
      return results;
    });
    done.catch(() => undefined); // failures surface at `read`
    this.tail = done.then(() => undefined, () => undefined);
    return launch.outputs.map((o, i) => {
      const buffer = done.then((rs) => rs[i]);
      buffer.catch(() => undefined);
      if (Array.isArray(o)) return this.wrap(o as Shape, { kind: 'device', buffer, refs: 1 });
      const t = o as GpuTensor;
      t.disposed = true; // the handle is taken over: its buffer now resolves after this call
      return { shape: t.shape, storage: { kind: 'device', buffer, refs: 1 }, disposed: false };
    });
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
