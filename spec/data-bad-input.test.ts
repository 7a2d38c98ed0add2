// Bad input is reported with the file and the line, field or task, never a stack trace: malformed
// CSV rows, invalid Sudoku and maze strings, ragged / oversized / off-palette ARC grids, unknown
// keys, truncated or foreign .npy files, bad dataset.json fields, and bad `hrm build` flags.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { importSudokuCsv } from '../src/data/sudoku/build.ts';
import { importMazeCsv } from '../src/data/maze/build.ts';
import { buildArcDataset } from '../src/data/arc/build.ts';
import { readArcTask } from '../src/data/arc/task.ts';
import { decodeNpy, encodeNpy } from '../src/data/npy.ts';
import { readSplit, writeSplit, type DatasetMetadata } from '../src/data/format.ts';
import { run as buildCommand } from '../src/cli/commands/build.ts';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hrm-bad-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const SOL = '534678912672195348198342567859761423426853791713924856961537284287419635345286179';
const Q = '53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79';
const sudokuDir = (name: string, trainRows: string[]): string => {
  const d = path.join(dir, name);
  fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(d, 'train.csv'), ['source,question,answer,rating', ...trainRows].join('\n') + '\n');
  fs.writeFileSync(path.join(d, 'test.csv'), ['source,question,answer,rating', `x,${Q},${SOL},3`].join('\n') + '\n');
  return d;
};
const importSudoku = (d: string) => importSudokuCsv({ input: d, out: path.join(d, 'out'), numAug: 0, seed: 0 });

describe('Sudoku CSV', () => {
  it('imports a valid file', async () => {
    const d = sudokuDir('ok', [`x,${Q},${SOL},3`, `y,${Q},${SOL},5`]);
    const r = await importSudoku(d);
    expect(r.map((s) => s.groups)).toEqual([2, 1]);
  });
  it.each([
    ['wrong field count', `x,${Q},${SOL}`, /train\.csv:3: 3 fields, expected 4/],
    ['unterminated quote', `"x,${Q},${SOL},3`, /train\.csv:3: unterminated quoted field/],
    ['short question', `x,${Q.slice(1)},${SOL},3`, /train\.csv:3: question has 80 characters/],
    ['bad character', `x,${Q.replace('.', 'x')},${SOL},3`, /train\.csv:3: question: invalid character 'x' at position 3/],
    ['blank in answer', `x,${Q},${SOL.replace('5', '.')},3`, /train\.csv:3: answer: blank '\.' at position 1/],
    ['answer not a solution', `x,${Q},${SOL.slice(0, 79)}97,3`, /train\.csv:3: answer is not a valid solution of the question/],
    ['non-integer rating', `x,${Q},${SOL},hard`, /train\.csv:3: rating 'hard' is not an integer/],
  ])('%s → file:line and what is wrong', async (name, row, msg) => {
    const d = sudokuDir(name.replace(/\W/g, '_'), [`x,${Q},${SOL},3`, row]);
    await expect(importSudoku(d)).rejects.toThrow(msg);
  });
  it('a wrong header names the file and line 1', async () => {
    const d = sudokuDir('hdr', []);
    fs.writeFileSync(path.join(d, 'train.csv'), `q,a\n${Q},${SOL}\n`);
    await expect(importSudoku(d)).rejects.toThrow(/train\.csv:1: header is 'q,a', expected 'source,question,answer,rating'/);
  });
});

describe('maze CSV', () => {
  const mazeDir = (name: string, q: string, a: string): string => {
    const d = path.join(dir, name);
    fs.mkdirSync(d, { recursive: true });
    for (const s of ['train', 'test']) fs.writeFileSync(path.join(d, `${s}.csv`), `source,question,answer,rating\nx,${q},${a},0\n`);
    return d;
  };
  const go = (d: string) => importMazeCsv({ input: d, out: path.join(d, 'out'), aug: false, seed: 0 });
  it('accepts a valid maze and rejects bad characters and non-shortest labels', async () => {
    await expect(go(mazeDir('mz-ok', 'S  # #  G', 'So #o# oG'))).resolves.toHaveLength(2);
    await expect(go(mazeDir('mz-char', 'S  # #x G'.slice(0, 9), 'So #o# oG'))).rejects.toThrow(/train\.csv:2: question: invalid character "x" at position 7/);
    await expect(go(mazeDir('mz-long', 'S     #  G     #'.slice(0, 16), 'Sooooo#  Go    #'.slice(0, 16)))).rejects.toThrow(/train\.csv:2: (path cell \d+ is not on a shortest path|the path marks)/);
  });
});

describe('ARC task files', () => {
  const task = (name: string, body: unknown): string => {
    const f = path.join(dir, 'arc', 'evaluation', `${name}.json`);
    fs.mkdirSync(path.dirname(f), { recursive: true });
    fs.writeFileSync(f, JSON.stringify(body));
    return f;
  };
  const pair = (input: unknown, output: unknown = [[1]]) => ({ input, output });
  it.each([
    ['ragged', { train: [pair([[1, 2], [3]])], test: [pair([[1]])] }, /ragged\.json \(task ragged\): train\[0\]\.input row 1 has 1 cells, row 0 has 2 \(ragged\)/],
    ['oversized', { train: [pair([[1]], Array.from({ length: 31 }, () => [0]))], test: [] }, /\(task oversized\): train\[0\]\.output has 31 rows \(at most 30\)/],
    ['colour10', { train: [pair([[1]])], test: [pair([[0, 10]])] }, /\(task colour10\): test\[0\]\.input row 0 column 1 holds colour 10/],
    ['negative', { train: [pair([[-1]])], test: [] }, /holds colour -1/],
    ['unknownkey', { train: [], test: [], solution: [] }, /\(task unknownkey\): unknown key\(s\) 'solution'/],
    ['noOutput', { train: [{ input: [[1]] }], test: [] }, /\(task noOutput\): .*output/],
    ['named', { name: 'custom', train: [pair([[1, 2], [3]])], test: [] }, /named\.json \(task custom\)/],
  ])('%s → file and task named', (name, body, msg) => {
    expect(() => readArcTask(task(name, body))).toThrow(msg);
  });
  it('invalid JSON is reported with the file', () => {
    const f = path.join(dir, 'arc', 'evaluation', 'broken.json');
    fs.writeFileSync(f, '{"train": [');
    expect(() => readArcTask(f)).toThrow(/broken\.json \(task broken\): not valid JSON/);
  });
  it('the builder stops on the first invalid task, or skips and lists them with --skip-invalid', () => {
    const root = path.join(dir, 'arc');
    task('good', { train: [pair([[1, 2]], [[2, 1]])], test: [pair([[3]], [[4]])] });
    expect(() => buildArcDataset({ inputs: [root], out: path.join(dir, 'arc-out1'), numAug: 2, seed: 1 })).toThrow(/\(task /);
    const r = buildArcDataset({ inputs: [root], out: path.join(dir, 'arc-out2'), numAug: 2, seed: 1, skipInvalid: true });
    expect(r.tasks).toBe(1);
    expect(r.skipped.length).toBeGreaterThanOrEqual(8);
    expect(r.skipped.some((s) => s.includes('ragged.json (task ragged)'))).toBe(true);
  });
});

describe('.npy and dataset.json', () => {
  it('a truncated .npy names the file and the missing bytes', () => {
    const bytes = encodeNpy('uint8', [3, 81], new Uint8Array(243));
    expect(() => decodeNpy(bytes.subarray(0, bytes.length - 10), 'all__inputs.npy')).toThrow(/all__inputs\.npy: truncated \.npy data: shape \(3, 81\) of \|u1 needs 243 bytes, file has 233/);
    expect(() => decodeNpy(bytes.subarray(0, 50), 'x.npy')).toThrow(/x\.npy: truncated \.npy header/);
    expect(() => decodeNpy(new TextEncoder().encode('not numpy at all'), 'y.npy')).toThrow(/y\.npy: not a \.npy file/);
  });
  it('unsupported dtypes and big-endian data are refused by name', () => {
    const b = encodeNpy('int32', [1], [1]);
    const text = new TextDecoder('latin1').decode(b).replace("'<i4'", "'>i4'");
    expect(() => decodeNpy(Uint8Array.from(text, (c) => c.charCodeAt(0)), 'z.npy')).toThrow(/z\.npy: unsupported dtype '>i4'/);
  });
  it('a truncated file on disk and bad metadata fields are reported with the path', () => {
    const meta: DatasetMetadata = { pad_id: 0, ignore_label_id: 0, blank_identifier_id: 0, vocab_size: 11, seq_len: 2, num_puzzle_identifiers: 1, total_groups: 1, mean_puzzle_examples: 1, sets: ['all'] };
    const set = { inputs: Uint8Array.of(1, 2), labels: Uint8Array.of(2, 3), puzzleIdentifiers: Int32Array.of(0), puzzleIndices: Int32Array.of(0, 1), groupIndices: Int32Array.of(0, 1), numExamples: 1, seqLen: 2 };
    const d = path.join(dir, 'ds');
    writeSplit(d, 'train', meta, { all: set });
    const f = path.join(d, 'train', 'all__labels.npy');
    fs.writeFileSync(f, fs.readFileSync(f).subarray(0, 129));
    expect(() => readSplit(d, 'train')).toThrow(/train\/all__labels\.npy: truncated \.npy data/);
    writeSplit(d, 'train', meta, { all: set });
    fs.writeFileSync(path.join(d, 'train', 'dataset.json'), JSON.stringify({ ...meta, vocab_size: 'eleven' }));
    expect(() => readSplit(d, 'train')).toThrow(/train\/dataset\.json: .*vocab_size/);
    fs.writeFileSync(path.join(d, 'train', 'dataset.json'), JSON.stringify({ ...meta, extra: 1 }));
    expect(() => readSplit(d, 'train')).toThrow(/train\/dataset\.json: unknown field\(s\) 'extra'/);
    fs.writeFileSync(path.join(d, 'train', 'dataset.json'), JSON.stringify({ ...meta, vocab_size: 3 }));
    expect(() => readSplit(d, 'train')).toThrow(/all__labels\.npy: token 3 at example 0, position 1 outside \[0, 3\) \(vocab_size\)/);
  });
});

describe('hrm build flags', () => {
  it.each([
    [['sudoku', '--generate', '5', '--bogus'], /unknown option '--bogus'/],
    [['sudoku', '--generate', 'five', '--out', 'x'], /option '--generate' expects an integer, got 'five'/],
    [['sudoku', '--out', 'x'], /give exactly one of --generate N or --input DIR/],
    [['sudoku', '--generate', '5', '--size', '5', '--out', 'x'], /--size must be 4, 6 or 9, got 5/],
    [['maze', '--generate', '5', '--loops', 'lots', '--out', path.join(os.tmpdir(), 'hrm-never')], /--loops expects a fraction/],
    [['arc', '--out', 'x'], /--input DIR\[,DIR…\] is required/],
    [['arc', '--input', '/nonexistent-folder', '--out', 'x'], /--input folder '\/nonexistent-folder' does not exist/],
  ])('%j → exit 2 with the flag named', async (argv, msg) => {
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      expect(await buildCommand(argv)).toBe(2);
      expect(err.mock.calls.map((c) => String(c[0])).join('\n')).toMatch(msg);
    } finally {
      err.mockRestore();
    }
  });
  it('an unknown dataset kind is named', async () => {
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      expect(await buildCommand(['chess'])).toBe(2);
      expect(String(err.mock.calls[0][0])).toMatch(/unknown dataset kind 'chess'/);
    } finally {
      err.mockRestore();
    }
  });
});
