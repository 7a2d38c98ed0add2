// The official-parity trace procedure (fixtures/official-parity/README.md) run through createHrm:
// an evaluation trace (segments until every row halts, from the initial carry) and a training
// trace (k = 1..K training steps on the same batch, chained carries, learning rates per step from
// config.json), plus the probe of the first training segment. Outputs use the fixture's file names
// and keys. `runTrace` is pure given its inputs; `readTraceCase` / `writeTraceOutputs` are the
// file-system edges.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend } from '../../core/backend.ts';
import type { Tensor } from '../../core/tensor.ts';
import { tensor64 } from '../../core/tensor.ts';
import type { SafeTensor } from '../../io/safetensors.ts';
import { readSafetensors, writeSafetensors } from '../../io/safetensors.ts';
import { loadWeights } from '../../train/load-model.ts';
import type { ActStepResult, StepObserver } from '../../model/api.ts';
import { IGNORE_LABEL, type Batch } from '../../core/batch.ts';
import type { HrmConfig } from '../../model/config.ts';
import { configFromFixture } from '../../model/config.ts';
import { createHrm } from '../../model/hrm.ts';

/** Everything a trace needs: config, per-step learning rates, initial weights, the batch. */
export interface TraceCase {
  readonly name: string;
  readonly config: HrmConfig;
  readonly lrPerStep: readonly number[];
  readonly puzzleEmbLrPerStep: readonly number[] | null;
  readonly weights: ReadonlyMap<string, Tensor<Float64Array>>;
  readonly batch: Batch;
}

/** One output file: tensors (safetensors) and the JSON summary, under the fixture's base name. */
export interface TraceFile {
  readonly tensors: Map<string, SafeTensor>;
  readonly json: unknown;
}
export type TraceOutputs = Map<string, TraceFile>; // base name (e.g. 'train_step1') → file

/** Reads a weights file (safetensors, or a PyTorch zip checkpoint) through the one weights loader, checked against the config's layout. */
export const readWeights = (path: string, config: HrmConfig): Map<string, Tensor<Float64Array>> => {
  const loaded = loadWeights(path, { config });
  for (const w of loaded.notes.filter((n) => n.includes('is not part of the model layout'))) process.stderr.write(`${w}\n`);
  return new Map(loaded.checkpoint.state.parameters);
};

/** Reads a fixture-shaped folder: config.json, weights.safetensors (else checkpoint), batch.safetensors. */
export const readTraceCase = (dir: string): TraceCase => {
  const configPath = join(dir, 'config.json');
  let json: { case?: string; train?: { lr_per_step?: number[]; puzzle_emb_lr_per_step?: number[] | null } };
  try {
    json = JSON.parse(readFileSync(configPath, 'utf8'));
  } catch (e) {
    throw new Error(`${configPath}: ${(e as Error).message}`);
  }
  const config = configFromFixture(json, configPath);
  const lr = json.train?.lr_per_step;
  if (!Array.isArray(lr) || !lr.every((v) => typeof v === 'number')) throw new Error(`${configPath}: field 'train.lr_per_step': expected a list of numbers`);
  const plr = json.train?.puzzle_emb_lr_per_step ?? null;
  if (config.arch.puzzle_emb_ndim > 0 && (plr === null || plr.length !== lr.length)) {
    throw new Error(`${configPath}: field 'train.puzzle_emb_lr_per_step': expected ${lr.length} numbers for a model with a puzzle embedding`);
  }
  const weightsPath = existsSync(join(dir, 'weights.safetensors')) ? join(dir, 'weights.safetensors') : join(dir, 'checkpoint');
  const weights = readWeights(weightsPath, config);
  const batchPath = join(dir, 'batch.safetensors');
  const bt = readSafetensors(new Uint8Array(readFileSync(batchPath)), batchPath).tensors;
  const int = (key: string, shape: number[]): Int32Array => {
    const t = bt.get(key);
    if (t === undefined) throw new Error(`${batchPath}: missing tensor '${key}'`);
    if (t.dtype !== 'I32') throw new Error(`${batchPath}: tensor '${key}' is ${t.dtype}, expected I32`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => shape[i] >= 0 && d !== shape[i])) {
      throw new Error(`${batchPath}: tensor '${key}' has shape [${t.shape.join(', ')}], expected [${shape.map((d) => (d < 0 ? 'B' : d)).join(', ')}]`);
    }
    return t.data as Int32Array;
  };
  const T = config.arch.seq_len;
  const inputs = int('inputs', [-1, T]);
  const B = inputs.length / T;
  const batch: Batch = { inputs, labels: int('labels', [B, T]), puzzleIdentifiers: int('puzzle_identifiers', [B]), batchSize: B, seqLen: T };
  return { name: json.case ?? dir, config, lrPerStep: lr, puzzleEmbLrPerStep: plr, weights, batch };
};

/** Collects observed tensors under fixture keys (with a prefix), as F64 or F32 per the backend. */
export const collector = (files: Map<string, SafeTensor>, prefix: string, f64: boolean, rename: (k: string) => string | null = (k) => k): StepObserver['tensor'] =>
  (key, value) => {
    const k = rename(key);
    if (k === null) return;
    files.set(prefix + k, { dtype: f64 ? 'F64' : 'F32', shape: [...value.shape], data: f64 ? Float64Array.from(value.data) : Float32Array.from(value.data) });
  };

/** Smallest top-1/top-2 logit margin over supervised positions, from logits [B,T,V]. */
export const minArgmaxMargin = (logits: Tensor<Float64Array>, labels: Int32Array): number => {
  const V = logits.shape[2];
  let min = Infinity;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] === IGNORE_LABEL) continue;
    let a = -Infinity;
    let b = -Infinity;
    for (let v = 0; v < V; v++) {
      const x = logits.data[i * V + v]; // [i, v]
      if (x > a) {
        b = a;
        a = x;
      } else if (x > b) b = x;
    }
    min = Math.min(min, a - b);
  }
  return min;
};

const bools = (h: Uint8Array): boolean[] => Array.from(h, (x) => x !== 0);

const summary = (r: ActStepResult, logits: Tensor<Float64Array>, labels: Int32Array) => ({
  halted: bools(r.halted),
  steps: Array.from(r.steps),
  all_halted: r.allHalted,
  diagnostics: {
    min_argmax_margin_over_supervised: minArgmaxMargin(logits, labels),
    q_halt_minus_q_continue: Array.from(r.qHaltLogits, (h, b) => h - r.qContinueLogits[b]),
  },
});

/** Runs the evaluation and training traces of `c` on `backend`; returns every output file. */
export const runTrace = async (c: TraceCase, backend: Backend<unknown>, options: { probe?: boolean } = {}): Promise<TraceOutputs> => {
  const out: TraceOutputs = new Map();
  const f64 = backend.dtype === 'float64';
  const B = c.batch.batchSize;
  const T = c.config.arch.seq_len;
  const labels = c.batch.labels;
  const u8 = (h: Uint8Array): SafeTensor => ({ dtype: 'U8', shape: [h.length], data: Uint8Array.from(h) });
  const i32 = (a: Int32Array): SafeTensor => ({ dtype: 'I32', shape: [a.length], data: Int32Array.from(a) });
  const logitsOf = (m: Map<string, SafeTensor>, key: string) => {
    const t = m.get(key) as SafeTensor;
    return tensor64(t.shape, t.data as Float64Array);
  };

  // evaluation trace
  {
    const hrm = createHrm(c.config, { backend });
    try {
      hrm.loadState({ parameters: c.weights });
      const tensors = new Map<string, SafeTensor>();
      const segments: unknown[] = [];
      let carry = hrm.initialCarry(B, T);
      for (let n = 1; ; n++) {
        const rename = (k: string) => (k === 'carry.z_H' ? 'z_H' : k === 'carry.z_L' ? 'z_L' : k);
        const step = await hrm.evalStep(carry, c.batch, { observe: { tensor: collector(tensors, `seg${n}.`, f64, rename) } });
        carry = step.carry;
        const r = step.result;
        tensors.set(`seg${n}.halted`, u8(r.halted));
        tensors.set(`seg${n}.steps`, i32(r.steps));
        segments.push({ segment: n, total_loss: r.totalLoss, metrics: r.metrics, ...summary(r, logitsOf(tensors, `seg${n}.logits`), labels) });
        if (r.allHalted) break;
        if (n > 10_000) throw new Error('trace: evaluation did not halt');
      }
      hrm.disposeCarry(carry);
      out.set('eval', { tensors, json: { segments } });
    } finally {
      await hrm.dispose();
    }
  }

  // training trace
  {
    const hrm = createHrm(c.config, { backend });
    try {
      hrm.loadState({ parameters: c.weights });
      let carry = hrm.initialCarry(B, T);
      const hasPuzzle = c.config.arch.puzzle_emb_ndim > 0;
      for (let k = 1; k <= c.lrPerStep.length; k++) {
        const tensors = new Map<string, SafeTensor>();
        const probe = new Map<string, SafeTensor>();
        const probeKeys = (key: string) => key === 'x' || key.startsWith('z_H.in') || key.startsWith('z_L.in') || /^[LH]\.h\d+(\.l\d+)?$/.test(key);
        const collect = collector(tensors, '', f64, (key) => (probeKeys(key) ? null : key));
        const collectProbe = collector(probe, '', f64, (key) => (probeKeys(key) ? key : null));
        const rates = { lr: c.lrPerStep[k - 1], puzzleEmbLr: c.puzzleEmbLrPerStep?.[k - 1] ?? 0 };
        const step = await hrm.trainStep(carry, c.batch, rates, B, {
          observe: { tensor: (key, v) => (collect(key, v), collectProbe(key, v)), gradients: true, probe: k === 1 && options.probe !== false },
        });
        carry = step.carry;
        const r = step.result;
        tensors.set('halted', u8(r.halted));
        tensors.set('steps', i32(r.steps));
        if (hasPuzzle) tensors.set('puzzle_emb.local_ids', i32(Int32Array.from(carry.currentData.puzzleIdentifiers)));
        const state = await hrm.saveState();
        for (const [name, t] of state.parameters) {
          if (name === 'H_init' || name === 'L_init') continue;
          tensors.set(`after.${name}`, { dtype: f64 ? 'F64' : 'F32', shape: [...t.shape], data: f64 ? Float64Array.from(t.data) : Float32Array.from(t.data) });
        }
        const count = Math.max(r.metrics.count, 1);
        const logged: Record<string, number> = {};
        for (const [key, v] of Object.entries(r.metrics)) {
          logged[`train/${key}`] = key.endsWith('loss') ? (v as number) / B : (v as number) / count;
        }
        logged['train/lr'] = rates.lr;
        const json = {
          step: k,
          lm_loss: r.lmLoss,
          q_halt_loss: r.qHaltLoss,
          q_continue_loss: r.qContinueLoss,
          total_loss: r.totalLoss,
          metrics: r.metrics,
          ...summary(r, logitsOf(tensors, 'logits'), carry.currentData.labels),
          scaled_loss: r.totalLoss / B,
          lr: rates.lr,
          puzzle_emb_lr: hasPuzzle ? rates.puzzleEmbLr : null,
          puzzle_emb_rows_updated: hasPuzzle ? [...new Set(carry.currentData.puzzleIdentifiers)].sort((a, b) => a - b) : [],
          logged_metrics: logged,
        };
        out.set(`train_step${k}`, { tensors, json });
        if (k === 1 && probe.size > 0) {
          const a = c.config.arch;
          const calls: { key: string; requires_grad: boolean }[] = [];
          for (let h = 0; h < a.H_cycles; h++) {
            for (let l = 0; l < a.L_cycles; l++) calls.push({ key: `L.h${h}.l${l}`, requires_grad: h === a.H_cycles - 1 && l === a.L_cycles - 1 });
            calls.push({ key: `H.h${h}`, requires_grad: h === a.H_cycles - 1 });
          }
          out.set('train_step1_probe', { tensors: probe, json: { calls } });
        }
      }
      hrm.disposeCarry(carry);
    } finally {
      await hrm.dispose();
    }
  }
  return out;
};

/** Writes `<name>.safetensors` and `<name>.json` for every output file into `dir`. */
export const writeTraceOutputs = (dir: string, outputs: TraceOutputs): string[] => {
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  for (const [name, f] of outputs) {
    writeFileSync(join(dir, `${name}.safetensors`), writeSafetensors(f.tensors));
    writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(f.json, null, 1)}\n`);
    written.push(`${name}.safetensors`, `${name}.json`);
  }
  return written;
};

/** Reads the trace files of a folder (fixture or output) that exist among eval, train_step{k}, train_step1_probe, eval_ema (TRM). */
export const readTraceOutputs = (dir: string, steps = 3): TraceOutputs => {
  const out: TraceOutputs = new Map();
  for (const name of ['eval', ...Array.from({ length: steps }, (_, i) => `train_step${i + 1}`), 'train_step1_probe', 'eval_ema']) {
    const st = join(dir, `${name}.safetensors`);
    if (!existsSync(st)) continue;
    const tensors = readSafetensors(new Uint8Array(readFileSync(st)), st).tensors;
    const jp = join(dir, `${name}.json`);
    const json = existsSync(jp) ? JSON.parse(readFileSync(jp, 'utf8')) : null;
    out.set(name, { tensors, json });
  }
  return out;
};

