// NumPy `.npy` arrays (format versions 1.0, 2.0, 3.0) as the original dataset builders write them
// with `np.save`: little-endian, C order, header dict padded with spaces and a '\n' so the data
// starts on a multiple of 64 bytes, with NumPy's spare room for growing the first axis.
// Pure encode/decode on bytes here; file effects live in src/data/format.ts. Not a general
// NumPy reader: only integer dtypes of at most 8 bytes (the dataset format needs uint8 and int32).

import * as t from 'io-ts';
import { decodeOrThrow, inputError } from '../io/codec.ts';

/** The dtypes written by this project. */
export type NpyWriteDtype = 'uint8' | 'int32';
/** The dtypes accepted on read (little-endian or byte-order-free integers). */
export type NpyDtype = 'uint8' | 'int8' | 'uint16' | 'int16' | 'uint32' | 'int32' | 'int64' | 'uint64';

export type NpyData = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array;

export interface NpyArray {
  readonly dtype: NpyDtype;
  readonly shape: readonly number[];
  /** row-major (C order) values; int64/uint64 are narrowed to Int32Array when every value fits */
  readonly data: NpyData;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
const ARRAY_ALIGN = 64;
const GROWTH_AXIS_MAX_DIGITS = 21;
/** Largest header accepted (NumPy's own reader stops at 10,000 bytes by default). */
const MAX_HEADER_BYTES = 1 << 16;
/** Tuples in a header nest one level (the shape); anything deeper is not a NumPy header. */
const MAX_HEADER_NESTING = 4;

const DESCR: Record<string, NpyDtype> = {
  '|u1': 'uint8',
  '<u1': 'uint8',
  '>u1': 'uint8',
  '|i1': 'int8',
  '<i1': 'int8',
  '>i1': 'int8',
  '<u2': 'uint16',
  '<i2': 'int16',
  '<u4': 'uint32',
  '<i4': 'int32',
  '<i8': 'int64',
  '<u8': 'uint64',
};
const BYTES: Record<NpyDtype, number> = { uint8: 1, int8: 1, uint16: 2, int16: 2, uint32: 4, int32: 4, int64: 8, uint64: 8 };
const WRITE_DESCR: Record<NpyWriteDtype, string> = { uint8: '|u1', int32: '<i4' };

/** Python's repr of a shape tuple: (), (5,), (3, 81). */
const shapeRepr = (shape: readonly number[]): string =>
  shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;

/**
 * The complete header (magic, version, length, dict, padding, '\n') that `np.save` writes for an
 * array of this dtype and shape; its length is a multiple of 64.
 */
export const npyHeader = (dtype: NpyWriteDtype, shape: readonly number[]): Uint8Array => {
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new Error(`npyHeader: invalid dimension ${d} in shape ${shapeRepr(shape)}`);
  }
  let dict = `{'descr': '${WRITE_DESCR[dtype]}', 'fortran_order': False, 'shape': ${shapeRepr(shape)}, }`;
  if (shape.length > 0) dict += ' '.repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(shape[0]).length));
  // version 1.0: 2-byte little-endian header length; 2.0 (4 bytes) only when that overflows
  let version = 1;
  let lenBytes = 2;
  const hlen0 = dict.length + 1;
  if (hlen0 + 10 > 65535) {
    version = 2;
    lenBytes = 4;
  }
  const prefix = 6 + 2 + lenBytes;
  const padlen = ARRAY_ALIGN - ((prefix + hlen0) % ARRAY_ALIGN);
  const hlen = hlen0 + padlen;
  const out = new Uint8Array(prefix + hlen);
  out.set(MAGIC, 0);
  out[6] = version;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (lenBytes === 2) view.setUint16(8, hlen, true);
  else view.setUint32(8, hlen, true);
  for (let i = 0; i < dict.length; i++) out[prefix + i] = dict.charCodeAt(i);
  out.fill(0x20, prefix + dict.length, out.length - 1);
  out[out.length - 1] = 0x0a;
  return out;
};

/** Encodes a whole array as `.npy` bytes (header + little-endian C-order data). */
export const encodeNpy = (dtype: NpyWriteDtype, shape: readonly number[], data: ArrayLike<number>): Uint8Array => {
  const n = shape.reduce((a, b) => a * b, 1);
  if (data.length !== n) throw new Error(`encodeNpy: ${data.length} values for shape ${shapeRepr(shape)} (needs ${n})`);
  const header = npyHeader(dtype, shape);
  const out = new Uint8Array(header.length + n * (dtype === 'uint8' ? 1 : 4));
  out.set(header, 0);
  if (dtype === 'uint8') {
    for (let i = 0; i < n; i++) {
      const v = data[i];
      if (!(Number.isInteger(v) && v >= 0 && v <= 255)) throw new Error(`encodeNpy: value ${v} at index ${i} is not a uint8`);
      out[header.length + i] = v;
    }
  } else {
    const view = new DataView(out.buffer, header.length);
    for (let i = 0; i < n; i++) {
      const v = data[i];
      if (!(Number.isInteger(v) && v >= -2147483648 && v <= 2147483647)) {
        throw new Error(`encodeNpy: value ${v} at index ${i} is not an int32`);
      }
      view.setInt32(i * 4, v, true);
    }
  }
  return out;
};

const HeaderCodec = t.exact(
  t.type({
    descr: t.string,
    fortran_order: t.boolean,
    shape: t.array(t.number),
  }),
);

/** Parses the Python-literal header dict (str, bool, int tuples only), e.g. {'descr': '|u1', ...}. */
const parseHeaderDict = (text: string, where: string): Record<string, unknown> => {
  let i = 0;
  const fail = (what: string): never => {
    throw inputError(where, `malformed .npy header (${what} at offset ${i}): ${JSON.stringify(text.trim().slice(0, 200))}`);
  };
  const ws = (): void => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const value = (depth: number): unknown => {
    if (depth > MAX_HEADER_NESTING) fail(`nested deeper than ${MAX_HEADER_NESTING} levels`);
    ws();
    const c = text[i];
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) fail('unterminated string');
      const s = text.slice(i + 1, end);
      i = end + 1;
      return s;
    }
    if (c === '(') {
      i++;
      const items: unknown[] = [];
      ws();
      while (text[i] !== ')') {
        items.push(value(depth + 1));
        ws();
        if (text[i] === ',') i++;
        else if (text[i] !== ')') fail("expected ',' or ')'");
        ws();
      }
      i++;
      return items;
    }
    const m = /^(True|False|-?\d{1,30}L?)/.exec(text.slice(i, i + 32));
    if (!m) return fail('unexpected token');
    i += m[0].length;
    if (m[0] === 'True') return true;
    if (m[0] === 'False') return false;
    return Number(m[0].replace('L', ''));
  };
  ws();
  if (text[i] !== '{') fail("expected '{'");
  i++;
  const out: Record<string, unknown> = {};
  ws();
  while (text[i] !== '}') {
    const key = value(1);
    if (typeof key !== 'string') fail('expected a string key');
    if (!['descr', 'fortran_order', 'shape'].includes(key as string)) fail(`unexpected key ${JSON.stringify(String(key).slice(0, 40))} (expected descr, fortran_order, shape)`);
    if (Object.prototype.hasOwnProperty.call(out, key as string)) fail(`key '${key as string}' given twice`);
    ws();
    if (text[i] !== ':') fail("expected ':'");
    i++;
    out[key as string] = value(1);
    ws();
    if (text[i] === ',') i++;
    else if (text[i] !== '}') fail("expected ',' or '}'");
    ws();
  }
  return out;
};

/**
 * Decodes `.npy` bytes; `where` (a file name) prefixes every error. Rejects truncated data,
 * big-endian and non-integer dtypes; Fortran-order arrays are reordered to C order. A C-order
 * uint8 result is a view into `bytes` (no copy); every other result is fresh.
 */
export const decodeNpy = (bytes: Uint8Array, where: string): NpyArray => {
  if (bytes.length < 10 || MAGIC.some((m, k) => bytes[k] !== m)) {
    throw inputError(where, `not a .npy file (missing the \\x93NUMPY magic; ${bytes.length} bytes)`);
  }
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let hlen: number;
  let start: number;
  if (major === 1) {
    hlen = view.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw inputError(where, `truncated .npy header`);
    hlen = view.getUint32(8, true);
    start = 12;
  } else {
    throw inputError(where, `unsupported .npy format version ${major}.${bytes[7]} (expected 1.0, 2.0 or 3.0)`);
  }
  if (hlen > MAX_HEADER_BYTES) throw inputError(where, `.npy header of ${hlen} bytes exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  if (start + hlen > bytes.length) {
    throw inputError(where, `truncated .npy header (header needs ${start + hlen} bytes, file has ${bytes.length})`);
  }
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + hlen));
  const raw = parseHeaderDict(text, where);
  const extra = Object.keys(raw).filter((k) => !['descr', 'fortran_order', 'shape'].includes(k));
  if (extra.length > 0) throw inputError(where, `unexpected key(s) in .npy header: ${extra.join(', ')}`);
  const header = decodeOrThrow(HeaderCodec, raw, `${where}: .npy header`);
  const dtype = DESCR[header.descr];
  if (dtype === undefined) {
    throw inputError(where, `unsupported dtype '${header.descr}' (expected a little-endian integer such as '|u1' or '<i4')`);
  }
  const shape = header.shape;
  for (const d of shape) if (!Number.isSafeInteger(d) || d < 0) throw inputError(where, `invalid shape ${shapeRepr(shape)}`);
  const n = shape.reduce((a, b) => a * b, 1);
  const dataStart = start + hlen;
  const need = n * BYTES[dtype];
  if (bytes.length - dataStart < need) {
    throw inputError(where, `truncated .npy data: shape ${shapeRepr(shape)} of ${header.descr} needs ${need} bytes, file has ${bytes.length - dataStart}`);
  }
  if (bytes.length - dataStart > need) {
    throw inputError(where, `${bytes.length - dataStart - need} trailing bytes after the .npy data of shape ${shapeRepr(shape)}`);
  }
  const body = bytes.subarray(dataStart, dataStart + need);
  const bodyView = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let data: NpyData;
  let outDtype: NpyDtype = dtype;
  switch (dtype) {
    case 'uint8':
      data = body; // a view: large token arrays are not copied (the caller owns `bytes`)
      break;
    case 'int8':
      data = new Int8Array(body.buffer.slice(body.byteOffset, body.byteOffset + need));
      break;
    case 'uint16': {
      const a = new Uint16Array(n);
      for (let i = 0; i < n; i++) a[i] = bodyView.getUint16(2 * i, true);
      data = a;
      break;
    }
    case 'int16': {
      const a = new Int16Array(n);
      for (let i = 0; i < n; i++) a[i] = bodyView.getInt16(2 * i, true);
      data = a;
      break;
    }
    case 'uint32': {
      const a = new Uint32Array(n);
      for (let i = 0; i < n; i++) a[i] = bodyView.getUint32(4 * i, true);
      data = a;
      break;
    }
    case 'int32': {
      const a = new Int32Array(n);
      for (let i = 0; i < n; i++) a[i] = bodyView.getInt32(4 * i, true);
      data = a;
      break;
    }
    case 'int64':
    case 'uint64': {
      const a = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const v = dtype === 'int64' ? bodyView.getBigInt64(8 * i, true) : bodyView.getBigUint64(8 * i, true);
        if (v < -2147483648n || v > 2147483647n) {
          throw inputError(where, `${header.descr} value ${v} at index ${i} does not fit in int32`);
        }
        a[i] = Number(v);
      }
      data = a;
      outDtype = 'int32';
      break;
    }
  }
  if (header.fortran_order && shape.length > 1) data = fortranToC(data, shape);
  return { dtype: outDtype, shape: [...shape], data };
};

/** Reorders column-major (Fortran) data of `shape` into row-major order. */
const fortranToC = <A extends NpyData>(src: A, shape: readonly number[]): A => {
  const n = src.length;
  const dst = new (src.constructor as new (n: number) => A)(n);
  const nd = shape.length;
  const idx = new Array<number>(nd).fill(0);
  // walk C order, compute the Fortran offset
  for (let c = 0; c < n; c++) {
    let f = 0;
    let stride = 1;
    for (let k = 0; k < nd; k++) {
      f += idx[k] * stride;
      stride *= shape[k];
    }
    dst[c] = src[f];
    for (let k = nd - 1; k >= 0; k--) {
      if (++idx[k] < shape[k]) break;
      idx[k] = 0;
    }
  }
  return dst;
};
