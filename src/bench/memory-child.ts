// The child process of the memory benchmark: creates one backend and one model, runs a few training
// steps, and prints one JSON line with its peak resident set size (and the backend's own memory
// figures when it reports them). One configuration per process, so peaks never mix.
// Input: argv[2] is a JSON MemoryJob (see memory.ts). Not meant to be run by hand.

import { readFileSync, writeFileSync } from 'node:fs';
import { createBackend, type GpuMode } from '../backends/registry.ts';
import type { Backend } from '../core/backend.ts';
import { createHrm } from '../model/hrm.ts';
import { benchBatch, benchConfig } from './workload.ts';
import type { MemoryJob, MemorySample } from './memory.ts';
import { backendMemory } from './memory.ts';

const mb = (bytes: number): number => bytes / 2 ** 20;

/** The process's RSS high-water mark in KiB (Linux VmHWM), or undefined where /proc has none. */
const highWaterKb = (): number | undefined => {
  try {
    const m = /VmHWM:\s+(\d+)\s*kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return m === null ? undefined : Number(m[1]);
  } catch {
    return undefined;
  }
};

/** Resets the high-water mark to the current RSS (Linux ≥ 4.0); false where that is not possible. */
const resetPeak = (): boolean => {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return highWaterKb() !== undefined;
  } catch {
    return false;
  }
};

const main = async (): Promise<void> => {
  const job = JSON.parse(process.argv[2] ?? '') as MemoryJob;
  const backend = await createBackend(job.backend, {
    ...(job.threads !== undefined ? { threads: job.threads } : {}),
    ...(job.gpuMode !== undefined ? { gpuMode: job.gpuMode as GpuMode } : {}),
    log: () => {},
  });
  const z = job.sizes;
  const config = benchConfig(z);
  const batch = benchBatch(z);
  const hrm = createHrm(config, { backend: backend as Backend<unknown>, seed: 0 });
  const setupRss = process.memoryUsage().rss;
  const setupPeakKb = process.resourceUsage().maxRSS;
  const resetHighWater = resetPeak();
  let carry = hrm.initialCarry(z.batchSize, batch.seqLen);
  const rates = { lr: config.train.lr, puzzleEmbLr: config.train.puzzle_emb_lr };
  let arenaPeak: number | undefined;
  for (let i = 0; i < job.steps; i++) {
    const r = await hrm.trainStep(carry, batch, rates, z.batchSize);
    carry = r.carry;
    const arena = backendMemory(backend);
    if (arena !== undefined) arenaPeak = Math.max(arenaPeak ?? 0, arena);
  }
  const sample: MemorySample = {
    hCycles: z.hCycles,
    lCycles: z.lCycles,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    setupRssMb: mb(setupRss),
    setupPeakRssMb: setupPeakKb / 1024,
    ...(resetHighWater && highWaterKb() !== undefined ? { stepsPeakRssMb: (highWaterKb() as number) / 1024 } : {}),
    ...(arenaPeak !== undefined ? { backendMb: mb(arenaPeak) } : {}),
  };
  hrm.disposeCarry(carry);
  await hrm.dispose();
  await backend.close?.();
  process.stdout.write(`${JSON.stringify(sample)}\n`);
};

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`memory child: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
