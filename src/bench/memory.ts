// The memory benchmark: peak memory of a training step as H_cycles × L_cycles grows, each point
// measured in a fresh child process (memory-child.ts) so peaks do not mix. The no-grad cycles must
// not keep their activations, so the peak must stay flat: a growth over 10% is flagged.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BenchSizes } from './anchors.ts';

/** What one child process runs. */
export interface MemoryJob {
  readonly backend: string;
  readonly threads?: number;
  readonly gpuMode?: string;
  readonly sizes: BenchSizes;
  readonly steps: number;
}

/** What one child process reports (MiB). */
export interface MemorySample {
  readonly hCycles: number;
  readonly lCycles: number;
  /** peak resident set size of the whole process (main thread and workers) */
  readonly peakRssMb: number;
  /** resident set size after the backend and model were created, before the first step */
  readonly setupRssMb: number;
  readonly setupPeakRssMb: number;
  /**
   * peak RSS while the steps ran: the kernel's high-water mark reset after setup (Linux
   * /proc/self/clear_refs), so start-up transients (module compilation, background JIT) do not
   * count; absent where it cannot be reset
   */
  readonly stepsPeakRssMb?: number;
  /** the backend's own figure (live arena or device bytes, largest seen after a step) when it reports one */
  readonly backendMb?: number;
}

export interface MemoryResult {
  readonly samples: readonly MemorySample[];
  /** largest peak RSS over the smallest, minus 1 */
  readonly growth: number;
  readonly flat: boolean;
}

/** The (H_cycles, L_cycles) points: the product grows from 1 to 16, each loop stretched alone too. */
export const CYCLE_POINTS: ReadonlyArray<readonly [number, number]> = [
  [1, 1], [1, 2], [2, 2], [2, 4], [4, 4], [1, 16], [16, 1],
];

export const FLAT_TOLERANCE = 0.1;

/**
 * Bytes a backend reports holding (arena or device memory), if it exposes `memoryBytes()`,
 * `liveBytes()` (the SIMD engine: bytes of live tensors and caches) or `memoryStats()` with a
 * `bytes`/`peakBytes` field; undefined otherwise.
 */
export const backendMemory = (backend: unknown): number | undefined => {
  const b = backend as { memoryBytes?: () => number; liveBytes?: () => number; memoryStats?: () => { bytes?: number; peakBytes?: number } };
  if (typeof b.memoryBytes === 'function') return b.memoryBytes();
  if (typeof b.liveBytes === 'function') return b.liveBytes();
  if (typeof b.memoryStats === 'function') {
    const s = b.memoryStats();
    return s.peakBytes ?? s.bytes;
  }
  return undefined;
};

const CHILD = fileURLToPath(new URL('./memory-child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Runs one job in a fresh `node --import tsx` process and parses its JSON line. */
export const runMemoryChild = (job: MemoryJob, timeoutMs: number): Promise<MemorySample> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(job)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0) {
        const why = signal === 'SIGKILL' ? `timed out after ${timeoutMs} ms` : `exit code ${code}`;
        reject(new Error(`memory child (${job.backend}, cycles ${job.sizes.hCycles}×${job.sizes.lCycles}): ${why}: ${err.trim().slice(-800)}`));
        return;
      }
      try {
        resolve(JSON.parse(line) as MemorySample);
      } catch {
        reject(new Error(`memory child printed no JSON line: ${out.slice(-400)} ${err.slice(-400)}`));
      }
    });
  });

/**
 * Flatness of a set of samples: growth of the largest peak RSS over the smallest (the peaks during
 * the steps when every sample has one, else the whole processes' peaks).
 */
export const flatness = (samples: readonly MemorySample[]): MemoryResult => {
  const steps = samples.every((s) => s.stepsPeakRssMb !== undefined);
  const peaks = samples.map((s) => (steps ? (s.stepsPeakRssMb as number) : s.peakRssMb));
  const growth = Math.max(...peaks) / Math.min(...peaks) - 1;
  return { samples, growth, flat: growth <= FLAT_TOLERANCE };
};

/** Measures every cycle point for one backend at sizes `base` (cycles replaced per point). */
export const benchMemory = async (
  job: Omit<MemoryJob, 'sizes'>,
  base: BenchSizes,
  points: ReadonlyArray<readonly [number, number]>,
  timeoutMs: number,
  log: (m: string) => void = () => {},
): Promise<MemoryResult> => {
  const samples: MemorySample[] = [];
  for (const [h, l] of points) {
    const s = await runMemoryChild({ ...job, sizes: { ...base, hCycles: h, lCycles: l } }, timeoutMs);
    log(`  memory ${job.backend} ${base.name} cycles ${h}×${l}: peak RSS ${s.peakRssMb.toFixed(1)} MiB (after setup ${s.setupRssMb.toFixed(1)})`);
    samples.push(s);
  }
  return flatness(samples);
};
