// What the CPU engine needs from its platform, and the slot holding the adapter in use
// (platform-node.ts: worker_threads and V8 flags; platform-browser.ts: Web Workers).

import { platformSlot, siblingUrl } from '../../core/platform-slot.ts';
import type { WasmMemory, WasmModule } from './wasm-api.ts';

/** What a worker thread receives to serve tasks (see worker-loop.mjs). */
export interface EngineWorkerData {
  readonly module: WasmModule;
  readonly memory: WasmMemory;
  readonly relaxed: boolean;
  readonly names: readonly string[];
  readonly tid: number;
  readonly spinMs: number;
}

/** A started worker thread of the engine. */
export interface EngineWorker {
  terminate(): Promise<void>;
}

export interface SimdPlatform {
  /** 'node' or 'browser' (for messages) */
  readonly name: string;
  /** logical cores available to this process or page */
  cores(): number;
  /** sets a V8 flag where the runtime allows it; false where it cannot (a browser) */
  setEngineFlag(flag: string): boolean;
  /** starts a worker serving tasks on the shared memory; resolves once it is ready; errors reported later go to `onError` */
  startWorker(data: EngineWorkerData, onError: (message: string) => void): Promise<EngineWorker>;
}

export const simdPlatform = platformSlot<SimdPlatform>('simd', siblingUrl(import.meta.url, 'platform-node'));
