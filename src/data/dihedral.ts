// The 8 dihedral transforms of a rectangular grid with NumPy's semantics (`dihedral_transform` of
// the original `dataset/common.py`, spec §6.5), their inverses, and composition-free helpers for
// grids stored as row-major Uint8Arrays. Used by the maze and ARC builders and ARC evaluation. Pure.

export interface Grid {
  readonly rows: number;
  readonly cols: number;
  readonly data: Uint8Array; // [rows * cols] row-major
}

/** DIHEDRAL_INVERSE[t] undoes transform t. */
export const DIHEDRAL_INVERSE: readonly number[] = [0, 3, 2, 1, 4, 5, 6, 7];

/** Shape after transform t: ids 1, 3, 6, 7 swap rows and columns. */
export const dihedralShape = (rows: number, cols: number, t: number): [number, number] =>
  t === 1 || t === 3 || t === 6 || t === 7 ? [cols, rows] : [rows, cols];

/**
 * Applies transform t to a [R, C] grid:
 * 0 identity; 1 np.rot90 (counter-clockwise): out[i][j] = in[j][C−1−i]; 2 rot180; 3 rot270 CCW:
 * out[i][j] = in[R−1−j][i]; 4 fliplr; 5 flipud; 6 transpose; 7 fliplr(rot90): out[i][j] = in[R−1−j][C−1−i].
 */
export const dihedral = (g: Grid, t: number): Grid => {
  const { rows: R, cols: C, data } = g;
  const [oR, oC] = dihedralShape(R, C, t);
  const out = new Uint8Array(R * C);
  for (let i = 0; i < oR; i++) {
    for (let j = 0; j < oC; j++) {
      let r: number;
      let c: number;
      switch (t) {
        case 0: r = i; c = j; break;
        case 1: r = j; c = C - 1 - i; break;
        case 2: r = R - 1 - i; c = C - 1 - j; break;
        case 3: r = R - 1 - j; c = i; break;
        case 4: r = i; c = C - 1 - j; break;
        case 5: r = R - 1 - i; c = j; break;
        case 6: r = j; c = i; break;
        case 7: r = R - 1 - j; c = C - 1 - i; break;
        default: throw new Error(`dihedral: transform id ${t} outside 0..7`);
      }
      out[i * oC + j] = data[r * C + c];
    }
  }
  return { rows: oR, cols: oC, data: out };
};

/** Undoes transform t. */
export const inverseDihedral = (g: Grid, t: number): Grid => dihedral(g, DIHEDRAL_INVERSE[t]);

/** Grid from nested rows (validated by the caller). */
export const gridFromRows = (rows: readonly (readonly number[])[]): Grid => {
  const R = rows.length;
  const C = R > 0 ? rows[0].length : 0;
  const data = new Uint8Array(R * C);
  for (let r = 0; r < R; r++) data.set(rows[r], r * C);
  return { rows: R, cols: C, data };
};

/** Nested rows of a grid. */
export const gridToRows = (g: Grid): number[][] =>
  Array.from({ length: g.rows }, (_, r) => Array.from(g.data.subarray(r * g.cols, (r + 1) * g.cols)));
