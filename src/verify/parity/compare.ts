// Comparison of a trace output folder with an official-parity fixture folder under the tolerance
// table of fixtures/official-parity/README.md, one check per tensor / JSON field, and the
// optimizer-alone check (recorded gradients fed through SignSGD then AdamATan2, k = 1..K).
// Pure given its inputs; the report is a list of checks a test or the CLI prints.

import type { Backend } from '../../core/backend.ts';
import type { Tensor } from '../../core/tensor.ts';
import type { SafeTensor } from '../../io/safetensors.ts';
import type { TraceCase, TraceOutputs } from './trace.ts';
import { buildLayout, parameterNames, PUZZLE_TABLE } from '../../model/layout.ts';
import { disposeOptimizerState, initOptimizerState, optimizerStep } from '../../model/optimizer.ts';

export type CheckKind = 'relL2' | 'rel' | 'abs' | 'maxAbs' | 'exact';

export interface Check {
  readonly file: string;
  readonly key: string;
  readonly kind: CheckKind;
  /** the measured error (0/1 for exact: 1 = mismatch) */
  readonly value: number;
  readonly limit: number;
  readonly pass: boolean;
  readonly note?: string;
}

/** The tolerance table (README "Tolerances for a float32 reimplementation"). */
export const TOLERANCES = {
  forward: 1e-4, // rel-L2: logits, Q logits, targets, next_q, carries, segment states, probe states, ce
  lmLoss: 1e-5, // relative error
  qLoss: 1e-4, // relative error: q_halt_loss, q_continue_loss, total_loss (float32 BCE cancellation)
  grad: 1e-3, // rel-L2
  afterOwnGrads: 1e-3, // rel-L2 (sign decisions of near-zero gradients)
  accuracy: 1e-6, // absolute
  optimizerAlone: 1e-6, // max abs
  diagnostics: 1e-4, // absolute, q_halt − q_continue and argmax margins
} as const;

const toF64 = (t: SafeTensor): Float64Array => {
  if (t.data instanceof BigInt64Array) return Float64Array.from(t.data, (v) => Number(v));
  return Float64Array.from(t.data as ArrayLike<number>);
};

/** ‖a − b‖ / ‖b‖ (‖a − b‖ when ‖b‖ = 0). NaN anywhere gives Infinity. */
export const relL2 = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    const d = a[i] - b[i];
    num += d * d;
    den += b[i] * b[i];
  }
  const r = den === 0 ? Math.sqrt(num) : Math.sqrt(num / den);
  return Number.isNaN(r) ? Infinity : r;
};

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < b.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
};

/** The check a tensor key gets. */
const tensorRule = (key: string): { kind: CheckKind; limit: number } => {
  const base = key.replace(/^seg\d+\./, '');
  if (base === 'halted' || base === 'steps' || base === 'puzzle_emb.local_ids') return { kind: 'exact', limit: 0 };
  if (base.startsWith('grad.')) return { kind: 'relL2', limit: TOLERANCES.grad };
  if (base.startsWith('after.')) return { kind: 'relL2', limit: TOLERANCES.afterOwnGrads };
  return { kind: 'relL2', limit: TOLERANCES.forward };
};

const compareTensor = (file: string, key: string, got: SafeTensor | undefined, want: SafeTensor): Check => {
  const rule = tensorRule(key);
  if (got === undefined) return { file, key, kind: rule.kind, value: Infinity, limit: rule.limit, pass: false, note: 'missing in the output' };
  if (got.shape.length !== want.shape.length || got.shape.some((d, i) => d !== want.shape[i])) {
    return { file, key, kind: rule.kind, value: Infinity, limit: rule.limit, pass: false, note: `shape [${got.shape}] vs [${want.shape}]` };
  }
  const a = toF64(got);
  const b = toF64(want);
  if (rule.kind === 'exact') {
    let bad = -1;
    for (let i = 0; i < b.length && bad < 0; i++) if (a[i] !== b[i]) bad = i;
    return { file, key, kind: 'exact', value: bad < 0 ? 0 : 1, limit: 0, pass: bad < 0, ...(bad < 0 ? {} : { note: `index ${bad}: ${a[bad]} vs ${b[bad]}` }) };
  }
  const v = relL2(a, b);
  return { file, key, kind: 'relL2', value: v, limit: rule.limit, pass: v <= rule.limit };
};

/** The check a JSON scalar at `path` gets (null = informational, not compared). */
const jsonRule = (path: string): { kind: CheckKind; limit: number } | null => {
  const leaf = path.split('.').pop() as string;
  if (path.includes('diagnostics')) return { kind: 'abs', limit: TOLERANCES.diagnostics };
  if (leaf === 'segment' || leaf === 'step') return { kind: 'exact', limit: 0 };
  if (/^(train\/)?(count|exact_accuracy|q_halt_accuracy|steps)$/.test(leaf) || path.startsWith('halted') || path.startsWith('steps')) {
    return { kind: 'exact', limit: 0 };
  }
  if (leaf === 'all_halted' || path.startsWith('puzzle_emb_rows_updated')) return { kind: 'exact', limit: 0 };
  if (/^(train\/)?accuracy$/.test(leaf)) return { kind: 'abs', limit: TOLERANCES.accuracy };
  if (/^(train\/)?lm_loss$/.test(leaf)) return { kind: 'rel', limit: TOLERANCES.lmLoss };
  if (/loss$/.test(leaf)) return { kind: 'rel', limit: TOLERANCES.qLoss };
  if (leaf === 'lr' || leaf === 'puzzle_emb_lr' || leaf === 'train/lr') return { kind: 'rel', limit: 1e-12 };
  return null;
};

const compareJson = (file: string, got: unknown, want: unknown, path: string, out: Check[]): void => {
  if (Array.isArray(want) || (typeof want === 'object' && want !== null)) {
    const g = got as Record<string, unknown> | undefined;
    for (const [k, v] of Object.entries(want as Record<string, unknown>)) {
      const p = path === '' ? k : `${path}.${k}`;
      if (g === undefined || g === null || !(k in g)) {
        if (jsonRule(p) !== null || typeof v === 'object') out.push({ file, key: p, kind: 'exact', value: Infinity, limit: 0, pass: false, note: 'missing in the output' });
        continue;
      }
      compareJson(file, g[k], v, p, out);
    }
    return;
  }
  const rule = jsonRule(path.replace(/^segments\.\d+\./, ''));
  if (rule === null) return;
  if (typeof want === 'boolean' || rule.kind === 'exact') {
    const pass = got === want || (typeof got === 'number' && typeof want === 'number' && got === want);
    out.push({ file, key: path, kind: 'exact', value: pass ? 0 : 1, limit: 0, pass, ...(pass ? {} : { note: `${JSON.stringify(got)} vs ${JSON.stringify(want)}` }) });
    return;
  }
  if (want === null) {
    out.push({ file, key: path, kind: 'exact', value: got === null ? 0 : 1, limit: 0, pass: got === null });
    return;
  }
  const a = got as number;
  const b = want as number;
  const v = rule.kind === 'rel' ? (b === 0 ? Math.abs(a) : Math.abs(a - b) / Math.abs(b)) : Math.abs(a - b);
  out.push({ file, key: path, kind: rule.kind, value: Number.isNaN(v) ? Infinity : v, limit: rule.limit, pass: v <= rule.limit });
};

/** Every check of an output against a fixture: each fixture tensor and each compared JSON field. */
export const compareTraces = (output: TraceOutputs, fixture: TraceOutputs): Check[] => {
  const checks: Check[] = [];
  for (const [name, want] of fixture) {
    const got = output.get(name);
    if (got === undefined) {
      checks.push({ file: name, key: '*', kind: 'exact', value: Infinity, limit: 0, pass: false, note: 'file missing in the output' });
      continue;
    }
    for (const [key, t] of want.tensors) checks.push(compareTensor(name, key, got.tensors.get(key), t));
    if (want.json !== null && name !== 'train_step1_probe') compareJson(name, got.json, want.json, '', checks);
    if (name === 'train_step1_probe') compareJson(name, got.json, want.json, '', checks);
  }
  return checks;
};

/**
 * The optimizer alone: from the case's initial weights, feed each step's recorded gradients (and
 * puzzle gradients/ids) through SignSGD then AdamATan2, and compare after.* (max abs).
 */
export const optimizerAloneChecks = async <T>(c: TraceCase, fixture: TraceOutputs, backend: Backend<T>): Promise<Check[]> => {
  const b = backend;
  const layout = buildLayout(c.config.arch);
  const names = parameterNames(layout);
  const params = new Map<string, T>();
  for (const e of layout) {
    const w = c.weights.get(e.name) as Tensor<Float64Array>;
    params.set(e.name, b.fromArray(w.shape, w.data));
  }
  const state = initOptimizerState(b, params, names, false);
  const checks: Check[] = [];
  for (let k = 1; k <= c.lrPerStep.length; k++) {
    const file = `train_step${k}`;
    const f = fixture.get(file);
    if (f === undefined) throw new Error(`optimizerAloneChecks: fixture has no ${file}`);
    const get = (key: string): SafeTensor => {
      const t = f.tensors.get(key);
      if (t === undefined) throw new Error(`optimizerAloneChecks: ${file} has no '${key}'`);
      return t;
    };
    const grads = new Map<string, T>(names.map((n) => [n, b.fromArray(get(`grad.${n}`).shape, toF64(get(`grad.${n}`)))]));
    const puzzle = params.has(PUZZLE_TABLE)
      ? { grad: b.fromArray(get('grad.puzzle_emb.local_weights').shape, toF64(get('grad.puzzle_emb.local_weights'))), ids: Int32Array.from(toF64(get('puzzle_emb.local_ids'))) }
      : null;
    optimizerStep(b, params, names, grads, puzzle, { lr: c.lrPerStep[k - 1], puzzleEmbLr: c.puzzleEmbLrPerStep?.[k - 1] ?? 0 }, c.config.train, state);
    for (const [key, want] of f.tensors) {
      if (!key.startsWith('after.')) continue;
      const name = key.slice(6);
      const h = params.get(name);
      if (h === undefined) {
        checks.push({ file, key: `optimizer-alone ${key}`, kind: 'maxAbs', value: Infinity, limit: TOLERANCES.optimizerAlone, pass: false, note: 'no such entry' });
        continue;
      }
      const got = await b.read(h);
      const v = maxAbs(got.data, toF64(want));
      checks.push({ file, key: `optimizer-alone ${key}`, kind: 'maxAbs', value: v, limit: TOLERANCES.optimizerAlone, pass: v <= TOLERANCES.optimizerAlone });
    }
  }
  for (const h of params.values()) b.dispose(h);
  disposeOptimizerState(b, state);
  return checks;
};

/** A readable table of checks (failures first when `failuresOnly` is false they are still marked). */
export const formatChecks = (checks: readonly Check[], failuresOnly = false): string => {
  const rows = checks.filter((c) => !failuresOnly || !c.pass);
  const lines = rows.map((c) => `${c.pass ? 'ok  ' : 'FAIL'} ${c.file.padEnd(18)} ${c.key.padEnd(58)} ${c.kind.padEnd(6)} ${c.value.toExponential(2)} ≤ ${c.limit.toExponential(0)}${c.note ? `  (${c.note})` : ''}`);
  const failed = checks.filter((c) => !c.pass).length;
  lines.push(`${checks.length - failed}/${checks.length} checks pass${failed > 0 ? `, ${failed} fail` : ''}`);
  return lines.join('\n');
};
