// Python pickles, both ways. A restricted unpickler turns a pickle (the protocol-2 subset
// torch.save emits for state dicts, plus the framing and memo opcodes of protocols 4–5) into plain
// data. It never executes anything: GLOBAL only names a whitelisted class or function, REDUCE on a
// whitelisted function yields a `call` record for the caller to interpret, and persistent ids are
// handed to a caller-supplied loader. Any other global or any opcode outside the supported set is
// an error naming it and its byte offset. Its twin, PickleWriter, emits protocol 2 the way
// CPython's pickler does (same opcodes, same memo numbering), so what it writes for a state dict
// is byte-for-byte what torch.save writes. Time and memory are linear in the pickle's size.
// Not here: what the torch calls mean (src/io/torch-checkpoint.ts).

import { InputError } from './codec.ts';

/** A Python value as the unpickler represents it. */
export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | PyTuple
  | PyList
  | PyDict
  | PyGlobal
  | PyCall
  | PyExternal;

export interface PyTuple {
  readonly kind: 'tuple';
  readonly items: readonly PyValue[];
}
export interface PyList {
  readonly kind: 'list';
  readonly items: PyValue[];
}
/** dict or OrderedDict (insertion order kept); keys are hashable primitives or tuples' text */
export interface PyDict {
  readonly kind: 'dict';
  readonly className: 'dict' | 'collections.OrderedDict';
  readonly entries: Map<PyKey, PyValue>;
  /** state attached by BUILD (e.g. OrderedDict._metadata), kept but not interpreted */
  readonly attributes: Map<string, PyValue>;
}
export type PyKey = null | boolean | number | bigint | string;
/** a class or function named by GLOBAL / STACK_GLOBAL, as "module.name" */
export interface PyGlobal {
  readonly kind: 'global';
  readonly name: string;
}
/** REDUCE of a whitelisted function that is not a dict constructor: interpreted by the caller */
export interface PyCall {
  readonly kind: 'call';
  readonly callee: string;
  readonly args: readonly PyValue[];
}
/** whatever the persistent loader returned for a persistent id */
export interface PyExternal {
  readonly kind: 'external';
  readonly value: unknown;
}

/** A pickle that cannot be read; the message names the file, the opcode and its byte offset. */
export class PickleError extends InputError {
  constructor(file: string, detail: string) {
    super([`${file}: ${detail}`], file);
    this.name = 'PickleError';
  }
}

/** A name from the pickle for a message: quoted, control characters escaped, at most 80 characters. */
const shown = (s: string): string => `'${JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s).slice(1, -1)}'`;

export interface UnpickleOptions {
  /** names the file in errors */
  readonly fileName: string;
  /** "module.name" of every global the pickle may reference */
  readonly allowedGlobals: ReadonlySet<string>;
  /** resolves a persistent id (BINPERSID); without it a persistent id is an error */
  readonly persistentLoad?: (pid: PyValue) => unknown;
}

const DICT_CONSTRUCTORS = new Set(['collections.OrderedDict', 'builtins.dict']);

/** The opcodes understood, by byte. Anything else is refused with its byte and offset. */
const OP = {
  PROTO: 0x80,
  FRAME: 0x95,
  STOP: 0x2e, // .
  GLOBAL: 0x63, // c
  STACK_GLOBAL: 0x93,
  BINPERSID: 0x51, // Q
  REDUCE: 0x52, // R
  BUILD: 0x62, // b
  MARK: 0x28, // (
  TUPLE: 0x74, // t
  TUPLE1: 0x85,
  TUPLE2: 0x86,
  TUPLE3: 0x87,
  EMPTY_TUPLE: 0x29, // )
  EMPTY_DICT: 0x7d, // }
  SETITEM: 0x73, // s
  SETITEMS: 0x75, // u
  EMPTY_LIST: 0x5d, // ]
  APPEND: 0x61, // a
  APPENDS: 0x65, // e
  BINPUT: 0x71, // q
  LONG_BINPUT: 0x72, // r
  MEMOIZE: 0x94,
  BINGET: 0x68, // h
  LONG_BINGET: 0x6a, // j
  BININT: 0x4a, // J
  BININT1: 0x4b, // K
  BININT2: 0x4d, // M
  LONG1: 0x8a,
  BINFLOAT: 0x47, // G
  BINUNICODE: 0x58, // X
  SHORT_BINUNICODE: 0x8c,
  NEWTRUE: 0x88,
  NEWFALSE: 0x89,
  NONE: 0x4e, // N
} as const;

const OP_NAMES = new Map<number, string>(Object.entries(OP).map(([k, v]) => [v, k]));
/** Names of the pickle opcodes that are refused, so that errors can name them. */
const REFUSED_NAMES = new Map<number, string>([
  [0x49, 'INT'], [0x4c, 'LONG'], [0x53, 'STRING'], [0x54, 'BINSTRING'], [0x55, 'SHORT_BINSTRING'],
  [0x56, 'UNICODE'], [0x30, 'POP'], [0x31, 'POP_MARK'], [0x32, 'DUP'], [0x46, 'FLOAT'],
  [0x50, 'PERSID'], [0x64, 'DICT'], [0x6c, 'LIST'], [0x69, 'INST'], [0x6f, 'OBJ'], [0x70, 'PUT'],
  [0x67, 'GET'], [0x81, 'NEWOBJ'], [0x82, 'EXT1'], [0x83, 'EXT2'], [0x84, 'EXT4'], [0x8b, 'LONG4'],
  [0x42, 'BINBYTES'], [0x43, 'SHORT_BINBYTES'], [0x8d, 'BINUNICODE8'], [0x8e, 'BINBYTES8'],
  [0x8f, 'EMPTY_SET'], [0x90, 'ADDITEMS'], [0x91, 'FROZENSET'], [0x92, 'NEWOBJ_EX'],
  [0x96, 'BYTEARRAY8'], [0x97, 'NEXT_BUFFER'], [0x98, 'READONLY_BUFFER'],
]);

const MARK = Symbol('mark');
type StackItem = PyValue | typeof MARK;

const isKey = (v: PyValue): v is PyKey => v === null || typeof v !== 'object';

/** Converts a little-endian two's-complement integer (LONG1) to a number if safe, else a bigint. */
const littleEndianSigned = (b: Uint8Array): number | bigint => {
  if (b.length === 0) return 0;
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
  if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
};

/** Unpickles `bytes`; returns the value STOP leaves on the stack. */
export const unpickle = (bytes: Uint8Array, options: UnpickleOptions): PyValue => {
  const { fileName, allowedGlobals } = options;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const stack: StackItem[] = [];
  const memo = new Map<number, PyValue>();
  let pos = 0;
  let opStart = 0;

  const fail = (what: string): never => {
    const op = bytes[opStart];
    const hexByte = `0x${(op ?? 0).toString(16).padStart(2, '0')}`;
    const name = OP_NAMES.get(op) ?? (REFUSED_NAMES.has(op) ? `${REFUSED_NAMES.get(op)} (${hexByte})` : hexByte);
    throw new PickleError(fileName, `pickle opcode ${name} at byte ${opStart}: ${what}`);
  };
  const need = (n: number): number => {
    if (pos + n > bytes.length) fail(`truncated pickle (needs ${n} more bytes, ${bytes.length - pos} left)`);
    const at = pos;
    pos += n;
    return at;
  };
  const pop = (): PyValue => {
    const v = stack.pop();
    if (v === undefined) return fail('stack underflow');
    if (v === MARK) return fail('unexpected MARK on the stack');
    return v;
  };
  const top = (): PyValue => {
    const v = stack[stack.length - 1];
    if (v === undefined || v === MARK) return fail('expected a value on the stack');
    return v;
  };
  /** pops everything above the topmost MARK, and the MARK */
  const popMark = (): PyValue[] => {
    const i = stack.lastIndexOf(MARK);
    if (i < 0) fail('no MARK on the stack');
    const items = stack.splice(i).slice(1) as PyValue[];
    return items;
  };
  const global = (module: string, name: string): PyGlobal => {
    const full = `${module}.${name}`;
    if (!allowedGlobals.has(full)) fail(`global ${shown(full)} is not allowed (allowed: ${[...allowedGlobals].join(', ')})`);
    return { kind: 'global', name: full };
  };
  const readLine = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail('truncated pickle (unterminated line)');
    const s = new TextDecoder('latin1').decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const text = (n: number): string => {
    const at = need(n);
    try {
      return utf8.decode(bytes.subarray(at, at + n));
    } catch {
      return fail('string is not valid UTF-8');
    }
  };
  const setItems = (dict: PyValue, kv: PyValue[]): void => {
    if (dict === null || typeof dict !== 'object' || dict.kind !== 'dict') return fail('target is not a dict');
    if (kv.length % 2 !== 0) fail('odd number of items for a dict');
    for (let i = 0; i < kv.length; i += 2) {
      const k = kv[i];
      if (!isKey(k)) return fail(`unsupported dict key of kind '${(k as { kind: string }).kind}'`);
      dict.entries.set(k, kv[i + 1]);
    }
  };
  const append = (list: PyValue, items: PyValue[]): void => {
    if (list === null || typeof list !== 'object' || list.kind !== 'list') return fail('target is not a list');
    for (const x of items) list.items.push(x); // no spread: a long APPENDS would overflow the call stack
  };

  for (;;) {
    opStart = pos;
    if (pos >= bytes.length) fail('truncated pickle (no STOP)');
    const op = bytes[pos++];
    switch (op) {
      case OP.PROTO: {
        const v = bytes[need(1)];
        if (v < 2 || v > 5) fail(`protocol ${v} is not supported (expected 2 to 5)`);
        break;
      }
      case OP.FRAME:
        need(8); // frame length: frames are only a buffering hint
        break;
      case OP.STOP: {
        const v = pop();
        return v;
      }
      case OP.GLOBAL: {
        const module = readLine();
        const name = readLine();
        stack.push(global(module, name));
        break;
      }
      case OP.STACK_GLOBAL: {
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('module and name must be strings');
        stack.push(global(module as string, name as string));
        break;
      }
      case OP.BINPERSID: {
        const pid = pop();
        if (options.persistentLoad === undefined) fail('persistent ids are not supported here');
        stack.push({ kind: 'external', value: options.persistentLoad!(pid) });
        break;
      }
      case OP.REDUCE: {
        const args = pop();
        const callee = pop();
        if (callee === null || typeof callee !== 'object' || callee.kind !== 'global') return fail('callee is not a global');
        if (args === null || typeof args !== 'object' || args.kind !== 'tuple') return fail('arguments are not a tuple');
        if (DICT_CONSTRUCTORS.has(callee.name)) {
          if (args.items.length !== 0) fail(`${callee.name} with arguments is not supported`);
          stack.push({
            kind: 'dict',
            className: callee.name === 'builtins.dict' ? 'dict' : 'collections.OrderedDict',
            entries: new Map(),
            attributes: new Map(),
          });
        } else {
          stack.push({ kind: 'call', callee: callee.name, args: args.items });
        }
        break;
      }
      case OP.BUILD: {
        const state = pop();
        const target = top();
        if (target === null || typeof target !== 'object' || target.kind !== 'dict') return fail('BUILD is only supported on dicts');
        if (state === null || typeof state !== 'object' || state.kind !== 'dict') return fail('BUILD state is not a dict');
        for (const [k, v] of state.entries) {
          if (typeof k !== 'string') return fail('BUILD attribute names must be strings');
          target.attributes.set(k, v);
        }
        break;
      }
      case OP.MARK:
        stack.push(MARK);
        break;
      case OP.TUPLE:
        stack.push({ kind: 'tuple', items: popMark() });
        break;
      case OP.TUPLE1: {
        const a = pop();
        stack.push({ kind: 'tuple', items: [a] });
        break;
      }
      case OP.TUPLE2: {
        const b = pop();
        const a = pop();
        stack.push({ kind: 'tuple', items: [a, b] });
        break;
      }
      case OP.TUPLE3: {
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push({ kind: 'tuple', items: [a, b, c] });
        break;
      }
      case OP.EMPTY_TUPLE:
        stack.push({ kind: 'tuple', items: [] });
        break;
      case OP.EMPTY_DICT:
        stack.push({ kind: 'dict', className: 'dict', entries: new Map(), attributes: new Map() });
        break;
      case OP.SETITEM: {
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case OP.SETITEMS: {
        const kv = popMark();
        setItems(top(), kv);
        break;
      }
      case OP.EMPTY_LIST:
        stack.push({ kind: 'list', items: [] });
        break;
      case OP.APPEND: {
        const v = pop();
        append(top(), [v]);
        break;
      }
      case OP.APPENDS: {
        const items = popMark();
        append(top(), items);
        break;
      }
      case OP.BINPUT:
        memo.set(bytes[need(1)], top());
        break;
      case OP.LONG_BINPUT:
        memo.set(view.getUint32(need(4), true), top());
        break;
      case OP.MEMOIZE:
        memo.set(memo.size, top());
        break;
      case OP.BINGET:
      case OP.LONG_BINGET: {
        const key = op === OP.BINGET ? bytes[need(1)] : view.getUint32(need(4), true);
        if (!memo.has(key)) fail(`memo key ${key} was never stored`);
        stack.push(memo.get(key)!);
        break;
      }
      case OP.BININT:
        stack.push(view.getInt32(need(4), true));
        break;
      case OP.BININT1:
        stack.push(bytes[need(1)]);
        break;
      case OP.BININT2:
        stack.push(view.getUint16(need(2), true));
        break;
      case OP.LONG1: {
        const n = bytes[need(1)];
        const at = need(n);
        stack.push(littleEndianSigned(bytes.subarray(at, at + n)));
        break;
      }
      case OP.BINFLOAT:
        stack.push(view.getFloat64(need(8), false)); // big-endian
        break;
      case OP.BINUNICODE:
        stack.push(text(view.getUint32(need(4), true)));
        break;
      case OP.SHORT_BINUNICODE:
        stack.push(text(bytes[need(1)]));
        break;
      case OP.NEWTRUE:
        stack.push(true);
        break;
      case OP.NEWFALSE:
        stack.push(false);
        break;
      case OP.NONE:
        stack.push(null);
        break;
      default:
        fail(`unsupported opcode (supported: ${[...OP_NAMES.values()].join(', ')})`);
    }
  }
};

// ---------------------------------------------------------------------------------------------
// Writer

/**
 * Emits a protocol-2 pickle opcode by opcode, the way CPython's pickler does: every string,
 * global, non-empty tuple and reduced object is memoized (BINPUT, LONG_BINPUT past 255) at the
 * point CPython memoizes it, and a value stored under a `share` key is written again as a memo
 * GET, as CPython does for an object it has already seen. The caller drives the structure.
 */
export class PickleWriter {
  private readonly chunks: number[] = [0x80, 2];
  private memoSize = 0;
  private readonly shared = new Map<string, number>();

  private op(...bytes: number[]): this {
    for (const b of bytes) this.chunks.push(b);
    return this;
  }
  private u32(n: number): number[] {
    return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
  }
  /** Memoizes the value on top of the stack; returns its memo slot. */
  put(): number {
    const slot = this.memoSize++;
    if (slot < 256) this.op(OP.BINPUT, slot);
    else this.op(OP.LONG_BINPUT, ...this.u32(slot));
    return slot;
  }
  /** Pushes memo slot `slot` again (BINGET, LONG_BINGET past 255). */
  get(slot: number): this {
    return slot < 256 ? this.op(OP.BINGET, slot) : this.op(OP.LONG_BINGET, ...this.u32(slot));
  }
  /** Writes a shared value: a GET when `key` was written before, else `write()` then a memo PUT. */
  private sharedValue(key: string, write: () => void): this {
    const slot = this.shared.get(key);
    if (slot !== undefined) return this.get(slot);
    write();
    this.shared.set(key, this.put());
    return this;
  }
  /** GLOBAL 'module name' (memoized; written once per class as CPython does). */
  global(module: string, name: string): this {
    return this.sharedValue(`global:${module}.${name}`, () => this.op(OP.GLOBAL, ...new TextEncoder().encode(`${module}\n${name}\n`)));
  }
  /** A str (BINUNICODE, memoized). With `share`, every later call with the same text is a GET. */
  str(s: string, share = false): this {
    const write = (): void => {
      const b = new TextEncoder().encode(s);
      this.op(OP.BINUNICODE, ...this.u32(b.length));
      for (const x of b) this.chunks.push(x);
    };
    if (share) return this.sharedValue(`str:${s}`, write);
    write();
    this.put();
    return this;
  }
  /** An int as CPython writes it: BININT1, BININT2, BININT or LONG1. */
  int(n: number | bigint): this {
    if (typeof n === 'number' && !Number.isSafeInteger(n)) throw new Error(`pickle writer: ${n} is not an integer`);
    const v = BigInt(n);
    if (v >= 0n && v <= 0xffn) return this.op(OP.BININT1, Number(v));
    if (v >= 0n && v <= 0xffffn) return this.op(OP.BININT2, Number(v) & 0xff, Number(v) >> 8);
    if (v >= -(2n ** 31n) && v < 2n ** 31n) return this.op(OP.BININT, ...this.u32(Number(BigInt.asUintN(32, v))));
    const bytes: number[] = [];
    let x = v;
    do {
      bytes.push(Number(BigInt.asUintN(8, x)));
      x >>= 8n;
    } while (!((x === 0n && (bytes[bytes.length - 1] & 0x80) === 0) || (x === -1n && (bytes[bytes.length - 1] & 0x80) !== 0)));
    return this.op(OP.LONG1, bytes.length, ...bytes);
  }
  bool(b: boolean): this {
    return this.op(b ? OP.NEWTRUE : OP.NEWFALSE);
  }
  none(): this {
    return this.op(OP.NONE);
  }
  /** A tuple of the values `items` writes: EMPTY_TUPLE, TUPLE1–3 or MARK … TUPLE, memoized unless empty. */
  tuple(n: number, items: () => void): this {
    if (n === 0) return this.op(OP.EMPTY_TUPLE);
    if (n > 3) this.op(OP.MARK);
    items();
    this.op(n === 1 ? OP.TUPLE1 : n === 2 ? OP.TUPLE2 : n === 3 ? OP.TUPLE3 : OP.TUPLE);
    this.put();
    return this;
  }
  /** callable(*args) for a callable and args already written: REDUCE, memoized. */
  reduce(): this {
    this.op(OP.REDUCE);
    this.put();
    return this;
  }
  /** A persistent id: the id value already written, then BINPERSID. */
  persistentId(): this {
    return this.op(OP.BINPERSID);
  }
  /** An empty dict, memoized. */
  emptyDict(): this {
    this.op(OP.EMPTY_DICT);
    this.put();
    return this;
  }
  /**
   * Sets `n` items on the dict on top of the stack, each written by `item(i)` (key then value),
   * batched as CPython does: SETITEM for a batch of one, MARK … SETITEMS for up to 1000.
   */
  setItems(n: number, item: (i: number) => void): this {
    for (let start = 0; start < n; start += 1000) {
      const end = Math.min(n, start + 1000);
      if (end - start === 1) {
        item(start);
        this.op(OP.SETITEM);
      } else {
        this.op(OP.MARK);
        for (let i = start; i < end; i++) item(i);
        this.op(OP.SETITEMS);
      }
    }
    return this;
  }
  /** obj.__setstate__(state) for an object under a state already written: BUILD. */
  build(): this {
    return this.op(OP.BUILD);
  }
  /** The pickle so far, closed with STOP. */
  finish(): Uint8Array {
    return Uint8Array.from([...this.chunks, OP.STOP]);
  }
}
