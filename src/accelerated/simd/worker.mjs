// A worker thread of the CPU engine in Node (started by platform-node.ts): sets the relaxed-SIMD
// flag when the engine uses it, then serves tasks (worker-loop.mjs).
import { parentPort, workerData } from 'node:worker_threads';
import v8 from 'node:v8';
import { serve } from './worker-loop.mjs';

if (workerData.relaxed) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
serve(workerData, (m) => parentPort.postMessage(m));
