// A worker thread of the CPU engine (plain JS, loaded by pool.ts). It instantiates the engine's
// module on the shared memory and then serves tasks forever: it spins briefly after each task
// (kernels come in bursts), then sleeps in timed Atomics.wait calls on the task counter. A task
// names an exported kernel; the worker grabs chunks of its work items from a shared counter.
// The control block layout is defined in pool.ts (CTL_* and ARGS_*); keep the two in step.
import { parentPort, workerData } from 'node:worker_threads';
import v8 from 'node:v8';

const { module, memory, relaxed, names, tid, spinMs } = workerData;
if (relaxed) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
const instance = new WebAssembly.Instance(module, { env: { memory } });
const fns = names.map((n) => instance.exports[n]);
const ctl = new Int32Array(memory.buffer, 0, 64);
const args = new Float64Array(memory.buffer, 256, 32);
const SEQ = 0, DONE = 1, FUNC = 2, NARGS = 3, NITEMS = 4, NEXT = 5, CHUNK = 6, FAILED = 7;

let seen = Atomics.load(ctl, SEQ);
parentPort.postMessage({ ready: true });

for (;;) {
  let s;
  let spins = 0;
  const t0 = performance.now();
  while ((s = Atomics.load(ctl, SEQ)) === seen) {
    if ((++spins & 255) === 0 && performance.now() - t0 > spinMs) Atomics.wait(ctl, SEQ, seen, 20);
  }
  seen = s;
  const f = Atomics.load(ctl, FUNC);
  if (f < 0) break;
  try {
    const fn = fns[f];
    const n = ctl[NARGS];
    const a = [];
    for (let i = 0; i < n; i++) a.push(args[i]);
    a.push(args[30] + tid * args[31], 0, 0);
    const items = ctl[NITEMS];
    const chunk = ctl[CHUNK];
    let lo;
    while ((lo = Atomics.add(ctl, NEXT, chunk)) < items) {
      a[n + 1] = lo;
      a[n + 2] = Math.min(lo + chunk, items);
      fn(...a);
    }
  } catch (e) {
    Atomics.store(ctl, FAILED, 1);
    parentPort.postMessage({ error: String(e && e.stack ? e.stack : e) });
  }
  Atomics.add(ctl, DONE, 1);
}
