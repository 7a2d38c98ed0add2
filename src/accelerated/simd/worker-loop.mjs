// The task loop of a worker thread of the CPU engine (plain JS, shared by worker.mjs in Node and
// worker-browser.mjs in browsers). It instantiates the engine's module on the shared memory and
// then serves tasks forever: it spins briefly after each task (kernels come in bursts), then
// sleeps in timed Atomics.wait calls on the task counter. A task names an exported kernel; the
// worker claims chunks of its work items with a compare-exchange on a word that also carries the
// task's sequence number, so a worker that wakes late can never run a chunk of a task that is over
// (the main thread never waits for an idle worker, only for claimed chunks). It adds its busy time
// to its own Float64 slot at byte 1024 + 8·tid (read by pool.ts's profile). The control block
// layout is defined in pool.ts; keep the two in step.

/** Serves tasks forever; `post` sends {ready} once, then {error} for a kernel that threw. */
export const serve = ({ module, memory, names, tid, spinMs }, post) => {
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const fns = names.map((n) => instance.exports[n]);
  const ctl = new Int32Array(memory.buffer, 0, 64);
  const args = new Float64Array(memory.buffer, 256, 32);
  // (slots end with the 64 KiB control area; a worker past them keeps its count to itself)
  const busy = tid < (65536 - 1024) / 8 ? new Float64Array(memory.buffer, 1024 + 8 * tid, 1) : new Float64Array(1);
  const SEQ = 0, FINISHED = 1, FUNC = 2, NARGS = 3, NITEMS = 4, CLAIM = 5, CHUNK = 6, FAILED = 7, NCHUNKS = 8;
  const CHUNK_BITS = 11, CHUNK_MASK = (1 << CHUNK_BITS) - 1, SEQ_MASK = (1 << (31 - CHUNK_BITS)) - 1;

  let seen = Atomics.load(ctl, SEQ);
  post({ ready: true });

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
    // read the task (it may already be over or being replaced: then every claim below fails, since
    // the main thread closes CLAIM before it rewrites the descriptor and tags it anew after)
    const n = Atomics.load(ctl, NARGS);
    const items = Atomics.load(ctl, NITEMS);
    const chunk = Atomics.load(ctl, CHUNK);
    const nChunks = Atomics.load(ctl, NCHUNKS);
    const a = [];
    for (let i = 0; i < n; i++) a.push(args[i]);
    a.push(args[30] + tid * args[31], 0, 0);
    const tag = (s & SEQ_MASK) << CHUNK_BITS;
    for (;;) {
      const w = Atomics.load(ctl, CLAIM);
      if ((w & ~CHUNK_MASK) !== tag) break;
      const c = w & CHUNK_MASK;
      if (c >= nChunks) break;
      if (Atomics.compareExchange(ctl, CLAIM, w, w + 1) !== w) continue;
      const t1 = performance.now();
      try {
        a[n + 1] = c * chunk;
        a[n + 2] = Math.min((c + 1) * chunk, items);
        fns[f](...a);
      } catch (e) {
        Atomics.store(ctl, FAILED, 1);
        post({ error: String(e && e.stack ? e.stack : e) });
      }
      busy[0] += performance.now() - t1;
      Atomics.add(ctl, FINISHED, 1);
      Atomics.notify(ctl, FINISHED);
    }
  }
};
