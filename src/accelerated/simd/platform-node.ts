// The CPU engine's Node adapter: cores from `os`, V8 flags from `v8`, threads from worker_threads
// (worker.mjs). Workers are unref'ed once ready, so a process that forgets `close()` still exits.

import os from 'node:os';
import v8 from 'node:v8';
import { Worker } from 'node:worker_threads';
import type { EngineWorker, EngineWorkerData, SimdPlatform } from './platform.ts';

const startWorker = async (data: EngineWorkerData, onError: (message: string) => void): Promise<EngineWorker> => {
  // worker.mjs is plain JS: the parent's flags (loaders, --input-type, …) are not for it
  const w = new Worker(new URL('./worker.mjs', import.meta.url), { execArgv: [], workerData: data });
  try {
    await new Promise<void>((resolve, reject) => {
      w.once('error', reject);
      w.on('message', (m: { ready?: boolean; error?: string }) => {
        if (m.ready === true) resolve();
        if (m.error !== undefined) onError(m.error);
      });
    });
  } catch (e) {
    await w.terminate();
    throw e;
  }
  // only now: an unref'ed worker does not keep the event loop alive while we wait for it
  w.unref();
  return { terminate: async () => void (await w.terminate()) };
};

export const platform: SimdPlatform = {
  name: 'node',
  cores: () => os.availableParallelism(),
  setEngineFlag: (flag) => {
    v8.setFlagsFromString(flag);
    return true;
  },
  startWorker,
};
