// The gpu backend's Node adapter: gpu.js from its CommonJS sources (the WebGPU classes it does not
// export from its typed entry are taken from their files), WebGPU from the `webgpu` package (Dawn)
// installed as navigator.gpu, and the optional native `gl` package for headless GL.

import { createRequire } from 'node:module';
import type { GpuJsLibrary } from './gpujs.ts';
import type { GpuPlatform } from './platform.ts';

const require = createRequire(import.meta.url);

const gpujs: GpuJsLibrary = {
  GPU: (require('gpu.js') as Pick<GpuJsLibrary, 'GPU'>).GPU,
  WebGPUContext: (require('gpu.js/src/backend/web-gpu/context.js') as Pick<GpuJsLibrary, 'WebGPUContext'>).WebGPUContext,
  WebGPUBufferResult: (require('gpu.js/src/backend/web-gpu/buffer-result.js') as Pick<GpuJsLibrary, 'WebGPUBufferResult'>).WebGPUBufferResult,
};

interface AdapterLike {
  readonly limits: Record<string, number>;
  requestDevice(desc?: { requiredLimits?: Record<string, number> }): Promise<unknown>;
}

/**
 * Devices of `gpu`'s adapters get the adapter's number of storage buffers per shader stage instead
 * of WebGPU's default 8 (gpu.js asks only for buffer sizes): AdamATan2 over many tensors binds 4
 * per tensor (adamAtan2Many in adam-atan2.ts).
 */
const withStorageBindings = (gpu: { requestAdapter(o?: unknown): Promise<AdapterLike | null> }): void => {
  const requestAdapter = gpu.requestAdapter.bind(gpu);
  gpu.requestAdapter = async (o?: unknown) => {
    const adapter = await requestAdapter(o);
    if (adapter === null) return null;
    const requestDevice = adapter.requestDevice.bind(adapter);
    const max = adapter.limits.maxStorageBuffersPerShaderStage;
    adapter.requestDevice = (desc = {}) => requestDevice({ ...desc, requiredLimits: { ...desc.requiredLimits, maxStorageBuffersPerShaderStage: max } });
    return adapter;
  };
};

/** Installs `navigator.gpu` from the `webgpu` package (Dawn) once; returns why not when it cannot load. */
const installNavigatorGpu = async (): Promise<string | null> => {
  const g = globalThis as { navigator?: { gpu?: unknown } };
  if (g.navigator?.gpu) return null;
  try {
    const webgpu = (await import('webgpu')) as { create: (flags: string[]) => unknown; globals: Record<string, unknown> };
    Object.assign(globalThis, webgpu.globals);
    const gpu = webgpu.create([]) as Parameters<typeof withStorageBindings>[0];
    withStorageBindings(gpu);
    if (g.navigator === undefined) {
      Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
    } else {
      Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
    }
    return null;
  } catch (e) {
    return `the 'webgpu' package (Dawn) did not load: ${(e as Error).message}`;
  }
};

/** Why headless GL cannot run here, or null when a GL context can be created. */
const headlessGlProblem = (): string | null => {
  let gl: (w: number, h: number) => unknown;
  try {
    gl = require('gl') as (w: number, h: number) => unknown;
  } catch {
    return "the optional native package 'gl' is not installed (it builds from source and needs an X display, e.g. Xvfb)";
  }
  try {
    const ctx = gl(1, 1);
    if (!ctx) return "the 'gl' package is installed but created no GL context (no X display; run under Xvfb)";
  } catch (e) {
    return `the 'gl' package failed to create a context: ${(e as Error).message}`;
  }
  return null;
};

export const platform: GpuPlatform = {
  name: 'node',
  gpujs,
  installNavigatorGpu,
  noAdapterHint: "on Linux this needs a Vulkan driver (libvulkan1 + an ICD: the GPU vendor's, or Mesa lavapipe ≥ 25 for a CPU)",
  headlessGlProblem,
};
