// A worker thread of the CPU engine in a browser (started by platform-browser.ts): its first
// message carries the module and the shared memory, then it serves tasks (worker-loop.mjs).
import { serve } from './worker-loop.mjs';

self.addEventListener('message', (e) => serve(e.data, (m) => self.postMessage(m)), { once: true });
