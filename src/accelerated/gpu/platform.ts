// What the gpu backend needs from its platform, and the slot holding the adapter in use
// (platform-node.ts: gpu.js's CommonJS sources, Dawn from the `webgpu` package, the optional `gl`
// package; platform-browser.ts: gpu.js's browser bundle and the browser's own navigator.gpu).

import { platformSlot, siblingUrl } from '../../core/platform-slot.ts';
import type { GpuJsLibrary } from './gpujs.ts';

export interface GpuPlatform {
  readonly name: string;
  /** the gpu.js package */
  readonly gpujs: GpuJsLibrary;
  /** makes `navigator.gpu` available (Node: Dawn); the reason when it cannot, else null */
  installNavigatorGpu(): Promise<string | null>;
  /** what to do when no WebGPU adapter answers (appended to the reason) */
  readonly noAdapterHint: string;
  /** why gpu.js's headless-GL mode cannot run here, or null */
  headlessGlProblem(): string | null;
}

export const gpuPlatform = platformSlot<GpuPlatform>('gpu', siblingUrl(import.meta.url, 'platform-node'));

/** The adapter after `gpuPlatform.get()` (mode selection awaits it before any kernel is built). */
export const loadedGpuPlatform = (): GpuPlatform => {
  const p = gpuPlatform.current();
  if (p === undefined) throw new Error('gpu: the platform adapter is not loaded yet (create the backend with createGpuBackend)');
  return p;
};
