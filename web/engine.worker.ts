// The engine worker: holds the backend and the model, answers the page's requests (protocol.ts).
// Backend choice: `auto` takes gpu on a hardware WebGPU adapter, else the CPU engine (WebAssembly
// SIMD on Web Workers), and the reasons are sent back for the page to show.

import { CHECK_NAMES, collectDynamics, conformanceTargets, createBackend, IGNORE_LABEL, modelFromCheckpoint, selectTargets, solveOne, verifyTargets, type Backend, type Hrm } from '../src/browser.ts';
import type { Reply, Request, Responses, VerifyRowView } from './protocol.ts';

const post = (m: Reply): void => (self as unknown as { postMessage(m: Reply): void }).postMessage(m);

let backend: Backend<unknown> | undefined;
let hrm: Hrm | undefined;
let haltMax = 1;

const handlers: { [K in Request['op']]: (r: Extract<Request, { op: K }>, progress: (line: string) => void) => Promise<Responses[K]> } = {
  init: async (r) => {
    const log: string[] = [];
    await hrm?.dispose();
    hrm = undefined;
    await backend?.close?.();
    backend = await createBackend(r.backend, { log: (m) => log.push(m) });
    return { name: backend.name, description: backend.description, log };
  },
  load: async (r) => {
    if (backend === undefined) throw new Error('no backend yet');
    await hrm?.dispose();
    hrm = undefined;
    const loaded = await modelFromCheckpoint(new Uint8Array(r.bytes), r.name, backend);
    hrm = loaded.hrm;
    const a = loaded.checkpoint.config.arch;
    haltMax = a.halt_max_steps;
    return {
      name: r.name,
      seqLen: a.seq_len,
      vocab: a.vocab_size,
      haltMaxSteps: a.halt_max_steps,
      summary: `hidden ${a.hidden_size}, ${a.num_heads} heads, ${a.H_layers}+${a.L_layers} layers, H_cycles ${a.H_cycles}, L_cycles ${a.L_cycles}, up to ${a.halt_max_steps} segments; seq_len ${a.seq_len}, vocab ${a.vocab_size}`,
    };
  },
  solve: async (r) => {
    if (hrm === undefined) throw new Error('load a model first');
    const tokens = Int32Array.from(r.tokens);
    const out = await solveOne(hrm, tokens, 0, Math.max(1, r.haltMaxSteps || haltMax), true);
    // the same segments again with the model's probe: every L and H update's forward residual
    const batch = { inputs: tokens, labels: new Int32Array(tokens.length).fill(IGNORE_LABEL), puzzleIdentifiers: Int32Array.of(0), batchSize: 1, seqLen: tokens.length };
    const d = await collectDynamics(hrm, [{ batch, size: 1 }], { segments: out.traces.length, act: false, keepStates: 0 });
    return {
      segmentsUsed: out.segmentsUsed,
      residuals: d.schedule.map((u, k) => ({ segment: u.segment, module: u.module, residual: d.residuals[k][0] })),
      segments: out.traces.map((t) => ({ segment: t.segment, tokens: Array.from(t.predictions), qHalt: t.qHalt, qContinue: t.qContinue, changed: t.changed })),
    };
  },
  verify: async (r, progress) => {
    const targets = selectTargets(await conformanceTargets(), r.family);
    if (targets.length === 0) throw new Error(`no conformance target matches '${r.family}'`);
    const lines: string[] = [];
    const out = await verifyTargets(
      { backend: r.family, runs: r.runs, modelRuns: r.modelRuns, seed: r.seed, kernels: [...CHECK_NAMES] },
      targets,
      (l) => lines.push(l),
      progress,
    );
    const rows: VerifyRowView[] = out.reports.map((x) => ({
      target: x.target,
      kernel: x.kernel,
      runs: x.runs,
      worst: x.worst?.err ?? null,
      allowed: x.worst?.allowed ?? null,
      pass: x.pass,
      ...(x.failure !== undefined ? { failure: x.failure } : {}),
    }));
    return { rows, unavailable: [...out.unavailable], lines };
  },
};

let queue: Promise<void> = Promise.resolve();
self.addEventListener('message', (e: MessageEvent<{ id: number } & Request>) => {
  const { id, ...req } = e.data;
  // one request at a time: the model and backend are shared
  queue = queue.then(async () => {
    try {
      const handler = handlers[req.op] as (r: Request, p: (line: string) => void) => Promise<unknown>;
      post({ id, ok: true, value: await handler(req, (line) => post({ id, progress: line })) });
    } catch (err) {
      post({ id, ok: false, error: (err as Error).message ?? String(err) });
    }
  });
});
