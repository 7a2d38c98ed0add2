// A trained model from checkpoint bytes: the one weights loader's pure core (weights.ts: an hrm-ts
// checkpoint, plain safetensors or the original's PyTorch checkpoint, with a config where the file
// carries none) and the model built on a backend with those weights. No file access, so the web
// page and library users in browsers load checkpoints as `hrm` does (load-model.ts is the file edge).

import type { Backend } from '../core/backend.ts';
import type { Hrm } from '../model/api.ts';
import { createHrm } from '../model/hrm.ts';
import { inputError } from '../io/codec.ts';
import type { Checkpoint } from './checkpoint.ts';
import { decodeWeights, type WeightsOptions } from './weights.ts';

/** Builds the model of a loaded checkpoint with its weights (parameters and EMA; no optimizer). */
export const modelFrom = async (checkpoint: Checkpoint, backend: Backend<unknown>, file: string): Promise<Hrm> => {
  const hrm = createHrm(checkpoint.config, { backend, seed: checkpoint.config.train.seed });
  try {
    hrm.loadState({ parameters: checkpoint.state.parameters, ...(checkpoint.state.ema ? { ema: checkpoint.state.ema } : {}) });
  } catch (e) {
    await hrm.dispose();
    throw inputError(file, (e as Error).message);
  }
  return hrm;
};

/** Decodes checkpoint bytes (any source weights.ts reads) and builds the model on `backend`. */
export const modelFromCheckpoint = async (
  bytes: Uint8Array,
  fileName: string,
  backend: Backend<unknown>,
  options: WeightsOptions = {},
): Promise<{ hrm: Hrm; checkpoint: Checkpoint; notes: readonly string[] }> => {
  const loaded = decodeWeights(bytes, fileName, options);
  return { hrm: await modelFrom(loaded.checkpoint, backend, fileName), checkpoint: loaded.checkpoint, notes: loaded.notes };
};
