// A training checkpoint as one safetensors file: the model's parameters and buffers under their
// original names (so the weights load like the official-parity `weights.safetensors`), the
// AdamATan2 moments (`optimizer.adam_m.<name>`, `optimizer.adam_v.<name>`), the EMA copy if any
// (`ema.<name>`), the ACT carry (`carry.*`) and, in the metadata, the config, the step counters,
// the model's exploration Rng and the data iterator's state. Together these resume a run exactly.
// Pure encode/decode; writing files atomically is the checkpoint store's job.

import * as t from 'io-ts';
import type { Tensor } from '../core/tensor.ts';
import { wrap64 } from '../core/tensor.ts';
import type { CarrySnapshot, TrainingState } from '../model/api.ts';
import { IGNORE_LABEL } from '../core/batch.ts';
import { decodeConfig, type HrmConfig } from '../model/config.ts';
import { decodeOrThrow, inputError, intIn, numberIn, strictObject } from '../io/codec.ts';
import { readSafetensors, writeSafetensors, type SafeTensor } from '../io/safetensors.ts';

export const CHECKPOINT_FORMAT = 'hrm-ts-checkpoint/1';

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

const Meta = strictObject('metadata', {
  format: t.literal(CHECKPOINT_FORMAT),
  config: t.string,
  progress: t.string,
  optimizer_step: t.string,
  rng: t.string,
});

const U32 = intIn(0, 0xffffffff);
/** xoshiro128** state: four uint32 words, not all zero (the all-zero state never leaves zero). */
const RngCodec = strictObject('rng', { s: t.tuple([U32, U32, U32, U32]) });
/** The training iterator's state (src/data/loader.ts TrainIteratorState). */
const DataStateCodec = t.union([
  t.null,
  strictObject('data', {
    seed: intIn(-(2 ** 53) + 1),
    iteration: intIn(0),
    cursor: intIn(0),
    rng: t.union([t.null, RngCodec]),
  }),
]);
const ProgressCodec = strictObject('progress', {
  step: intIn(0),
  iteration: intIn(0),
  data: [DataStateCodec, null],
  dataPath: t.string,
  lastEval: [t.union([t.undefined, t.record(t.string, numberIn(-1e300, 1e300))]), undefined],
});

const zeroRng = (s: readonly number[] | null | undefined): boolean => s !== null && s !== undefined && s.every((w) => w === 0);

/**
 * Problems in float tensors: a non-finite value anywhere, a negative Adam second moment
 * (`optimizer.adam_v.*`); at most five, each naming the tensor and the index.
 */
export const floatTensorProblems = (tensors: Iterable<readonly [string, { readonly data: ArrayLike<number> | ArrayLike<bigint> }]>): string[] => {
  const p: string[] = [];
  for (const [name, s] of tensors) {
    if (!(s.data instanceof Float64Array || s.data instanceof Float32Array)) continue;
    const d = s.data;
    const secondMoment = name.startsWith('optimizer.adam_v.');
    for (let i = 0; i < d.length; i++) {
      const x = d[i];
      if (!Number.isFinite(x)) {
        p.push(`tensor '${name}' holds ${x} at index ${i} (weights and optimizer state must be finite)`);
        break;
      }
      if (secondMoment && x < 0) {
        p.push(`tensor '${name}' holds ${x} at index ${i} (Adam second moments are ≥ 0)`);
        break;
      }
    }
    if (p.length >= 5) break;
  }
  return p;
};

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
    const d = k.currentData;
    const B = d.batchSize;
    const T = d.seqLen;
    entries.push(['carry.z_H', floatTensor(k.zH, c.dtype)]);
    entries.push(['carry.z_L', floatTensor(k.zL, c.dtype)]);
    entries.push(['carry.steps', { dtype: 'I32', shape: [B], data: k.steps }]);
    entries.push(['carry.halted', { dtype: 'U8', shape: [B], data: k.halted }]);
    entries.push(['carry.inputs', { dtype: 'I32', shape: [B, T], data: d.inputs }]);
    entries.push(['carry.labels', { dtype: 'I32', shape: [B, T], data: d.labels }]);
    entries.push(['carry.puzzle_identifiers', { dtype: 'I32', shape: [B], data: d.puzzleIdentifiers }]);
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
    throw inputError(fileName, `tensor '${name}' has dtype ${s.dtype}, expected F64 or F32`);
  }
  return wrap64(s.shape, s.data instanceof Float64Array ? s.data : Float64Array.from(s.data as Float32Array));
};

const intTensor = <A extends Int32Array | Uint8Array>(file: Map<string, SafeTensor>, name: string, dtype: 'I32' | 'U8', shape: number[], fileName: string): A => {
  const s = file.get(name);
  if (!s) throw inputError(fileName, `checkpoint has a carry but no tensor '${name}'`);
  if (s.dtype !== dtype || s.shape.length !== shape.length || s.shape.some((d, i) => d !== shape[i])) {
    throw inputError(fileName, `tensor '${name}' is ${s.dtype}[${s.shape.join(', ')}], expected ${dtype}[${shape.join(', ')}]`);
  }
  return s.data as A;
};

const parseJson = (text: string, fileName: string, what: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    throw inputError(fileName, `metadata '${what}' is not valid JSON`);
  }
};

/**
 * Decodes the bytes of an hrm-ts checkpoint (parameters, optimizer state, EMA, progress, carry).
 * Plain weights files and the original's checkpoints go through the one weights loader
 * (decodeWeights in weights.ts, loadWeights in load-model.ts), which calls this for hrm-ts files.
 */
export const decodeCheckpoint = (bytes: Uint8Array, fileName: string): Checkpoint => {
  const { tensors, metadata } = readSafetensors(bytes, fileName);
  if (metadata.format === undefined) {
    throw inputError(fileName, `not an hrm-ts checkpoint (no 'format' metadata); plain weights files load through loadWeights / decodeWeights with a config`);
  }
  const bad = floatTensorProblems(tensors);
  if (bad.length > 0) throw inputError(fileName, bad.join('; '));
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
  const meta = decodeOrThrow(Meta, metadata, `${fileName} (metadata)`);
  const config = decodeConfig(parseJson(meta.config, fileName, 'config'), `${fileName} (metadata 'config')`);
  const progress = decodeOrThrow(ProgressCodec, parseJson(meta.progress, fileName, 'progress'), `${fileName} (metadata 'progress')`) as RunProgress;
  const rng = decodeOrThrow(RngCodec, parseJson(meta.rng, fileName, 'rng'), `${fileName} (metadata 'rng')`);
  if (zeroRng(rng.s)) throw inputError(fileName, `metadata 'rng': the generator state is all zero (never produced by a run)`);
  const dataRng = (progress.data as { rng?: { s: number[] } | null } | null)?.rng;
  if (zeroRng(dataRng?.s)) throw inputError(fileName, `metadata 'progress': field 'data.rng': the generator state is all zero (never produced by a run)`);
  if (!/^(0|[1-9]\d{0,15})$/.test(meta.optimizer_step)) throw inputError(fileName, `metadata 'optimizer_step' must be a non-negative integer, got '${meta.optimizer_step.slice(0, 40)}'`);
  const optimizerStep = Number(meta.optimizer_step);
  if (!Number.isSafeInteger(optimizerStep)) throw inputError(fileName, `metadata 'optimizer_step' ${meta.optimizer_step} is not a safe integer`);
  if (optimizerStep !== progress.step) throw inputError(fileName, `metadata 'optimizer_step' is ${optimizerStep} but 'progress' records step ${progress.step} (they advance together)`);
  let carry: CarrySnapshot | undefined;
  const zH = tensors.get('carry.z_H');
  if (zH) {
    const zL = tensors.get('carry.z_L');
    if (!zL) throw inputError(fileName, `checkpoint has 'carry.z_H' but no 'carry.z_L'`);
    const inputs = tensors.get('carry.inputs');
    if (!inputs || inputs.shape.length !== 2) throw inputError(fileName, `checkpoint has a carry but no 'carry.inputs' [B, T]`);
    const [B, T] = inputs.shape;
    carry = {
      zH: asF64(zH, fileName, 'carry.z_H'),
      zL: asF64(zL, fileName, 'carry.z_L'),
      steps: intTensor(tensors, 'carry.steps', 'I32', [B], fileName),
      halted: intTensor(tensors, 'carry.halted', 'U8', [B], fileName),
      currentData: {
        inputs: intTensor(tensors, 'carry.inputs', 'I32', [B, T], fileName),
        labels: intTensor(tensors, 'carry.labels', 'I32', [B, T], fileName),
        puzzleIdentifiers: intTensor(tensors, 'carry.puzzle_identifiers', 'I32', [B], fileName),
        batchSize: B,
        seqLen: T,
      },
    };
    const problems = carryProblems(carry, config);
    if (problems.length > 0) throw inputError(fileName, problems.join('; '));
  }
  return {
    config,
    state: { parameters: params, adamM: m, adamV: v, ...(ema.size ? { ema } : {}), optimizerStep, rng: { s: rng.s } },
    progress,
    carry,
    dtype,
  };
};

/** Values of a decoded carry that no run produces (the model checks the shapes on import). */
const carryProblems = (k: CarrySnapshot, c: HrmConfig): string[] => {
  const a = c.arch;
  const p: string[] = [];
  const range = (name: string, d: ArrayLike<number>, ok: (v: number) => boolean, expected: string): void => {
    for (let i = 0; i < d.length; i++) {
      if (!ok(d[i])) {
        p.push(`tensor '${name}' holds ${d[i]} at index ${i}, expected ${expected}`);
        return;
      }
    }
  };
  range('carry.steps', k.steps, (v) => v >= 0 && v <= a.halt_max_steps, `a step count in [0, ${a.halt_max_steps}] (halt_max_steps)`);
  range('carry.halted', k.halted, (v) => v === 0 || v === 1, '0 or 1');
  range('carry.inputs', k.currentData.inputs, (v) => v >= 0 && v < a.vocab_size, `a token in [0, ${a.vocab_size})`);
  range('carry.labels', k.currentData.labels, (v) => v === IGNORE_LABEL || (v >= 0 && v < a.vocab_size), `${IGNORE_LABEL} or a token in [0, ${a.vocab_size})`);
  range('carry.puzzle_identifiers', k.currentData.puzzleIdentifiers, (v) => v >= 0 && v < a.num_puzzle_identifiers, `an identifier in [0, ${a.num_puzzle_identifiers})`);
  return p;
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
