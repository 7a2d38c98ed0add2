// Swapping backends in code: the same HRM, the same seed, one training step on the float64
// reference and on the fastest accelerated engine here, and how far apart their losses are.
//   node --import tsx examples/swap-backends.ts
import { readFileSync } from 'node:fs';
import { createBackend } from '../src/backends/registry.ts';
import { parseConfigText } from '../src/model/config.ts';
import { createHrm } from '../src/model/hrm.ts';
import type { Batch } from '../src/core/batch.ts';
import { Rng } from '../src/core/rng.ts';

const config = parseConfigText(readFileSync('configs/bench-tiny.json', 'utf8'), 'configs/bench-tiny.json');
const { global_batch_size: B } = config.train;
const T = config.arch.seq_len;

// A random batch of Sudoku-shaped tokens (inputs 1..10, labels 2..10).
const rng = Rng.fromSeed(1);
const batch: Batch = {
  inputs: Int32Array.from({ length: B * T }, () => rng.int(1, 10)),
  labels: Int32Array.from({ length: B * T }, () => rng.int(2, 10)),
  puzzleIdentifiers: new Int32Array(B),
  batchSize: B,
  seqLen: T,
};

for (const name of ['reference', 'auto']) {
  const backend = await createBackend(name);
  const hrm = createHrm(config, { backend, seed: 0 });
  const t0 = performance.now();
  const { carry, result } = await hrm.trainStep(hrm.initialCarry(B, T), batch, { lr: 1e-4, puzzleEmbLr: 1e-2 }, B);
  console.log(`${backend.name.padEnd(9)} ${backend.description}: loss ${result.totalLoss.toFixed(6)} in ${(performance.now() - t0).toFixed(0)} ms`);
  hrm.disposeCarry(carry);
  await hrm.dispose();
  await backend.close?.();
}
