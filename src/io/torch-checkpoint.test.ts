// Tests of the PyTorch checkpoint reader: the official checkpoints equal weights.safetensors
// exactly; synthetic checkpoints written here (zip writer + a pickle built opcode by opcode) cover
// what GPU training writes (`_orig_mod.model.inner.` keys, BFloat16Storage, cuda:0, any stem),
// shared storages, offsets, non-contiguous strides; broken files fail with clear messages.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { modulesOfKeys, readTorchCheckpoint, readTorchStateDict, stripKeyPrefix, writeTorchCheckpoint, type TensorToWrite } from './torch-checkpoint.ts';
import { withFileSource } from './file-source.ts';
import { layoutModules } from '../model/layout.ts';
import { configFromFixture } from '../model/config.ts';
import { readSafetensors } from './safetensors.ts';
import { memorySink, readZip, writeZip } from './zip.ts';

const RUNS = Number(process.env.HRM_PROP_RUNS ?? 100);
const FIXTURES = fileURLToPath(new URL('../../fixtures/official-parity/', import.meta.url));

/** Emits pickle opcodes (protocol 2), the way torch.save lays out a state dict. */
class PickleBuilder {
  private readonly bytes: number[] = [0x80, 2];
  private memo = 0;
  op(...b: number[]): this {
    this.bytes.push(...b);
    return this;
  }
  global(module: string, name: string): this {
    return this.op(0x63, ...Buffer.from(`${module}\n${name}\n`, 'latin1'));
  }
  str(s: string): this {
    const b = Buffer.from(s, 'utf8');
    return this.op(0x58, b.length & 0xff, (b.length >> 8) & 0xff, (b.length >> 16) & 0xff, b.length >>> 24, ...b);
  }
  int(n: number): this {
    if (n < 256) return this.op(0x4b, n);
    if (n < 65536) return this.op(0x4d, n & 0xff, n >> 8);
    const b = Buffer.alloc(4);
    b.writeInt32LE(n);
    return this.op(0x4a, ...b);
  }
  /** memoizes the top of the stack (BINPUT, or LONG_BINPUT past 255) and returns its slot */
  put(): number {
    const slot = this.memo++;
    if (slot < 256) this.op(0x71, slot);
    else this.op(0x72, slot & 0xff, (slot >> 8) & 0xff, 0, 0);
    return slot;
  }
  get(slot: number): this {
    return slot < 256 ? this.op(0x68, slot) : this.op(0x6a, slot & 0xff, (slot >> 8) & 0xff, 0, 0);
  }
  mark(): this {
    return this.op(0x28);
  }
  finish(): Uint8Array {
    return new Uint8Array([...this.bytes, 0x2e]);
  }
}

interface SynthTensor {
  key: string;
  storageClass: string;
  storageKey: string;
  storageNumel: number;
  offset: number;
  size: number[];
  stride: number[];
}

/** A state-dict pickle: OrderedDict of _rebuild_tensor_v2(persistent storage, offset, size, stride, False, OrderedDict()). */
const stateDictPickle = (tensors: SynthTensor[], location = 'cuda:0'): Uint8Array => {
  const p = new PickleBuilder();
  p.global('collections', 'OrderedDict');
  const od = p.put();
  p.op(0x29, 0x52); // EMPTY_TUPLE, REDUCE
  p.put();
  p.mark();
  let rebuild = -1;
  for (const t of tensors) {
    p.str(t.key);
    if (rebuild < 0) {
      p.global('torch._utils', '_rebuild_tensor_v2');
      rebuild = p.put();
    } else p.get(rebuild);
    p.mark().mark().str('storage').global('torch', t.storageClass).str(t.storageKey).str(location).int(t.storageNumel).op(0x74, 0x51); // TUPLE, BINPERSID
    p.int(t.offset);
    p.mark();
    for (const d of t.size) p.int(d);
    p.op(0x74);
    p.mark();
    for (const s of t.stride) p.int(s);
    p.op(0x74);
    p.op(0x89); // NEWFALSE
    p.get(od).op(0x29, 0x52); // OrderedDict()
    p.op(0x74, 0x52); // TUPLE, REDUCE
    p.put();
    for (let i = 0; i < 200; i++) p.put(); // push the memo past 255 so LONG_BINPUT / LONG_BINGET occur
  }
  p.op(0x75); // SETITEMS
  // BUILD with a _metadata attribute, as torch.save does
  p.op(0x7d).str('_metadata').op(0x7d, 0x73, 0x62); // EMPTY_DICT, '_metadata', EMPTY_DICT, SETITEM, BUILD
  return p.finish();
};

const f32Bytes = (a: number[]): Uint8Array => new Uint8Array(new Float32Array(a).buffer);
/** bf16 bytes of values that are exactly representable in bf16 (upper halves of their f32). */
const bf16Bytes = (a: number[]): Uint8Array => {
  const u32 = new Uint32Array(new Float32Array(a).buffer);
  return new Uint8Array(Uint16Array.from(u32, (x) => x >>> 16).buffer);
};

describe('official checkpoints', () => {
  for (const name of ['sudoku-rope', 'arc-learned']) {
    it(`${name}/checkpoint equals weights.safetensors exactly (keys, order, shapes, bits)`, () => {
      const ck = readTorchCheckpoint(readFileSync(`${FIXTURES}${name}/checkpoint`), `${name}/checkpoint`);
      const st = readSafetensors(readFileSync(`${FIXTURES}${name}/weights.safetensors`), `${name}/weights.safetensors`).tensors;
      expect([...ck.keys()]).toEqual([...st.keys()]);
      for (const [k, t] of ck) {
        const w = st.get(k)!;
        expect(t.shape, k).toEqual(w.shape);
        expect(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).equals(Buffer.from(w.data.buffer, w.data.byteOffset, w.data.byteLength)), k).toBe(true);
      }
    });
  }
});

describe('reading from disk entry by entry', () => {
  it('a file source gives the same tensors as reading the bytes, and names a truncated file', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hrm-torch-'));
    try {
      const file = `${FIXTURES}sudoku-rope/checkpoint`;
      const fromDisk = withFileSource(file, (src) => readTorchCheckpoint(src, file));
      const fromBytes = readTorchCheckpoint(readFileSync(file), file);
      expect([...fromDisk.keys()]).toEqual([...fromBytes.keys()]);
      for (const [k, t] of fromDisk) expect(t, k).toEqual(fromBytes.get(k));
      const cut = path.join(dir, 'cut');
      writeFileSync(cut, readFileSync(file).subarray(0, 5000));
      expect(() => withFileSource(cut, (src) => readTorchCheckpoint(src, cut))).toThrow(/cut: truncated zip archive/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('synthetic GPU-style checkpoint', () => {
  const hInit = [0.5, -1.25, 3, 1e-3, -0]; // bf16 of 1e-3 is inexact: compare with its bf16 value
  const weight = [1, 2, 3, 4, 5, 6]; // [2, 3]
  const tensors: SynthTensor[] = [
    { key: '_orig_mod.model.inner.H_init', storageClass: 'BFloat16Storage', storageKey: '0', storageNumel: 5, offset: 0, size: [5], stride: [1] },
    { key: '_orig_mod.model.inner.lm_head.weight', storageClass: 'FloatStorage', storageKey: '1', storageNumel: 6, offset: 0, size: [2, 3], stride: [3, 1] },
    // a view: row 1 of the same storage
    { key: '_orig_mod.model.inner.row1', storageClass: 'FloatStorage', storageKey: '1', storageNumel: 6, offset: 3, size: [3], stride: [1] },
    // a transposed view [3, 2] with strides (1, 3): must be materialized row-major
    { key: '_orig_mod.model.inner.lm_head_t', storageClass: 'FloatStorage', storageKey: '1', storageNumel: 6, offset: 0, size: [3, 2], stride: [1, 3] },
    { key: '_orig_mod.scalar', storageClass: 'HalfStorage', storageKey: '2', storageNumel: 2, offset: 1, size: [], stride: [] },
  ];
  const files = (stem: string, pickle = stateDictPickle(tensors)) => [
    { name: `${stem}/data.pkl`, data: pickle },
    { name: `${stem}/data/0`, data: bf16Bytes(hInit) },
    { name: `${stem}/data/1`, data: f32Bytes(weight) },
    { name: `${stem}/data/2`, data: new Uint8Array(new Uint16Array([0x3c00, 0xc500]).buffer) }, // half 1, -5
    { name: `${stem}/version`, data: new TextEncoder().encode('3\n') },
  ];

  it('strips the prefixes, widens bf16 and half, honors offsets and strides, ignores cuda:0, finds any stem', () => {
    const ck = readTorchCheckpoint(writeZip(files('step_1234'), { align: 64, zip64EndRecords: true }), 'step_1234');
    expect([...ck.keys()]).toEqual(['H_init', 'lm_head.weight', 'row1', 'lm_head_t', 'scalar']);
    const bf = (x: number) => new Float32Array(new Uint32Array([new Uint32Array(new Float32Array([x]).buffer)[0] & 0xffff0000]).buffer)[0];
    expect(Array.from(ck.get('H_init')!.data)).toEqual(hInit.map(bf));
    expect(Object.is(ck.get('H_init')!.data[4], -0)).toBe(true);
    expect(ck.get('H_init')!.data[3]).not.toBe(Math.fround(1e-3)); // really bf16, not f32
    expect(ck.get('H_init')!.stored).toBe('bfloat16');
    expect(ck.get('lm_head.weight')).toEqual({ shape: [2, 3], data: new Float32Array(weight), stored: 'float32' });
    expect(ck.get('row1')).toEqual({ shape: [3], data: new Float32Array([4, 5, 6]), stored: 'float32' });
    expect(ck.get('lm_head_t')).toEqual({ shape: [3, 2], data: new Float32Array([1, 4, 2, 5, 3, 6]), stored: 'float32' });
    expect(ck.get('scalar')).toEqual({ shape: [], data: new Float32Array([-5]), stored: 'float16' });
  });

  it('returned arrays are owned: they neither alias the input bytes nor each other', () => {
    const single: SynthTensor[] = [tensors[1], { ...tensors[1], key: 'copy' }, { ...tensors[0], key: 'sole', storageClass: 'FloatStorage', storageKey: '3', storageNumel: 2, size: [2] }];
    const fileList = [...files('o', stateDictPickle(single)), { name: 'o/data/3', data: f32Bytes([7, 8]) }];
    const bytes = writeZip(fileList);
    const ck = readTorchCheckpoint(bytes, 'owned');
    bytes.fill(0);
    expect(Array.from(ck.get('sole')!.data)).toEqual([7, 8]);
    ck.get('lm_head.weight')!.data[0] = 99;
    expect(ck.get('copy')!.data[0]).toBe(1);
  });

  it('reads deflated entries, a data.pkl at the archive root, and checks a byteorder entry', () => {
    const little = [...files('b'), { name: 'b/byteorder', data: new TextEncoder().encode('little') }];
    expect(readTorchCheckpoint(writeZip(little), 'little').size).toBe(5);
    const big = [...files('b'), { name: 'b/byteorder', data: new TextEncoder().encode('big') }];
    expect(() => readTorchCheckpoint(writeZip(big), 'big.ckpt')).toThrow(/big\.ckpt: b\/byteorder says 'big', expected 'little'/);
    const deflated = files('x').map((f) => ({ ...f, deflate: true }));
    expect(readTorchCheckpoint(writeZip(deflated), 'deflated').get('lm_head.weight')!.data).toEqual(new Float32Array(weight));
    const root = files('').map((f) => ({ ...f, name: f.name.replace(/^\//, '') }));
    expect(readTorchCheckpoint(writeZip(root), 'root').size).toBe(5);
  });

  it('refuses a pickle with a forbidden global, naming it', () => {
    const evil = new PickleBuilder();
    evil.global('builtins', 'eval').mark().str('1+1').op(0x74, 0x52);
    expect(() => readTorchCheckpoint(writeZip([{ name: 'c/data.pkl', data: evil.finish() }]), 'evil.ckpt')).toThrow(
      /evil\.ckpt: c\/data\.pkl: pickle opcode GLOBAL at byte 2: global 'builtins\.eval' is not allowed/,
    );
    const storage = stateDictPickle([{ ...tensors[1], storageClass: 'UntypedStorage' }]);
    expect(() => readTorchCheckpoint(writeZip(files('c', storage)), 'untyped.ckpt')).toThrow(/global 'torch\.UntypedStorage' is not allowed/);
  });

  it('refuses a truncated file and a non-zip file, naming them', () => {
    const real = readFileSync(`${FIXTURES}arc-learned/checkpoint`);
    expect(() => readTorchCheckpoint(real.subarray(0, Math.floor(real.length / 2)), 'half.ckpt')).toThrow(/half\.ckpt: truncated zip archive/);
    expect(() => readTorchCheckpoint(readFileSync(`${FIXTURES}arc-learned/weights.safetensors`), 'weights.safetensors')).toThrow(/weights\.safetensors: not a zip archive/);
  });

  it('names the tensor when a storage is too short, out of range, integer-typed or missing', () => {
    const short = files('s');
    short[2] = { ...short[2], data: f32Bytes([1, 2, 3]) };
    expect(() => readTorchCheckpoint(writeZip(short), 'short.ckpt')).toThrow(/short\.ckpt: tensor '_orig_mod\.model\.inner\.lm_head\.weight': storage 's\/data\/1' has 12 bytes, expected 6 × 4 = 24/);
    const oob = stateDictPickle([{ ...tensors[1], offset: 1 }]);
    expect(() => readTorchCheckpoint(writeZip(files('o', oob)), 'oob.ckpt')).toThrow(/oob\.ckpt: tensor '_orig_mod\.model\.inner\.lm_head\.weight': offset 1, size \[2, 3\] and stride \[3, 1\] reach element 6, but the storage has 6/);
    const long = stateDictPickle([{ ...tensors[1], storageClass: 'LongStorage', storageNumel: 3 }]);
    expect(() => readTorchCheckpoint(writeZip(files('l', long)), 'long.ckpt')).toThrow(/long\.ckpt: tensor '.*lm_head\.weight': has an integer storage \(torch\.LongStorage\)/);
    const missing = files('m').filter((f) => f.name !== 'm/data/1');
    expect(() => readTorchCheckpoint(writeZip(missing), 'missing.ckpt')).toThrow(/missing\.ckpt: tensor '.*lm_head\.weight': no zip entry 'm\/data\/1' for its storage/);
  });

  it('refuses an archive without data.pkl, or keys that collide after prefix stripping', () => {
    expect(() => readTorchCheckpoint(writeZip([{ name: 'a/other.pkl', data: new Uint8Array(1) }]), 'nopkl.ckpt')).toThrow(/nopkl\.ckpt: expected exactly one entry ending in data\.pkl, found none \(entries: a\/other\.pkl\)/);
    const twice = stateDictPickle([tensors[1], { ...tensors[1], key: 'model.inner.lm_head.weight' }]);
    expect(() => readTorchCheckpoint(writeZip(files('t', twice)), 'twice.ckpt')).toThrow(/twice\.ckpt: tensor 'model\.inner\.lm_head\.weight': after prefix stripping it collides with '_orig_mod\.model\.inner\.lm_head\.weight'/);
  });

  it('materializes any permuted-stride view with an offset exactly (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 }).chain((size) =>
          fc.tuple(fc.constant(size), fc.shuffledSubarray([...size.keys()], { minLength: size.length }), fc.integer({ min: 0, max: 5 })),
        ),
        ([size, perm, offset]) => {
          // the storage holds a contiguous tensor of shape size[perm]; the view reads it as `size`
          const n = size.reduce((a, b) => a * b, 1);
          const stored = perm.map((d) => size[d]);
          const storedStride = stored.map((_, i) => stored.slice(i + 1).reduce((a, b) => a * b, 1));
          const stride = size.map((_, d) => storedStride[perm.indexOf(d)]);
          const values = Array.from({ length: n + offset }, (_, i) => i * 0.5 - 3);
          const pkl = stateDictPickle([{ key: 'v', storageClass: 'FloatStorage', storageKey: '0', storageNumel: n + offset, offset, size, stride }]);
          const got = readTorchCheckpoint(writeZip([{ name: 'p/data.pkl', data: pkl }, { name: 'p/data/0', data: f32Bytes(values) }]), 'perm').get('v')!;
          expect(got.shape).toEqual(size);
          // row-major walk of `size`: element i has multi-index idx; source = offset + Σ idx·stride
          for (let i = 0; i < n; i++) {
            let rem = i;
            let src = offset;
            for (let d = size.length - 1; d >= 0; d--) {
              src += (rem % size[d]) * stride[d];
              rem = Math.floor(rem / size[d]);
            }
            expect(got.data[i]).toBe(values[src]);
          }
        },
      ),
      { numRuns: Math.max(10, Math.floor(RUNS / 2)) },
    );
  });

  it('strips only the first matching documented prefix', () => {
    expect(stripKeyPrefix('_orig_mod.model.inner.H_init')).toBe('H_init');
    expect(stripKeyPrefix('model.inner.H_init')).toBe('H_init');
    expect(stripKeyPrefix('_orig_mod.foo')).toBe('foo');
    expect(stripKeyPrefix('inner.H_init')).toBe('inner.H_init');
  });
});

describe('bounded before allocating', () => {
  const one = f32Bytes([1.5]);
  it('refuses a stride-0 32768×32768 view of a 1-element storage before materializing it', () => {
    const pkl = stateDictPickle([{ key: 'w', storageClass: 'FloatStorage', storageKey: '0', storageNumel: 1, offset: 0, size: [32768, 32768], stride: [0, 0] }]);
    const file = writeZip([{ name: 'z/data.pkl', data: pkl }, { name: 'z/data/0', data: one }]);
    const before = process.memoryUsage().arrayBuffers;
    expect(() => readTorchCheckpoint(file, 'stride0.ckpt')).toThrow(
      /stride0\.ckpt: tensor 'w': offset 0, size \[32768, 32768\] and stride \[0, 0\] give 1073741824 elements, more than the 1 its storage holds/,
    );
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 << 20);
  });
  it('refuses a storage whose declared element count disagrees with its entry, without reading it', () => {
    const pkl = stateDictPickle([{ key: 'w', storageClass: 'FloatStorage', storageKey: '0', storageNumel: 2 ** 31 - 1, offset: 0, size: [2 ** 20], stride: [1] }]);
    expect(() => readTorchCheckpoint(writeZip([{ name: 'z/data.pkl', data: pkl }, { name: 'z/data/0', data: one }]), 'huge.ckpt')).toThrow(
      /huge\.ckpt: tensor 'w': storage 'z\/data\/0' has 4 bytes, expected 2147483647 × 4/,
    );
  });
  it('honours a limit on the decoded size', () => {
    const pkl = stateDictPickle([{ key: 'w', storageClass: 'FloatStorage', storageKey: '0', storageNumel: 4, offset: 0, size: [4], stride: [1] }]);
    const file = writeZip([{ name: 'z/data.pkl', data: pkl }, { name: 'z/data/0', data: f32Bytes([1, 2, 3, 4]) }]);
    expect(readTorchCheckpoint(file, 'ok', { maxBytes: 16 }).get('w')!.data).toEqual(new Float32Array([1, 2, 3, 4]));
    expect(() => readTorchCheckpoint(file, 'big.ckpt', { maxBytes: 15 })).toThrow(/big\.ckpt: its tensors decode to 16 float32 bytes, more than the 15-byte limit/);
  });
});

describe('writer', () => {
  const fixtureTensors = (name: string, prefix: string): TensorToWrite[] =>
    [...readTorchCheckpoint(readFileSync(`${FIXTURES}${name}/checkpoint`), name)].map(([k, t]) => ({ key: prefix + k, shape: t.shape, data: t.data, dtype: 'float32' as const }));

  for (const name of ['sudoku-rope', 'arc-learned']) {
    it(`rewrites the torch-written ${name}/checkpoint byte for byte (zip layout, pickle opcodes and memo, storage keys)`, () => {
      // The fixtures were written by torch.save (no PyTorch is installable here; these files are the reference).
      const config = configFromFixture(JSON.parse(readFileSync(`${FIXTURES}${name}/config.json`, 'utf8')), name);
      const sink = memorySink();
      writeTorchCheckpoint(sink, fixtureTensors(name, 'model.inner.'), { stem: 'checkpoint', modules: layoutModules(config.arch, 'model.inner') });
      const ours = sink.bytes();
      const theirs = new Uint8Array(readFileSync(`${FIXTURES}${name}/checkpoint`));
      const a = readZip(ours, 'ours');
      const b = readZip(theirs, 'torch');
      expect(a.entries.map((e) => e.name)).toEqual(b.entries.map((e) => e.name));
      expect(Buffer.from(a.read('checkpoint/data.pkl')).equals(Buffer.from(b.read('checkpoint/data.pkl')))).toBe(true);
      expect(a.entries.map((e) => [e.dataOffset, e.crc32, e.size])).toEqual(b.entries.map((e) => [e.dataOffset, e.crc32, e.size]));
      expect(ours.length).toBe(theirs.length);
      expect(Buffer.from(ours).equals(Buffer.from(theirs))).toBe(true);
    });
  }

  it('round-trips any float32 or bfloat16 state dict bit-exactly, under any prefix (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            shape: fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 3 }),
            dtype: fc.constantFrom('float32' as const, 'bfloat16' as const),
            seed: fc.integer(),
          }),
          { minLength: 1, maxLength: 6 },
        ),
        fc.constantFrom('', 'model.inner.', '_orig_mod.model.inner.'),
        (specs, prefix) => {
          const tensors: TensorToWrite[] = specs.map((s, i) => {
            const n = s.shape.reduce((a, b) => a * b, 1);
            const data = Float32Array.from({ length: n }, (_, j) => Math.fround(Math.sin(s.seed + j) * 10 ** ((j % 7) - 3)));
            return { key: `${prefix}t${i}.w`, shape: s.shape, data, dtype: s.dtype };
          });
          const sink = memorySink();
          writeTorchCheckpoint(sink, tensors, { stem: 'step_7' });
          const back = readTorchStateDict(sink.bytes(), 'rt');
          expect(back.prefix).toBe(prefix);
          expect([...back.tensors.keys()]).toEqual(tensors.map((t) => t.key.slice(prefix.length)));
          for (const t of tensors) {
            const got = back.tensors.get(t.key.slice(prefix.length))!;
            expect(got.shape).toEqual(t.shape);
            expect(got.stored).toBe(t.dtype);
            const want = t.dtype === 'float32' ? t.data : new Float32Array(new Uint32Array(Array.from(new Uint32Array(new Float32Array(t.data).buffer), (b) => {
              const r = (b + 0x7fff + ((b >>> 16) & 1)) >>> 16; // round to nearest even
              return r << 16;
            })).buffer);
            expect(Buffer.from(got.data.buffer, got.data.byteOffset, got.data.byteLength).equals(Buffer.from(want.buffer, want.byteOffset, want.byteLength))).toBe(true);
          }
        },
      ),
      { numRuns: Math.max(20, Math.floor(RUNS / 2)) },
    );
  });

  it('derives the module tree from the keys when none is given', () => {
    expect(modulesOfKeys(['a.b.w', 'a.c', 'd'])).toEqual(['', 'a', 'a.b']);
  });
});
