// PyTorch checkpoints (torch.save of a state dict, zip format), both ways.
// The archive holds `<stem>/data.pkl` (any stem), `<stem>/data/<key>` raw little-endian storages
// and `<stem>/version`. The pickle builds an OrderedDict of
// `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata])`
// whose storages are persistent ids `('storage', <torch.XStorage>, key, location, numel)`.
// Reading: FloatStorage, BFloat16Storage (bf16 = upper 16 bits of an f32) and HalfStorage are
// widened exactly to float32; Long/Int storages are recognized and refused with the tensor named.
// Every tensor's offset, size and stride are checked against its storage's element count, and
// every storage's declared size against its zip entry, before any storage is read; a storage is
// then read once (entry by entry from a file: the archive is never held whole) and handed over
// without a copy when one tensor covers it. Locations (`cpu`, `cuda:0`, ...) are ignored; a
// `<stem>/byteorder` entry, if present, must say `little`. Key prefixes are stripped: the first
// match of `_orig_mod.model.inner.`, `model.inner.`, `_orig_mod.` (torch.compile and the ACT loss
// head wrappers), so keys come out as the model's own parameter names.
// Writing: the same layout as torch.save (byte for byte for a float32 state dict), streamed to a
// sink tensor by tensor, float32 or bfloat16 storages.
// Not here: the legacy (pre-1.6, non-zip) torch format, optimizer state, anything executable.

import { ZipWriter, readZip, type ByteSink, type ByteSource, type ZipArchive } from './zip.ts';
import { PickleWriter, unpickle, type PyValue } from './pickle.ts';
import { bf16ToFloat32, float32ToBf16 } from './safetensors.ts';
import { InputError } from './codec.ts';

export type StorageDtype = 'float32' | 'bfloat16' | 'float16';

export interface CheckpointTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
  /** the dtype the file stores it in (bfloat16 and float16 are widened exactly) */
  readonly stored: StorageDtype;
}

export interface TorchStateDict {
  /** tensors under their stripped keys, in the file's order */
  readonly tensors: Map<string, CheckpointTensor>;
  /** the prefix stripped from the keys ('' when none) */
  readonly prefix: string;
}

export interface TorchReadOptions {
  /** refuse (before reading any storage) a checkpoint whose tensors decode to more float32 bytes than this */
  readonly maxBytes?: number;
}

/** A checkpoint that cannot be read; the message names the file (and the tensor or entry). */
export class TorchCheckpointError extends InputError {
  constructor(file: string, detail: string) {
    super([`${file}: ${detail}`], file);
    this.name = 'TorchCheckpointError';
  }
}

/** Key prefixes removed, tried in this order (the first one that matches is removed). */
export const STRIPPED_PREFIXES: readonly string[] = Object.freeze(['_orig_mod.model.inner.', 'model.inner.', '_orig_mod.']);

type StorageKind = StorageDtype | 'int64' | 'int32';
const STORAGE_CLASSES: ReadonlyMap<string, { kind: StorageKind; bytes: number }> = new Map([
  ['torch.FloatStorage', { kind: 'float32', bytes: 4 }],
  ['torch.BFloat16Storage', { kind: 'bfloat16', bytes: 2 }],
  ['torch.HalfStorage', { kind: 'float16', bytes: 2 }],
  ['torch.LongStorage', { kind: 'int64', bytes: 8 }],
  ['torch.IntStorage', { kind: 'int32', bytes: 4 }],
] as const);
const REBUILD_TENSOR = 'torch._utils._rebuild_tensor_v2';
const ALLOWED_GLOBALS: ReadonlySet<string> = new Set(['collections.OrderedDict', REBUILD_TENSOR, ...STORAGE_CLASSES.keys()]);
/** data.pkl of a state dict is kilobytes; this bounds what an archive can make us inflate for it. */
const MAX_PICKLE_BYTES = 64 << 20;
/** No tensor of any model here has more dimensions. */
const MAX_DIMS = 16;

interface StorageRef {
  readonly className: string;
  readonly kind: StorageKind;
  readonly key: string;
  readonly numel: number;
}

const isInt = (v: PyValue): v is number => typeof v === 'number' && Number.isSafeInteger(v);
const describe = (v: PyValue): string => (v === null ? 'None' : typeof v === 'object' ? v.kind : typeof v);

/** Widens IEEE half-precision bit patterns to float32 (exact). */
const halfToFloat32 = (bits: Uint16Array): Float32Array => {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i];
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    out[i] = exp === 0 ? sign * frac * 2 ** -24 : exp === 31 ? (frac === 0 ? sign * Infinity : NaN) : sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return out;
};

/**
 * Decodes a storage's raw bytes to float32. `owned` says the bytes are a fresh array nobody else
 * holds: float32 storages are then wrapped without a copy (when aligned).
 */
const storageToFloat32 = (raw: Uint8Array, kind: StorageKind, owned: boolean): Float32Array => {
  if (kind === 'float32' && owned && raw.byteOffset % 4 === 0) return new Float32Array(raw.buffer, raw.byteOffset, raw.length / 4);
  // a copy the decoded array may own (Buffer.slice would return a view, hence an explicit copy)
  const copy = (): Uint8Array => {
    const c = new Uint8Array(raw.length);
    c.set(raw);
    return c;
  };
  const aligned = raw.byteOffset % 2 === 0 ? raw : copy(); // 16-bit views need an even start
  switch (kind) {
    case 'float32':
      return new Float32Array(copy().buffer);
    case 'bfloat16':
      return bf16ToFloat32(new Uint16Array(aligned.buffer, aligned.byteOffset, aligned.length / 2));
    case 'float16':
      return halfToFloat32(new Uint16Array(aligned.buffer, aligned.byteOffset, aligned.length / 2));
    default:
      throw new Error(`unreachable storage kind ${kind}`);
  }
};

/** The entry ending in data.pkl; its folder (the archive's stem) holds the storages. */
const findPickle = (zip: ZipArchive, fail: (detail: string) => never): { pkl: string; prefix: string } => {
  const candidates = zip.entries.map((e) => e.name).filter((n) => n === 'data.pkl' || n.endsWith('/data.pkl'));
  if (candidates.length !== 1) {
    fail(
      `expected exactly one entry ending in data.pkl, found ${candidates.length === 0 ? 'none' : candidates.slice(0, 4).join(', ')} ` +
        `(entries: ${zip.entries.slice(0, 8).map((e) => e.name).join(', ')}${zip.entries.length > 8 ? ', ...' : ''})`,
    );
  }
  const pkl = candidates[0];
  return { pkl, prefix: pkl.slice(0, pkl.length - 'data.pkl'.length) };
};

/** The first matching prefix of STRIPPED_PREFIXES ('' when none). */
const prefixOf = (key: string): string => STRIPPED_PREFIXES.find((p) => key.startsWith(p)) ?? '';

/** Removes the first matching prefix of STRIPPED_PREFIXES from a state-dict key. */
export const stripKeyPrefix = (key: string): string => key.slice(prefixOf(key).length);

/** A tensor as the pickle describes it, checked against its storage (nothing read yet). */
interface TensorSpec {
  readonly rawKey: string;
  readonly key: string;
  readonly ref: StorageRef;
  readonly offset: number;
  readonly shape: number[];
  readonly stride: number[];
  readonly numel: number;
  readonly contiguous: boolean;
}

/**
 * Gathers a tensor [size] from a flat storage with an element offset and strides (row-major
 * output; bounds were checked by `specOf`). A contiguous tensor is one copy, or none when it alone
 * covers the whole storage.
 */
const materialize = (storage: Float32Array, s: TensorSpec, soleUser: boolean): Float32Array => {
  if (s.numel === 0) return new Float32Array(0);
  if (s.contiguous) return soleUser && s.offset === 0 && s.numel === storage.length ? storage : storage.slice(s.offset, s.offset + s.numel);
  const out = new Float32Array(s.numel);
  const idx = new Array<number>(s.shape.length).fill(0);
  for (let i = 0; i < s.numel; i++) {
    let src = s.offset;
    for (let d = 0; d < s.shape.length; d++) src += idx[d] * s.stride[d];
    out[i] = storage[src];
    for (let d = s.shape.length - 1; d >= 0; d--) {
      if (++idx[d] < s.shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
};

/**
 * Reads a PyTorch zip checkpoint holding a state dict of floating tensors, from memory or a
 * ByteSource (file-source.ts reads entry by entry). Returns the tensors under their stripped
 * keys, in the file's order, each as its own row-major float32 array. Memory: the decoded tensors
 * plus one storage at a time (nothing when a tensor takes its storage whole). Errors name the file
 * and, where it applies, the key.
 */
export const readTorchStateDict = (input: Uint8Array | ByteSource, fileName: string, options: TorchReadOptions = {}): TorchStateDict => {
  const fail = (detail: string): never => {
    throw new TorchCheckpointError(fileName, detail);
  };
  const zip = readZip(input, fileName);
  const { pkl, prefix } = findPickle(zip, fail);
  // Newer torch versions record the storages' byte order; only little-endian is read.
  if (zip.entry(`${prefix}byteorder`) !== undefined) {
    const order = new TextDecoder().decode(zip.read(`${prefix}byteorder`, { maxBytes: 16 })).trim();
    if (order !== 'little') fail(`${prefix}byteorder says '${order}', expected 'little'`);
  }
  const root = unpickle(zip.read(pkl, { maxBytes: MAX_PICKLE_BYTES }), {
    fileName: `${fileName}: ${pkl}`,
    allowedGlobals: ALLOWED_GLOBALS,
    persistentLoad: (pid) => parseStorageId(pid, fail),
  });
  if (root === null || typeof root !== 'object' || root.kind !== 'dict') {
    return fail(`the checkpoint pickle holds a ${describe(root)}, expected a state dict (OrderedDict)`);
  }
  // 1. every tensor checked against its storage and every storage against its entry; nothing read yet
  const specs: TensorSpec[] = [];
  const storages = new Map<string, { ref: StorageRef; users: number; entry: string }>();
  const seen = new Map<string, string>();
  let prefixSeen: string | undefined;
  let totalBytes = 0;
  for (const [rawKey, value] of root.entries) {
    if (typeof rawKey !== 'string') fail(`state-dict key ${String(rawKey)} is not a string`);
    const key = rawKey as string;
    const spec = specOf(key, value, (detail) => fail(`tensor '${key}': ${detail}`));
    const collides = seen.get(spec.key);
    if (collides !== undefined) fail(`tensor '${key}': after prefix stripping it collides with '${collides}' (both become '${spec.key}')`);
    seen.set(spec.key, key);
    const p = prefixOf(key);
    if (prefixSeen === undefined) prefixSeen = p;
    const known = storages.get(spec.ref.key);
    if (known !== undefined) {
      if (known.ref.className !== spec.ref.className || known.ref.numel !== spec.ref.numel) {
        fail(`tensor '${key}': storage '${spec.ref.key}' is ${spec.ref.className} × ${spec.ref.numel} here but ${known.ref.className} × ${known.ref.numel} for an earlier tensor`);
      }
      known.users += 1;
    } else {
      const entryName = `${prefix}data/${spec.ref.key}`;
      const entry = zip.entry(entryName);
      if (entry === undefined) fail(`tensor '${key}': no zip entry '${entryName}' for its storage`);
      const bytesPer = STORAGE_CLASSES.get(spec.ref.className)!.bytes;
      if (entry!.size !== spec.ref.numel * bytesPer) {
        fail(`tensor '${key}': storage '${entryName}' has ${entry!.size} bytes, expected ${spec.ref.numel} × ${bytesPer} = ${spec.ref.numel * bytesPer} (${spec.ref.className})`);
      }
      storages.set(spec.ref.key, { ref: spec.ref, users: 1, entry: entryName });
    }
    totalBytes += spec.numel * 4;
    specs.push(spec);
  }
  if (options.maxBytes !== undefined && totalBytes > options.maxBytes) {
    fail(`its tensors decode to ${totalBytes} float32 bytes, more than the ${options.maxBytes}-byte limit`);
  }
  // 2. storages read once each, in first-use order, and dropped after their last tensor
  const decoded = new Map<string, Float32Array>();
  const remaining = new Map([...storages].map(([k, s]) => [k, s.users]));
  const tensors = new Map<string, CheckpointTensor>();
  for (const s of specs) {
    const info = storages.get(s.ref.key)!;
    let storage = decoded.get(s.ref.key);
    if (storage === undefined) {
      const entry = zip.entry(info.entry)!;
      const raw = zip.read(entry);
      storage = storageToFloat32(raw, s.ref.kind, zip.freshReads || entry.method !== 0);
      decoded.set(s.ref.key, storage);
    }
    const left = remaining.get(s.ref.key)! - 1;
    remaining.set(s.ref.key, left);
    if (left === 0) decoded.delete(s.ref.key);
    const data = materialize(storage, s, info.users === 1);
    tensors.set(s.key, Object.freeze({ shape: Object.freeze(s.shape), data, stored: s.ref.kind as StorageDtype }));
  }
  return { tensors, prefix: prefixSeen ?? '' };
};

/** Parses a persistent id `('storage', StorageClass, key, location, numel)`. */
const parseStorageId = (pid: PyValue, fail: (detail: string) => never): StorageRef => {
  const bad = (what: string): never => fail(`persistent id ${what} (expected ('storage', torch.<Type>Storage, key, location, numel))`);
  if (pid === null || typeof pid !== 'object' || pid.kind !== 'tuple') return bad(`is a ${describe(pid)}`);
  const [tag, cls, key, location, numel] = pid.items;
  if (pid.items.length !== 5 || tag !== 'storage') return bad(`has ${pid.items.length} items, first ${typeof tag === 'string' ? JSON.stringify(tag.slice(0, 40)) : describe(tag)}`);
  if (cls === null || typeof cls !== 'object' || cls.kind !== 'global' || !STORAGE_CLASSES.has(cls.name)) return bad('names no known storage class');
  if (typeof key !== 'string' || typeof location !== 'string') return bad('has a non-string key or location');
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(key)) return bad(`has the storage key ${JSON.stringify(key.slice(0, 40))}`);
  if (!isInt(numel) || numel < 0) return bad(`has numel ${String(numel)}`);
  return { className: cls.name, kind: STORAGE_CLASSES.get(cls.name)!.kind, key, numel };
};

const intTuple = (v: PyValue, what: string, fail: (detail: string) => never): number[] => {
  if (v === null || typeof v !== 'object' || v.kind !== 'tuple') return fail(`${what} must be a tuple of non-negative integers, got ${describe(v)}`);
  if (v.items.length > MAX_DIMS) fail(`${what} has ${v.items.length} dimensions, more than ${MAX_DIMS}`);
  if (!v.items.every((x) => isInt(x) && x >= 0)) fail(`${what} must be a tuple of non-negative integers`);
  return v.items as number[];
};

/**
 * Checks one `_rebuild_tensor_v2(...)` call and its layout against its storage, without reading
 * it: a floating storage, offset + the largest index reached < the storage's element count, and
 * no more elements than the storage holds (a state dict stores no expanded views; this bounds
 * what materializing can allocate by the storage's declared size).
 */
const specOf = (rawKey: string, value: PyValue, fail: (detail: string) => never): TensorSpec => {
  if (value === null || typeof value !== 'object' || value.kind !== 'call' || value.callee !== REBUILD_TENSOR) {
    return fail(`expected ${REBUILD_TENSOR}(...), got ${value !== null && typeof value === 'object' && value.kind === 'call' ? value.callee : describe(value)}`);
  }
  if (value.args.length < 6 || value.args.length > 7) fail(`${REBUILD_TENSOR} has ${value.args.length} arguments, expected 6 or 7`);
  const [storage, offset, size, stride] = value.args;
  if (storage === null || typeof storage !== 'object' || storage.kind !== 'external') {
    return fail(`the storage argument is a ${describe(storage)}, expected a persistent storage id`);
  }
  const ref = storage.value as StorageRef;
  if (ref.kind === 'int64' || ref.kind === 'int32') fail(`has an integer storage (${ref.className}); only floating tensors (Float, BFloat16, Half) are loaded`);
  if (!isInt(offset) || offset < 0) return fail(`storage offset must be a non-negative integer, got ${String(offset)}`);
  const shape = intTuple(size, 'size', fail);
  const strides = intTuple(stride, 'stride', fail);
  if (strides.length !== shape.length) fail(`size has ${shape.length} dims but stride has ${strides.length}`);
  let numel = 1;
  let last = offset; // the largest element index touched
  for (let d = 0; d < shape.length; d++) {
    numel *= shape[d];
    if (shape[d] > 0) last += (shape[d] - 1) * strides[d];
  }
  const where = `offset ${offset}, size [${shape.join(', ')}] and stride [${strides.join(', ')}]`;
  if (numel > 0 && last >= ref.numel) fail(`${where} reach element ${last}, but the storage has ${ref.numel}`);
  if (numel > ref.numel) fail(`${where} give ${numel} elements, more than the ${ref.numel} its storage holds (overlapping views are not loaded)`);
  let contiguous = true;
  for (let d = shape.length - 1, expect = 1; d >= 0; d--) {
    if (shape[d] !== 1 && strides[d] !== expect) contiguous = false;
    expect *= shape[d];
  }
  return { rawKey, key: stripKeyPrefix(rawKey), ref, offset, shape, stride: strides, numel, contiguous };
};

/** Reads a PyTorch checkpoint's tensors (see readTorchStateDict), as a map. */
export const readTorchCheckpoint = (input: Uint8Array | ByteSource, fileName: string, options: TorchReadOptions = {}): Map<string, CheckpointTensor> =>
  readTorchStateDict(input, fileName, options).tensors;


// ---------------------------------------------------------------------------------------------
// Writer

/** One tensor to write: its key as saved, its shape and its values (row-major). */
export interface TensorToWrite {
  readonly key: string;
  readonly shape: readonly number[];
  readonly data: Float32Array | Float64Array;
  readonly dtype: 'float32' | 'bfloat16';
}

export interface TorchWriteOptions {
  /** the archive's folder name (torch.save uses the file's name without extension) */
  readonly stem: string;
  /**
   * the module paths of `_metadata` (per-module version 1), in module order; default: every
   * dotted prefix of the keys, in first-appearance order
   */
  readonly modules?: readonly string[];
}

/** Every module path a list of state-dict keys implies ('' first), in first-appearance order. */
export const modulesOfKeys = (keys: readonly string[]): string[] => {
  const out = [''];
  const seen = new Set(out);
  for (const k of keys) {
    const parts = k.split('.');
    for (let i = 1; i < parts.length; i++) {
      const m = parts.slice(0, i).join('.');
      if (!seen.has(m)) {
        seen.add(m);
        out.push(m);
      }
    }
  }
  return out;
};

/** data.pkl of a state dict as torch.save pickles it (protocol 2; storage keys '0', '1', … in order). */
export const stateDictPickle = (tensors: ReadonlyArray<Omit<TensorToWrite, 'data'>>, modules: readonly string[]): Uint8Array => {
  const p = new PickleWriter();
  const orderedDict = (): void => {
    p.global('collections', 'OrderedDict').tuple(0, () => undefined).reduce();
  };
  orderedDict();
  p.setItems(tensors.length, (i) => {
    const t = tensors[i];
    const numel = t.shape.reduce((a, b) => a * b, 1);
    p.str(t.key).global('torch._utils', '_rebuild_tensor_v2');
    p.tuple(6, () => {
      p.tuple(5, () => {
        p.str('storage', true).global('torch', t.dtype === 'bfloat16' ? 'BFloat16Storage' : 'FloatStorage').str(String(i)).str('cpu', true).int(numel);
      });
      p.persistentId();
      p.int(0);
      p.tuple(t.shape.length, () => t.shape.forEach((d) => p.int(d)));
      const strides = t.shape.map((_, d) => t.shape.slice(d + 1).reduce((a, b) => a * b, 1));
      p.tuple(strides.length, () => strides.forEach((s) => p.int(s)));
      p.bool(false);
      orderedDict();
    });
    p.reduce();
  });
  // state: {'_metadata': OrderedDict(module → {'version': 1})}, attached by BUILD
  p.emptyDict().setItems(1, () => {
    p.str('_metadata');
    orderedDict();
    p.setItems(modules.length, (i) => {
      p.str(modules[i]).emptyDict().setItems(1, () => p.str('version', true).int(1));
    });
  });
  return p.build().finish();
};

/** Chunks of a tensor's storage bytes (float32 or bfloat16, little-endian), 1 Mi elements at a time. */
function* storageChunks(t: TensorToWrite): Generator<Uint8Array> {
  const CHUNK = 1 << 20;
  for (let at = 0; at < t.data.length; at += CHUNK) {
    const n = Math.min(CHUNK, t.data.length - at);
    const f32 = t.data instanceof Float32Array && t.dtype === 'float32' ? t.data.subarray(at, at + n) : Float32Array.from(t.data.subarray(at, at + n));
    if (t.dtype === 'float32') {
      yield new Uint8Array(f32.buffer, f32.byteOffset, f32.byteLength);
    } else {
      yield new Uint8Array(float32ToBf16(f32).buffer);
    }
  }
}

/**
 * Writes a state dict to `sink` as torch.save does: `<stem>/data.pkl`, `<stem>/data/<i>` (one
 * storage per tensor, streamed in chunks), `<stem>/version`; entries 64-byte aligned with data
 * descriptors, zip64 end records. Storage entries come in torch's order (keys sorted as strings).
 */
export const writeTorchCheckpoint = (sink: ByteSink, tensors: readonly TensorToWrite[], options: TorchWriteOptions): void => {
  for (const t of tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new Error(`torch checkpoint writer: tensor '${t.key}' has ${t.data.length} values for shape [${t.shape.join(', ')}]`);
  }
  const zip = new ZipWriter(sink, { torchLayout: true });
  const { stem } = options;
  zip.addStream(`${stem}/data.pkl`, [stateDictPickle(tensors, options.modules ?? modulesOfKeys(tensors.map((t) => t.key)))]);
  const order = tensors.map((_, i) => String(i)).sort();
  for (const key of order) zip.addStream(`${stem}/data/${key}`, storageChunks(tensors[Number(key)]));
  zip.addStream(`${stem}/version`, [new TextEncoder().encode('3\n')]);
  zip.finish();
};
