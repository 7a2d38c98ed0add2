// Messages between the page (main.ts) and the engine worker (engine.worker.ts). The model and its
// backend live in the worker: the CPU engine waits with Atomics.wait, which browsers allow only
// off the page's main thread, and the page stays responsive while a segment computes.

export interface SegmentView {
  readonly segment: number;
  readonly tokens: number[];
  readonly qHalt: number;
  readonly qContinue: number;
  readonly changed: number;
}

/** One update of the recurrence and its forward residual ‖z_t − z_{t−1}‖ / ‖z_{t−1}‖ (src/analyze/dynamics.ts). */
export interface ResidualView {
  readonly segment: number;
  readonly module: 'L' | 'H';
  readonly residual: number;
}

export interface ModelInfo {
  readonly name: string;
  readonly seqLen: number;
  readonly vocab: number;
  readonly haltMaxSteps: number;
  readonly summary: string;
}

export interface VerifyRowView {
  readonly target: string;
  readonly kernel: string;
  readonly runs: number;
  readonly worst: number | null;
  readonly allowed: number | null;
  readonly pass: boolean;
  readonly failure?: string;
}

export type Request =
  | { readonly op: 'init'; readonly backend: string }
  | { readonly op: 'load'; readonly bytes: ArrayBuffer; readonly name: string }
  | { readonly op: 'solve'; readonly tokens: number[]; readonly haltMaxSteps: number }
  | { readonly op: 'verify'; readonly family: string; readonly runs: number; readonly modelRuns: number; readonly seed: number };

export interface Responses {
  init: { name: string; description: string; log: string[] };
  load: ModelInfo;
  solve: { segments: SegmentView[]; segmentsUsed: number; residuals: ResidualView[] };
  verify: { rows: VerifyRowView[]; unavailable: { target: string; reason: string }[]; lines: string[] };
}

export type Reply = { readonly id: number; readonly ok: true; readonly value: unknown } | { readonly id: number; readonly ok: false; readonly error: string } | { readonly id: number; readonly progress: string };
