// The batch iterators of spec §6.2, on a small hand-made set: each epoch takes every group once with
// one of its puzzles, a puzzle's examples sit together, the last partial batch is dropped, labels
// equal to ignore_label_id become −100, a saved state resumes exactly; the test iterator walks the
// set in order and pads the last chunk (pad_id, −100, blank identifier) reporting its true size.
import { describe, expect, it } from 'vitest';
import { TrainIterator, testBatches } from '../src/data/loader.ts';
import { IGNORE_LABEL } from '../src/core/batch.ts';
import type { DatasetMetadata, PuzzleSet } from '../src/data/format.ts';

// 5 groups; group g has g+1 puzzles; puzzle p has (p % 3) + 1 examples; T = 4.
// Example e: inputs = [e+1, e+1, e+1, e+1] (so rows identify examples), labels = [0, e+1, 0, 7].
const T = 4;
const make = (): { set: PuzzleSet; meta: DatasetMetadata } => {
  const groupIndices = [0];
  const puzzleIndices = [0];
  const ids: number[] = [];
  for (let g = 0; g < 5; g++) {
    for (let k = 0; k <= g; k++) {
      const p = ids.length;
      ids.push(100 + p);
      puzzleIndices.push(puzzleIndices[p] + (p % 3) + 1);
    }
    groupIndices.push(ids.length);
  }
  const N = puzzleIndices[puzzleIndices.length - 1];
  const inputs = new Uint8Array(N * T);
  const labels = new Uint8Array(N * T);
  for (let e = 0; e < N; e++) {
    inputs.fill(e + 1, e * T, e * T + T);
    labels.set([0, e + 1, 0, 7], e * T);
  }
  const set: PuzzleSet = {
    inputs,
    labels,
    puzzleIdentifiers: Int32Array.from(ids),
    puzzleIndices: Int32Array.from(puzzleIndices),
    groupIndices: Int32Array.from(groupIndices),
    numExamples: N,
    seqLen: T,
  };
  const meta: DatasetMetadata = {
    pad_id: 0,
    ignore_label_id: 0,
    blank_identifier_id: 0,
    vocab_size: 256,
    seq_len: T,
    num_puzzle_identifiers: 200,
    total_groups: 5,
    mean_puzzle_examples: N / ids.length,
    sets: ['all'],
  };
  return { set, meta };
};

const exampleOf = (inputs: Int32Array, b: number): number => inputs[b * T] - 1;
const puzzleOfExample = (set: PuzzleSet, e: number): number => {
  let p = 0;
  while (set.puzzleIndices[p + 1] <= e) p++;
  return p;
};
const groupOfPuzzle = (set: PuzzleSet, p: number): number => {
  let g = 0;
  while (set.groupIndices[g + 1] <= p) g++;
  return g;
};

describe('training iterator', () => {
  const { set, meta } = make();

  it('one epoch: every group once with one puzzle, all of its examples (unless cut by the batch end), contiguous', () => {
    const it = new TrainIterator(set, meta, { globalBatchSize: 2, seed: 3 });
    const rows: { e: number; id: number; labels: number[] }[] = [];
    for (const { batch, globalBatchSize } of it.iteration()) {
      expect(globalBatchSize).toBe(2);
      expect(batch.batchSize).toBe(2);
      for (let b = 0; b < batch.batchSize; b++) {
        rows.push({ e: exampleOf(batch.inputs, b), id: batch.puzzleIdentifiers[b], labels: Array.from(batch.labels.subarray(b * T, b * T + T)) });
      }
    }
    // labels: 0 (ignore_label_id) → −100
    for (const r of rows) expect(r.labels).toEqual([IGNORE_LABEL, r.e + 1, IGNORE_LABEL, 7]);
    // identifiers belong to the example's puzzle
    for (const r of rows) expect(r.id).toBe(100 + puzzleOfExample(set, r.e));
    // consecutive runs of the same puzzle ⇒ each group appears in one run only
    const runs: number[] = [];
    for (let i = 0; i < rows.length; i++) {
      const p = puzzleOfExample(set, rows[i].e);
      if (i === 0 || puzzleOfExample(set, rows[i - 1].e) !== p) runs.push(p);
    }
    const groups = runs.map((p) => groupOfPuzzle(set, p));
    expect(new Set(groups).size).toBe(groups.length);
    // no example twice
    expect(new Set(rows.map((r) => r.e)).size).toBe(rows.length);
    expect(rows.length % 2).toBe(0);
  });

  it('drops the last partial batch: batch larger than an epoch yields nothing', () => {
    const it = new TrainIterator(set, meta, { globalBatchSize: 1000, seed: 1 });
    expect([...it.iteration()].length).toBe(0);
  });

  it('is deterministic per seed, differs across seeds and across iterations', () => {
    const seq = (seed: number, iters: number): number[] => {
      const it = new TrainIterator(set, meta, { globalBatchSize: 3, seed, epochsPerIteration: 2 });
      const out: number[] = [];
      for (let i = 0; i < iters; i++) for (const { batch } of it.iteration()) for (let b = 0; b < 3; b++) out.push(exampleOf(batch.inputs, b));
      return out;
    };
    expect(seq(5, 2)).toEqual(seq(5, 2));
    expect(seq(5, 2)).not.toEqual(seq(6, 2));
    const two = seq(5, 2);
    const half = two.length / 2;
    expect(two.slice(0, half)).not.toEqual(two.slice(half));
  });

  it('a saved state resumes exactly, mid-iteration and across iterations', () => {
    const opts = { globalBatchSize: 2, seed: 11, epochsPerIteration: 3 };
    const ref = new TrainIterator(set, meta, opts);
    const all: number[][] = [];
    for (let i = 0; i < 2; i++) for (const { batch } of ref.iteration()) all.push(Array.from(batch.inputs));
    for (const cut of [1, 4, all.length / 2, all.length / 2 + 1]) {
      const a = new TrainIterator(set, meta, opts);
      const got: number[][] = [];
      let state = a.state();
      outer: for (let i = 0; i < 2; i++) {
        for (const { batch } of a.iteration()) {
          got.push(Array.from(batch.inputs));
          state = JSON.parse(JSON.stringify(a.state()));
          if (got.length === cut) break outer;
        }
      }
      const b = new TrainIterator(set, meta, opts, state);
      while (got.length < all.length) {
        for (const { batch } of b.iteration()) got.push(Array.from(batch.inputs));
      }
      expect(got).toEqual(all);
    }
  });

  it('after the last batch of an iteration the state already says finished, so a resume starts the next one', () => {
    const opts = { globalBatchSize: 2, seed: 4, epochsPerIteration: 2 };
    const ref = new TrainIterator(set, meta, opts);
    const first = [...ref.iteration()].map((b) => Array.from(b.batch.inputs));
    const second = [...ref.iteration()].map((b) => Array.from(b.batch.inputs));
    const a = new TrainIterator(set, meta, opts);
    let n = 0;
    let state = a.state();
    for (const _ of a.iteration()) {
      n++;
      state = a.state();
      if (n < first.length) expect(state.rng).not.toBeNull();
    }
    expect(n).toBe(first.length);
    expect(state.rng).toBeNull();
    expect(state.iteration).toBe(1);
    const b = new TrainIterator(set, meta, opts, state);
    expect([...b.iteration()].map((x) => Array.from(x.batch.inputs))).toEqual(second);
  });

  it('gives each rank its slice of the global batch', () => {
    const full = [...new TrainIterator(set, meta, { globalBatchSize: 4, seed: 2 }).iteration()];
    const r1 = [...new TrainIterator(set, meta, { globalBatchSize: 4, seed: 2, rank: 1, worldSize: 2 }).iteration()];
    expect(r1.length).toBe(full.length);
    for (let i = 0; i < full.length; i++) expect(Array.from(r1[i].batch.inputs)).toEqual(Array.from(full[i].batch.inputs.subarray(2 * T, 4 * T)));
  });
});

describe('test iterator', () => {
  const { set, meta } = make();
  it('walks examples in order and pads the last chunk', () => {
    const batches = [...testBatches(set, meta, { globalBatchSize: 4 })];
    const N = set.numExamples;
    expect(batches.length).toBe(Math.ceil(N / 4));
    const seen: number[] = [];
    for (const { batch, effectiveSize } of batches) {
      expect(batch.batchSize).toBe(4);
      for (let b = 0; b < 4; b++) {
        if (b < effectiveSize) {
          const e = exampleOf(batch.inputs, b);
          seen.push(e);
          expect(batch.puzzleIdentifiers[b]).toBe(100 + puzzleOfExample(set, e));
        } else {
          expect(Array.from(batch.inputs.subarray(b * T, b * T + T))).toEqual([0, 0, 0, 0]);
          expect(Array.from(batch.labels.subarray(b * T, b * T + T))).toEqual([-100, -100, -100, -100]);
          expect(batch.puzzleIdentifiers[b]).toBe(0);
        }
      }
    }
    expect(seen).toEqual([...Array(N).keys()]);
    expect(batches[batches.length - 1].effectiveSize).toBe(N % 4 || 4);
  });
});
