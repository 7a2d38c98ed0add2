// A typed wrapper over the parts of gpu.js 2.24 this backend uses. gpu.js's own typings miss the
// WebGPU classes, type `input` as a value that does not exist at runtime and do not say that
// webgpu calls return Promises; this module states what actually comes back in each mode.
// Not a general gpu.js binding: only kernels over flat float32 arrays with a 1-D output.

import { loadedGpuPlatform } from './platform.ts';

/** The gpu.js modes this backend drives explicitly (never 'gpu'/'async' auto-selection), in the order of preference. */
export const GPU_MODES = ['webgpu', 'webasm', 'headlessgl', 'cpu'] as const;
export type GpuMode = (typeof GPU_MODES)[number];

/** The kernel class each mode must run; anything else means gpu.js fell back. */
export const EXPECTED_KERNEL_CLASS: Readonly<Record<GpuMode, string>> = {
  webgpu: 'WebGPUKernel',
  webasm: 'WebAssemblyKernel',
  headlessgl: 'HeadlessGLKernel',
  cpu: 'CPUKernel',
};

/** A WebGPU storage buffer holding a pipeline result (gpu.js's WebGPUBufferResult). */
export interface WebGpuBufferResult {
  readonly type: 'WebGPUBuffer';
  readonly buffer: GpuBufferLike;
  readonly output: readonly number[];
  readonly componentCount: number;
  delete(): void;
}

/** The few members of a GPUBuffer / GPUDevice this backend touches. */
export interface GpuBufferLike {
  readonly size: number;
  destroy(): void;
  mapAsync(mode: number, offset?: number, size?: number): Promise<void>;
  getMappedRange(offset?: number, size?: number): ArrayBuffer;
  unmap(): void;
}

export interface GpuDeviceLike {
  readonly queue: {
    submit(buffers: unknown[]): void;
    onSubmittedWorkDone(): Promise<void>;
    writeBuffer(buffer: GpuBufferLike, offset: number, data: ArrayBufferView): void;
  };
  readonly limits: Record<string, number>;
  createBuffer(desc: { size: number; usage: number; mappedAtCreation?: boolean }): GpuBufferLike;
  createCommandEncoder(): {
    copyBufferToBuffer(src: GpuBufferLike, srcOffset: number, dst: GpuBufferLike, dstOffset: number, size: number): void;
    clearBuffer(buffer: GpuBufferLike, offset?: number, size?: number): void;
    finish(): unknown;
  };
}

export interface GpuAdapterInfoLike {
  readonly vendor?: string;
  readonly architecture?: string;
  readonly device?: string;
  readonly description?: string;
  readonly isFallbackAdapter?: boolean;
}

export interface GpuAdapterLike {
  readonly info?: GpuAdapterInfoLike;
  readonly limits: Record<string, number>;
}

/** What `this` is inside a kernel body. */
export interface KernelThis<C> {
  readonly thread: { readonly x: number; readonly y: number; readonly z: number };
  readonly constants: C;
}

/** A kernel body: one float32 per output cell (webgpu: or 2–4 neighbouring cells as an array); arguments are flat arrays or scalars. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type KernelBody = (this: KernelThis<any>, ...args: any[]) => number | number[];

/** An argument as gpu.js receives it. */
export type KernelArg = Float32Array | WebGpuBufferResult | number;

/** The run shortcut gpu.js returns from createKernel, as this backend uses it. */
export interface CompiledKernel {
  (...args: KernelArg[]): Float32Array | Promise<WebGpuBufferResult>;
  /** the kernel instance that runs now (replaced on a fallback) */
  readonly kernel: { readonly constructor: { readonly name: string }; readonly fallbackReason?: string | null };
  /** the current output size */
  readonly output: readonly number[];
  setOutput(output: number[]): CompiledKernel;
  destroy(): void;
}

export interface KernelSettings {
  readonly output: readonly number[];
  readonly constants?: Readonly<Record<string, number>>;
  readonly pipeline: boolean;
  readonly immutable: boolean;
  readonly tactic?: 'speed' | 'balanced' | 'precision';
  readonly loopMaxIterations?: number;
  readonly dynamicOutput?: boolean;
  readonly dynamicArguments?: boolean;
}

export interface GpuInstance {
  createKernel(body: KernelBody | string, settings: KernelSettings): CompiledKernel;
  destroy(): Promise<void>;
}

/** The parts of the gpu.js package this backend uses (CommonJS in Node, its browser bundle in browsers). */
export interface GpuJsLibrary {
  readonly GPU: new (settings: { mode: GpuMode }) => GpuInstance;
  /** gpu.js's shared WebGPU device (the singleton every webgpu kernel runs on) */
  readonly WebGPUContext: {
    acquire(): Promise<{ adapter: GpuAdapterLike; device: GpuDeviceLike; isLost: boolean }>;
  };
  /** gpu.js's WebGPUBufferResult class (pipeline handles made outside gpu.js's own run) */
  readonly WebGPUBufferResult: new (settings: object) => WebGpuBufferResult;
}

/** gpu.js as the platform adapter loaded it (selectMode loads the adapter before any kernel). */
export const gpujs = (): GpuJsLibrary => loadedGpuPlatform().gpujs;

/** gpu.js's shared WebGPU device (the singleton every webgpu kernel runs on). */
export const webGpuContext = (): GpuJsLibrary['WebGPUContext'] => gpujs().WebGPUContext;

/** `GPUBufferUsage` / `GPUMapMode` values (fixed by the WebGPU spec). */
export const BUFFER_USAGE = { MAP_READ: 0x0001, COPY_DST: 0x0008 } as const;
export const MAP_MODE_READ = 0x0001;

/** gpu.js's WebGPUBufferResult class (pipeline handles made outside gpu.js's own run). */
export const webGpuBufferResult = (): GpuJsLibrary['WebGPUBufferResult'] => gpujs().WebGPUBufferResult;
