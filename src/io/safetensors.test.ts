// Tests of the safetensors reader/writer: a fast-check round trip, the official fixtures, the
// byte layout the writer promises, and one test per malformed-input error.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  bf16ToFloat32,
  float32ToBf16,
  readSafetensors,
  writeSafetensors,
  type SafeDtype,
  type SafeTensor,
} from './safetensors.ts';

const RUNS = Number(process.env.HRM_PROP_RUNS ?? 100);
const FIXTURES = fileURLToPath(new URL('../../fixtures/official-parity/', import.meta.url));

const bytesOf = (d: SafeTensor['data']): Buffer => Buffer.from(d.buffer, d.byteOffset, d.byteLength);
/** Bytewise equality (fast on large arrays, unlike a deep toEqual). */
const sameBytes = (a: SafeTensor['data'], b: SafeTensor['data']): boolean => bytesOf(a).equals(bytesOf(b));

/** Builds a file by hand: a header object and a data section. */
const handMade = (header: unknown, data: Uint8Array, pad = true): Uint8Array => {
  let json = JSON.stringify(header);
  if (pad) while (json.length % 8 !== 0) json += ' ';
  const j = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + j.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(j.length), true);
  out.set(j, 8);
  out.set(data, 8 + j.length);
  return out;
};

// Arbitrary tensors: shape first, then data of that many elements of the chosen dtype.
const tensorArb: fc.Arbitrary<SafeTensor> = fc
  .record({
    dtype: fc.constantFrom<SafeDtype>('F64', 'I64', 'F32', 'I32', 'BF16', 'U8'),
    shape: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 0, maxLength: 3 }),
  })
  .chain(({ dtype, shape }) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const raw = fc.uint8Array({ minLength: n * 8, maxLength: n * 8 }); // raw bits, NaN payloads included
    return raw.map((bits): SafeTensor => {
      const buf = bits.buffer.slice(bits.byteOffset, bits.byteOffset + bits.byteLength);
      switch (dtype) {
        case 'F64':
          return { dtype, shape, data: new Float64Array(buf, 0, n) };
        case 'I64':
          return { dtype, shape, data: new BigInt64Array(buf, 0, n) };
        case 'F32':
          return { dtype, shape, data: new Float32Array(buf, 0, n) };
        case 'I32':
          return { dtype, shape, data: new Int32Array(buf, 0, n) };
        case 'U8':
          return { dtype, shape, data: new Uint8Array(buf, 0, n) };
        case 'BF16': {
          // bf16 bit patterns, with NaNs made quiet (the writer keeps quiet NaNs bit for bit)
          const u16 = new Uint16Array(buf, 0, n).map((b) => ((b & 0x7fff) > 0x7f80 ? b | 0x0040 : b));
          return { dtype, shape, data: bf16ToFloat32(u16) };
        }
      }
    });
  });

describe('safetensors round trip', () => {
  it('write then read returns every tensor bit for bit, with metadata (property)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(fc.string({ minLength: 1, maxLength: 12 }).filter((s) => s !== '__metadata__'), tensorArb), {
          selector: ([name]) => name,
          maxLength: 6,
        }),
        fc.dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 })),
        (entries, metadata) => {
          const file = writeSafetensors(entries, metadata);
          // layout promises: header length a multiple of 8, every tensor aligned to its element size
          const n = Number(new DataView(file.buffer).getBigUint64(0, true));
          expect(n % 8).toBe(0);
          const header = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + n))) as Record<string, { dtype: SafeDtype; data_offsets: [number, number] }>;
          for (const [name, h] of Object.entries(header)) {
            if (name === '__metadata__') continue;
            const size = { F64: 8, I64: 8, F32: 4, I32: 4, BF16: 2, U8: 1 }[h.dtype];
            expect((8 + n + h.data_offsets[0]) % size).toBe(0);
          }
          const back = readSafetensors(file, 'roundtrip.safetensors');
          expect(back.tensors.size).toBe(entries.length);
          expect(back.metadata).toEqual(Object.keys(metadata).length > 0 ? metadata : {});
          for (const [name, t] of entries) {
            const r = back.tensors.get(name);
            expect(r, name).toBeDefined();
            expect(r!.dtype).toBe(t.dtype);
            expect(r!.shape).toEqual(t.shape);
            expect(r!.data.constructor).toBe(t.data.constructor);
            expect(sameBytes(r!.data, t.data), name).toBe(true);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('keeps a tensor named "__proto__" (a fast-check counterexample: writer and reader dropped it)', () => {
    const file = writeSafetensors([['__proto__', { dtype: 'U8', shape: [2], data: Uint8Array.of(3, 4) }]], {});
    const back = readSafetensors(file, 'proto.safetensors');
    expect([...back.tensors.keys()]).toEqual(['__proto__']);
    expect([...(back.tensors.get('__proto__')!.data as Uint8Array)]).toEqual([3, 4]);
  });

  it('reads data that is not aligned in the input buffer', () => {
    const file = writeSafetensors([['x', { dtype: 'F32', shape: [3], data: new Float32Array([1, 2, 3]) }]]);
    const shifted = new Uint8Array(file.length + 1);
    shifted.set(file, 1);
    const t = readSafetensors(shifted.subarray(1), 'shifted').tensors.get('x')!;
    expect(Array.from(t.data as Float32Array)).toEqual([1, 2, 3]);
  });

  it('narrows BF16 by round-to-nearest-even', () => {
    const x = new Float32Array([1 + 2 ** -8, 1 + 3 * 2 ** -8, 1 + 2 ** -8 + 2 ** -20, -0, Infinity, NaN]);
    const b = float32ToBf16(x);
    expect(Array.from(b.slice(0, 5))).toEqual([0x3f80, 0x3f82, 0x3f81, 0x8000, 0x7f80]);
    expect(Number.isNaN(bf16ToFloat32(b)[5])).toBe(true);
  });
});

describe('official fixtures', () => {
  for (const name of ['sudoku-rope', 'arc-learned']) {
    it(`reads ${name}/weights.safetensors and batch.safetensors with the documented names and dtypes`, () => {
      const config = JSON.parse(readFileSync(`${FIXTURES}${name}/config.json`, 'utf8')) as { state_dict_keys: string[]; derived: Record<string, number> };
      const w = readSafetensors(readFileSync(`${FIXTURES}${name}/weights.safetensors`), `${name}/weights.safetensors`);
      expect(w.metadata).toEqual({});
      expect([...w.tensors.keys()].sort()).toEqual(config.state_dict_keys.map((k) => k.replace(/^model\.inner\./, '')).sort());
      for (const t of w.tensors.values()) expect(t.dtype).toBe('F32');
      const qb = w.tensors.get('q_head.bias')!.data as Float32Array;
      expect(Array.from(qb)).toEqual([-5, -5]); // documented initialization
      const qw = w.tensors.get('q_head.weight')!.data as Float32Array;
      expect(qw.every((v) => v === 0)).toBe(true);
      const batch = readSafetensors(readFileSync(`${FIXTURES}${name}/batch.safetensors`), `${name}/batch.safetensors`);
      expect(batch.tensors.get('inputs')!.dtype).toBe('I32');
      expect(batch.tensors.get('labels')!.shape).toEqual(batch.tensors.get('inputs')!.shape);
    });
    it(`reads ${name}/eval.safetensors (F64, U8, I32 and F32 mixed) and re-writes it identically`, () => {
      const bytes = readFileSync(`${FIXTURES}${name}/eval.safetensors`);
      const f = readSafetensors(bytes, `${name}/eval.safetensors`);
      const dtypes = new Set([...f.tensors.values()].map((t) => t.dtype));
      expect(dtypes.has('U8')).toBe(true);
      expect(dtypes.has('I32')).toBe(true);
      const again = readSafetensors(writeSafetensors(f.tensors), 'rewritten');
      for (const [k, t] of f.tensors) expect(sameBytes(again.tensors.get(k)!.data, t.data), k).toBe(true);
    });
  }
});

describe('malformed input', () => {
  const good = writeSafetensors([['a', { dtype: 'F32', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) }]]);
  const read = (b: Uint8Array) => () => readSafetensors(b, 'bad.safetensors');

  it('detects a truncated data section', () => {
    expect(read(good.subarray(0, good.length - 1))).toThrow(/bad\.safetensors: truncated safetensors file: data section needs 16 bytes, file has 15/);
  });
  it('detects a truncated header and a file shorter than 8 bytes', () => {
    expect(read(good.subarray(0, 12))).toThrow(/bad\.safetensors: truncated safetensors file: header needs/);
    expect(read(good.subarray(0, 5))).toThrow(/bad\.safetensors: truncated safetensors file \(5 bytes/);
  });
  it('rejects trailing bytes', () => {
    const longer = new Uint8Array(good.length + 4);
    longer.set(good);
    expect(read(longer)).toThrow(/4 unexpected trailing bytes/);
  });
  it('rejects a header that is not JSON, or an absurd header length', () => {
    expect(read(handMade('x', new Uint8Array(0)).map((b, i) => (i === 8 ? 0x7b : b)))).toThrow(/bad\.safetensors: safetensors header: not valid JSON/);
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setBigUint64(0, 2n ** 40n, true);
    expect(read(huge)).toThrow(/exceeds the 100000000-byte limit/);
  });
  it('names the tensor whose byte range does not match its shape and dtype', () => {
    const b = handMade({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8));
    expect(read(b)).toThrow(/bad\.safetensors: tensor 'w': data_offsets \[0, 8\] hold 8 bytes, but F32 \[3\] needs 12/);
  });
  it('rejects unsupported dtypes, negative or fractional dims, and unknown fields', () => {
    expect(read(handMade({ w: { dtype: 'F16', shape: [1], data_offsets: [0, 2] } }, new Uint8Array(2)))).toThrow(/tensor 'w'.*"F16"/);
    expect(read(handMade({ w: { dtype: 'U8', shape: [-1], data_offsets: [0, 0] } }, new Uint8Array(0)))).toThrow(/tensor 'w'.*NonNegativeSafeInteger/);
    expect(read(handMade({ w: { dtype: 'U8', shape: [1.5], data_offsets: [0, 0] } }, new Uint8Array(0)))).toThrow(/tensor 'w'/);
    expect(read(handMade({ w: { dtype: 'U8', shape: [1], data_offsets: [0, 1], extra: 1 } }, new Uint8Array(1)))).toThrow(/tensor 'w': unknown header field\(s\) 'extra'/);
    expect(read(handMade({ w: { dtype: 'U8', shape: [1] } }, new Uint8Array(1)))).toThrow(/tensor 'w'.*data_offsets/);
  });
  it('rejects overlapping tensors and gaps', () => {
    const overlap = handMade(
      { a: { dtype: 'U8', shape: [2], data_offsets: [0, 2] }, b: { dtype: 'U8', shape: [2], data_offsets: [1, 3] } },
      new Uint8Array(3),
    );
    expect(read(overlap)).toThrow(/tensor 'b' begins at data offset 1, expected 2/);
    const gap = handMade({ a: { dtype: 'U8', shape: [2], data_offsets: [1, 3] } }, new Uint8Array(3));
    expect(read(gap)).toThrow(/tensor 'a' begins at data offset 1, expected 0/);
  });
  it('rejects non-string metadata', () => {
    expect(read(handMade({ __metadata__: { step: 3 } }, new Uint8Array(0)))).toThrow(/bad\.safetensors: __metadata__/);
  });
  it('the writer rejects data that does not match dtype or shape', () => {
    expect(() => writeSafetensors([['a', { dtype: 'F64', shape: [1], data: new Float32Array(1) }]])).toThrow(/'a' is F64, expected its data as Float64Array, got Float32Array/);
    expect(() => writeSafetensors([['a', { dtype: 'F32', shape: [2], data: new Float32Array(1) }]])).toThrow(/'a' has 1 elements, shape \[2\] needs 2/);
    expect(() => writeSafetensors([['a', { dtype: 'U8', shape: [1], data: new Uint8Array(1) }], ['a', { dtype: 'U8', shape: [1], data: new Uint8Array(1) }]])).toThrow(/duplicate tensor name 'a'/);
  });
  it('keeps a tensor named "__proto__" (a round-trip counterexample: the reader dropped it)', () => {
    const file = writeSafetensors([['__proto__', { dtype: 'U8', shape: [2], data: Uint8Array.of(3, 4) }]], {});
    const back = readSafetensors(file, 'proto.safetensors');
    expect([...back.tensors.keys()]).toEqual(['__proto__']);
    expect([...(back.tensors.get('__proto__')!.data as Uint8Array)]).toEqual([3, 4]);
  });
});
