// Building ARC from fixtures/arc (ARC-AGI-1 training + evaluation, ConceptARC) with a small
// --num-aug: split and group counts follow the §6.5 rules, identifiers are shared between an
// evaluation task's demos (train split) and its test pairs (test split), and every test example
// decodes (crop, inverse augmentation) back to the task's original test pair.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildArcDataset, type ArcBuildReport } from '../src/data/arc/build.ts';
import { readIdentifiers, readSplit, type DatasetSplit } from '../src/data/format.ts';
import { readArcTask } from '../src/data/arc/task.ts';
import { cropArcCanvas, invertAugmentation } from '../src/data/arc/transforms.ts';

const FIX = path.resolve('fixtures/arc');
const INPUTS = [path.join(FIX, 'arc-agi-1/data'), path.join(FIX, 'concept-arc/corpus')];
const NUM_AUG = 4;

describe('hrm build arc on fixtures', () => {
  let out: string;
  let report: ArcBuildReport;
  let train: DatasetSplit;
  let test: DatasetSplit;
  let ids: string[];

  beforeAll(() => {
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'hrm-arc-'));
    report = buildArcDataset({ inputs: INPUTS, out, numAug: NUM_AUG, seed: 42 });
    train = readSplit(out, 'train');
    test = readSplit(out, 'test');
    ids = readIdentifiers(out);
  });
  afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

  it('puts 6 tasks in train groups and the 2 evaluation tasks in test groups', () => {
    expect(report.tasks).toBe(6);
    expect(train.metadata.total_groups).toBe(6);
    expect(test.metadata.total_groups).toBe(2);
    expect(train.sets.all.groupIndices.length).toBe(7);
    expect(test.sets.all.groupIndices.length).toBe(3);
    // every group holds the original + NUM_AUG augmentations (these tasks have plenty of variants)
    for (const s of [train, test]) {
      const g = s.sets.all.groupIndices;
      for (let k = 0; k + 1 < g.length; k++) expect(g[k + 1] - g[k]).toBe(NUM_AUG + 1);
    }
  });

  it('counts examples per the split rules: demos+tests of training/ConceptARC, demos only of evaluation', () => {
    const files = (d: string) => fs.readdirSync(d).map((f) => readArcTask(path.join(d, f)));
    const training = [...files(path.join(FIX, 'arc-agi-1/data/training')), ...files(path.join(FIX, 'concept-arc/corpus/Copy')), ...files(path.join(FIX, 'concept-arc/corpus/AboveBelow'))];
    const evaluation = files(path.join(FIX, 'arc-agi-1/data/evaluation'));
    const trainExamples = training.reduce((a, t) => a + t.train.length + t.test.length, 0) + evaluation.reduce((a, t) => a + t.train.length, 0);
    const testExamples = evaluation.reduce((a, t) => a + t.test.length, 0);
    expect(train.sets.all.numExamples).toBe(trainExamples * (NUM_AUG + 1));
    expect(test.sets.all.numExamples).toBe(testExamples * (NUM_AUG + 1));
    expect(train.metadata.mean_puzzle_examples).toBeCloseTo(train.sets.all.numExamples / train.sets.all.puzzleIdentifiers.length, 12);
  });

  it('numbers identifiers globally (0 = <blank>) and shares them between a task’s train and test puzzles', () => {
    expect(ids[0]).toBe('<blank>');
    expect(ids.length).toBe(6 * (NUM_AUG + 1) + 1);
    expect(new Set(ids).size).toBe(ids.length);
    expect(train.metadata.num_puzzle_identifiers).toBe(ids.length);
    expect(test.metadata.num_puzzle_identifiers).toBe(ids.length);
    const trainIds = new Set(train.sets.all.puzzleIdentifiers);
    for (const id of test.sets.all.puzzleIdentifiers) {
      expect(trainIds.has(id)).toBe(true);
      expect(['20818e16', '12997ef3']).toContain(ids[id].split('_')[0]);
    }
    expect([...train.sets.all.puzzleIdentifiers].sort((a, b) => a - b)).toEqual([...Array(ids.length - 1).keys()].map((k) => k + 1));
    // augmented names carry the transform: <task>_t<d>_<0 + permutation of 1..9>
    for (const name of ids.slice(1)) {
      if (!name.includes('_')) continue;
      expect(name).toMatch(/^[A-Za-z0-9]+_t[0-7]_0[1-9]{9}$/);
      expect([...name.slice(-9)].sort().join('')).toBe('123456789');
    }
  });

  it('test examples (never translated) decode back to the original test pairs', () => {
    const s = test.sets.all;
    for (let p = 0; p < s.puzzleIdentifiers.length; p++) {
      const name = ids[s.puzzleIdentifiers[p]];
      const [task, tpart, cpart] = name.split('_');
      const t = tpart ? Number(tpart.slice(1)) : 0;
      const map = cpart ? Uint8Array.from(cpart, Number) : null;
      const original = readArcTask(path.join(FIX, 'arc-agi-1/data/evaluation', `${task}.json`));
      const decoded = [];
      for (let e = s.puzzleIndices[p]; e < s.puzzleIndices[p + 1]; e++) {
        const inp = invertAugmentation(cropArcCanvas(s.inputs.subarray(e * 900, e * 900 + 900)), t, map);
        const out = invertAugmentation(cropArcCanvas(s.labels.subarray(e * 900, e * 900 + 900)), t, map);
        decoded.push([Array.from(inp.data), Array.from(out.data)]);
      }
      expect(decoded).toEqual(original.test.map((q) => [Array.from(q.input.data), Array.from(q.output.data)]));
    }
  });

  it('is reproducible for a seed and changes with it', () => {
    const again = fs.mkdtempSync(path.join(os.tmpdir(), 'hrm-arc-'));
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'hrm-arc-'));
    try {
      buildArcDataset({ inputs: INPUTS, out: again, numAug: NUM_AUG, seed: 42 });
      buildArcDataset({ inputs: INPUTS, out: other, numAug: NUM_AUG, seed: 7 });
      const bytes = (d: string) => fs.readFileSync(path.join(d, 'train', 'all__inputs.npy'));
      expect(bytes(again).equals(bytes(out))).toBe(true);
      expect(bytes(other).equals(bytes(out))).toBe(false);
      expect(fs.readFileSync(path.join(again, 'identifiers.json'), 'utf8')).toBe(fs.readFileSync(path.join(out, 'identifiers.json'), 'utf8'));
    } finally {
      fs.rmSync(again, { recursive: true, force: true });
      fs.rmSync(other, { recursive: true, force: true });
    }
  });
});
