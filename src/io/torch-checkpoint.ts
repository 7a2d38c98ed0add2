// PyTorch checkpoints (torch.save of a state dict, zip format) read as float32 tensors.
// The archive holds `<stem>/data.pkl` (any stem), `<stem>/data/<key>` raw little-endian storages
// and `<stem>/version`. The pickle builds an OrderedDict of
// `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata])`
// whose storages are persistent ids `('storage', <torch.XStorage>, key, location, numel)`.
// Storages: FloatStorage, BFloat16Storage (bf16 = upper 16 bits of an f32) and HalfStorage are
// widened exactly to float32; Long/Int storages are recognized and refused with the tensor named.
// Locations (`cpu`, `cuda:0`, ...) are ignored; a `<stem>/byteorder` entry, if present, must say
// `little`. Key prefixes are stripped: the first match of
// `_orig_mod.model.inner.`, `model.inner.`, `_orig_mod.` (torch.compile and the ACT loss head
// wrappers), so keys come out as the model's own parameter names.
// Not here: the legacy (pre-1.6, non-zip) torch format, optimizer state, anything executable.

import { readZip, type ByteSource, type ZipArchive } from './zip.ts';
import { withFileSource } from './file-source.ts';
import { unpickle, type PyValue } from './pickle.ts';
import { bf16ToFloat32 } from './safetensors.ts';

export interface CheckpointTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** Key prefixes removed, tried in this order (the first one that matches is removed). */
export const STRIPPED_PREFIXES: readonly string[] = Object.freeze(['_orig_mod.model.inner.', 'model.inner.', '_orig_mod.']);

type StorageKind = 'float32' | 'bfloat16' | 'float16' | 'int64' | 'int32';
const STORAGE_CLASSES: ReadonlyMap<string, { kind: StorageKind; bytes: number }> = new Map([
  ['torch.FloatStorage', { kind: 'float32', bytes: 4 }],
  ['torch.BFloat16Storage', { kind: 'bfloat16', bytes: 2 }],
  ['torch.HalfStorage', { kind: 'float16', bytes: 2 }],
  ['torch.LongStorage', { kind: 'int64', bytes: 8 }],
  ['torch.IntStorage', { kind: 'int32', bytes: 4 }],
] as const);
const REBUILD_TENSOR = 'torch._utils._rebuild_tensor_v2';
const ALLOWED_GLOBALS: ReadonlySet<string> = new Set(['collections.OrderedDict', REBUILD_TENSOR, ...STORAGE_CLASSES.keys()]);

interface StorageRef {
  readonly className: string;
  readonly kind: StorageKind;
  readonly key: string;
  readonly numel: number;
}

const isInt = (v: PyValue): v is number => typeof v === 'number' && Number.isSafeInteger(v);
const describe = (v: PyValue): string =>
  v === null ? 'None' : typeof v === 'object' ? v.kind : typeof v;

/** Widens IEEE half-precision bit patterns to float32 (exact). */
const halfToFloat32 = (bits: Uint16Array): Float32Array => {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i];
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    out[i] =
      exp === 0 ? sign * frac * 2 ** -24 : exp === 31 ? (frac === 0 ? sign * Infinity : NaN) : sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return out;
};

/**
 * Decodes a storage's raw bytes to float32. `owned` says the bytes are a fresh array nobody else
 * holds: float32 storages are then wrapped without a copy (when aligned).
 */
const storageToFloat32 = (raw: Uint8Array, ref: StorageRef, owned: boolean): Float32Array => {
  if (ref.kind === 'float32' && owned && raw.byteOffset % 4 === 0) return new Float32Array(raw.buffer, raw.byteOffset, raw.length / 4);
  const copy = new Uint8Array(raw.length);
  copy.set(raw);
  switch (ref.kind) {
    case 'float32':
      return new Float32Array(copy.buffer);
    case 'bfloat16':
      return bf16ToFloat32(new Uint16Array(copy.buffer));
    case 'float16':
      return halfToFloat32(new Uint16Array(copy.buffer));
    default:
      throw new Error(`unreachable storage kind ${ref.kind}`);
  }
};

/** Parses a persistent id `('storage', StorageClass, key, location, numel)`. */
const parseStorageId = (pid: PyValue, fileName: string): StorageRef => {
  const bad = (what: string): never => {
    throw new Error(`${fileName}: persistent id ${what} (expected ('storage', torch.<Type>Storage, key, location, numel))`);
  };
  if (pid === null || typeof pid !== 'object' || pid.kind !== 'tuple') return bad(`is a ${describe(pid)}`);
  const [tag, cls, key, location, numel] = pid.items;
  if (pid.items.length !== 5 || tag !== 'storage') return bad(`has ${pid.items.length} items, first ${JSON.stringify(tag)}`);
  if (cls === null || typeof cls !== 'object' || cls.kind !== 'global' || !STORAGE_CLASSES.has(cls.name)) return bad('names no known storage class');
  if (typeof key !== 'string' || typeof location !== 'string') return bad('has a non-string key or location');
  if (!isInt(numel) || numel < 0) return bad(`has numel ${String(numel)}`);
  return { className: cls.name, kind: STORAGE_CLASSES.get(cls.name)!.kind, key, numel };
};

/** The entry ending in data.pkl; its folder (the archive's stem) holds the storages. */
const findPickle = (zip: ZipArchive): { pkl: string; prefix: string } => {
  const candidates = zip.entries.map((e) => e.name).filter((n) => n === 'data.pkl' || n.endsWith('/data.pkl'));
  if (candidates.length !== 1) {
    throw new Error(
      `${zip.fileName}: expected exactly one entry ending in data.pkl, found ${candidates.length === 0 ? 'none' : candidates.join(', ')} ` +
        `(entries: ${zip.entries.slice(0, 8).map((e) => e.name).join(', ')}${zip.entries.length > 8 ? ', ...' : ''})`,
    );
  }
  const pkl = candidates[0];
  return { pkl, prefix: pkl.slice(0, pkl.length - 'data.pkl'.length) };
};

/** Removes the first matching prefix of STRIPPED_PREFIXES from a state-dict key. */
export const stripKeyPrefix = (key: string): string => {
  for (const p of STRIPPED_PREFIXES) if (key.startsWith(p)) return key.slice(p.length);
  return key;
};

/**
 * Materializes a tensor [size] from a flat storage with an element offset and strides
 * (row-major output). Contiguous tensors are one copy; other strides are gathered.
 */
const materialize = (
  storage: Float32Array,
  offset: number,
  size: readonly number[],
  stride: readonly number[],
  where: string,
  soleUser: boolean,
): Float32Array => {
  const n = size.reduce((a, b) => a * b, 1);
  if (n === 0) return new Float32Array(0);
  let last = offset; // the largest element index touched
  for (let d = 0; d < size.length; d++) last += (size[d] - 1) * stride[d];
  if (offset < 0 || last >= storage.length) {
    throw new Error(`${where}: offset ${offset}, size [${size.join(', ')}] and stride [${stride.join(', ')}] reach element ${last}, but the storage has ${storage.length}`);
  }
  let contiguous = true;
  for (let d = size.length - 1, expect = 1; d >= 0; d--) {
    if (size[d] !== 1 && stride[d] !== expect) contiguous = false;
    expect *= size[d];
  }
  if (contiguous) return soleUser && offset === 0 && n === storage.length ? storage : storage.slice(offset, offset + n);
  const out = new Float32Array(n);
  const idx = new Array<number>(size.length).fill(0);
  for (let i = 0; i < n; i++) {
    let src = offset;
    for (let d = 0; d < size.length; d++) src += idx[d] * stride[d];
    out[i] = storage[src];
    for (let d = size.length - 1; d >= 0; d--) {
      if (++idx[d] < size[d]) break;
      idx[d] = 0;
    }
  }
  return out;
};

const intTuple = (v: PyValue, what: string, where: string): number[] => {
  if (v === null || typeof v !== 'object' || v.kind !== 'tuple' || !v.items.every((x) => isInt(x) && x >= 0)) {
    throw new Error(`${where}: ${what} must be a tuple of non-negative integers, got ${describe(v)}`);
  }
  return v.items as number[];
};

/**
 * Reads a PyTorch zip checkpoint holding a state dict of floating tensors, from memory or a
 * ByteSource. Returns the tensors under their stripped keys, in the file's order, each as its own
 * row-major float32 array. Errors name the file and, where it applies, the key.
 */
export const readTorchCheckpoint = (input: Uint8Array | ByteSource, fileName: string): Map<string, CheckpointTensor> => {
  const zip = readZip(input, fileName);
  const { pkl, prefix } = findPickle(zip);
  // Newer torch versions record the storages' byte order; only little-endian is read.
  if (zip.entries.some((e) => e.name === `${prefix}byteorder`)) {
    const order = new TextDecoder().decode(zip.read(`${prefix}byteorder`)).trim();
    if (order !== 'little') throw new Error(`${fileName}: ${prefix}byteorder says '${order}', expected 'little'`);
  }
  const storages = new Map<string, Float32Array>();
  const root = unpickle(zip.read(pkl), {
    fileName: `${fileName}: ${pkl}`,
    allowedGlobals: ALLOWED_GLOBALS,
    persistentLoad: (pid) => parseStorageId(pid, fileName),
  });
  if (root === null || typeof root !== 'object' || root.kind !== 'dict') {
    throw new Error(`${fileName}: the checkpoint pickle holds a ${describe(root)}, expected a state dict (OrderedDict)`);
  }
  const loadStorage = (ref: StorageRef, where: string): Float32Array => {
    if (ref.kind === 'int64' || ref.kind === 'int32') {
      throw new Error(`${where}: has an integer storage (${ref.className}); only floating tensors (Float, BFloat16, Half) are loaded`);
    }
    const cached = storages.get(ref.key);
    if (cached !== undefined) return cached;
    const entry = `${prefix}data/${ref.key}`;
    const raw = zip.read(entry);
    const bytesPer = STORAGE_CLASSES.get(ref.className)!.bytes;
    if (raw.length !== ref.numel * bytesPer) {
      throw new Error(`${where}: storage '${entry}' has ${raw.length} bytes, expected ${ref.numel} × ${bytesPer} = ${ref.numel * bytesPer} (${ref.className})`);
    }
    const data = storageToFloat32(raw, ref, zip.freshReads || zip.entries.find((e) => e.name === entry)!.method !== 0);
    storages.set(ref.key, data);
    return data;
  };
  // How many tensors use each storage: a tensor that alone covers its whole storage takes the
  // decoded array itself instead of a copy (halves peak memory on multi-GB puzzle tables).
  const users = new Map<string, number>();
  for (const value of root.entries.values()) {
    if (value !== null && typeof value === 'object' && value.kind === 'call') {
      const s = value.args[0];
      if (s !== null && typeof s === 'object' && s.kind === 'external') {
        const key = (s.value as StorageRef).key;
        users.set(key, (users.get(key) ?? 0) + 1);
      }
    }
  }
  const out = new Map<string, CheckpointTensor>();
  const original = new Map<string, string>();
  for (const [rawKey, value] of root.entries) {
    if (typeof rawKey !== 'string') throw new Error(`${fileName}: state-dict key ${String(rawKey)} is not a string`);
    const where = `${fileName}: tensor '${rawKey}'`;
    if (value === null || typeof value !== 'object' || value.kind !== 'call' || value.callee !== REBUILD_TENSOR) {
      throw new Error(`${where}: expected ${REBUILD_TENSOR}(...), got ${value !== null && typeof value === 'object' && value.kind === 'call' ? value.callee : describe(value)}`);
    }
    const [storage, offset, size, stride] = value.args;
    if (value.args.length < 6 || value.args.length > 7) {
      throw new Error(`${where}: ${REBUILD_TENSOR} has ${value.args.length} arguments, expected 6 or 7`);
    }
    if (storage === null || typeof storage !== 'object' || storage.kind !== 'external') {
      throw new Error(`${where}: the storage argument is a ${describe(storage)}, expected a persistent storage id`);
    }
    if (!isInt(offset) || offset < 0) throw new Error(`${where}: storage offset must be a non-negative integer, got ${String(offset)}`);
    const shape = intTuple(size, 'size', where);
    const strides = intTuple(stride, 'stride', where);
    if (strides.length !== shape.length) throw new Error(`${where}: size has ${shape.length} dims but stride has ${strides.length}`);
    const ref = storage.value as StorageRef;
    const data = materialize(loadStorage(ref, where), offset, shape, strides, where, users.get(ref.key) === 1);
    const key = stripKeyPrefix(rawKey);
    if (out.has(key)) throw new Error(`${where}: after prefix stripping it collides with '${original.get(key)}' (both become '${key}')`);
    original.set(key, rawKey);
    out.set(key, Object.freeze({ shape: Object.freeze(shape), data }));
  }
  return out;
};

/** Reads a PyTorch checkpoint from disk entry by entry (no 2 GiB file limit; no whole-file copy). */
export const readTorchCheckpointFile = (path: string): Map<string, CheckpointTensor> =>
  withFileSource(path, (src) => readTorchCheckpoint(src, path));
