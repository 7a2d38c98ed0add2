// The CPU engine's browser adapter: cores from navigator.hardwareConcurrency, threads as module
// Web Workers (worker-browser.mjs). Needs a cross-origin-isolated page (COOP + COEP headers) for
// the shared memory, and must itself run in a worker: browsers forbid Atomics.wait on the page's
// main thread, which the engine's calling thread uses while it waits for its workers.

import type { EngineWorker, EngineWorkerData, SimdPlatform } from './platform.ts';

interface WebWorker {
  postMessage(message: unknown): void;
  terminate(): void;
  addEventListener(type: 'message' | 'error', listener: (e: { data?: unknown; message?: string }) => void): void;
}
type WorkerCtor = new (url: URL, options: { type: 'module'; name?: string }) => WebWorker;

const g = globalThis as unknown as { Worker?: WorkerCtor; navigator?: { hardwareConcurrency?: number }; crossOriginIsolated?: boolean };
// the browser's Worker, under its own name: bundlers (Vite) find `new Worker(new URL(…))` and bundle the worker file
declare const Worker: WorkerCtor;

/** Why the engine cannot run in this browser context, or null. */
export const browserSimdProblem = (): string | null => {
  if (g.crossOriginIsolated !== true) return 'the page is not cross-origin isolated (it needs the COOP/COEP headers `npm run web` sets), so there is no SharedArrayBuffer';
  if (g.Worker === undefined) return 'this context cannot start Web Workers';
  return null;
};

const startWorker = async (data: EngineWorkerData, onError: (message: string) => void): Promise<EngineWorker> => {
  const problem = browserSimdProblem();
  if (problem !== null) throw new Error(`simd: ${problem}`);
  const w = new Worker(new URL('./worker-browser.mjs', import.meta.url), { type: 'module', name: `hrm-simd-${data.tid}` });
  await new Promise<void>((resolve, reject) => {
    w.addEventListener('error', (e) => reject(new Error(e.message ?? 'worker failed to load')));
    w.addEventListener('message', (e) => {
      const m = e.data as { ready?: boolean; error?: string };
      if (m.ready === true) resolve();
      if (m.error !== undefined) onError(m.error);
    });
    w.postMessage(data);
  }).catch((e: unknown) => {
    w.terminate();
    throw e;
  });
  return { terminate: async () => w.terminate() };
};

export const platform: SimdPlatform = {
  name: 'browser',
  cores: () => Math.max(1, g.navigator?.hardwareConcurrency ?? 1),
  setEngineFlag: () => false,
  startWorker,
};
