// Batching of a loaded split (spec §6.2): the training iterator (per iteration: permutations of the
// groups, one random puzzle per group, its examples in random order until the global batch is full,
// last partial batch dropped) and the test iterator (sequential chunks, the last one padded).
// Both yield the model's `Batch` (int32, labels equal to ignore_label_id → −100). All randomness
// comes from `Rng`; the training iterator's state is a small value, so a resumed run continues
// exactly. File reading lives in src/data/format.ts.

import { IGNORE_LABEL, type Batch } from '../core/batch.ts';
import { Rng, type RngState } from '../core/rng.ts';
import type { DatasetMetadata, PuzzleSet } from './format.ts';

/** Where the training iterator stands: regenerate the iteration's order, then continue. */
export interface TrainIteratorState {
  readonly seed: number;
  /** 1-based number of the current iteration (0 before the first) */
  readonly iteration: number;
  /** position in the iteration's group order */
  readonly cursor: number;
  /** the generator after the last batch handed out (null at the start of an iteration) */
  readonly rng: RngState | null;
}

export interface TrainBatch {
  readonly set: string;
  readonly batch: Batch; // this rank's rows [local, T]
  readonly globalBatchSize: number;
}

export interface TestBatch {
  readonly set: string;
  readonly batch: Batch; // this rank's rows [local, T], padded
  /** true (unpadded) number of rows of the global chunk */
  readonly effectiveSize: number;
}

export interface LoaderOptions {
  readonly globalBatchSize: number;
  /** rank and world size for data parallelism (default 0 / 1): each rank gets its slice */
  readonly rank?: number;
  readonly worldSize?: number;
}

const localSize = (o: LoaderOptions): { local: number; rank: number } => {
  const worldSize = o.worldSize ?? 1;
  const rank = o.rank ?? 0;
  if (!Number.isInteger(o.globalBatchSize) || o.globalBatchSize < 1) throw new Error(`globalBatchSize must be a positive integer, got ${o.globalBatchSize}`);
  if (!Number.isInteger(worldSize) || worldSize < 1 || o.globalBatchSize % worldSize !== 0) {
    throw new Error(`globalBatchSize ${o.globalBatchSize} is not divisible by worldSize ${worldSize}`);
  }
  if (!Number.isInteger(rank) || rank < 0 || rank >= worldSize) throw new Error(`rank ${rank} outside [0, ${worldSize})`);
  return { local: o.globalBatchSize / worldSize, rank };
};

/**
 * Collates examples `rows` (example indices into `set`, −1 = padding) with their puzzle identifiers
 * into an int32 Batch [rows.length, T]; padding rows get inputs = pad_id, labels = −100,
 * identifier = blank_identifier_id.
 */
export const collate = (set: PuzzleSet, meta: DatasetMetadata, rows: ArrayLike<number>, identifiers: ArrayLike<number>): Batch => {
  const B = rows.length;
  const T = set.seqLen;
  const inputs = new Int32Array(B * T);
  const labels = new Int32Array(B * T);
  const puzzleIdentifiers = new Int32Array(B);
  const ignore = meta.ignore_label_id;
  for (let b = 0; b < B; b++) {
    const e = rows[b];
    if (e < 0) {
      inputs.fill(meta.pad_id, b * T, (b + 1) * T);
      labels.fill(IGNORE_LABEL, b * T, (b + 1) * T);
      puzzleIdentifiers[b] = meta.blank_identifier_id;
      continue;
    }
    for (let s = 0; s < T; s++) {
      inputs[b * T + s] = set.inputs[e * T + s];
      const l = set.labels[e * T + s];
      labels[b * T + s] = ignore !== null && l === ignore ? IGNORE_LABEL : l;
    }
    puzzleIdentifiers[b] = identifiers[b];
  }
  return { inputs, labels, puzzleIdentifiers, batchSize: B, seqLen: T };
};

/**
 * The training iterator over one set. `iteration()` yields the batches of the next iteration
 * (`epochsPerIteration` passes over the groups); `state()` after any batch, passed to `resume`,
 * continues with exactly the following batch.
 */
export class TrainIterator {
  private iter: number;
  private cursor: number;
  private rngState: RngState | null;
  private readonly local: number;
  private readonly rank: number;

  constructor(
    private readonly set: PuzzleSet,
    private readonly meta: DatasetMetadata,
    private readonly options: LoaderOptions & { readonly seed: number; readonly epochsPerIteration?: number; readonly setName?: string },
    state?: TrainIteratorState,
  ) {
    ({ local: this.local, rank: this.rank } = localSize(options));
    if (state !== undefined && state.seed !== options.seed) throw new Error(`TrainIterator: state seed ${state.seed} differs from seed ${options.seed}`);
    const orderLength = (set.groupIndices.length - 1) * (options.epochsPerIteration ?? 1);
    if (state !== undefined && !(Number.isSafeInteger(state.cursor) && state.cursor >= 0 && state.cursor <= orderLength)) {
      throw new Error(`TrainIterator: state cursor ${state.cursor} outside [0, ${orderLength}] (the groups of one iteration)`);
    }
    this.iter = state?.iteration ?? 0;
    this.cursor = state?.cursor ?? 0;
    this.rngState = state?.rng ?? null;
  }

  /**
   * The state after the last batch handed out. After the last batch of an iteration it already
   * says "iteration finished" (rng null), so a resumed run starts the next iteration directly.
   */
  state(): TrainIteratorState {
    return { seed: this.options.seed, iteration: this.iter, cursor: this.cursor, rng: this.rngState };
  }

  get numGroups(): number {
    return this.set.groupIndices.length - 1;
  }

  /** The group order of iteration `iter`: concatenated permutations from Rng(seed, iter). */
  private orderOf(iter: number): { order: Int32Array; rng: Rng } {
    const rng = Rng.fromSeed(this.options.seed * 1_000_003 + iter);
    const G = this.numGroups;
    const E = this.options.epochsPerIteration ?? 1;
    const order = new Int32Array(G * E);
    for (let e = 0; e < E; e++) order.set(rng.permutation(G), e * G);
    return { order, rng };
  }

  /**
   * Yields the batches of the current iteration (continuing a resumed one), then moves to the next.
   * Each batch is the rank's slice of a full global batch. One batch is built ahead, so the state
   * after the last batch of an iteration is already "finished".
   */
  *iteration(): Generator<TrainBatch> {
    const resuming = this.rngState !== null && this.iter > 0;
    if (!resuming) {
      this.iter += 1;
      this.cursor = 0;
    }
    const { order, rng: fresh } = this.orderOf(this.iter);
    const rng = resuming ? Rng.fromState(this.rngState as RngState) : fresh;
    const { groupIndices: gi, puzzleIndices: pi, puzzleIdentifiers: ids } = this.set;
    const Bg = this.options.globalBatchSize;
    let i = this.cursor;
    // one full global batch from position i (null when the groups left cannot fill one)
    const build = (): { rows: Int32Array; rowIds: Int32Array } | null => {
      const rows = new Int32Array(Bg);
      const rowIds = new Int32Array(Bg);
      let n = 0;
      while (i < order.length && n < Bg) {
        const g = order[i++];
        const p = rng.int(gi[g], gi[g + 1] - 1);
        const start = pi[p];
        const count = pi[p + 1] - start;
        const k = Math.min(count, Bg - n);
        // k examples of p without replacement, in random order (partial Fisher–Yates)
        const pick = new Int32Array(count);
        for (let j = 0; j < count; j++) pick[j] = start + j;
        for (let j = 0; j < k; j++) {
          const r = j + Math.floor(rng.uniform() * (count - j));
          const tmp = pick[j];
          pick[j] = pick[r];
          pick[r] = tmp;
          rows[n] = pick[j];
          rowIds[n] = ids[p];
          n++;
        }
      }
      return n < Bg ? null : { rows, rowIds }; // the last partial batch is dropped
    };
    const lo = this.rank * this.local;
    let cur = build();
    while (cur !== null) {
      const snapshot = { cursor: i, rng: rng.state() };
      const next = build();
      if (next === null) {
        this.cursor = order.length;
        this.rngState = null;
      } else {
        this.cursor = snapshot.cursor;
        this.rngState = snapshot.rng;
      }
      yield {
        set: this.options.setName ?? 'all',
        batch: collate(this.set, this.meta, cur.rows.subarray(lo, lo + this.local), cur.rowIds.subarray(lo, lo + this.local)),
        globalBatchSize: Bg,
      };
      cur = next;
    }
    this.cursor = order.length;
    this.rngState = null;
  }
}

/** Puzzle index of every example of a set (from puzzle_indices). */
const examplePuzzles = (set: PuzzleSet): Int32Array => {
  const out = new Int32Array(set.numExamples);
  const pi = set.puzzleIndices;
  for (let p = 0; p + 1 < pi.length; p++) out.fill(p, pi[p], pi[p + 1]);
  return out;
};

/**
 * The test iterator: the set in order, chunks of globalBatchSize rows, this rank's slice of each;
 * the last chunk is padded (pad_id, −100, blank identifier) and reports its true size.
 */
export function* testBatches(set: PuzzleSet, meta: DatasetMetadata, options: LoaderOptions & { readonly setName?: string }): Generator<TestBatch> {
  const { local, rank } = localSize(options);
  const Bg = options.globalBatchSize;
  const owner = examplePuzzles(set);
  const N = set.numExamples;
  const rows = new Int32Array(local);
  const rowIds = new Int32Array(local);
  for (let start = 0; start < N; start += Bg) {
    const effectiveSize = Math.min(Bg, N - start);
    for (let b = 0; b < local; b++) {
      const e = start + rank * local + b;
      const real = e < start + effectiveSize;
      rows[b] = real ? e : -1;
      rowIds[b] = real ? set.puzzleIdentifiers[owner[e]] : meta.blank_identifier_id;
    }
    yield { set: options.setName ?? 'all', batch: collate(set, meta, rows, rowIds), effectiveSize };
  }
}
