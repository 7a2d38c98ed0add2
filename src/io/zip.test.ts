// Tests of the zip reader/writer: round trips (stored, deflated, aligned, zip64 end records),
// the official checkpoints' archive structure, CRC-32 known values, and malformed archives.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ZipWriter, crc32, crc32Portable, memorySink, readZip, writeZip } from './zip.ts';

const RUNS = Number(process.env.HRM_PROP_RUNS ?? 100);
const FIXTURES = fileURLToPath(new URL('../../fixtures/official-parity/', import.meta.url));
const enc = (s: string) => new TextEncoder().encode(s);

describe('crc32', () => {
  it('matches the standard check values', () => {
    for (const f of [crc32, crc32Portable]) {
      expect(f(enc('123456789'))).toBe(0xcbf43926);
      expect(f(new Uint8Array(0))).toBe(0);
      expect(f(enc('The quick brown fox jumps over the lazy dog'))).toBe(0x414fa339);
    }
  });
  it('the portable 8-byte path and the native one agree with the bytewise definition (property)', () => {
    const slow = (b: Uint8Array): number => {
      let c = 0xffffffff;
      for (const x of b) {
        c ^= x;
        for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      }
      return (c ^ 0xffffffff) >>> 0;
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (b) => crc32Portable(b) === slow(b) && crc32Portable(b.subarray(1)) === slow(b.subarray(1)) && crc32(b) === slow(b)), { numRuns: RUNS });
  });
});

describe('zip round trip', () => {
  it('reads back what it writes, for every combination of options (property)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.record({ name: fc.string({ minLength: 1, maxLength: 10 }), data: fc.uint8Array({ maxLength: 200 }), deflate: fc.boolean() }), {
          selector: (e) => e.name,
          maxLength: 5,
        }),
        fc.constantFrom(1, 64),
        fc.boolean(),
        (entries, align, zip64EndRecords) => {
          const zip = readZip(writeZip(entries, { align, zip64EndRecords }), 'rt.zip');
          expect(zip.entries.map((e) => e.name)).toEqual(entries.map((e) => e.name));
          for (const e of entries) {
            const got = zip.read(e.name);
            expect(Buffer.from(got).equals(Buffer.from(e.data))).toBe(true);
            const entry = zip.entries.find((x) => x.name === e.name)!;
            expect(entry.method).toBe(e.deflate ? 8 : 0);
            if (!e.deflate && align === 64) expect(entry.dataOffset % 64).toBe(0);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe('official checkpoints', () => {
  it('lists the torch.save layout (zip64 end records, 64-byte aligned storages) and checks every CRC', () => {
    for (const name of ['sudoku-rope', 'arc-learned']) {
      const bytes = readFileSync(`${FIXTURES}${name}/checkpoint`);
      expect(bytes.readUInt32LE(bytes.length - 22 - 20)).toBe(0x07064b50); // a zip64 locator precedes the end record
      const zip = readZip(bytes, `${name}/checkpoint`);
      const names = zip.entries.map((e) => e.name);
      expect(names[0]).toBe('checkpoint/data.pkl');
      expect(names).toContain('checkpoint/version');
      expect(new TextDecoder().decode(zip.read('checkpoint/version'))).toBe('3\n');
      for (const e of zip.entries) {
        expect(e.method).toBe(0);
        if (e.name.includes('/data/')) expect(e.dataOffset % 64).toBe(0);
        expect(zip.read(e).length).toBe(e.size);
      }
    }
  });
});

describe('malformed archives', () => {
  const good = writeZip([{ name: 'a/data.pkl', data: enc('hello world') }, { name: 'a/data/0', data: new Uint8Array(16).fill(7) }], { zip64EndRecords: true });

  it('refuses a non-zip file, naming it', () => {
    expect(() => readZip(enc('{"not": "a zip archive at all, just some json text"}'), 'weights.json')).toThrow(/weights\.json: not a zip archive/);
    expect(() => readZip(new Uint8Array(3), 'tiny')).toThrow(/tiny: not a zip archive \(3 bytes/);
  });
  it('detects truncation at the end and in the middle', () => {
    expect(() => readZip(good.subarray(0, good.length - 10), 'cut.zip')).toThrow(/cut\.zip: truncated zip archive/);
    // keep the end records but drop bytes in the middle: offsets no longer point at headers
    const middle = new Uint8Array(good.length - 8);
    middle.set(good.subarray(0, 40));
    middle.set(good.subarray(48), 40);
    expect(() => readZip(middle, 'holed.zip')).toThrow(/holed\.zip: .*(corrupt|truncated)/);
  });
  it('detects a corrupted byte through the CRC-32, naming the entry', () => {
    const bad = good.slice();
    const zip = readZip(bad, 'flip.zip');
    bad[zip.entries[1].dataOffset + 3] ^= 0x01;
    expect(() => readZip(bad, 'flip.zip').read('a/data/0')).toThrow(/flip\.zip: zip entry 'a\/data\/0': CRC-32 mismatch/);
    expect(() => readZip(bad, 'flip.zip').read('a/data.pkl')).not.toThrow();
  });
  it('refuses unknown compression methods and encrypted entries', () => {
    const zip = readZip(good, 'x');
    const cdStart = good.length - 22 - 20 - 56 - (46 + 10) - (46 + 8);
    const method = good.slice();
    new DataView(method.buffer).setUint16(cdStart + 10, 12, true); // bzip2
    expect(() => readZip(method, 'bz.zip')).toThrow(/bz\.zip: zip entry 'a\/data\.pkl': compression method 12 is not supported/);
    const crypt = good.slice();
    new DataView(crypt.buffer).setUint16(cdStart + 8, 0x801, true);
    expect(() => readZip(crypt, 'enc.zip')).toThrow(/enc\.zip: zip entry 'a\/data\.pkl': encrypted entries are not supported/);
    expect(zip.entries.length).toBe(2);
  });
  it('names a missing entry', () => {
    expect(() => readZip(good, 'x.zip').read('nope')).toThrow(/x\.zip: no zip entry 'nope'/);
  });
});

describe('decompression bombs', () => {
  /** Sets an entry's declared (uncompressed) size in the central directory of `zip` (no zip64). */
  const declareSize = (bytes: Uint8Array, size: number): Uint8Array => {
    const out = bytes.slice();
    const view = new DataView(out.buffer);
    const cd = out.length - 22 - (46 + 'bomb'.length);
    expect(view.getUint32(cd, true)).toBe(0x02014b50);
    view.setUint32(cd + 24, size, true);
    return out;
  };
  const bomb = writeZip([{ name: 'bomb', data: new Uint8Array(8 << 20), deflate: true }]); // 8 MiB of zeros, ~8 KB deflated

  it('stops inflating at the first byte past the declared size', () => {
    const lying = declareSize(bomb, 1000);
    const before = process.memoryUsage().arrayBuffers;
    expect(() => readZip(lying, 'bomb.zip').read('bomb')).toThrow(/bomb\.zip: zip entry 'bomb': inflates past its declared size of 1000 bytes/);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(80 << 20);
  });
  it('refuses a declared size deflate cannot reach from the compressed size, before allocating', () => {
    expect(() => readZip(declareSize(bomb, 0xfffffff0), 'huge.zip')).toThrow(/huge\.zip: zip entry 'bomb': declares 4294967280 bytes from \d+ deflated bytes, more than deflate can produce/);
  });
  it('refuses an entry larger than the caller expects, before allocating', () => {
    expect(() => readZip(bomb, 'cap.zip').read('bomb', { maxBytes: 1 << 20 })).toThrow(/cap\.zip: zip entry 'bomb': declares 8388608 bytes, more than the 1048576 expected/);
    expect(readZip(bomb, 'ok.zip').read('bomb').length).toBe(8 << 20);
  });
  it('names a deflate stream that ends early', () => {
    expect(() => readZip(declareSize(bomb, (8 << 20) + 5), 'short.zip').read('bomb')).toThrow(/short\.zip: zip entry 'bomb': inflated to 8388608 bytes, expected 8388613/);
  });
});

describe('streamed writer', () => {
  it('torch layout: data descriptors, 64-byte alignment, zip64 end records; read back entry by entry', () => {
    const sink = memorySink();
    const w = new ZipWriter(sink, { torchLayout: true });
    w.addStream('s/data.pkl', [enc('ab'), enc('cd')]);
    w.addStream('s/data/0', [new Uint8Array(100).fill(3)]);
    w.finish();
    const bytes = sink.bytes();
    const zip = readZip(bytes, 'torch-layout');
    expect(new TextDecoder().decode(zip.read('s/data.pkl'))).toBe('abcd');
    expect(zip.entries.every((e) => e.dataOffset % 64 === 0)).toBe(true);
    expect(new DataView(bytes.buffer).getUint16(6, true)).toBe(0x808); // sizes follow the data
  });
});
