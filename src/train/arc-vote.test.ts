import { describe, expect, it } from 'vitest';
import { parseAugmentedName, rankCandidates, scoreArc, submission, type ArcPrediction } from './arc-vote.ts';

const g1 = [[1, 2], [3, 4]];
const g2 = [[4, 3], [2, 1]];
const g3 = [[0]];
const inA = [[5]];
const inB = [[6]];

const pred = (task: string, input: number[][], output: number[][], q: number): ArcPrediction => ({ task, input, output, qHaltLogit: q });

describe('ARC voting', () => {
  it('ranks by votes, then by mean sigmoid(q_halt)', () => {
    const c = rankCandidates([pred('t', inA, g1, -3), pred('t', inA, g2, 5), pred('t', inA, g1, -3), pred('t', inA, g3, 9), pred('t', inA, g2, -9)]);
    expect(c.map((x) => x.votes)).toEqual([2, 2, 1]);
    // g2 has mean σ = (σ(5)+σ(-9))/2 ≈ 0.497 > σ(-3) ≈ 0.047
    expect(c[0].output).toEqual(g2);
    expect(c[1].output).toEqual(g1);
    expect(c[2].output).toEqual(g3);
  });

  it('counts a task at K only when all its test inputs are within the top K', () => {
    const preds = [
      // task x: input A → correct at rank 1, input B → correct at rank 2
      pred('x', inA, g1, 0), pred('x', inA, g1, 0), pred('x', inA, g2, 0),
      pred('x', inB, g3, 0), pred('x', inB, g3, 0), pred('x', inB, g2, 0),
      // task y: its only input is wrong
      pred('y', inA, g3, 0),
    ];
    const truths = [
      { task: 'x', input: inA, output: g1 },
      { task: 'x', input: inB, output: g2 },
      { task: 'y', input: inA, output: g1 },
    ];
    const s = scoreArc(preds, truths, [1, 2, 10]);
    expect(s.tasks).toBe(2);
    expect(s.passAtK.get(1)).toBe(0);
    expect(s.passAtK.get(2)).toBe(0.5);
    expect(s.passAtK.get(10)).toBe(0.5);
    expect(s.perInput.map((r) => r.rank)).toEqual([1, 2, 0]);
    const sub = submission(s);
    expect(sub.x).toHaveLength(2);
    expect(sub.x[1]).toEqual({ attempt_1: g3, attempt_2: g2 });
    expect(sub.y[0]).toEqual({ attempt_1: g3, attempt_2: g3 }); // one candidate: repeated
  });

  it('a test input without predictions is unanswered and unsolved', () => {
    const s = scoreArc([], [{ task: 'z', input: inA, output: g1 }], [2]);
    expect(s.unanswered).toBe(1);
    expect(s.passAtK.get(2)).toBe(0);
    expect(submission(s).z[0].attempt_1).toEqual([[0]]);
  });

  it('parses augmented names', () => {
    expect(parseAugmentedName('007bbfb7_t3_0847291356')).toEqual({ task: '007bbfb7', dihedral: 3, colours: [0, 8, 4, 7, 2, 9, 1, 3, 5, 6] });
    expect(parseAugmentedName('007bbfb7')).toEqual({ task: '007bbfb7', dihedral: 0, colours: null });
  });
});
