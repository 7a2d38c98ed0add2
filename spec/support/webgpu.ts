// Test support: the gpu backend in its webgpu mode for a test file, or why there is none here (the
// file's tests then skip with that reason, printed once).

import type { GpuBackend } from '../../src/accelerated/gpu/backend.ts';
import { createGpuBackend } from '../../src/accelerated/gpu/backend.ts';

/** The webgpu backend, or null with the reason (warned as `<file>: webgpu unavailable, skipped: …`). */
export const openWebgpu = async (file: string): Promise<{ backend: GpuBackend | null; why: string }> => {
  try {
    return { backend: await createGpuBackend({ gpuMode: 'webgpu', log: () => {} }), why: '' };
  } catch (e) {
    const why = (e as Error).message;
    console.warn(`${file}: webgpu unavailable, skipped: ${why}`);
    return { backend: null, why };
  }
};
