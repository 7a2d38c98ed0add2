// Properties of the on-disk format: .npy encode → decode and dataset write → read are the identity
// for arbitrary shapes and values; headers are 64-byte aligned like np.save's. Runs: HRM_PROP_RUNS.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodeNpy, encodeNpy, npyHeader } from '../src/data/npy.ts';
import { readIdentifiers, readSplit, writeIdentifiers, writeSplit, type DatasetMetadata, type PuzzleSet } from '../src/data/format.ts';

const RUNS = Number(process.env.HRM_PROP_RUNS ?? 50);

describe('npy', () => {
  it('encode → decode is the identity (uint8 and int32, any shape)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 0, maxLength: 3 }),
        fc.boolean(),
        fc.integer(),
        (shape, u8, seed) => {
          const n = shape.reduce((a, b) => a * b, 1);
          const data = Array.from({ length: n }, (_, i) => (u8 ? (seed + i * 7919) & 255 : ((seed ^ (i * 2654435761)) | 0)));
          const bytes = encodeNpy(u8 ? 'uint8' : 'int32', shape, data);
          const hdr = npyHeader(u8 ? 'uint8' : 'int32', shape);
          expect(hdr.length % 64).toBe(0);
          expect(hdr[hdr.length - 1]).toBe(0x0a);
          const back = decodeNpy(bytes, 'x.npy');
          expect(back.shape).toEqual(shape);
          expect(Array.from(back.data)).toEqual(data);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('writes the exact np.save header (incl. growth padding)', () => {
    const h = new TextDecoder('latin1').decode(npyHeader('uint8', [3, 81]));
    expect(h).toBe("\x93NUMPY\x01\x00v\x00{'descr': '|u1', 'fortran_order': False, 'shape': (3, 81), }" + ' '.repeat(57) + '\n');
    expect(npyHeader('int32', [5]).length).toBe(128);
  });

  it('reads Fortran-order and int64 arrays written by other tools', () => {
    const enc = (dict: string, body: Uint8Array): Uint8Array => {
      const head = `${dict}`.padEnd(118, ' ') + '\n';
      const out = new Uint8Array(10 + head.length + body.length);
      out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, head.length & 255, head.length >> 8]);
      for (let i = 0; i < head.length; i++) out[10 + i] = head.charCodeAt(i);
      out.set(body, 10 + head.length);
      return out;
    };
    // [[1,2,3],[4,5,6]] stored column-major: 1 4 2 5 3 6
    const f = decodeNpy(enc("{'descr': '|u1', 'fortran_order': True, 'shape': (2, 3), }", new Uint8Array([1, 4, 2, 5, 3, 6])), 'f.npy');
    expect(Array.from(f.data)).toEqual([1, 2, 3, 4, 5, 6]);
    const body = new Uint8Array(16);
    new DataView(body.buffer).setBigInt64(0, 7n, true);
    new DataView(body.buffer).setBigInt64(8, -3n, true);
    const i8 = decodeNpy(enc("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", body), 'i.npy');
    expect(i8.dtype).toBe('int32');
    expect(Array.from(i8.data)).toEqual([7, -3]);
  });
});

describe('dataset folder', () => {
  const arbSet = fc
    .record({
      T: fc.integer({ min: 1, max: 12 }),
      groups: fc.array(fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 0, maxLength: 3 }), { minLength: 0, maxLength: 5 }),
      seed: fc.integer(),
    })
    .map(({ T, groups, seed }) => {
      const puzzleIndices = [0];
      const groupIndices = [0];
      const ids: number[] = [];
      for (const g of groups) {
        for (const examples of g) {
          puzzleIndices.push(puzzleIndices[puzzleIndices.length - 1] + examples);
          ids.push((seed + ids.length) & 7);
        }
        groupIndices.push(ids.length);
      }
      const N = puzzleIndices[puzzleIndices.length - 1];
      const inputs = new Uint8Array(N * T).map((_, i) => (((seed + i * 31) % 11) + 11) % 11);
      const labels = new Uint8Array(N * T).map((_, i) => (((seed + i * 17) % 11) + 11) % 11);
      const set: PuzzleSet = {
        inputs,
        labels,
        puzzleIdentifiers: Int32Array.from(ids),
        puzzleIndices: Int32Array.from(puzzleIndices),
        groupIndices: Int32Array.from(groupIndices),
        numExamples: N,
        seqLen: T,
      };
      return set;
    });

  it('write → read is the identity', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hrm-fmt-'));
    try {
      fc.assert(
        fc.property(arbSet, fc.oneof(fc.constant(null), fc.integer({ min: 0, max: 3 })), (set, ignore) => {
          const meta: DatasetMetadata = {
            pad_id: 0,
            ignore_label_id: ignore,
            blank_identifier_id: 0,
            vocab_size: 11,
            seq_len: set.seqLen,
            num_puzzle_identifiers: 8,
            total_groups: set.groupIndices.length - 1,
            mean_puzzle_examples: set.puzzleIdentifiers.length ? set.numExamples / set.puzzleIdentifiers.length : 0,
            sets: ['all'],
          };
          // training draws a puzzle from every group: a training split with an empty group is refused
          const emptyGroup = set.groupIndices.some((g, i) => i > 0 && g === set.groupIndices[i - 1]);
          const split = emptyGroup ? 'test' : 'train';
          writeSplit(dir, split, meta, { all: set });
          writeIdentifiers(dir, ['<blank>', 'a', 'é']);
          if (emptyGroup) {
            writeSplit(dir, 'train', meta, { all: set });
            expect(() => readSplit(dir, 'train')).toThrow(/all__group_indices\.npy: group_indices: group \d+ is empty/);
          }
          const back = readSplit(dir, split);
          expect(back.metadata).toEqual(meta);
          const s = back.sets.all;
          for (const k of ['inputs', 'labels', 'puzzleIdentifiers', 'puzzleIndices', 'groupIndices'] as const) expect(Array.from(s[k])).toEqual(Array.from(set[k]));
          expect(s.numExamples).toBe(set.numExamples);
          expect(readIdentifiers(dir)).toEqual(['<blank>', 'a', 'é']);
          expect(fs.readFileSync(path.join(dir, 'identifiers.json'), 'utf8')).toBe('["<blank>", "a", "\\u00e9"]');
        }),
        { numRuns: Math.max(10, Math.floor(RUNS / 2)) },
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
