// Zip archives (PKWARE APPNOTE), as PyTorch's torch.save writes them.
// Reader: end of central directory → central directory → local headers; stored and deflated
// entries; zip64 end records and extra fields (PyTorch always writes the end records). An entry is
// read into one array of its declared size: a deflated entry is inflated in chunks straight into
// it, and inflation stops at the first byte past the declared size (a decompression bomb costs at
// most its declared size plus one chunk); a declared size that deflate could not reach from the
// compressed size is refused before anything is allocated; the CRC-32 is checked on every read.
// Writer: entries streamed to a sink in the layout torch.save uses (data descriptors, 64-byte
// aligned data, zip64 end records), or the classic layout with sizes in the local headers.
// Browser-safe (fflate for deflate; node:zlib's CRC-32 only where it is built in).
// Not here: encryption, multi-disk archives, data descriptors' own sizes (the central
// directory's sizes are authoritative, as in every reader).

import { Inflate, deflateSync } from 'fflate';
import { InputError } from './codec.ts';

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

export interface ZipReadOptions {
  /** refuse (before allocating) an entry whose declared size exceeds this many bytes */
  readonly maxBytes?: number;
}

export interface ZipArchive {
  readonly fileName: string;
  /** entries in central-directory order */
  readonly entries: readonly ZipEntry[];
  /** the entry, by name */
  entry(name: string): ZipEntry | undefined;
  /** the entry's uncompressed bytes, CRC-32 checked; stored entries from memory are views (do not write) */
  read(entry: ZipEntry | string, options?: ZipReadOptions): Uint8Array;
  /** whether read() of a stored entry returns an array the caller owns (deflated ones always are) */
  readonly freshReads: boolean;
}

/** A malformed or unreadable archive; the message names the file (and the entry). */
export class ZipError extends InputError {
  constructor(file: string, detail: string) {
    super([`${file}: ${detail}`], file);
    this.name = 'ZipError';
  }
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_DESCRIPTOR = 0x08074b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const ZIP64_LOCATOR_SIZE = 20;
const ZIP64_EOCD_SIZE = 56;
const EOCD_SIZE = 22;
const CENTRAL_SIZE = 46;
const LOCAL_SIZE = 30;
const U32_MAX = 0xffffffff;
/** Deflate's largest expansion: a 258-byte match per 2 bits, about 1032:1 (plus a block header). */
const DEFLATE_MAX_RATIO = 1032;
/** Compressed bytes fed to the inflater at a time (bounds its scratch output to ~1032× this: ~4 MiB). */
const INFLATE_CHUNK = 1 << 12;

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

/** CRC-32 of `bytes` continuing from `previous` (the CRC of what came before; 0 to start), unsigned. */
export const crc32Portable = (bytes: Uint8Array, previous = 0): number => {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = CRC_TABLES;
  let c = ~previous;
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

/** node:zlib's native crc32 where this runtime has it built in (Node ≥ 20.16, ≥ 22.3), ~10× faster. */
const nativeCrc32 = (() => {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const zlib = proc?.getBuiltinModule?.('node:zlib') as { crc32?: (data: Uint8Array, value?: number) => number } | undefined;
  return zlib?.crc32;
})();

/** CRC-32 of `bytes` continuing from `previous`: native when available, else portable (same values). */
export const crc32: (bytes: Uint8Array, previous?: number) => number =
  nativeCrc32 !== undefined ? (b, previous = 0) => nativeCrc32(b, previous) >>> 0 : crc32Portable;

// ---------------------------------------------------------------------------------------------
// Reader

const LATIN1 = new TextDecoder('latin1');
const UTF8 = new TextDecoder('utf-8');
const decodeName = (raw: Uint8Array, utf8: boolean): string => (utf8 ? UTF8 : LATIN1).decode(raw); // CP437 ≈ latin1 for ASCII names

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
  throw new ZipError(
    fileName,
    startsLikeZip
      ? 'truncated zip archive (starts with a local header but has no end-of-central-directory record)'
      : `not a zip archive (no end-of-central-directory record in ${src.size} bytes)`,
  );
};

/**
 * Opens a zip archive, held in memory or behind a ByteSource (so files larger than one Buffer can
 * be read entry by entry). Structure is checked up front (every central entry and its local
 * header, sizes within the file, no encryption, known methods, deflate ratios deflate can reach);
 * data is read, inflated and CRC-checked when an entry is read. Errors name `fileName` and the entry.
 */
export const readZip = (input: Uint8Array | ByteSource, fileName: string): ZipArchive => {
  const src = input instanceof Uint8Array ? memorySource(input) : input;
  const fail = (detail: string): never => {
    throw new ZipError(fileName, detail);
  };
  if (src.size < EOCD_SIZE) fail(`not a zip archive (${src.size} bytes, smaller than an end-of-central-directory record)`);
  const exact = (offset: number, length: number, what: string): DataView => {
    const b = src.read(offset, length);
    if (b.length !== length) fail(`truncated or corrupt zip archive: ${what} at [${offset}, ${offset + length}) lies past the end (${src.size} bytes)`);
    return viewOf(b);
  };
  /** A little-endian u64 as a number; refused above 2^53 (no such archive fits anywhere). */
  const u64 = (view: DataView, at: number, what: string): number => {
    const v = view.getBigUint64(at, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(`${what} ${v} is out of range`);
    return Number(v);
  };
  const eocd = findEocd(src, fileName);
  const ev = exact(eocd, EOCD_SIZE, 'end record');
  if (ev.getUint16(4, true) !== 0 || ev.getUint16(6, true) !== 0) fail('multi-disk zip archives are not supported');
  let count = ev.getUint16(10, true);
  let cdSize = ev.getUint32(12, true);
  let cdOffset = ev.getUint32(16, true);
  // zip64 end records (PyTorch always writes them): their 64-bit fields replace the 16/32-bit ones.
  let cdLimit = eocd;
  const locatorAt = eocd - ZIP64_LOCATOR_SIZE;
  const locator = locatorAt >= 0 ? exact(locatorAt, ZIP64_LOCATOR_SIZE, 'zip64 locator') : undefined;
  if (locator !== undefined && locator.getUint32(0, true) === SIG_ZIP64_LOCATOR) {
    const at = u64(locator, 8, 'zip64 end-record offset');
    const rec = at + ZIP64_EOCD_SIZE <= locatorAt ? exact(at, ZIP64_EOCD_SIZE, 'zip64 end record') : undefined;
    if (rec === undefined || rec.getUint32(0, true) !== SIG_ZIP64_EOCD) {
      fail(`corrupt zip archive: the zip64 locator points to offset ${at}, where there is no zip64 end record`);
    }
    count = u64(rec!, 32, 'zip64 entry count');
    cdSize = u64(rec!, 40, 'zip64 central-directory size');
    cdOffset = u64(rec!, 48, 'zip64 central-directory offset');
    cdLimit = at;
  } else if (count === 0xffff || cdSize === U32_MAX || cdOffset === U32_MAX) {
    fail('corrupt zip archive: saturated end-record fields but no zip64 locator');
  }
  if (cdOffset + cdSize > cdLimit) {
    fail(`truncated or corrupt zip archive: central directory [${cdOffset}, ${cdOffset + cdSize}) runs past its end record at ${cdLimit}`);
  }
  if (count * CENTRAL_SIZE > cdSize) fail(`corrupt zip archive: ${count} entries cannot fit a ${cdSize}-byte central directory`);
  const cdBytes = src.read(cdOffset, cdSize);
  const view = viewOf(cdBytes); // offsets below are relative to the central directory
  const entries: ZipEntry[] = [];
  const byName = new Map<string, ZipEntry>();
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + CENTRAL_SIZE > cdSize || view.getUint32(p, true) !== SIG_CENTRAL) {
      fail(`corrupt zip archive: central directory entry ${i} of ${count} is missing at offset ${cdOffset + p}`);
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
    if (p + CENTRAL_SIZE + nameLen + extraLen + commentLen > cdSize) fail(`corrupt zip archive: central directory entry ${i} runs past the directory's end`);
    const utf8 = (flags & 0x800) !== 0;
    const name = decodeName(cdBytes.subarray(p + CENTRAL_SIZE, p + CENTRAL_SIZE + nameLen), utf8);
    const entryFail = (detail: string): never => fail(`zip entry '${name}': ${detail}`);
    if (size === U32_MAX || compressedSize === U32_MAX || localOffset === U32_MAX) {
      // zip64 extended information (extra field 0x0001): the saturated fields, in this order, as u64
      const extraAt = p + CENTRAL_SIZE + nameLen;
      let z: { start: number; end: number } | undefined;
      for (let q = extraAt; q + 4 <= extraAt + extraLen; q += 4 + view.getUint16(q + 2, true)) {
        if (view.getUint16(q, true) === 0x0001) {
          z = { start: q + 4, end: Math.min(q + 4 + view.getUint16(q + 2, true), extraAt + extraLen) };
          break;
        }
      }
      if (z === undefined) return entryFail('saturated size/offset fields but no zip64 extra field');
      let q = z.start;
      const next = (what: string): number => {
        if (q + 8 > z!.end) entryFail(`zip64 extra field is too short for the ${what}`);
        const v = u64(view, q, `zip entry '${name}': zip64 ${what}`);
        q += 8;
        return v;
      };
      if (size === U32_MAX) size = next('size');
      if (compressedSize === U32_MAX) compressedSize = next('compressed size');
      if (localOffset === U32_MAX) localOffset = next('local header offset');
    }
    if (flags & 0x1) entryFail('encrypted entries are not supported');
    if (method !== 0 && method !== 8) entryFail(`compression method ${method} is not supported (expected 0 = stored or 8 = deflate)`);
    if (method === 0 && compressedSize !== size) entryFail(`stored entry has compressed size ${compressedSize} but size ${size}`);
    if (method === 8 && size > compressedSize * DEFLATE_MAX_RATIO + 1024) {
      entryFail(`declares ${size} bytes from ${compressedSize} deflated bytes, more than deflate can produce (${DEFLATE_MAX_RATIO}:1): the archive is corrupt`);
    }
    const local = localOffset + LOCAL_SIZE <= cdOffset ? exact(localOffset, LOCAL_SIZE, 'local header') : undefined;
    if (local === undefined || local.getUint32(0, true) !== SIG_LOCAL) entryFail(`corrupt zip archive: no local header at offset ${localOffset}`);
    const localNameLen = local!.getUint16(26, true);
    const localExtraLen = local!.getUint16(28, true);
    const dataOffset = localOffset + LOCAL_SIZE + localNameLen + localExtraLen;
    const localName = decodeName(src.read(localOffset + LOCAL_SIZE, localNameLen), utf8);
    if (localName !== name) entryFail(`local header names '${localName}' instead`);
    if (dataOffset + compressedSize > cdOffset) {
      entryFail(`truncated or corrupt zip archive: data [${dataOffset}, ${dataOffset + compressedSize}) runs into the central directory at ${cdOffset}`);
    }
    if (byName.has(name)) fail(`zip entry '${name}' appears twice`);
    const e = Object.freeze({ name, method, crc32: crc, compressedSize, size, dataOffset });
    entries.push(e);
    byName.set(name, e);
    p += CENTRAL_SIZE + nameLen + extraLen + commentLen;
  }
  const read = (which: ZipEntry | string, options: ZipReadOptions = {}): Uint8Array => {
    const e = typeof which === 'string' ? byName.get(which) : which;
    if (e === undefined) return fail(`no zip entry '${String(which)}'`);
    const entryFail = (detail: string): never => fail(`zip entry '${e.name}': ${detail}`);
    if (options.maxBytes !== undefined && e.size > options.maxBytes) entryFail(`declares ${e.size} bytes, more than the ${options.maxBytes} expected`);
    let data: Uint8Array;
    if (e.method === 0) {
      data = src.read(e.dataOffset, e.size);
      if (data.length !== e.size) entryFail(`truncated (${data.length} of ${e.size} bytes)`);
    } else {
      data = inflateInto(src, e, entryFail);
    }
    const actual = crc32(data);
    if (actual !== e.crc32) entryFail(`CRC-32 mismatch (stored ${hex(e.crc32)}, computed ${hex(actual)}): the file is corrupt`);
    return data;
  };
  return Object.freeze({ fileName, entries: Object.freeze(entries), entry: (name: string) => byName.get(name), read, freshReads: src.fresh === true });
};

/**
 * Inflates a deflated entry into one array of its declared size, feeding the compressed bytes in
 * chunks; stops at the first output byte past the declared size. Memory: the declared size plus
 * one chunk's output (≤ 1032 × INFLATE_CHUNK).
 */
const inflateInto = (src: ByteSource, e: ZipEntry, entryFail: (detail: string) => never): Uint8Array => {
  const out = new Uint8Array(e.size);
  let filled = 0;
  const inflater = new Inflate((chunk) => {
    if (filled + chunk.length > out.length) entryFail(`inflates past its declared size of ${e.size} bytes`);
    out.set(chunk, filled);
    filled += chunk.length;
  });
  try {
    for (let at = 0; at < e.compressedSize; at += INFLATE_CHUNK) {
      const n = Math.min(INFLATE_CHUNK, e.compressedSize - at);
      const raw = src.read(e.dataOffset + at, n);
      if (raw.length !== n) entryFail(`truncated (${at + raw.length} of ${e.compressedSize} compressed bytes)`);
      inflater.push(raw, false);
    }
    inflater.push(new Uint8Array(0), true);
  } catch (err) {
    if (err instanceof ZipError) throw err;
    entryFail(`deflate data is corrupt (${(err as Error).message})`);
  }
  if (filled !== e.size) entryFail(`inflated to ${filled} bytes, expected ${e.size}`);
  return out;
};

const hex = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`;

// ---------------------------------------------------------------------------------------------
// Writer

/** Where a streamed archive goes (a file, memory). */
export interface ByteSink {
  write(bytes: Uint8Array): void;
}

export interface ZipWriteOptions {
  /** align each entry's data to this many bytes by padding the local extra field (PyTorch uses 64) */
  readonly align?: number;
  /** also write zip64 end records (a zip64 end of central directory and its locator), as PyTorch does */
  readonly zip64EndRecords?: boolean;
  /**
   * the local headers torch.save writes (version 0, no times, CRC and sizes in a data descriptor
   * after the data, 'FB' padding of 'Z's): implies align 64 and zip64 end records
   */
  readonly torchLayout?: boolean;
}

interface CentralRecord {
  readonly nameBytes: Uint8Array;
  readonly method: number;
  readonly crc: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly offset: number;
}

/**
 * Writes a zip archive to a sink entry by entry: `add` an entry whose bytes are known, or
 * `addStream` one given as chunks (CRC and sizes follow the data in a descriptor), then `finish`.
 * Entries larger than 4 GiB or past a 4 GiB offset get zip64 fields. Names are UTF-8 (flag 11).
 */
export class ZipWriter {
  private offset = 0;
  private readonly central: CentralRecord[] = [];
  private readonly align: number;
  private readonly torch: boolean;
  private readonly zip64End: boolean;
  private finished = false;

  constructor(
    private readonly sink: ByteSink,
    options: ZipWriteOptions = {},
  ) {
    this.torch = options.torchLayout === true;
    this.align = options.align ?? (this.torch ? 64 : 1);
    this.zip64End = options.zip64EndRecords ?? this.torch;
  }

  private emit(bytes: Uint8Array): void {
    this.sink.write(bytes);
    this.offset += bytes.length;
  }

  /** The local header; sizes and CRC go in it unless they follow in a data descriptor. */
  private localHeader(nameBytes: Uint8Array, method: number, known?: { crc: number; compressedSize: number; size: number }): void {
    const unpadded = this.offset + LOCAL_SIZE + nameBytes.length;
    const pad = this.align > 1 ? (this.align - ((unpadded + 4) % this.align)) % this.align : 0;
    const extraLen = this.align > 1 ? 4 + pad : 0;
    const local = new Uint8Array(LOCAL_SIZE + nameBytes.length + extraLen);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, SIG_LOCAL, true);
    lv.setUint16(4, this.torch ? 0 : 20, true); // version needed
    lv.setUint16(6, known === undefined ? 0x808 : 0x800, true); // UTF-8 names (+ data descriptor)
    lv.setUint16(8, method, true);
    if (known !== undefined) {
      lv.setUint32(14, known.crc, true);
      lv.setUint32(18, Math.min(known.compressedSize, U32_MAX), true);
      lv.setUint32(22, Math.min(known.size, U32_MAX), true);
    }
    lv.setUint16(26, nameBytes.length, true);
    lv.setUint16(28, extraLen, true);
    local.set(nameBytes, LOCAL_SIZE);
    if (extraLen > 0) {
      const at = LOCAL_SIZE + nameBytes.length;
      lv.setUint16(at, 0x4246, true); // 'FB': an application-specific extra field holding padding
      lv.setUint16(at + 2, pad, true);
      local.fill(0x5a, at + 4); // 'Z', as PyTorch pads
    }
    this.emit(local);
  }

  private checkOpen(name: string): Uint8Array {
    if (this.finished) throw new Error(`zip writer: entry '${name}' added after finish()`);
    return new TextEncoder().encode(name);
  }

  /** Adds an entry whose bytes are all at hand (deflated when asked; never in torch layout). */
  add(name: string, data: Uint8Array, options: { deflate?: boolean } = {}): void {
    if (this.torch) {
      this.addStream(name, [data]);
      return;
    }
    const nameBytes = this.checkOpen(name);
    const offset = this.offset;
    const crc = crc32(data);
    const method = options.deflate === true ? 8 : 0;
    const body = method === 8 ? deflateSync(data) : data;
    this.localHeader(nameBytes, method, { crc, compressedSize: body.length, size: data.length });
    this.emit(body);
    this.central.push({ nameBytes, method, crc, compressedSize: body.length, size: data.length, offset });
  }

  /** Adds a stored entry given as chunks, written as they come; CRC and sizes follow in a descriptor. */
  addStream(name: string, chunks: Iterable<Uint8Array>): void {
    const nameBytes = this.checkOpen(name);
    const offset = this.offset;
    this.localHeader(nameBytes, 0);
    let crc = 0;
    let size = 0;
    for (const c of chunks) {
      crc = crc32(c, crc);
      size += c.length;
      this.emit(c);
    }
    const big = size >= U32_MAX;
    const d = new Uint8Array(big ? 24 : 16);
    const dv = new DataView(d.buffer);
    dv.setUint32(0, SIG_DESCRIPTOR, true);
    dv.setUint32(4, crc, true);
    if (big) {
      dv.setBigUint64(8, BigInt(size), true);
      dv.setBigUint64(16, BigInt(size), true);
    } else {
      dv.setUint32(8, size, true);
      dv.setUint32(12, size, true);
    }
    this.emit(d);
    this.central.push({ nameBytes, method: 0, crc, compressedSize: size, size, offset });
  }

  /** Writes the central directory and the end records; the sink then holds a complete archive. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    const cdOffset = this.offset;
    for (const r of this.central) {
      const zip64 = [r.size >= U32_MAX, r.compressedSize >= U32_MAX, r.offset >= U32_MAX];
      const extraLen = zip64.some(Boolean) ? 4 + 8 * zip64.filter(Boolean).length : 0;
      const cd = new Uint8Array(CENTRAL_SIZE + r.nameBytes.length + extraLen);
      const cv = new DataView(cd.buffer);
      cv.setUint32(0, SIG_CENTRAL, true);
      cv.setUint16(4, this.torch ? 0 : 20, true); // version made by
      cv.setUint16(6, this.torch ? 0 : 20, true); // version needed
      cv.setUint16(8, this.torch ? 0x808 : 0x800, true);
      cv.setUint16(10, r.method, true);
      cv.setUint32(16, r.crc, true);
      cv.setUint32(20, zip64[1] ? U32_MAX : r.compressedSize, true);
      cv.setUint32(24, zip64[0] ? U32_MAX : r.size, true);
      cv.setUint16(28, r.nameBytes.length, true);
      cv.setUint16(30, extraLen, true);
      cv.setUint32(42, zip64[2] ? U32_MAX : r.offset, true);
      cd.set(r.nameBytes, CENTRAL_SIZE);
      if (extraLen > 0) {
        let q = CENTRAL_SIZE + r.nameBytes.length;
        cv.setUint16(q, 0x0001, true);
        cv.setUint16(q + 2, extraLen - 4, true);
        q += 4;
        for (const [i, v] of [r.size, r.compressedSize, r.offset].entries()) {
          if (!zip64[i]) continue;
          cv.setBigUint64(q, BigInt(v), true);
          q += 8;
        }
      }
      this.emit(cd);
    }
    const cdSize = this.offset - cdOffset;
    const n = this.central.length;
    const needZip64 = this.zip64End || n >= 0xffff || cdSize >= U32_MAX || cdOffset >= U32_MAX;
    if (needZip64) {
      const recAt = this.offset;
      const rec = new Uint8Array(ZIP64_EOCD_SIZE);
      const rv = new DataView(rec.buffer);
      rv.setUint32(0, SIG_ZIP64_EOCD, true);
      rv.setBigUint64(4, BigInt(ZIP64_EOCD_SIZE - 12), true); // size of the rest of the record
      rv.setUint16(12, this.torch ? 0x031e : 45, true); // made by (torch: Unix, 3.0)
      rv.setUint16(14, 45, true);
      rv.setBigUint64(24, BigInt(n), true);
      rv.setBigUint64(32, BigInt(n), true);
      rv.setBigUint64(40, BigInt(cdSize), true);
      rv.setBigUint64(48, BigInt(cdOffset), true);
      this.emit(rec);
      const loc = new Uint8Array(ZIP64_LOCATOR_SIZE);
      const lv = new DataView(loc.buffer);
      lv.setUint32(0, SIG_ZIP64_LOCATOR, true);
      lv.setBigUint64(8, BigInt(recAt), true);
      lv.setUint32(16, 1, true);
      this.emit(loc);
    }
    const eocd = new Uint8Array(EOCD_SIZE);
    const ev = new DataView(eocd.buffer);
    ev.setUint32(0, SIG_EOCD, true);
    ev.setUint16(8, Math.min(n, 0xffff), true);
    ev.setUint16(10, Math.min(n, 0xffff), true);
    ev.setUint32(12, Math.min(cdSize, U32_MAX), true);
    ev.setUint32(16, Math.min(cdOffset, U32_MAX), true);
    this.emit(eocd);
  }
}

/** A sink collecting everything in memory; `bytes()` joins it. */
export const memorySink = (): ByteSink & { bytes(): Uint8Array } => {
  const parts: Uint8Array[] = [];
  return {
    write: (b) => {
      parts.push(b.slice());
    },
    bytes: () => {
      const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
      let at = 0;
      for (const p of parts) {
        out.set(p, at);
        at += p.length;
      }
      return out;
    },
  };
};

/**
 * Writes a whole zip archive in memory, entries in the given order, with CRC-32s, a central
 * directory and an end record. Entries are stored unless `deflate` is set.
 */
export const writeZip = (
  entries: ReadonlyArray<{ readonly name: string; readonly data: Uint8Array; readonly deflate?: boolean }>,
  options: ZipWriteOptions = {},
): Uint8Array => {
  const sink = memorySink();
  const w = new ZipWriter(sink, options);
  for (const e of entries) w.add(e.name, e.data, { deflate: e.deflate === true });
  w.finish();
  return sink.bytes();
};
