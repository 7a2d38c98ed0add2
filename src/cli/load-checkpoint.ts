// Loading a checkpoint for a command (eval, analyze, solve, export): the one weights loader, with
// the dataset's sizes when a dataset split is at hand (the original's all_config.yaml does not
// record them), its notes printed, and a loading failure printed as `hrm <command>: …` for exit 2.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { readMetadata, type SplitName } from '../data/format.ts';
import type { DatasetSizes } from '../model/original-config.ts';
import { loadWeights, type LoadedCheckpoint } from '../train/load-model.ts';

/** The sizes recorded by `dataDir`'s `split` (undefined when no dataset split is there). */
export const datasetSizes = (dataDir: unknown, split: SplitName): DatasetSizes | undefined => {
  if (typeof dataDir !== 'string' || !existsSync(path.join(dataDir, split, 'dataset.json'))) return undefined;
  const m = readMetadata(dataDir, split);
  return { seq_len: m.seq_len, vocab_size: m.vocab_size, num_puzzle_identifiers: m.num_puzzle_identifiers };
};

/**
 * loadWeights(`checkpoint`) with `--config` (when a string) and `sizes`; prints the loader's notes
 * on stderr. Returns null after printing `hrm <command>: <why>` when loading fails (every loading
 * failure is about the input: the caller exits 2).
 */
export const loadCheckpointForCommand = (command: string, checkpoint: string, config: unknown, sizes?: DatasetSizes): LoadedCheckpoint | null => {
  let loaded: LoadedCheckpoint;
  try {
    loaded = loadWeights(checkpoint, { ...(typeof config === 'string' ? { config } : {}), ...(sizes ? { sizes } : {}) });
  } catch (e) {
    console.error(`hrm ${command}: ${(e as Error).message}`);
    return null;
  }
  for (const n of loaded.notes) console.error(n);
  return loaded;
};
