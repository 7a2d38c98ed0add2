// The gpu backend's browser adapter: gpu.js's browser bundle (which exports its WebGPU classes on
// the GPU constructor) and the browser's own navigator.gpu. Headless GL is a Node-only mode.

import GPU from 'gpu.js';
import type { GpuJsLibrary } from './gpujs.ts';
import type { GpuPlatform } from './platform.ts';

const bundle = GPU as unknown as GpuJsLibrary['GPU'] & Omit<GpuJsLibrary, 'GPU'>;

export const platform: GpuPlatform = {
  name: 'browser',
  gpujs: { GPU: bundle, WebGPUContext: bundle.WebGPUContext, WebGPUBufferResult: bundle.WebGPUBufferResult },
  installNavigatorGpu: async () =>
    (globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu ? null : 'this browser exposes no navigator.gpu (WebGPU is off or unsupported here)',
  noAdapterHint: 'the browser offers WebGPU but no adapter (headless or blocklisted GPU; see chrome://gpu)',
  headlessGlProblem: () => 'headless GL is a Node mode (the gl package); in a browser gpu.js would use WebGL',
};
