// The safetensors tensor-file format: reader and writer (pure, bytes in and bytes out).
// Layout: u64 little-endian header length N, then N bytes of JSON
// `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {string: string}}`,
// then the data section (offsets count from its first byte). All data is little-endian.
// Supported dtypes: F64, I64, F32, I32, BF16, U8. BF16 tensors are returned widened to a
// Float32Array (each value exact), with dtype kept 'BF16'; the writer narrows them back by
// round-to-nearest-even, so a widened tensor round-trips bit for bit.
// Not here: file system access (see src/train/checkpoint-store.ts), model-specific names.

import * as t from 'io-ts';
import { decodeOrThrow, inputError, parseJsonText, utf8Text } from './codec.ts';

export type SafeDtype = 'F64' | 'I64' | 'F32' | 'I32' | 'BF16' | 'U8';
export type SafeData = Float32Array | Float64Array | Int32Array | Uint8Array | BigInt64Array;

export interface SafeTensor {
  readonly dtype: SafeDtype;
  readonly shape: readonly number[];
  readonly data: SafeData;
}

export interface SafetensorsFile {
  readonly tensors: Map<string, SafeTensor>;
  readonly metadata: Record<string, string>;
}

/** One header entry after validation: where a tensor's bytes lie in the data section. */
export interface SafeHeaderEntry {
  readonly name: string;
  readonly dtype: SafeDtype;
  readonly shape: readonly number[];
  readonly begin: number;
  readonly end: number;
}

/** The validated header: entries in header order, metadata, and where the data section starts. */
export interface SafeHeader {
  readonly entries: readonly SafeHeaderEntry[];
  readonly metadata: Record<string, string>;
  /** byte offset of the data section in the file (8 + header length) */
  readonly dataStart: number;
  /** bytes the data section must have (the largest end offset) */
  readonly dataLength: number;
}

/** Bytes per stored element of each dtype (BF16 is 2 on disk although returned as Float32Array). */
export const DTYPE_BYTES: Readonly<Record<SafeDtype, number>> = Object.freeze({
  F64: 8,
  I64: 8,
  F32: 4,
  I32: 4,
  BF16: 2,
  U8: 1,
});

const DTYPES = Object.keys(DTYPE_BYTES) as SafeDtype[];
const METADATA_KEY = '__metadata__';
/** Largest header accepted (the same bound as the reference implementation: 100 MB). */
const MAX_HEADER_BYTES = 100_000_000;

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const assertLittleEndianHost = (): void => {
  if (!LITTLE_ENDIAN_HOST) throw new Error('safetensors: big-endian hosts are not supported');
};

// ---------------------------------------------------------------------------------------------
// Header codecs

const NonNegativeInt = t.refinement(
  t.number,
  (n) => Number.isSafeInteger(n) && n >= 0,
  'NonNegativeSafeInteger',
);

const EntryCodec = t.type({
  dtype: t.keyof(Object.fromEntries(DTYPES.map((d) => [d, null])) as Record<SafeDtype, null>),
  shape: t.array(NonNegativeInt),
  data_offsets: t.tuple([NonNegativeInt, NonNegativeInt]),
});
const ENTRY_KEYS = new Set(['dtype', 'shape', 'data_offsets']);
const MetadataCodec = t.record(t.string, t.string);

const numelOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
const shapeText = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

/**
 * Decodes and checks a header: JSON bytes → entries. `fileName` names the file in every error.
 * Checks: every entry has exactly {dtype, shape, data_offsets}; begin ≤ end; end − begin equals
 * numel(shape)·bytes(dtype); the tensors tile the data section [0, dataLength) without gaps or
 * overlaps (as the format requires).
 */
export const decodeSafetensorsHeader = (
  json: Uint8Array,
  fileName: string,
): Omit<SafeHeader, 'dataStart'> => {
  // nesting is bounded (the format needs 3 levels) and a repeated tensor name is refused
  const parsed = parseJsonText(utf8Text(json, `${fileName}: safetensors header`), `${fileName}: safetensors header`, 8);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw inputError(fileName, `safetensors header must be a JSON object`);
  }
  // the parsed object's own entries: a decoded copy would turn a tensor named "__proto__" into a prototype
  const raw = parsed as Record<string, unknown>;
  let metadata: Record<string, string> = {};
  const entries: SafeHeaderEntry[] = [];
  for (const [name, value] of Object.entries(raw)) {
    if (name === METADATA_KEY) {
      metadata = decodeOrThrow(MetadataCodec, value, `${fileName}: ${METADATA_KEY}`);
      continue;
    }
    const where = `${fileName}: tensor '${name}'`;
    const entry = decodeOrThrow(EntryCodec, value, where);
    const extra = Object.keys(value as object).filter((k) => !ENTRY_KEYS.has(k));
    if (extra.length > 0) {
      throw inputError(fileName, `tensor '${name}': unknown header field(s) ${extra.map((k) => `'${k}'`).join(', ')} (expected dtype, shape, data_offsets)`);
    }
    const [begin, end] = entry.data_offsets;
    if (end < begin) {
      throw inputError(fileName, `tensor '${name}': data_offsets [${begin}, ${end}] end before they begin`);
    }
    const expected = numelOf(entry.shape) * DTYPE_BYTES[entry.dtype];
    if (end - begin !== expected) {
      throw inputError(fileName, `tensor '${name}': data_offsets [${begin}, ${end}] hold ${end - begin} bytes, ` +
          `but ${entry.dtype} ${shapeText(entry.shape)} needs ${expected}`,
      );
    }
    entries.push({ name, dtype: entry.dtype, shape: entry.shape, begin, end });
  }
  // The tensors must tile the data section: sorted by offset, each begins where the last ended.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const e of sorted) {
    if (e.begin !== cursor) {
      throw inputError(fileName, `tensor '${e.name}' begins at data offset ${e.begin}, expected ${cursor} ` +
          `(tensors must tile the data section without gaps or overlaps)`,
      );
    }
    cursor = e.end;
  }
  return { entries, metadata, dataLength: cursor };
};

/**
 * Reads the 8-byte length prefix and checks it against the file size; returns the header length N.
 * `fileSize` is the total size of the file in bytes.
 */
export const readHeaderLength = (prefix: Uint8Array, fileSize: number, fileName: string): number => {
  if (prefix.length < 8 || fileSize < 8) {
    throw inputError(fileName, `truncated safetensors file (${fileSize} bytes, the header length alone needs 8)`);
  }
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) {
    throw inputError(fileName, `safetensors header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit (not a safetensors file?)`);
  }
  const len = Number(n);
  if (8 + len > fileSize) {
    throw inputError(fileName, `truncated safetensors file: header needs ${8 + len} bytes, file has ${fileSize}`);
  }
  return len;
};

/** Checks the data section size against the header (truncated or trailing bytes). */
export const checkDataLength = (header: Omit<SafeHeader, 'dataStart'>, dataStart: number, fileSize: number, fileName: string): void => {
  const have = fileSize - dataStart;
  if (have < header.dataLength) {
    throw inputError(fileName, `truncated safetensors file: data section needs ${header.dataLength} bytes, file has ${have}`);
  }
  if (have > header.dataLength) {
    throw inputError(fileName, `${have - header.dataLength} unexpected trailing bytes after the safetensors data section`);
  }
};

/** Validates the header and sizes of a whole file without decoding the data. */
export const parseSafetensorsHeader = (bytes: Uint8Array, fileName: string): SafeHeader => {
  const n = readHeaderLength(bytes.subarray(0, 8), bytes.length, fileName);
  const header = decodeSafetensorsHeader(bytes.subarray(8, 8 + n), fileName);
  checkDataLength(header, 8 + n, bytes.length, fileName);
  return { ...header, dataStart: 8 + n };
};

// ---------------------------------------------------------------------------------------------
// bf16 conversions

/** Widens bf16 bit patterns (u16) to float32: the bf16 is the upper half of the f32. */
export const bf16ToFloat32 = (bits: Uint16Array): Float32Array => {
  const out = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = bits[i] << 16;
  return new Float32Array(out.buffer);
};

/** Narrows float32 to bf16 bit patterns, rounding to nearest even; NaN stays a (quiet) NaN. */
export const float32ToBf16 = (values: Float32Array): Uint16Array => {
  const u = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const x = u[i];
    if ((x & 0x7fffffff) > 0x7f800000) {
      out[i] = (x >>> 16) | 0x0040; // NaN: keep sign and payload top, force quiet
    } else {
      out[i] = (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
    }
  }
  return out;
};

// ---------------------------------------------------------------------------------------------
// Reader

/** Copies `len` bytes at `offset` into a fresh, aligned buffer. */
const copyBytes = (bytes: Uint8Array, offset: number, len: number): ArrayBuffer => {
  const out = new Uint8Array(len);
  out.set(bytes.subarray(offset, offset + len));
  return out.buffer;
};

const decodeData = (dtype: SafeDtype, buf: ArrayBuffer): SafeData => {
  switch (dtype) {
    case 'F64':
      return new Float64Array(buf);
    case 'I64':
      return new BigInt64Array(buf);
    case 'F32':
      return new Float32Array(buf);
    case 'I32':
      return new Int32Array(buf);
    case 'BF16':
      return bf16ToFloat32(new Uint16Array(buf));
    case 'U8':
      return new Uint8Array(buf);
  }
};

/**
 * Reads a safetensors file from memory. Every tensor gets its own copy of its data (the input
 * may be released). Map order is the header's JSON object order as JavaScript sees it (names
 * that look like array indices come first, ascending). Throws an error naming `fileName`, the tensor and
 * the expectation on any malformed, truncated or inconsistent input.
 */
export const readSafetensors = (bytes: Uint8Array, fileName: string): SafetensorsFile => {
  assertLittleEndianHost();
  const header = parseSafetensorsHeader(bytes, fileName);
  const tensors = new Map<string, SafeTensor>();
  for (const e of header.entries) {
    const buf = copyBytes(bytes, header.dataStart + e.begin, e.end - e.begin);
    tensors.set(e.name, Object.freeze({ dtype: e.dtype, shape: Object.freeze([...e.shape]), data: decodeData(e.dtype, buf) }));
  }
  return { tensors, metadata: header.metadata };
};

// ---------------------------------------------------------------------------------------------
// Writer

const expectedArray: Readonly<Record<SafeDtype, string>> = {
  F64: 'Float64Array',
  I64: 'BigInt64Array',
  F32: 'Float32Array',
  I32: 'Int32Array',
  BF16: 'Float32Array',
  U8: 'Uint8Array',
};

const matchesDtype = (dtype: SafeDtype, data: SafeData): boolean => {
  switch (dtype) {
    case 'F64':
      return data instanceof Float64Array;
    case 'I64':
      return data instanceof BigInt64Array;
    case 'F32':
    case 'BF16':
      return data instanceof Float32Array;
    case 'I32':
      return data instanceof Int32Array;
    case 'U8':
      return data instanceof Uint8Array;
  }
};

/** The bytes a tensor occupies on disk (a view for every dtype except BF16, which is narrowed). */
const encodeData = (t: SafeTensor): Uint8Array =>
  t.dtype === 'BF16'
    ? new Uint8Array(float32ToBf16(t.data as Float32Array).buffer)
    : new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);

/**
 * Writes tensors (a Map or [name, tensor] pairs, in that order within each element size) and
 * optional string metadata as a safetensors file. Tensors with 8-byte elements come first, then
 * 4-, 2- and 1-byte ones, so every tensor is aligned to its element size; the header is padded
 * with spaces to a multiple of 8.
 */
export const writeSafetensors = (
  entries: ReadonlyMap<string, SafeTensor> | ReadonlyArray<readonly [string, SafeTensor]>,
  metadata?: Readonly<Record<string, string>>,
): Uint8Array => {
  assertLittleEndianHost();
  const list: Array<readonly [string, SafeTensor]> =
    entries instanceof Map ? [...entries.entries()] : [...(entries as ReadonlyArray<readonly [string, SafeTensor]>)];
  const seen = new Set<string>();
  for (const [name, t] of list) {
    if (name === METADATA_KEY || name.length === 0) throw new Error(`writeSafetensors: invalid tensor name '${name}'`);
    if (seen.has(name)) throw new Error(`writeSafetensors: duplicate tensor name '${name}'`);
    seen.add(name);
    if (!DTYPES.includes(t.dtype)) throw new Error(`writeSafetensors: tensor '${name}' has unsupported dtype '${t.dtype}' (expected one of ${DTYPES.join(', ')})`);
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new Error(`writeSafetensors: tensor '${name}' has invalid shape ${shapeText(t.shape)} (expected non-negative integers)`);
    }
    if (!matchesDtype(t.dtype, t.data)) {
      throw new Error(`writeSafetensors: tensor '${name}' is ${t.dtype}, expected its data as ${expectedArray[t.dtype]}, got ${t.data.constructor.name}`);
    }
    if (t.data.length !== numelOf(t.shape)) {
      throw new Error(`writeSafetensors: tensor '${name}' has ${t.data.length} elements, shape ${shapeText(t.shape)} needs ${numelOf(t.shape)}`);
    }
  }
  // Stable order: larger elements first.
  const ordered = list
    .map((e, i) => [e, i] as const)
    .sort((a, b) => DTYPE_BYTES[b[0][1].dtype] - DTYPE_BYTES[a[0][1].dtype] || a[1] - b[1])
    .map(([e]) => e);
  const header: Record<string, unknown> = Object.create(null) as Record<string, unknown>; // a tensor may be named "__proto__"
  if (metadata !== undefined && Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new Error(`writeSafetensors: metadata '${k}' must be a string`);
    }
    header[METADATA_KEY] = { ...metadata };
  }
  const payloads: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of ordered) {
    const bytes = encodeData(t);
    header[name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes.length] };
    payloads.push(bytes);
    offset += bytes.length;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + padded + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + padded);
  let at = 8 + padded;
  for (const p of payloads) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};
