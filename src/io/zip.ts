// Zip archives (PKWARE APPNOTE), as PyTorch's torch.save writes them: a reader (end of central
// directory → central directory → local headers; stored and deflated entries; CRC-32 checked
// on every read; zip64 end records and zip64 extra fields, which PyTorch always writes) and a
// minimal writer of stored entries (used to build test checkpoints), optionally with zip64 end
// records and 64-byte data alignment as PyTorch writes them.
// Not here: encryption, multi-disk archives, data descriptors' own sizes (the central
// directory's sizes are authoritative, as in every reader).

import * as zlib from 'node:zlib';
import { deflateRawSync, inflateRawSync } from 'node:zlib';

export interface ZipEntry {
  readonly name: string;
  /** 0 = stored, 8 = deflate */
  readonly method: number;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly size: number;
  /** offset of the entry's data (after its local header) in the archive */
  readonly dataOffset: number;
}

export interface ZipArchive {
  readonly fileName: string;
  /** entries in central-directory order */
  readonly entries: readonly ZipEntry[];
  /** the entry's uncompressed bytes, CRC-32 checked; stored entries from memory are views (do not write) */
  read(entry: ZipEntry | string): Uint8Array;
  /** whether read() of a stored entry returns an array the caller owns (deflated ones always are) */
  readonly freshReads: boolean;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const ZIP64_LOCATOR_SIZE = 20;
const ZIP64_EOCD_SIZE = 56;
const EOCD_SIZE = 22;
const CENTRAL_SIZE = 46;
const LOCAL_SIZE = 30;

// ---------------------------------------------------------------------------------------------
// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), slicing by 8 for speed on large storages

// Tables are Int32Array so every value stays a small integer in V8 (Uint32 values above 2^31
// would be boxed as doubles and make the loop several times slower).
const CRC_TABLES: Int32Array[] = (() => {
  const t0 = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t0[n] = c;
  }
  const tables = [t0];
  for (let s = 1; s < 8; s++) {
    const prev = tables[s - 1];
    const t = new Int32Array(256);
    for (let n = 0; n < 256; n++) t[n] = (prev[n] >>> 8) ^ t0[prev[n] & 0xff];
    tables.push(t);
  }
  return tables;
})();

/** CRC-32 of `bytes` (the checksum zip stores), as an unsigned 32-bit integer (slicing by 8). */
export const crc32Portable = (bytes: Uint8Array): number => {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = CRC_TABLES;
  let c = -1;
  let i = 0;
  const n8 = bytes.length - (bytes.length % 8);
  for (; i < n8; i += 8) {
    const lo = c ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
    const hi = bytes[i + 4] | (bytes[i + 5] << 8) | (bytes[i + 6] << 16) | (bytes[i + 7] << 24);
    c =
      t7[lo & 0xff] ^ t6[(lo >>> 8) & 0xff] ^ t5[(lo >>> 16) & 0xff] ^ t4[lo >>> 24] ^
      t3[hi & 0xff] ^ t2[(hi >>> 8) & 0xff] ^ t1[(hi >>> 16) & 0xff] ^ t0[hi >>> 24];
  }
  for (; i < bytes.length; i++) c = t0[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
};

/** node:zlib's native crc32 where this Node has it (≥ 20.15, ≥ 22.2), about 10× faster. */
const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;

/** CRC-32 of `bytes`: native when available, else the portable implementation (same values). */
export const crc32: (bytes: Uint8Array) => number = nativeCrc32 !== undefined ? (b) => nativeCrc32(b) >>> 0 : crc32Portable;

// ---------------------------------------------------------------------------------------------
// Reader

const decodeName = (raw: Uint8Array, utf8: boolean): string =>
  utf8 ? new TextDecoder('utf-8').decode(raw) : String.fromCharCode(...raw); // CP437 ≈ latin1 for ASCII names

/** A little-endian u64 as a number; errors if it exceeds 2^53 (no such file fits in memory). */
const u64 = (view: DataView, at: number, what: string): number => {
  const v = view.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`${what} ${v} is out of range`);
  return Number(v);
};

/** The [start, end) of the payload of extra field `id` within [at, at + len), if present. */
const findExtra = (view: DataView, at: number, len: number, id: number): { start: number; end: number } | undefined => {
  for (let q = at; q + 4 <= at + len; ) {
    const fid = view.getUint16(q, true);
    const flen = view.getUint16(q + 2, true);
    if (fid === id) return { start: q + 4, end: Math.min(q + 4 + flen, at + len) };
    q += 4 + flen;
  }
  return undefined;
};

/** Random access to the bytes of an archive: memory (memorySource) or an open file (file-source.ts). */
export interface ByteSource {
  readonly size: number;
  /** true when every read returns a newly allocated array the caller may keep and write */
  readonly fresh?: boolean;
  /** the bytes [offset, offset + length), fewer only past the end; may be a view (do not write) */
  read(offset: number, length: number): Uint8Array;
}

/** A ByteSource over bytes in memory (reads are views, no copies). */
export const memorySource = (bytes: Uint8Array): ByteSource => ({
  size: bytes.length,
  read: (offset, length) => bytes.subarray(offset, offset + length),
});

const viewOf = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** Finds the end-of-central-directory record in the archive's tail (after at most a 64 KiB comment). */
const findEocd = (src: ByteSource, fileName: string): number => {
  const tailStart = Math.max(0, src.size - EOCD_SIZE - 0xffff);
  const tail = src.read(tailStart, src.size - tailStart);
  const view = viewOf(tail);
  for (let p = tail.length - EOCD_SIZE; p >= 0; p--) {
    if (view.getUint32(p, true) === SIG_EOCD && p + EOCD_SIZE + view.getUint16(p + 20, true) === tail.length) return tailStart + p;
  }
  const head = src.read(0, 4);
  const startsLikeZip = head.length === 4 && viewOf(head).getUint32(0, true) === SIG_LOCAL;
  throw new Error(
    startsLikeZip
      ? `${fileName}: truncated zip archive (starts with a local header but has no end-of-central-directory record)`
      : `${fileName}: not a zip archive (no end-of-central-directory record in ${src.size} bytes)`,
  );
};

/**
 * Opens a zip archive, held in memory or behind a ByteSource (so files larger than one Buffer can
 * be read entry by entry). Structure is checked up front (every central entry and its local
 * header, sizes within the file, no encryption, known methods); data is read, decompressed and
 * CRC-checked when an entry is read. Errors name `fileName` and the entry.
 */
export const readZip = (input: Uint8Array | ByteSource, fileName: string): ZipArchive => {
  const src = input instanceof Uint8Array ? memorySource(input) : input;
  if (src.size < EOCD_SIZE) {
    throw new Error(`${fileName}: not a zip archive (${src.size} bytes, smaller than an end-of-central-directory record)`);
  }
  const exact = (offset: number, length: number, what: string): DataView => {
    const b = src.read(offset, length);
    if (b.length !== length) throw new Error(`${fileName}: truncated or corrupt zip archive: ${what} at [${offset}, ${offset + length}) lies past the end (${src.size} bytes)`);
    return viewOf(b);
  };
  const eocd = findEocd(src, fileName);
  const ev = exact(eocd, EOCD_SIZE, 'end record');
  const disk = ev.getUint16(4, true);
  const cdDisk = ev.getUint16(6, true);
  let count = ev.getUint16(10, true);
  let cdSize = ev.getUint32(12, true);
  let cdOffset = ev.getUint32(16, true);
  if (disk !== 0 || cdDisk !== 0) throw new Error(`${fileName}: multi-disk zip archives are not supported`);
  // zip64 end records (PyTorch always writes them): their 64-bit fields replace the 16/32-bit ones.
  let cdLimit = eocd;
  const locatorAt = eocd - ZIP64_LOCATOR_SIZE;
  const locator = locatorAt >= 0 ? exact(locatorAt, ZIP64_LOCATOR_SIZE, 'zip64 locator') : undefined;
  if (locator !== undefined && locator.getUint32(0, true) === SIG_ZIP64_LOCATOR) {
    const at = u64(locator, 8, `${fileName}: zip64 end-record offset`);
    const rec = at + ZIP64_EOCD_SIZE <= locatorAt ? exact(at, ZIP64_EOCD_SIZE, 'zip64 end record') : undefined;
    if (rec === undefined || rec.getUint32(0, true) !== SIG_ZIP64_EOCD) {
      throw new Error(`${fileName}: corrupt zip archive: the zip64 locator points to offset ${at}, where there is no zip64 end record`);
    }
    count = u64(rec, 32, `${fileName}: zip64 entry count`);
    cdSize = u64(rec, 40, `${fileName}: zip64 central-directory size`);
    cdOffset = u64(rec, 48, `${fileName}: zip64 central-directory offset`);
    cdLimit = at;
  } else if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    throw new Error(`${fileName}: corrupt zip archive: saturated end-record fields but no zip64 locator`);
  }
  if (cdOffset + cdSize > cdLimit) {
    throw new Error(`${fileName}: truncated or corrupt zip archive: central directory [${cdOffset}, ${cdOffset + cdSize}) runs past its end record at ${cdLimit}`);
  }
  const cdBytes = src.read(cdOffset, cdSize);
  const view = viewOf(cdBytes); // offsets below are relative to the central directory
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + CENTRAL_SIZE > cdSize || view.getUint32(p, true) !== SIG_CENTRAL) {
      throw new Error(`${fileName}: corrupt zip archive: central directory entry ${i} of ${count} is missing at offset ${cdOffset + p}`);
    }
    const flags = view.getUint16(p + 8, true);
    const method = view.getUint16(p + 10, true);
    const crc = view.getUint32(p + 16, true);
    let compressedSize = view.getUint32(p + 20, true);
    let size = view.getUint32(p + 24, true);
    const nameLen = view.getUint16(p + 28, true);
    const extraLen = view.getUint16(p + 30, true);
    const commentLen = view.getUint16(p + 32, true);
    let localOffset = view.getUint32(p + 42, true);
    if (p + CENTRAL_SIZE + nameLen + extraLen + commentLen > cdSize) {
      throw new Error(`${fileName}: corrupt zip archive: central directory entry ${i} runs past the directory's end`);
    }
    const utf8 = (flags & 0x800) !== 0;
    const name = decodeName(cdBytes.subarray(p + CENTRAL_SIZE, p + CENTRAL_SIZE + nameLen), utf8);
    const where = `${fileName}: zip entry '${name}'`;
    if (size === 0xffffffff || compressedSize === 0xffffffff || localOffset === 0xffffffff) {
      // zip64 extended information (extra field 0x0001): the saturated fields, in this order, as u64
      const z = findExtra(view, p + CENTRAL_SIZE + nameLen, extraLen, 0x0001);
      if (z === undefined) throw new Error(`${where}: saturated size/offset fields but no zip64 extra field`);
      let q = z.start;
      const next = (what: string): number => {
        if (q + 8 > z.end) throw new Error(`${where}: zip64 extra field is too short for the ${what}`);
        const v = u64(view, q, `${where}: zip64 ${what}`);
        q += 8;
        return v;
      };
      if (size === 0xffffffff) size = next('size');
      if (compressedSize === 0xffffffff) compressedSize = next('compressed size');
      if (localOffset === 0xffffffff) localOffset = next('local header offset');
    }
    if (flags & 0x1) throw new Error(`${where}: encrypted entries are not supported`);
    if (method !== 0 && method !== 8) throw new Error(`${where}: compression method ${method} is not supported (expected 0 = stored or 8 = deflate)`);
    if (method === 0 && compressedSize !== size) {
      throw new Error(`${where}: stored entry has compressed size ${compressedSize} but size ${size}`);
    }
    const local = localOffset + LOCAL_SIZE <= cdOffset ? exact(localOffset, LOCAL_SIZE, 'local header') : undefined;
    if (local === undefined || local.getUint32(0, true) !== SIG_LOCAL) {
      throw new Error(`${where}: corrupt zip archive: no local header at offset ${localOffset}`);
    }
    const localNameLen = local.getUint16(26, true);
    const localExtraLen = local.getUint16(28, true);
    const dataOffset = localOffset + LOCAL_SIZE + localNameLen + localExtraLen;
    const localName = decodeName(src.read(localOffset + LOCAL_SIZE, localNameLen), utf8);
    if (localName !== name) throw new Error(`${where}: local header names '${localName}' instead`);
    if (dataOffset + compressedSize > cdOffset) {
      throw new Error(`${where}: truncated or corrupt zip archive: data [${dataOffset}, ${dataOffset + compressedSize}) runs into the central directory at ${cdOffset}`);
    }
    entries.push(Object.freeze({ name, method, crc32: crc, compressedSize, size, dataOffset }));
    p += CENTRAL_SIZE + nameLen + extraLen + commentLen;
  }
  const byName = new Map<string, ZipEntry>();
  for (const e of entries) {
    if (byName.has(e.name)) throw new Error(`${fileName}: zip entry '${e.name}' appears twice`);
    byName.set(e.name, e);
  }
  const read = (which: ZipEntry | string): Uint8Array => {
    const e = typeof which === 'string' ? byName.get(which) : which;
    if (e === undefined) throw new Error(`${fileName}: no zip entry '${String(which)}'`);
    const raw = src.read(e.dataOffset, e.compressedSize);
    if (raw.length !== e.compressedSize) throw new Error(`${fileName}: zip entry '${e.name}': truncated (${raw.length} of ${e.compressedSize} bytes)`);
    let data: Uint8Array;
    if (e.method === 0) {
      data = raw;
    } else {
      try {
        data = new Uint8Array(inflateRawSync(raw));
      } catch (err) {
        throw new Error(`${fileName}: zip entry '${e.name}': deflate data is corrupt (${(err as Error).message})`);
      }
      if (data.length !== e.size) throw new Error(`${fileName}: zip entry '${e.name}': inflated to ${data.length} bytes, expected ${e.size}`);
    }
    const actual = crc32(data);
    if (actual !== e.crc32) {
      throw new Error(`${fileName}: zip entry '${e.name}': CRC-32 mismatch (stored ${hex(e.crc32)}, computed ${hex(actual)}): the file is corrupt`);
    }
    return data;
  };
  return Object.freeze({ fileName, entries: Object.freeze(entries), read, freshReads: src.fresh === true });
};

const hex = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`;

// ---------------------------------------------------------------------------------------------
// Writer (stored entries; deflate on request, to exercise readers)

export interface ZipWriteOptions {
  /** align each entry's data to this many bytes by padding the local extra field (PyTorch uses 64) */
  readonly align?: number;
  /** also write zip64 end records (a zip64 end of central directory and its locator), as PyTorch does */
  readonly zip64EndRecords?: boolean;
}

/**
 * Writes a zip archive, in the given order, with CRC-32s, a central directory and an end record.
 * Entries are stored (uncompressed) unless `deflate` is set. Names are written as UTF-8 (flag 11).
 */
export const writeZip = (
  entries: ReadonlyArray<{ readonly name: string; readonly data: Uint8Array; readonly deflate?: boolean }>,
  options: ZipWriteOptions = {},
): Uint8Array => {
  const align = options.align ?? 1;
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const { name, data: plain, deflate } of entries) {
    const nameBytes = enc.encode(name);
    const crc = crc32(plain);
    const method = deflate === true ? 8 : 0;
    const data = deflate === true ? new Uint8Array(deflateRawSync(plain)) : plain;
    const unpadded = offset + LOCAL_SIZE + nameBytes.length;
    const pad = align > 1 ? (align - ((unpadded + 4) % align)) % align : 0;
    const extra = align > 1 ? new Uint8Array(4 + pad) : new Uint8Array(0);
    if (align > 1) {
      const ev = new DataView(extra.buffer);
      ev.setUint16(0, 0x4246, true); // an application-specific extra-field id holding padding
      ev.setUint16(2, pad, true);
    }
    const local = new Uint8Array(LOCAL_SIZE + nameBytes.length + extra.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, SIG_LOCAL, true);
    lv.setUint16(4, 20, true); // version needed
    lv.setUint16(6, 0x800, true); // UTF-8 names
    lv.setUint16(8, method, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, data.length, true);
    lv.setUint32(22, plain.length, true);
    lv.setUint16(26, nameBytes.length, true);
    lv.setUint16(28, extra.length, true);
    local.set(nameBytes, LOCAL_SIZE);
    local.set(extra, LOCAL_SIZE + nameBytes.length);
    const cd = new Uint8Array(CENTRAL_SIZE + nameBytes.length);
    const cv = new DataView(cd.buffer);
    cv.setUint32(0, SIG_CENTRAL, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(8, 0x800, true);
    cv.setUint16(10, method, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, data.length, true);
    cv.setUint32(24, plain.length, true);
    cv.setUint16(28, nameBytes.length, true);
    cv.setUint32(42, offset, true);
    cd.set(nameBytes, CENTRAL_SIZE);
    parts.push(local, data);
    central.push(cd);
    offset += local.length + data.length;
  }
  const cdSize = central.reduce((a, c) => a + c.length, 0);
  const tail: Uint8Array[] = [];
  if (options.zip64EndRecords === true) {
    const rec = new Uint8Array(ZIP64_EOCD_SIZE);
    const rv = new DataView(rec.buffer);
    rv.setUint32(0, SIG_ZIP64_EOCD, true);
    rv.setBigUint64(4, BigInt(ZIP64_EOCD_SIZE - 12), true); // size of the rest of the record
    rv.setUint16(12, 45, true);
    rv.setUint16(14, 45, true);
    rv.setBigUint64(24, BigInt(entries.length), true);
    rv.setBigUint64(32, BigInt(entries.length), true);
    rv.setBigUint64(40, BigInt(cdSize), true);
    rv.setBigUint64(48, BigInt(offset), true);
    const loc = new Uint8Array(ZIP64_LOCATOR_SIZE);
    const lv = new DataView(loc.buffer);
    lv.setUint32(0, SIG_ZIP64_LOCATOR, true);
    lv.setBigUint64(8, BigInt(offset + cdSize), true);
    lv.setUint32(16, 1, true);
    tail.push(rec, loc);
  }
  const eocd = new Uint8Array(EOCD_SIZE);
  const ev = new DataView(eocd.buffer);
  ev.setUint32(0, SIG_EOCD, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, offset, true);
  const all = [...parts, ...central, ...tail, eocd];
  const out = new Uint8Array(all.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of all) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};
