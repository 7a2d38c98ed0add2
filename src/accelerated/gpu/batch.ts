// webgpu dispatch without gpu.js's per-call submit: a built gpu.js kernel's pipeline and bind-group
// layout are recorded into one shared compute pass, up to BATCH dispatches per queue submit, each
// with its own parameter block (one uniform buffer per batch, 256-byte slots) and its own output
// buffer. gpu.js still translates, compiles and builds every kernel (its first call runs through
// gpu.js); this module only replaces the steady-state submission. Not a kernel, not a scheduler:
// the caller (device.ts) keeps program order and must `flush` before anything else touches the queue.

import type { GpuBufferLike, GpuDeviceLike, KernelArg, WebGpuBufferResult } from './gpujs.ts';

/** Dispatches per queue submit. */
const BATCH = 64;
/** Bytes per parameter slot (WebGPU's minimum uniform-buffer offset alignment is at most 256). */
const SLOT = 256;
/** Bytes of the per-batch buffer that holds small host arrays (kernel scalars as arrays). */
const ARENA = 64 * 1024;
/** Host arrays up to this many bytes go to the arena; larger ones get a buffer of their own. */
const SMALL = 4096;

const USAGE = { MAP_READ: 0x1, COPY_SRC: 0x4, COPY_DST: 0x8, UNIFORM: 0x40, STORAGE: 0x80 } as const;

/** The parts of a built gpu.js WebGPUKernel this module reads. */
interface BuiltKernel {
  readonly built: boolean;
  readonly computePipeline: unknown;
  readonly bindGroupLayout: unknown;
  readonly context: unknown;
  readonly workgroupSize: readonly number[];
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
  setBindGroup(i: number, g: unknown): void;
  dispatchWorkgroups(x: number, y: number, z: number): void;
  end(): void;
}

interface DeviceExt extends GpuDeviceLike {
  createBindGroup(desc: { layout: unknown; entries: { binding: number; resource: { buffer: GpuBufferLike; offset?: number; size?: number } }[] }): unknown;
  createCommandEncoder(): ReturnType<GpuDeviceLike['createCommandEncoder']> & { beginComputePass(): PassLike };
}

interface Open {
  readonly uniforms: GpuBufferLike;
  readonly host: ArrayBuffer;
  readonly arena: GpuBufferLike;
  readonly arenaHost: ArrayBuffer;
  arenaUsed: number;
  readonly encoder: ReturnType<DeviceExt['createCommandEncoder']>;
  readonly pass: PassLike;
  slots: number;
  count: number;
  readonly after: (() => void)[];
}

export class Batcher {
  private open: Open | null = null;

  constructor(private readonly device: GpuDeviceLike) {}

  /** Whether `kernel` (a gpu.js kernel instance) is built and plain enough to be recorded here. */
  static canRecord(kernel: unknown): boolean {
    const k = kernel as Partial<BuiltKernel>;
    return k.built === true && k.computePipeline != null && k.paramsLayout !== undefined &&
      k.paramsLayout.bufferConstants.length === 0 && k.paramsLayout.randomSeedOffset === null &&
      k.paramsLayout.byteLength <= SLOT * 4 && k.workgroupSize?.length === 3;
  }

  /**
   * Records one dispatch of `threads` threads, each writing `comps` consecutive floats, and returns
   * its output as a flat handle of threads·comps cells (submitted at the next flush).
   */
  record(kernel: unknown, Result: new (settings: object) => WebGpuBufferResult, args: readonly KernelArg[], threads: number, comps: number): WebGpuBufferResult {
    const k = kernel as BuiltKernel;
    const dev = this.device as DeviceExt;
    const layout = k.paramsLayout;
    const slots = Math.ceil(layout.byteLength / SLOT);
    if (this.open !== null && this.open.slots + slots > BATCH * 4) this.flush();
    const b = this.open ?? this.begin();
    const base = b.slots * SLOT;
    const u32 = new Uint32Array(b.host, base, layout.byteLength / 4);
    const i32 = new Int32Array(b.host, base, layout.byteLength / 4);
    const f32 = new Float32Array(b.host, base, layout.byteLength / 4);
    const { groups, dispatchWidth } = k._computeDispatch([threads, 1, 1]);
    u32[0] = threads;
    u32[1] = 1;
    u32[2] = 1;
    u32[3] = dispatchWidth;
    const entries: { binding: number; resource: { buffer: GpuBufferLike; offset?: number; size?: number } }[] = [
      { binding: 0, resource: { buffer: b.uniforms, offset: base, size: layout.byteLength } },
    ];
    layout.arrayArgs.forEach((rec, i) => {
      const a = args[rec.index];
      let buffer: GpuBufferLike;
      let length: number;
      if (a instanceof Float32Array && a.byteLength <= SMALL && this.arenaRoom(b, a.byteLength)) {
        const offset = this.align(b.arenaUsed);
        new Float32Array(b.arenaHost, offset, a.length).set(a);
        const size = Math.max(4, a.byteLength);
        b.arenaUsed = offset + size;
        const d = rec.dimsOffset / 4;
        u32[d] = a.length;
        u32[d + 1] = 1;
        u32[d + 2] = 1;
        u32[d + 3] = a.length;
        entries.push({ binding: 1 + i, resource: { buffer: b.arena, offset, size } });
        return;
      }
      if (a instanceof Float32Array) {
        length = a.length;
        // queue writes run before the submit that follows them (mapped-at-creation buffers cost a
        // staging buffer and a copy each in Dawn)
        buffer = dev.createBuffer({ size: Math.max(4, a.byteLength), usage: USAGE.STORAGE | USAGE.COPY_DST });
        if (a.length > 0) this.device.queue.writeBuffer(buffer, 0, a);
        b.after.push(() => buffer.destroy());
      } else {
        const r = a as WebGpuBufferResult;
        if (r.componentCount !== 1) throw new Error(`gpu backend: argument #${rec.index} has ${r.componentCount} components per cell, expected 1`);
        buffer = r.buffer;
        length = r.output.reduce((p, d) => p * d, 1);
      }
      const d = rec.dimsOffset / 4;
      u32[d] = length;
      u32[d + 1] = 1;
      u32[d + 2] = 1;
      u32[d + 3] = length;
      entries.push({ binding: 1 + i, resource: { buffer } });
    });
    for (const rec of layout.scalarArgs) {
      const v = args[rec.index] as number;
      const s = rec.offset / 4;
      if (rec.type === 'Integer') i32[s] = v;
      else if (rec.type === 'Boolean') u32[s] = v ? 1 : 0;
      else f32[s] = v;
    }
    const out = dev.createBuffer({ size: threads * comps * 4, usage: USAGE.STORAGE | USAGE.COPY_SRC });
    entries.push({ binding: 1 + layout.arrayArgs.length, resource: { buffer: out } });
    const group = dev.createBindGroup({ layout: k.bindGroupLayout, entries });
    b.pass.setPipeline(k.computePipeline);
    b.pass.setBindGroup(0, group);
    b.pass.dispatchWorkgroups(groups[0], groups[1], groups[2]);
    b.slots += slots;
    b.count++;
    const result = new Result({ buffer: out, output: [threads * comps], componentCount: 1, context: k.context, kernel });
    if (b.count >= BATCH) this.flush();
    return result;
  }

  /** Runs `f` once the dispatches recorded so far are submitted (now, when none are pending). */
  later(f: () => void): void {
    if (this.open === null) f();
    else this.open.after.push(f);
  }

  /** Submits the recorded dispatches (one queue submit), then runs what waited for that. */
  flush(): void {
    const b = this.open;
    if (b === null) return;
    this.open = null;
    b.pass.end();
    this.device.queue.writeBuffer(b.uniforms, 0, new Uint8Array(b.host, 0, b.slots * SLOT));
    if (b.arenaUsed > 0) this.device.queue.writeBuffer(b.arena, 0, new Uint8Array(b.arenaHost, 0, b.arenaUsed));
    this.device.queue.submit([b.encoder.finish()]);
    b.uniforms.destroy();
    b.arena.destroy();
    for (const f of b.after) f();
  }

  /** The storage-buffer offset alignment of this device (256 where it does not say). */
  private align(offset: number): number {
    const a = this.device.limits.minStorageBufferOffsetAlignment ?? 256;
    return Math.ceil(offset / a) * a;
  }

  /** Whether `bytes` more fit in the batch's arena. */
  private arenaRoom(b: Open, bytes: number): boolean {
    return this.align(b.arenaUsed) + Math.max(4, bytes) <= ARENA;
  }

  private begin(): Open {
    const dev = this.device as DeviceExt;
    const bytes = BATCH * 4 * SLOT;
    const encoder = dev.createCommandEncoder();
    this.open = {
      uniforms: dev.createBuffer({ size: bytes, usage: USAGE.UNIFORM | USAGE.COPY_DST }),
      host: new ArrayBuffer(bytes),
      arena: dev.createBuffer({ size: ARENA, usage: USAGE.STORAGE | USAGE.COPY_DST }),
      arenaHost: new ArrayBuffer(ARENA),
      arenaUsed: 0,
      encoder,
      pass: encoder.beginComputePass(),
      slots: 0,
      count: 0,
      after: [],
    };
    return this.open;
  }
}
