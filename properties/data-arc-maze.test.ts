// Properties of the grid transforms: every ARC augmentation (dihedral × colour map with 0 fixed) is
// undone exactly by its inverse, colour 0 is never permuted, the 30×30 encoding is undone by the
// crop of §6.6; every generated maze's label is a shortest S→G path, and the dihedral copies of a
// labelled maze are labelled mazes. Runs: HRM_PROP_RUNS.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Rng } from '../src/core/rng.ts';
import { DIHEDRAL_INVERSE, dihedral, type Grid } from '../src/data/dihedral.ts';
import { augmentGrid, cropArcCanvas, encodeArcGrid, invertAugmentation, arcTransforms } from '../src/data/arc/transforms.ts';
import { bfsDistances, checkMazeLabel, countShortestPaths, GOAL, PATH, START } from '../src/data/maze/maze.ts';
import { generateMaze } from '../src/data/maze/generate.ts';

const RUNS = Number(process.env.HRM_PROP_RUNS ?? 50);

const arbGrid = (maxSide = 30): fc.Arbitrary<Grid> =>
  fc
    .tuple(fc.integer({ min: 1, max: maxSide }), fc.integer({ min: 1, max: maxSide }))
    .chain(([rows, cols]) => fc.uint8Array({ min: 0, max: 9, minLength: rows * cols, maxLength: rows * cols }).map((data) => ({ rows, cols, data })));
const arbMap = fc.integer().map((seed) => {
  const p = Rng.fromSeed(seed).permutation(9);
  return Uint8Array.from([0, ...Array.from(p, (x) => x + 1)]);
});

describe('ARC augmentation', () => {
  it('is undone exactly by its inverse; colour 0 stays 0 and only 0 maps to 0', () => {
    fc.assert(
      fc.property(arbGrid(), fc.integer({ min: 0, max: 7 }), arbMap, (g, t, map) => {
        const a = augmentGrid(g, t, map);
        expect(a.rows * a.cols).toBe(g.rows * g.cols);
        const back = invertAugmentation(a, t, map);
        expect(back.rows).toBe(g.rows);
        expect(back.cols).toBe(g.cols);
        expect(Array.from(back.data)).toEqual(Array.from(g.data));
        const zerosBefore = g.data.filter((v) => v === 0).length;
        expect(a.data.filter((v) => v === 0).length).toBe(zerosBefore);
      }),
      { numRuns: RUNS },
    );
  });

  it('dihedral ids form the group of §6.5: inverse table correct, t applied twice per the table', () => {
    fc.assert(
      fc.property(arbGrid(6), fc.integer({ min: 0, max: 7 }), (g, t) => {
        const back = dihedral(dihedral(g, t), DIHEDRAL_INVERSE[t]);
        expect(Array.from(back.data)).toEqual(Array.from(g.data));
        // rot90 four times is the identity
        let r = g;
        for (let k = 0; k < 4; k++) r = dihedral(r, 1);
        expect(Array.from(r.data)).toEqual(Array.from(g.data));
      }),
      { numRuns: RUNS },
    );
  });

  it('crop(encode(grid)) recovers the grid when it sits at the top-left corner', () => {
    fc.assert(
      fc.property(arbGrid(), (g) => {
        const c = cropArcCanvas(encodeArcGrid(g, 0, 0));
        expect([c.rows, c.cols]).toEqual([g.rows, g.cols]);
        expect(Array.from(c.data)).toEqual(Array.from(g.data));
      }),
      { numRuns: RUNS },
    );
  });

  it('the evaluation transforms (crop, then invert) recover the original grid from an augmented canvas', () => {
    fc.assert(
      fc.property(arbGrid(), fc.integer({ min: 0, max: 7 }), arbMap, (g, t, map) => {
        const canvas = encodeArcGrid(augmentGrid(g, t, map), 0, 0);
        const rows = arcTransforms.invert(arcTransforms.crop(canvas), t, Array.from(map));
        expect(rows.flat()).toEqual(Array.from(g.data));
        expect(rows.length).toBe(g.rows);
      }),
      { numRuns: RUNS },
    );
  });

  it('translated encodings keep the grid, the EOS border and PAD elsewhere', () => {
    fc.assert(
      fc.property(arbGrid(), fc.nat(), fc.nat(), (g, a, b) => {
        const padR = a % (31 - g.rows);
        const padC = b % (31 - g.cols);
        const x = encodeArcGrid(g, padR, padC);
        let colours = 0;
        let eos = 0;
        for (const v of x) {
          if (v >= 2) colours++;
          if (v === 1) eos++;
        }
        expect(colours).toBe(g.rows * g.cols);
        expect(eos).toBe((padR + g.rows < 30 ? g.cols : 0) + (padC + g.cols < 30 ? g.rows : 0));
      }),
      { numRuns: RUNS },
    );
  });
});

describe('maze generator', () => {
  it('labels a shortest S→G path, unique, at least the requested length; dihedral copies stay valid', () => {
    fc.assert(
      fc.property(fc.integer(), fc.constantFrom(7, 9, 15), fc.integer({ min: 0, max: 7 }), (seed, n, t) => {
        const minPathLength = Math.floor(n * 1.2);
        const g = generateMaze({ n, minPathLength }, Rng.fromSeed(seed));
        expect(checkMazeLabel(n, g.input, g.label)).toBeNull();
        expect(countShortestPaths(g.maze)).toBe(1);
        const d = bfsDistances(n, g.input, g.maze.start);
        expect(d[g.maze.goal]).toBe(g.pathLength);
        expect(g.pathLength).toBeGreaterThanOrEqual(minPathLength);
        expect(g.label.filter((v) => v === PATH).length).toBe(g.pathLength - 1);
        expect(g.input.filter((v) => v === START).length).toBe(1);
        expect(g.input.filter((v) => v === GOAL).length).toBe(1);
        const ti = dihedral({ rows: n, cols: n, data: g.input }, t).data;
        const tl = dihedral({ rows: n, cols: n, data: g.label }, t).data;
        expect(checkMazeLabel(n, ti, tl)).toBeNull();
      }),
      { numRuns: Math.max(10, Math.floor(RUNS / 2)) },
    );
  });

  it('rejects a label that is a path but not a shortest one', () => {
    // 3×3 open room, S top-left, G bottom-right: a 6-move detour is not shortest (4 moves)
    const n = 3;
    const input = Uint8Array.from([3, 2, 2, 2, 2, 2, 2, 2, 4]);
    const shortest = Uint8Array.from([3, 5, 5, 2, 2, 5, 2, 2, 4]);
    expect(checkMazeLabel(n, input, shortest)).toBeNull();
    const gap = Uint8Array.from([3, 5, 2, 2, 2, 5, 2, 5, 4]);
    expect(checkMazeLabel(n, input, gap)).not.toBeNull();
    const fiveCells = Uint8Array.from([3, 5, 5, 5, 2, 5, 2, 2, 4]);
    expect(checkMazeLabel(n, input, fiveCells)).not.toBeNull();
  });
});
