// Comparison of a TRM trace output folder with a TRM official-parity fixture under the tolerance
// table of fixtures/official-parity-trm/README.md: one check per tensor and JSON field (gradients
// also keep the fixture's exact zeros exactly, the EMA shadow gets the README's carried bound), and
// the EMA-alone check (the shadow replayed from the initial weights and the recorded after.*).
// Pure given its inputs.

import type { SafeTensor } from '../../io/safetensors.ts';
import type { Check, CheckKind } from './compare.ts';
import { relL2, TOLERANCES } from './compare.ts';
import type { TraceCase, TraceOutputs } from './trace.ts';
import { parameterNames, buildLayout } from '../../model/layout.ts';

const toF64 = (t: SafeTensor): Float64Array => Float64Array.from(t.data as ArrayLike<number>);
const norm = (a: Float64Array): number => Math.sqrt(a.reduce((s, v) => s + v * v, 0));

const EXACT_TENSOR = /^(seg\d+\.)?(halted|steps|puzzle_emb\.local_ids)$|^(batch|data|carry_in)\./;

/** A tensor check: exact for integers and flags, rel-L2 otherwise (grad.* also exact where the fixture is 0). */
const compareTensor = (file: string, key: string, got: SafeTensor | undefined, want: SafeTensor, emaLimit: (key: string) => number): Check => {
  const exact = EXACT_TENSOR.test(key);
  const limit = exact ? 0 : key.startsWith('grad.') ? TOLERANCES.grad : key.startsWith('after.') ? TOLERANCES.afterOwnGrads : key.startsWith('ema.') ? emaLimit(key) : TOLERANCES.forward;
  const kind: CheckKind = exact ? 'exact' : 'relL2';
  if (got === undefined) return { file, key, kind, value: Infinity, limit, pass: false, note: 'missing in the output' };
  if (got.shape.length !== want.shape.length || got.shape.some((d, i) => d !== want.shape[i])) {
    return { file, key, kind, value: Infinity, limit, pass: false, note: `shape [${got.shape}] vs [${want.shape}]` };
  }
  const a = toF64(got);
  const b = toF64(want);
  if (exact || key.startsWith('grad.')) {
    let bad = -1;
    for (let i = 0; i < b.length && bad < 0; i++) if (exact ? a[i] !== b[i] : b[i] === 0 && a[i] !== 0) bad = i;
    if (bad >= 0) return { file, key, kind: 'exact', value: 1, limit: 0, pass: false, note: `index ${bad}: ${a[bad]} vs ${b[bad]}${exact ? '' : ' (an exact zero of the fixture)'}` };
    if (exact) return { file, key, kind, value: 0, limit, pass: true };
  }
  const v = relL2(a, b);
  return { file, key, kind, value: v, limit, pass: v <= limit };
};

/** The check of a JSON leaf at `path` (null = informational). */
const jsonRule = (path: string): { kind: CheckKind; limit: number } | null => {
  const leaf = path.split('.').filter((p) => !/^\d+$/.test(p)).pop() as string;
  if (leaf === 'halt_reason') return { kind: 'exact', limit: 0 };
  if (path.includes('diagnostics')) return { kind: 'abs', limit: TOLERANCES.diagnostics };
  if (/^(train\/)?(count|exact_accuracy|q_halt_accuracy|steps)$/.test(leaf)) return { kind: 'exact', limit: 0 };
  if (['segment', 'step', 'halted', 'all_halted', 'rows_reset', 'puzzle_emb_rows_updated'].includes(leaf)) return { kind: 'exact', limit: 0 };
  if (/^(train\/)?accuracy$/.test(leaf)) return { kind: 'abs', limit: TOLERANCES.accuracy };
  if (/^(train\/)?lm_loss$/.test(leaf)) return { kind: 'rel', limit: TOLERANCES.lmLoss };
  if (/loss$/.test(leaf)) return { kind: 'rel', limit: TOLERANCES.qLoss };
  if (['lr', 'puzzle_emb_lr', 'train/lr'].includes(leaf)) return { kind: 'rel', limit: 1e-12 };
  return null;
};

const compareJson = (file: string, got: unknown, want: unknown, path: string, out: Check[]): void => {
  if (typeof want === 'object' && want !== null) {
    for (const [k, v] of Object.entries(want as Record<string, unknown>)) {
      const p = path === '' ? k : `${path}.${k}`;
      const g = got as Record<string, unknown> | null | undefined;
      if (g === undefined || g === null || typeof g !== 'object' || !(k in g)) {
        if (jsonRule(p) !== null || (typeof v === 'object' && v !== null)) out.push({ file, key: p, kind: 'exact', value: Infinity, limit: 0, pass: false, note: 'missing in the output' });
        continue;
      }
      compareJson(file, g[k], v, p, out);
    }
    return;
  }
  const rule = jsonRule(path);
  if (rule === null) return;
  if (rule.kind === 'exact' || typeof want !== 'number' || typeof got !== 'number') {
    const pass = got === want;
    out.push({ file, key: path, kind: 'exact', value: pass ? 0 : 1, limit: 0, pass, ...(pass ? {} : { note: `${JSON.stringify(got)} vs ${JSON.stringify(want)}` }) });
    return;
  }
  const v = rule.kind === 'rel' ? (want === 0 ? Math.abs(got) : Math.abs(got - want) / Math.abs(want)) : Math.abs(got - want);
  out.push({ file, key: path, kind: rule.kind, value: Number.isNaN(v) ? Infinity : v, limit: rule.limit, pass: v <= rule.limit });
};

/**
 * Every check of a TRM output against a TRM fixture. The EMA shadow of step k gets the README's
 * bound 1e-6 + 1e-3·(1 − μ^k)·‖after.X‖/‖ema.X‖ (the after.* tolerance carried through the average).
 */
export const compareTrmTraces = (output: TraceOutputs, fixture: TraceOutputs, emaRate: number): Check[] => {
  const checks: Check[] = [];
  for (const [name, want] of fixture) {
    const got = output.get(name);
    if (got === undefined) {
      checks.push({ file: name, key: '*', kind: 'exact', value: Infinity, limit: 0, pass: false, note: 'file missing in the output' });
      continue;
    }
    const k = Number(/^train_step(\d+)$/.exec(name)?.[1] ?? 0);
    const emaLimit = (key: string): number => {
      const after = want.tensors.get(`after.${key.slice(4)}`);
      const ema = want.tensors.get(key) as SafeTensor;
      const ratio = after === undefined ? 1 : norm(toF64(after)) / Math.max(norm(toF64(ema)), 1e-30);
      return 1e-6 + 1e-3 * (1 - emaRate ** k) * ratio;
    };
    for (const [key, tn] of want.tensors) checks.push(compareTensor(name, key, got.tensors.get(key), tn, emaLimit));
    if (want.json !== null) compareJson(name, got.json, want.json, '', checks);
  }
  return checks;
};

/**
 * The EMA alone (float64 evaluation): from the case's initial parameters, shadow ← μ·shadow + (1 − μ)·after.X
 * with the fixture's after.* of steps 1..K; compared with the fixture's ema.* (max abs).
 */
export const emaAloneChecks = (c: TraceCase, fixture: TraceOutputs): Check[] => {
  const names = parameterNames(buildLayout(c.config.arch));
  const mu = Math.fround(c.config.train.ema_rate);
  const one = Math.fround(1 - c.config.train.ema_rate);
  const shadow = new Map(names.map((n) => [n, Float64Array.from(c.weights.get(n)?.data ?? [])]));
  const checks: Check[] = [];
  for (let k = 1; k <= c.lrPerStep.length; k++) {
    const file = `train_step${k}`;
    const f = fixture.get(file);
    if (f === undefined) continue;
    for (const n of names) {
      const after = f.tensors.get(`after.${n}`);
      const want = f.tensors.get(`ema.${n}`);
      if (after === undefined || want === undefined) continue;
      const s = shadow.get(n) as Float64Array;
      const p = toF64(after);
      for (let i = 0; i < s.length; i++) s[i] = Math.fround(Math.fround(one * p[i]) + Math.fround(mu * s[i]));
      const w = toF64(want);
      let m = 0;
      for (let i = 0; i < s.length; i++) m = Math.max(m, Math.abs(s[i] - w[i]));
      checks.push({ file, key: `ema-alone ema.${n}`, kind: 'maxAbs', value: m, limit: TOLERANCES.optimizerAlone, pass: m <= TOLERANCES.optimizerAlone });
    }
  }
  return checks;
};
