// TRM's official-parity trace procedure (fixtures/official-parity-trm/README.md) through createHrm
// with arch.name 'trm': the evaluation trace of the initial weights, K training steps each on its
// own loader batch (carry chained, per-row reset and data replacement), the EMA shadow after each
// step, the evaluation of the EMA copy after training, and the probe of the first training segment
// (call0.* inside the first network call). Outputs use the fixture's file names and keys.
// `runTrmTrace` is pure given its inputs; `readTrmTraceCase` is the file-system edge.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend } from '../../core/backend.ts';
import { tensor64 } from '../../core/tensor.ts';
import type { SafeTensor } from '../../io/safetensors.ts';
import { readSafetensors } from '../../io/safetensors.ts';
import type { Batch } from '../../core/batch.ts';
import type { ActStepResult, Carry, Hrm } from '../../model/api.ts';
import { configFromTrmFixture } from '../../model/config.ts';
import { createHrm } from '../../model/hrm.ts';
import type { TraceCase, TraceOutputs } from './trace.ts';
import { collector, minArgmaxMargin, readWeights } from './trace.ts';

/** A TRM case: the HRM trace case plus one loader batch per training step. */
export interface TrmTraceCase extends TraceCase {
  readonly batches: readonly Batch[]; // batches[k − 1] is step k's loader batch
}

/** Reads a loader batch (`<prefix>inputs`, `labels`, `puzzle_identifiers`, all I32) from safetensors tensors. */
const batchFrom = (tensors: ReadonlyMap<string, SafeTensor>, prefix: string, T: number, file: string): Batch => {
  const int = (key: string, shape: (number | null)[]): Int32Array => {
    const x = tensors.get(prefix + key);
    if (x === undefined) throw new Error(`${file}: missing tensor '${prefix + key}'`);
    if (x.dtype !== 'I32') throw new Error(`${file}: tensor '${prefix + key}' is ${x.dtype}, expected I32`);
    if (x.shape.length !== shape.length || x.shape.some((d, i) => shape[i] !== null && d !== shape[i])) {
      throw new Error(`${file}: tensor '${prefix + key}' has shape [${x.shape.join(', ')}], expected [${shape.map((d) => d ?? 'B').join(', ')}]`);
    }
    return x.data as Int32Array;
  };
  const inputs = int('inputs', [null, T]);
  const B = inputs.length / T;
  return { inputs, labels: int('labels', [B, T]), puzzleIdentifiers: int('puzzle_identifiers', [B]), batchSize: B, seqLen: T };
};

/**
 * Reads a TRM case folder: config.json, weights.safetensors (else checkpoint), batch.safetensors
 * (step 1's batch) and, where present, `batch.*` of train_step{k}.safetensors for step k ≥ 2 (a
 * folder without them reuses step 1's batch).
 */
export const readTrmTraceCase = (dir: string): TrmTraceCase => {
  const configPath = join(dir, 'config.json');
  let json: { case?: string; train?: { lr_per_step?: number[]; puzzle_emb_lr_per_step?: number[] | null } };
  try {
    json = JSON.parse(readFileSync(configPath, 'utf8'));
  } catch (e) {
    throw new Error(`${configPath}: ${(e as Error).message}`);
  }
  const config = configFromTrmFixture(json, configPath);
  const lr = json.train?.lr_per_step as number[];
  const plr = json.train?.puzzle_emb_lr_per_step ?? null;
  if (config.arch.puzzle_emb_ndim > 0 && (plr === null || plr.length !== lr.length)) {
    throw new Error(`${configPath}: field 'train.puzzle_emb_lr_per_step': expected ${lr.length} numbers for a model with a puzzle embedding`);
  }
  const weightsPath = existsSync(join(dir, 'weights.safetensors')) ? join(dir, 'weights.safetensors') : join(dir, 'checkpoint');
  const weights = readWeights(weightsPath, config);
  const T = config.arch.seq_len;
  const batchPath = join(dir, 'batch.safetensors');
  const first = batchFrom(readSafetensors(new Uint8Array(readFileSync(batchPath)), batchPath).tensors, '', T, batchPath);
  const batches = lr.map((_, i) => {
    const p = join(dir, `train_step${i + 1}.safetensors`);
    if (i === 0 || !existsSync(p)) return first;
    const b = batchFrom(readSafetensors(new Uint8Array(readFileSync(p)), p).tensors, 'batch.', T, p);
    if (b.batchSize !== first.batchSize) throw new Error(`${p}: batch of ${b.batchSize} rows, expected ${first.batchSize} as in ${batchPath}`);
    return b;
  });
  return { name: json.case ?? dir, config, lrPerStep: lr, puzzleEmbLrPerStep: plr, weights, batch: first, batches };
};

const u8 = (h: Uint8Array): SafeTensor => ({ dtype: 'U8', shape: [h.length], data: Uint8Array.from(h) });
const i32 = (a: Int32Array, shape = [a.length]): SafeTensor => ({ dtype: 'I32', shape, data: Int32Array.from(a) });
const float = (f64: boolean, shape: readonly number[], data: ArrayLike<number>): SafeTensor =>
  ({ dtype: f64 ? 'F64' : 'F32', shape: [...shape], data: f64 ? Float64Array.from(data) : Float32Array.from(data) });

/** Why each row halted after a call: the step limit, Q (training only), or not at all. */
const haltReasons = (r: ActStepResult, M: number): string[] =>
  Array.from(r.halted, (h, b) => (r.steps[b] >= M ? 'halt_max_steps' : h !== 0 ? 'q_halt>0' : 'continue'));

const summary = (r: ActStepResult, logits: SafeTensor, labels: Int32Array, M: number) => ({
  halted: Array.from(r.halted, (h) => h !== 0),
  steps: Array.from(r.steps),
  all_halted: r.allHalted,
  diagnostics: {
    min_argmax_margin_over_supervised: minArgmaxMargin(tensor64(logits.shape, logits.data as ArrayLike<number>), labels),
    q_halt_logits: Array.from(r.qHaltLogits),
    halt_reason: haltReasons(r, M),
  },
});

/** Evaluation from the initial carry on `batch` until every row halts: seg{n}.* tensors and per-segment JSON. */
const evalTrace = async (model: Hrm, batch: Batch, weights: 'live' | 'ema', f64: boolean) => {
  const tensors = new Map<string, SafeTensor>();
  const segments: unknown[] = [];
  const M = model.config.arch.halt_max_steps;
  let carry: Carry = model.initialCarry(batch.batchSize, batch.seqLen);
  for (let n = 1; ; n++) {
    const rename = (k: string) => (k === 'carry.z_H' ? 'z_H' : k === 'carry.z_L' ? 'z_L' : k === 'puzzle_emb.local_weights' ? null : k);
    const step = await model.evalStep(carry, batch, { weights, observe: { tensor: collector(tensors, `seg${n}.`, f64, rename) } });
    carry = step.carry;
    const r = step.result;
    tensors.set(`seg${n}.halted`, u8(r.halted));
    tensors.set(`seg${n}.steps`, i32(r.steps));
    segments.push({ segment: n, total_loss: r.totalLoss, metrics: r.metrics, ...summary(r, tensors.get(`seg${n}.logits`) as SafeTensor, carry.currentData.labels, M) });
    if (r.allHalted) break;
    if (n > 10_000) throw new Error('trace: evaluation did not halt');
  }
  model.disposeCarry(carry);
  return { tensors, json: { segments } };
};

const PROBE_KEY = /^(x|z_[HL]\.in|call0\..+|[LH]\.h\d+(\.l\d+)?)$/;

/** Runs eval, the K training steps, and eval of the EMA copy for a TRM case on `backend`. */
export const runTrmTrace = async (c: TrmTraceCase, backend: Backend<unknown>, options: { probe?: boolean } = {}): Promise<TraceOutputs> => {
  const out: TraceOutputs = new Map();
  const f64 = backend.dtype === 'float64';
  const a = c.config.arch;
  const B = c.batch.batchSize;
  const T = a.seq_len;
  const model = createHrm(c.config, { backend });
  try {
    model.loadState({ parameters: c.weights });
    out.set('eval', await evalTrace(model, c.batch, 'live', f64));
    let carry = model.initialCarry(B, T);
    const hasPuzzle = a.puzzle_emb_ndim > 0;
    for (let k = 1; k <= c.lrPerStep.length; k++) {
      const batch = c.batches[k - 1];
      const tensors = new Map<string, SafeTensor>();
      const probe = new Map<string, SafeTensor>();
      tensors.set('batch.inputs', i32(batch.inputs, [B, T]));
      tensors.set('batch.labels', i32(batch.labels, [B, T]));
      tensors.set('batch.puzzle_identifiers', i32(batch.puzzleIdentifiers));
      tensors.set('carry_in.halted', u8(carry.halted));
      tensors.set('carry_in.steps', i32(carry.steps));
      const rowsReset = Array.from(carry.halted, (h) => h !== 0);
      const collect = collector(tensors, '', f64, (key) => (PROBE_KEY.test(key) ? null : key));
      const collectProbe = collector(probe, '', f64, (key) => (PROBE_KEY.test(key) ? key : null));
      const rates = { lr: c.lrPerStep[k - 1], puzzleEmbLr: c.puzzleEmbLrPerStep?.[k - 1] ?? 0 };
      const step = await model.trainStep(carry, batch, rates, B, {
        observe: { tensor: (key, v) => (collect(key, v), collectProbe(key, v)), gradients: true, probe: k === 1 && options.probe !== false },
      });
      carry = step.carry;
      const r = step.result;
      const data = carry.currentData;
      tensors.set('data.inputs', i32(data.inputs, [B, T]));
      tensors.set('data.labels', i32(data.labels, [B, T]));
      tensors.set('data.puzzle_identifiers', i32(data.puzzleIdentifiers));
      tensors.set('halted', u8(r.halted));
      tensors.set('steps', i32(r.steps));
      if (hasPuzzle) tensors.set('puzzle_emb.local_ids', i32(data.puzzleIdentifiers));
      const state = await model.saveState();
      for (const [name, v] of state.parameters) if (name !== 'H_init' && name !== 'L_init') tensors.set(`after.${name}`, float(f64, v.shape, v.data));
      for (const [name, v] of state.ema ?? new Map()) tensors.set(`ema.${name}`, float(f64, v.shape, v.data));
      const count = Math.max(r.metrics.count, 1);
      const logged: Record<string, number> = {};
      for (const [key, v] of Object.entries(r.metrics)) logged[`train/${key}`] = key.endsWith('loss') ? (v as number) / B : (v as number) / count;
      logged['train/lr'] = rates.lr;
      out.set(`train_step${k}`, {
        tensors,
        json: {
          step: k,
          lm_loss: r.lmLoss,
          q_halt_loss: r.qHaltLoss,
          total_loss: r.totalLoss,
          metrics: r.metrics,
          rows_reset: rowsReset,
          ...summary(r, tensors.get('logits') as SafeTensor, data.labels, a.halt_max_steps),
          scaled_loss: r.totalLoss / B,
          lr: rates.lr,
          puzzle_emb_lr: hasPuzzle ? rates.puzzleEmbLr : null,
          puzzle_emb_rows_updated: hasPuzzle ? [...new Set(data.puzzleIdentifiers)].sort((x, y) => x - y) : [],
          logged_metrics: logged,
        },
      });
      if (k === 1 && probe.size > 0) {
        const calls: { key: string; requires_grad: boolean }[] = [];
        for (let h = 0; h < a.H_cycles; h++) {
          for (let l = 0; l < a.L_cycles; l++) calls.push({ key: `L.h${h}.l${l}`, requires_grad: h === a.H_cycles - 1 });
          calls.push({ key: `H.h${h}`, requires_grad: h === a.H_cycles - 1 });
        }
        out.set('train_step1_probe', { tensors: probe, json: { calls } });
      }
    }
    model.disposeCarry(carry);
    if (c.config.train.ema) out.set('eval_ema', await evalTrace(model, c.batch, 'ema', f64));
  } finally {
    await model.dispose();
  }
  return out;
};
