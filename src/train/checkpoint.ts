// A training checkpoint as one safetensors file: the model's parameters and buffers under their
// original names (so the weights load like the official-parity `weights.safetensors`), the
// AdamATan2 moments (`optimizer.adam_m.<name>`, `optimizer.adam_v.<name>`), the EMA copy if any
// (`ema.<name>`), the ACT carry (`carry.*`) and, in the metadata, the config, the step counters,
// the model's exploration Rng and the data iterator's state. Together these resume a run exactly.
// Pure encode/decode; writing files atomically is the checkpoint store's job.

import * as t from 'io-ts';
import type { Tensor } from '../core/tensor.ts';
import { wrap64 } from '../core/tensor.ts';
import type { TrainingState } from '../model/api.ts';
import { decodeConfig, type HrmConfig } from '../model/config.ts';
import { decodeOrThrow } from '../io/codec.ts';
import { readSafetensors, writeSafetensors, type SafeTensor } from '../io/safetensors.ts';

export const CHECKPOINT_FORMAT = 'hrm-ts-checkpoint/1';

/** The carry's contents on the host (z_H, z_L [B,S,D]; the rest per row). */
export interface CarrySnapshot {
  readonly zH: Tensor<Float64Array>;
  readonly zL: Tensor<Float64Array>;
  readonly steps: Int32Array; // [B]
  readonly halted: Uint8Array; // [B]
  readonly inputs: Int32Array; // [B, T]
  readonly labels: Int32Array; // [B, T]
  readonly puzzleIdentifiers: Int32Array; // [B]
  readonly batchSize: number;
  readonly seqLen: number;
}

/** Where training stands, beyond the model state. */
export interface RunProgress {
  /** optimizer steps taken (the schedule's s of the last step) */
  readonly step: number;
  /** completed outer iterations (evaluations) */
  readonly iteration: number;
  /** the data iterator's state (JSON; its owner decodes it) */
  readonly data: unknown;
  /** the dataset this run trains on (checked on resume) */
  readonly dataPath: string;
  /** best evaluation so far, if any */
  readonly lastEval?: Record<string, number>;
}

export interface Checkpoint {
  readonly config: HrmConfig;
  readonly state: TrainingState;
  readonly progress: RunProgress;
  readonly carry?: CarrySnapshot;
  /** how floats are stored: F64 (the reference, exact resume) or F32 */
  readonly dtype: 'F64' | 'F32';
}

const Meta = t.type({
  format: t.literal(CHECKPOINT_FORMAT),
  config: t.string,
  progress: t.string,
  optimizer_step: t.string,
  rng: t.string,
});

const RngCodec = t.type({ s: t.tuple([t.number, t.number, t.number, t.number]) });
const ProgressCodec = t.type({
  step: t.number,
  iteration: t.number,
  data: t.unknown,
  dataPath: t.string,
});

const floatTensor = (t64: Tensor<Float64Array>, dtype: 'F64' | 'F32'): SafeTensor => ({
  dtype,
  shape: t64.shape,
  data: dtype === 'F64' ? t64.data : Float32Array.from(t64.data),
});

/** Encodes a checkpoint as safetensors bytes. */
export const encodeCheckpoint = (c: Checkpoint): Uint8Array => {
  const entries: Array<[string, SafeTensor]> = [];
  for (const [name, v] of c.state.parameters) entries.push([name, floatTensor(v, c.dtype)]);
  for (const [name, v] of c.state.adamM) entries.push([`optimizer.adam_m.${name}`, floatTensor(v, c.dtype)]);
  for (const [name, v] of c.state.adamV) entries.push([`optimizer.adam_v.${name}`, floatTensor(v, c.dtype)]);
  for (const [name, v] of c.state.ema ?? new Map()) entries.push([`ema.${name}`, floatTensor(v, c.dtype)]);
  if (c.carry) {
    const k = c.carry;
    const B = k.batchSize;
    const T = k.seqLen;
    entries.push(['carry.z_H', floatTensor(k.zH, c.dtype)]);
    entries.push(['carry.z_L', floatTensor(k.zL, c.dtype)]);
    entries.push(['carry.steps', { dtype: 'I32', shape: [B], data: k.steps }]);
    entries.push(['carry.halted', { dtype: 'U8', shape: [B], data: k.halted }]);
    entries.push(['carry.inputs', { dtype: 'I32', shape: [B, T], data: k.inputs }]);
    entries.push(['carry.labels', { dtype: 'I32', shape: [B, T], data: k.labels }]);
    entries.push(['carry.puzzle_identifiers', { dtype: 'I32', shape: [B], data: k.puzzleIdentifiers }]);
  }
  return writeSafetensors(entries, {
    format: CHECKPOINT_FORMAT,
    config: JSON.stringify(c.config),
    progress: JSON.stringify(c.progress),
    optimizer_step: String(c.state.optimizerStep),
    rng: JSON.stringify(c.state.rng),
  });
};

const asF64 = (s: SafeTensor, fileName: string, name: string): Tensor<Float64Array> => {
  if (s.dtype !== 'F64' && s.dtype !== 'F32' && s.dtype !== 'BF16') {
    throw new Error(`${fileName}: tensor '${name}' has dtype ${s.dtype}, expected F64 or F32`);
  }
  return wrap64(s.shape, s.data instanceof Float64Array ? s.data : Float64Array.from(s.data as Float32Array));
};

const intTensor = <A extends Int32Array | Uint8Array>(file: Map<string, SafeTensor>, name: string, dtype: 'I32' | 'U8', shape: number[], fileName: string): A => {
  const s = file.get(name);
  if (!s) throw new Error(`${fileName}: checkpoint has a carry but no tensor '${name}'`);
  if (s.dtype !== dtype || s.shape.length !== shape.length || s.shape.some((d, i) => d !== shape[i])) {
    throw new Error(`${fileName}: tensor '${name}' is ${s.dtype}[${s.shape.join(', ')}], expected ${dtype}[${shape.join(', ')}]`);
  }
  return s.data as A;
};

const parseJson = (text: string, fileName: string, what: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${fileName}: metadata '${what}' is not valid JSON`);
  }
};

/**
 * Decodes checkpoint bytes. Also accepts a plain weights file (e.g. an official-parity
 * `weights.safetensors`): then `config` must be supplied and only the parameters are returned
 * (progress at step 0, no optimizer state).
 */
export const decodeCheckpoint = (bytes: Uint8Array, fileName: string, fallbackConfig?: HrmConfig): Checkpoint => {
  const { tensors, metadata } = readSafetensors(bytes, fileName);
  const params = new Map<string, Tensor<Float64Array>>();
  const m = new Map<string, Tensor<Float64Array>>();
  const v = new Map<string, Tensor<Float64Array>>();
  const ema = new Map<string, Tensor<Float64Array>>();
  let dtype: 'F64' | 'F32' = 'F32';
  for (const [name, s] of tensors) {
    if (name.startsWith('carry.')) continue;
    const x = asF64(s, fileName, name);
    if (name.startsWith('optimizer.adam_m.')) m.set(name.slice('optimizer.adam_m.'.length), x);
    else if (name.startsWith('optimizer.adam_v.')) v.set(name.slice('optimizer.adam_v.'.length), x);
    else if (name.startsWith('ema.')) ema.set(name.slice(4), x);
    else {
      params.set(name, x);
      if (s.dtype === 'F64') dtype = 'F64';
    }
  }
  if (metadata.format === undefined) {
    if (!fallbackConfig) throw new Error(`${fileName}: not an hrm-ts checkpoint (no 'format' metadata) and no config was given for a plain weights file`);
    return {
      config: fallbackConfig,
      state: { parameters: params, adamM: m, adamV: v, optimizerStep: 0, rng: { s: [1, 0, 0, 0] } },
      progress: { step: 0, iteration: 0, data: null, dataPath: '' },
      dtype,
    };
  }
  const meta = decodeOrThrow(Meta, metadata, `${fileName} (metadata)`);
  const config = decodeConfig(parseJson(meta.config, fileName, 'config'), `${fileName} (metadata 'config')`);
  const progress = decodeOrThrow(ProgressCodec, parseJson(meta.progress, fileName, 'progress'), `${fileName} (metadata 'progress')`) as RunProgress;
  const rng = decodeOrThrow(RngCodec, parseJson(meta.rng, fileName, 'rng'), `${fileName} (metadata 'rng')`);
  const optimizerStep = Number(meta.optimizer_step);
  if (!Number.isSafeInteger(optimizerStep) || optimizerStep < 0) throw new Error(`${fileName}: metadata 'optimizer_step' must be a non-negative integer, got '${meta.optimizer_step}'`);
  let carry: CarrySnapshot | undefined;
  const zH = tensors.get('carry.z_H');
  if (zH) {
    const zL = tensors.get('carry.z_L');
    if (!zL) throw new Error(`${fileName}: checkpoint has 'carry.z_H' but no 'carry.z_L'`);
    const inputs = tensors.get('carry.inputs');
    if (!inputs || inputs.shape.length !== 2) throw new Error(`${fileName}: checkpoint has a carry but no 'carry.inputs' [B, T]`);
    const [B, T] = inputs.shape;
    carry = {
      zH: asF64(zH, fileName, 'carry.z_H'),
      zL: asF64(zL, fileName, 'carry.z_L'),
      steps: intTensor(tensors, 'carry.steps', 'I32', [B], fileName),
      halted: intTensor(tensors, 'carry.halted', 'U8', [B], fileName),
      inputs: intTensor(tensors, 'carry.inputs', 'I32', [B, T], fileName),
      labels: intTensor(tensors, 'carry.labels', 'I32', [B, T], fileName),
      puzzleIdentifiers: intTensor(tensors, 'carry.puzzle_identifiers', 'I32', [B], fileName),
      batchSize: B,
      seqLen: T,
    };
  }
  return {
    config,
    state: { parameters: params, adamM: m, adamV: v, ...(ema.size ? { ema } : {}), optimizerStep, rng: { s: rng.s } },
    progress,
    carry,
    dtype,
  };
};

/** Names of non-finite parameters (a checkpoint is only saved when this is empty). */
export const nonFiniteTensors = (state: TrainingState): string[] => {
  const bad: string[] = [];
  const scan = (prefix: string, map: ReadonlyMap<string, Tensor<Float64Array>>): void => {
    for (const [name, x] of map) {
      for (let i = 0; i < x.data.length; i++) {
        if (!Number.isFinite(x.data[i])) {
          bad.push(prefix + name);
          break;
        }
      }
    }
  };
  scan('', state.parameters);
  scan('optimizer.adam_m.', state.adamM);
  scan('optimizer.adam_v.', state.adamV);
  return bad;
};
