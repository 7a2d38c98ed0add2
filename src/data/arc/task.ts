// ARC task files: `{"train": [{"input": grid, "output": grid}, …], "test": […], "name"?: string}`
// with grids of 1..30 rows of equal length and colours 0..9. Decoded through io-ts; every problem
// (bad JSON, unknown key, ragged rows, oversized grid, colour outside 0–9) is reported with the file
// and task name and the exact place (e.g. "train[2].output row 4"). Loading effects only here.

import * as path from 'node:path';
import * as t from 'io-ts';
import { isLeft } from 'fp-ts/lib/Either.js';
import { formatErrors, InputError } from '../../io/codec.ts';
import { readJsonFile } from '../../io/files.ts';
import { gridFromRows, type Grid } from '../dihedral.ts';

export const ARC_MAX_GRID = 30;
/** Largest task file read (the largest public task is about 100 kB). */
export const ARC_MAX_TASK_BYTES = 16 << 20;

const PairCodec = t.exact(t.type({ input: t.array(t.array(t.number)), output: t.array(t.array(t.number)) }));
export const ArcTaskCodec = t.intersection([t.type({ train: t.array(PairCodec), test: t.array(PairCodec) }), t.partial({ name: t.string })]);

export interface ArcPair {
  readonly input: Grid;
  readonly output: Grid;
}

export interface ArcTask {
  readonly name: string;
  readonly file: string;
  readonly train: readonly ArcPair[];
  readonly test: readonly ArcPair[];
}

/** Thrown for a task that cannot be used; the builder may skip it and count it. */
export class ArcTaskError extends InputError {
  constructor(
    file: string,
    readonly task: string,
    detail: string,
  ) {
    super([`${file} (task ${task}): ${detail}`], file);
    this.name = 'ArcTaskError';
  }
}

/** Validates nested rows as an ARC grid; returns null or what is wrong. */
export const gridProblem = (rows: readonly (readonly number[])[]): string | null => {
  if (rows.length === 0) return 'has no rows';
  if (rows.length > ARC_MAX_GRID) return `has ${rows.length} rows (at most ${ARC_MAX_GRID})`;
  const width = rows[0].length;
  if (width === 0) return 'row 0 is empty';
  if (width > ARC_MAX_GRID) return `has ${width} columns (at most ${ARC_MAX_GRID})`;
  for (let r = 0; r < rows.length; r++) {
    if (rows[r].length !== width) return `row ${r} has ${rows[r].length} cells, row 0 has ${width} (ragged)`;
    for (let c = 0; c < width; c++) {
      const v = rows[r][c];
      if (!Number.isInteger(v) || v < 0 || v > 9) return `row ${r} column ${c} holds colour ${v} (expected an integer 0–9)`;
    }
  }
  return null;
};

/** Decodes one task from parsed JSON; `defaultName` is the file stem. */
export const decodeArcTask = (raw: unknown, file: string, defaultName: string): ArcTask => {
  let name = defaultName;
  if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
    const r = raw as Record<string, unknown>;
    if (typeof r.name === 'string') name = r.name;
    const unknown = Object.keys(r).filter((k) => !['train', 'test', 'name'].includes(k));
    if (unknown.length > 0) throw new ArcTaskError(file, name, `unknown key(s) ${unknown.map((k) => `'${k}'`).join(', ')} (expected train, test, name)`);
  }
  const decoded = ArcTaskCodec.decode(raw);
  if (isLeft(decoded)) throw new ArcTaskError(file, name, formatErrors(file, decoded.left).map((l) => l.slice(file.length + 2)).join('; '));
  const task = decoded.right;
  const convert = (kind: 'train' | 'test'): ArcPair[] =>
    task[kind].map((pair, k) => {
      for (const side of ['input', 'output'] as const) {
        const bad = gridProblem(pair[side]);
        if (bad !== null) throw new ArcTaskError(file, name, `${kind}[${k}].${side} ${bad}`);
      }
      return { input: gridFromRows(pair.input), output: gridFromRows(pair.output) };
    });
  return { name, file, train: convert('train'), test: convert('test') };
};

/** Reads and decodes one task file. */
export const readArcTask = (file: string): ArcTask => {
  const stem = path.basename(file, '.json');
  let raw: unknown;
  try {
    raw = readJsonFile(file, ARC_MAX_TASK_BYTES, 8);
  } catch (e) {
    if (e instanceof InputError) throw new ArcTaskError(file, stem, e.message.startsWith(`${file}: `) ? e.message.slice(file.length + 2) : e.message);
    throw e;
  }
  return decodeArcTask(raw, file, stem);
};
