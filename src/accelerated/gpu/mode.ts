// Choosing and proving the gpu.js mode: which modes can run here and why not, the WebGPU adapter
// (and whether it is a software rasterizer), and a probe launch that checks the kernel class that
// actually ran. Effects live here and in the platform adapters (navigator.gpu, optional native
// modules); kernels never see them.

import type { GpuAdapterInfoLike, GpuDeviceLike, GpuInstance, GpuMode } from './gpujs.ts';
import { EXPECTED_KERNEL_CLASS, gpujs, webGpuContext } from './gpujs.ts';
import { gpuPlatform } from './platform.ts';

export interface ModeProbe {
  readonly mode: GpuMode;
  readonly gpu: GpuInstance;
  /** the WebGPU device gpu.js runs on (webgpu mode only) */
  readonly device: GpuDeviceLike | null;
  /** gpu.js's context object for that device (its results carry it; webgpu mode only) */
  readonly context: unknown;
  /** e.g. 'webgpu on mesa llvmpipe (software)' */
  readonly description: string;
}

export class ModeUnavailableError extends Error {
  constructor(mode: GpuMode, why: string) {
    super(`gpu.js mode '${mode}' is not available: ${why}`);
    this.name = 'ModeUnavailableError';
  }
}

const SOFTWARE_ADAPTER = /llvmpipe|lavapipe|swiftshader|softpipe|software|warp/i;

/** A readable adapter name and whether it is a software (CPU) implementation. */
export const describeAdapter = (info: GpuAdapterInfoLike | undefined): { name: string; software: boolean } => {
  const fields = [info?.vendor, info?.architecture, info?.device, info?.description].filter((f): f is string => !!f);
  // the device field names the chip on some drivers (e.g. 'nvidia-h200-…') where the description names only the driver
  const device = info?.device && !(info.description ?? '').toLowerCase().includes(info.device.toLowerCase()) ? info.device : undefined;
  const name = [info?.vendor, info?.description, device].filter((f) => !!f).join(' ') || 'unnamed adapter';
  const software = info?.isFallbackAdapter === true || fields.some((f) => SOFTWARE_ADAPTER.test(f));
  return { name, software };
};

/** WebGPU adapter and device as gpu.js will use them, or the reason there is none. */
const webGpuAdapter = async (): Promise<{ device: GpuDeviceLike; context: unknown; name: string; software: boolean } | string> => {
  const why = await (await gpuPlatform.get()).installNavigatorGpu();
  if (why !== null) return why;
  try {
    const ctx = await webGpuContext().acquire();
    const { name, software } = describeAdapter(ctx.adapter.info);
    return { device: ctx.device, context: ctx, name, software };
  } catch (e) {
    return `no WebGPU adapter answered (${(e as Error).message}); ${(await gpuPlatform.get()).noAdapterHint}`;
  }
};

/** y[i] = 2·x[i]: the probe kernel. */
function probeBody(this: { thread: { x: number } }, x: Float32Array): number {
  return 2 * x[this.thread.x];
}

/** Runs a probe kernel in `mode` and checks both its result and the kernel class that ran. */
const probe = async (gpu: GpuInstance, mode: GpuMode): Promise<void> => {
  const k = gpu.createKernel(probeBody, { output: [4], pipeline: false, immutable: false });
  const x = new Float32Array([1, 2, 3, -4]);
  const out = await Promise.resolve(k(x) as unknown as Float32Array | Promise<Float32Array>);
  const ran = k.kernel.constructor.name;
  k.destroy();
  if (ran !== EXPECTED_KERNEL_CLASS[mode]) {
    throw new ModeUnavailableError(mode, `gpu.js ran the probe on ${ran} instead of ${EXPECTED_KERNEL_CLASS[mode]} (a silent fallback)`);
  }
  const got = Array.from(out as ArrayLike<number>);
  if (got.join(',') !== '2,4,6,-8') throw new ModeUnavailableError(mode, `the probe kernel computed [${got.join(', ')}] instead of [2, 4, 6, -8]`);
};

export interface SelectOptions {
  readonly gpuMode?: GpuMode;
  readonly requireHardwareAdapter?: boolean;
}

/** Why `mode` cannot run here (null when it can). Cheap enough for listing targets. */
export const modeProblem = async (mode: GpuMode, requireHardwareAdapter = false): Promise<string | null> => {
  switch (mode) {
    case 'cpu':
      return null;
    case 'webasm':
      return typeof (globalThis as { WebAssembly?: unknown }).WebAssembly === 'object' ? null : 'this JavaScript engine has no WebAssembly';
    case 'headlessgl':
      return (await gpuPlatform.get()).headlessGlProblem();
    case 'webgpu': {
      const a = await webGpuAdapter();
      if (typeof a === 'string') return a;
      if (requireHardwareAdapter && a.software) return `the only WebGPU adapter is a software rasterizer (${a.name})`;
      return null;
    }
  }
};

/**
 * Picks the mode (explicit, else webgpu when an adapter answers, else webasm), creates the gpu.js
 * instance and proves it with a probe launch. Never falls back from an explicit request.
 */
export const selectMode = async (options: SelectOptions, log: (m: string) => void): Promise<ModeProbe> => {
  const requireHw = options.requireHardwareAdapter === true;
  let mode: GpuMode;
  let reason: string;
  if (options.gpuMode !== undefined) {
    mode = options.gpuMode;
    reason = 'requested';
  } else {
    const webgpuProblem = await modeProblem('webgpu', requireHw);
    if (webgpuProblem === null) {
      mode = 'webgpu';
      reason = 'a WebGPU adapter answered';
    } else if (requireHw) {
      throw new ModeUnavailableError('webgpu', `${webgpuProblem}; a hardware adapter was required`);
    } else {
      mode = 'webasm';
      reason = `webgpu not used: ${webgpuProblem}`;
    }
  }
  const problem = await modeProblem(mode, requireHw);
  if (problem !== null) throw new ModeUnavailableError(mode, problem);
  let device: GpuDeviceLike | null = null;
  let context: unknown = null;
  let description: string = mode;
  if (mode === 'webgpu') {
    const a = await webGpuAdapter();
    if (typeof a === 'string') throw new ModeUnavailableError(mode, a);
    device = a.device;
    context = a.context;
    description = `webgpu on ${a.name}${a.software ? ' (software)' : ''}`;
  } else if (mode === 'webasm') {
    description = 'webasm (gpu.js WebAssembly, 1 thread)';
  } else if (mode === 'cpu') {
    description = 'cpu (gpu.js plain JavaScript)';
  } else {
    description = 'headlessgl (gpu.js WebGL via the gl package)';
  }
  await gpuPlatform.get();
  const { GPU } = gpujs();
  const gpu = new GPU({ mode });
  await probe(gpu, mode);
  log(`gpu backend: mode ${mode} (${reason}); ${description}`);
  return { mode, gpu, device, context, description };
};
