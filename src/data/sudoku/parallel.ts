// Parallel generation of hard Sudoku puzzles on worker threads, with output independent of the
// number of threads: puzzle slot j draws from its own generator (the j-th fork of Rng(seed)), so
// slots can be computed anywhere and are merged in slot order (duplicates dropped, more slots
// drawn until `count` distinct puzzles are kept). threads = 1 runs the same slots inline.

import { Worker } from 'node:worker_threads';
import * as os from 'node:os';
import { Rng, type RngState } from '../../core/rng.ts';
import { formatBoard, sudokuShape, type SudokuShape } from './grid.ts';
import { SudokuSolver } from './solver.ts';
import { generateHardPuzzle, type ClueRange } from './generate.ts';

export interface SlotResult {
  readonly slot: number;
  readonly puzzle: Uint8Array;
  readonly solution: Uint8Array;
  readonly rating: number;
  readonly attempts: number;
}

export interface SlotJob {
  readonly boxRows: number;
  readonly boxCols: number;
  readonly minRating: number;
  readonly clues?: ClueRange;
  readonly maxAttempts: number;
  readonly slots: readonly { readonly slot: number; readonly rng: RngState }[];
}

/** Computes the hard puzzle of each slot of a job (the worker body; also used inline). */
export const runSlots = (job: SlotJob, solver?: SudokuSolver): SlotResult[] => {
  const shape = sudokuShape(job.boxRows, job.boxCols);
  const s = solver ?? new SudokuSolver(shape);
  return job.slots.map(({ slot, rng }) => {
    const g = generateHardPuzzle(shape, Rng.fromState(rng), job.minRating, s, job.maxAttempts, job.clues);
    return { slot, puzzle: g.puzzle, solution: g.solution, rating: g.rating, attempts: g.attempts };
  });
};

export interface ParallelOptions {
  readonly count: number;
  readonly minRating: number;
  /** clue-count range of the puzzles (default: minimal puzzles) */
  readonly clues?: ClueRange;
  /** the slot generators: fork k of this master gives slot k (advanced by the caller across splits) */
  readonly master: Rng;
  /** puzzles already used (other split); extended with the kept ones */
  readonly seen: Set<string>;
  readonly threads?: number;
  /** candidates per slot before giving up (default 100 000) */
  readonly maxAttempts?: number;
  readonly onProgress?: (kept: number, tried: number) => void;
}

const WORKER_URL = new URL('./parallel-worker.mjs', import.meta.url);

/** Generates `count` distinct puzzles with rating ≥ minRating; identical output for any thread count. */
export const generateHardPuzzles = async (shape: SudokuShape, o: ParallelOptions): Promise<SlotResult[]> => {
  const threads = Math.max(1, Math.min(o.threads ?? os.availableParallelism(), 32));
  const maxAttempts = o.maxAttempts ?? 100_000;
  const kept: SlotResult[] = [];
  const pending = new Map<number, SlotResult>();
  let nextSlot = 0; // next slot to hand out
  let nextMerge = 0; // next slot to merge
  let tried = 0;
  const chunk = shape.n >= 9 ? 4 : 64;
  const makeJob = (k: number): SlotJob => {
    const slots = [];
    for (let q = 0; q < k; q++) slots.push({ slot: nextSlot++, rng: o.master.fork().state() });
    return { boxRows: shape.boxRows, boxCols: shape.boxCols, minRating: o.minRating, clues: o.clues, maxAttempts, slots };
  };
  const merge = (results: readonly SlotResult[]): void => {
    for (const r of results) pending.set(r.slot, r);
    while (pending.has(nextMerge) && kept.length < o.count) {
      const r = pending.get(nextMerge)!;
      pending.delete(nextMerge);
      nextMerge++;
      tried += r.attempts;
      const key = formatBoard(shape, r.puzzle);
      if (o.seen.has(key)) continue;
      o.seen.add(key);
      kept.push(r);
      o.onProgress?.(kept.length, tried);
    }
  };
  // duplicates are possible, so more slots than `count` may be needed; a slot that can never
  // yield a new puzzle is bounded by maxAttempts inside generateHardPuzzle
  const slotLimit = o.count * 50 + 1000;
  const need = (): number => o.count - kept.length;
  if (threads === 1) {
    const solver = new SudokuSolver(shape);
    while (need() > 0) {
      if (nextSlot >= slotLimit) break;
      merge(runSlots(makeJob(Math.min(chunk, need())), solver));
    }
  } else {
    const workers = Array.from({ length: threads }, () => new Worker(WORKER_URL));
    try {
      await new Promise<void>((resolve, reject) => {
        let busy = 0;
        const feed = (w: Worker): void => {
          // hand out only as many slots as are still needed beyond those in flight
          const inFlight = nextSlot - nextMerge - pending.size;
          const want = need() - inFlight;
          if (want <= 0 || nextSlot >= slotLimit) {
            if (busy === 0) resolve();
            return;
          }
          busy++;
          w.postMessage(makeJob(Math.min(chunk, want)));
        };
        for (const w of workers) {
          w.on('message', (results: SlotResult[]) => {
            busy--;
            merge(results);
            if (need() <= 0) {
              if (busy === 0) resolve();
              return;
            }
            feed(w);
            if (busy === 0 && need() > 0 && nextSlot >= slotLimit) resolve();
          });
          w.on('error', reject);
        }
        for (const w of workers) feed(w);
      });
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
    }
  }
  if (kept.length < o.count) {
    throw new Error(`only ${kept.length} of ${o.count} distinct ${shape.n}×${shape.n} puzzles with rating ≥ ${o.minRating} after ${nextSlot} slots; lower --min-rating or ask for fewer`);
  }
  return kept;
};
