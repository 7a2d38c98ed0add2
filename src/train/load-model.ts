// Loading a trained model for `hrm eval` and `hrm solve`: a checkpoint file, or a run directory
// (its latest valid checkpoint), or a plain weights file with a config given separately; the
// model is rebuilt from the checkpoint's config on the chosen backend with its weights loaded.

import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Backend } from '../core/backend.ts';
import type { Hrm } from '../model/api.ts';
import type { HrmConfig } from '../model/config.ts';
import { createHrm } from '../model/hrm.ts';
import { latestCheckpoint } from './checkpoint-store.ts';
import { decodeCheckpoint, type Checkpoint } from './checkpoint.ts';

/** The checkpoint file a `--checkpoint` argument names (a file, or a run directory's latest). */
export const resolveCheckpoint = (arg: string): string => {
  if (!existsSync(arg)) throw new Error(`--checkpoint: ${arg} does not exist`);
  if (!statSync(arg).isDirectory()) return arg;
  for (const dir of [path.join(arg, 'checkpoints'), arg]) {
    if (!existsSync(dir)) continue;
    const f = latestCheckpoint(dir);
    if (f !== undefined) return f;
  }
  throw new Error(`--checkpoint: no valid checkpoint in ${arg}`);
};

/** Reads a checkpoint and builds the model with its weights (parameters only; no optimizer). */
export const loadModel = async (file: string, backend: Backend<unknown>, fallbackConfig?: HrmConfig): Promise<{ hrm: Hrm; checkpoint: Checkpoint }> => {
  const checkpoint = decodeCheckpoint(new Uint8Array(readFileSync(file)), file, fallbackConfig);
  const hrm = createHrm(checkpoint.config, { backend, seed: checkpoint.config.train.seed });
  try {
    hrm.loadState({ parameters: checkpoint.state.parameters, ...(checkpoint.state.ema ? { ema: checkpoint.state.ema } : {}) });
  } catch (e) {
    await hrm.dispose();
    throw new Error(`${file}: ${(e as Error).message}`);
  }
  return { hrm, checkpoint };
};
