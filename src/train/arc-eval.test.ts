// ARC evaluation routing: predictions made on augmented copies are mapped back through the
// dataset code's crop and inverse transforms and voted on; the truth comes from the original rows.
import { describe, expect, it } from 'vitest';
import { augmentGrid, encodeArcGrid, augmentedName } from '../data/arc/transforms.ts';
import { gridFromRows, gridToRows } from '../data/dihedral.ts';
import { arcTransforms, arcVotes } from './arc-eval.ts';
import type { RowOutput } from './evaluate.ts';

const input = gridFromRows([[1, 2, 0], [0, 3, 3]]);
const output = gridFromRows([[3, 0], [2, 1], [0, 5]]);
const wrong = gridFromRows([[4, 4], [4, 4], [4, 4]]);
const map = [0, 7, 3, 9, 1, 2, 4, 5, 6, 8];

const row = (id: number, t: number, m: number[], pred: ReturnType<typeof gridFromRows>, q: number, withLabel: boolean): RowOutput => ({
  puzzleIdentifier: id,
  inputs: Int32Array.from(encodeArcGrid(augmentGrid(input, t, m), 0, 0)),
  predictions: Int32Array.from(encodeArcGrid(augmentGrid(pred, t, m), 0, 0)),
  labels: withLabel ? Int32Array.from(encodeArcGrid(augmentGrid(output, t, m), 0, 0), (x) => (x === 0 ? -100 : x)) : new Int32Array(900).fill(-100),
  qHaltLogit: q,
  qContinueLogit: 0,
});

describe('ARC evaluation from model outputs', () => {
  it('inverts augmentations, votes, and scores against the original rows', async () => {
    const id = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    const identifiers = ['<blank>', 'abc', augmentedName('abc', 1, map), augmentedName('abc', 6, id), augmentedName('abc', 3, map)];
    const t = await arcTransforms();
    const outputs = [
      row(1, 0, id, wrong, 5, true), // the original: wrong, but confident
      row(2, 1, map, output, -1, false),
      row(3, 6, id, output, -1, false),
      row(4, 3, map, wrong, 5, false),
      row(0, 0, id, wrong, 0, false), // padding row: ignored
    ];
    const r = arcVotes(identifiers, outputs, t, [1, 2]);
    expect(r.scores.tasks).toBe(1);
    const ranked = r.scores.perInput[0].candidates;
    expect(ranked.map((c) => c.votes)).toEqual([2, 2]);
    // ties on votes: the wrong answer has the higher mean σ(q_halt)
    expect(ranked[0].output).toEqual(gridToRows(wrong));
    expect(r.scores.passAtK.get(1)).toBe(0);
    expect(r.scores.passAtK.get(2)).toBe(1);
    expect(r.submission.abc[0].attempt_2).toEqual(gridToRows(output));
  });
});
