// ARC grid transforms shared by the builder and the evaluation (spec §6.5–6.6): colour maps
// (0 fixed), augmentation = recolour then dihedral, augmented names "<task>_t<d>_<10 digits>",
// the 30×30 sequence encoding with EOS borders and optional translation, the puzzle hash used to
// deduplicate augmentations, the crop of a predicted canvas and the inverse of an augmentation.
// Pure.

import { createHash } from 'node:crypto';
import { dihedral, inverseDihedral, gridFromRows, gridToRows, type Grid } from '../dihedral.ts';

export const ARC_SIDE = 30;
export const ARC_SEQ_LEN = ARC_SIDE * ARC_SIDE;
export const ARC_EOS = 1;
export const ARC_COLOR_OFFSET = 2;
export const ARC_VOCAB = 12;

/** Recolours a grid: out = map[in]. */
export const recolour = (g: Grid, map: ArrayLike<number>): Grid => {
  const data = new Uint8Array(g.data.length);
  for (let i = 0; i < data.length; i++) data[i] = map[g.data[i]];
  return { rows: g.rows, cols: g.cols, data };
};

/** The augmentation of §6.5: recolour with `map` (map[0] = 0), then dihedral transform t. */
export const augmentGrid = (g: Grid, t: number, map: ArrayLike<number>): Grid => dihedral(recolour(g, map), t);

/** Inverse of a colour map (argsort of a permutation). */
export const inverseColourMap = (map: ArrayLike<number>): Uint8Array => {
  const inv = new Uint8Array(map.length);
  for (let c = 0; c < map.length; c++) inv[map[c]] = c;
  return inv;
};

/** Undoes augmentGrid: inverse dihedral first, then the inverse colour map. */
export const invertAugmentation = (g: Grid, t: number, map: ArrayLike<number> | null): Grid => {
  const d = inverseDihedral(g, t);
  return map === null ? d : recolour(d, inverseColourMap(map));
};

/** "<task>_t<d>_<colour map digits>", e.g. "007bbfb7_t3_0847291356". */
export const augmentedName = (task: string, t: number, map: ArrayLike<number>): string => `${task}_t${t}_${Array.from(map).join('')}`;

/**
 * Encodes an (input, output) pair as two 900-token rows: canvas of PAD, grid colours + 2 at
 * (padR, padC), an EOS row under and an EOS column right of the grid when they fit.
 */
export const encodeArcGrid = (g: Grid, padR: number, padC: number): Uint8Array => {
  const out = new Uint8Array(ARC_SEQ_LEN);
  const { rows, cols, data } = g;
  if (padR < 0 || padC < 0 || padR + rows > ARC_SIDE || padC + cols > ARC_SIDE) {
    throw new Error(`encodeArcGrid: ${rows}×${cols} grid at (${padR}, ${padC}) does not fit the ${ARC_SIDE}×${ARC_SIDE} canvas`);
  }
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[(padR + r) * ARC_SIDE + padC + c] = data[r * cols + c] + ARC_COLOR_OFFSET;
  const eosRow = padR + rows;
  const eosCol = padC + cols;
  if (eosRow < ARC_SIDE) for (let c = padC; c < eosCol; c++) out[eosRow * ARC_SIDE + c] = ARC_EOS;
  if (eosCol < ARC_SIDE) for (let r = padR; r < eosRow; r++) out[r * ARC_SIDE + eosCol] = ARC_EOS;
  return out;
};

/**
 * The crop of §6.6: scanning rows top-down with a running column bound (the first column whose
 * token is not a colour lowers it), the largest top-left rectangle r × bound wins; returns that
 * sub-grid minus 2 (colours 0–9). A canvas with no colour at (0, 0) gives a 0×0 grid.
 */
export const cropArcCanvas = (tokens: ArrayLike<number>): Grid => {
  if (tokens.length !== ARC_SEQ_LEN) throw new Error(`cropArcCanvas: ${tokens.length} tokens, expected ${ARC_SEQ_LEN}`);
  let maxArea = 0;
  let best: [number, number] = [0, 0];
  let numC = ARC_SIDE;
  for (let numR = 1; numR <= ARC_SIDE; numR++) {
    for (let c = 1; c <= numC; c++) {
      const x = tokens[(numR - 1) * ARC_SIDE + (c - 1)];
      if (x < ARC_COLOR_OFFSET || x > ARC_COLOR_OFFSET + 9) {
        numC = c - 1;
        break;
      }
    }
    const area = numR * numC;
    if (area > maxArea) {
      maxArea = area;
      best = [numR, numC];
    }
  }
  const [R, C] = best;
  const data = new Uint8Array(R * C);
  for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) data[r * C + c] = tokens[r * ARC_SIDE + c] - ARC_COLOR_OFFSET;
  return { rows: R, cols: C, data };
};

/** sha256 hex of (rows byte, cols byte, grid bytes), as the original `_grid_hash`. */
export const gridHash = (g: Grid): string => {
  const h = createHash('sha256');
  h.update(Uint8Array.of(g.rows, g.cols));
  h.update(g.data);
  return h.digest('hex');
};

/** The puzzle hash of §6.5: sha256 of the sorted "<in hash>|<out hash>" strings joined by '|'. */
export const puzzleHash = (pairs: Iterable<{ readonly input: Grid; readonly output: Grid }>): string => {
  const hashes: string[] = [];
  for (const p of pairs) hashes.push(`${gridHash(p.input)}|${gridHash(p.output)}`);
  hashes.sort();
  return createHash('sha256').update(hashes.join('|')).digest('hex');
};

/**
 * What ARC evaluation needs from the dataset code, on nested-array grids: the crop of a 30×30
 * token canvas, and the inverse of augmentation (dihedral, colours: colour c was mapped to
 * colours[c]; null = not augmented).
 */
export const arcTransforms = {
  crop: (tokens: ArrayLike<number>): number[][] => gridToRows(cropArcCanvas(tokens)),
  invert: (grid: ReadonlyArray<ReadonlyArray<number>>, dihedralId: number, colours: readonly number[] | null): number[][] => {
    if (grid.length === 0) return [];
    return gridToRows(invertAugmentation(gridFromRows(grid), dihedralId, colours));
  },
};
