// Mutations of valid files for the loader fuzz suite, as fast-check arbitraries: byte-level edits
// (bit flips, interesting values, insertions, deletions, truncation, duplicated spans), biased
// towards the first and last bytes where headers and directories live, and structure-aware edits
// of JSON text (a value anywhere replaced by a hostile one, keys removed, added, repeated, deep
// nesting). A mutation is a plain value so fast-check can shrink and replay it.

import fc from 'fast-check';

/** Where an edit lands: a fraction of the file, or an offset from its start or end. */
export type Position = { readonly kind: 'frac'; readonly at: number } | { readonly kind: 'head' | 'tail'; readonly at: number };

export type ByteEdit =
  | { readonly op: 'flip'; readonly pos: Position; readonly bit: number }
  | { readonly op: 'set'; readonly pos: Position; readonly bytes: readonly number[] }
  | { readonly op: 'insert'; readonly pos: Position; readonly bytes: readonly number[] }
  | { readonly op: 'delete'; readonly pos: Position; readonly length: number }
  | { readonly op: 'truncate'; readonly pos: Position }
  | { readonly op: 'repeat'; readonly pos: Position; readonly length: number; readonly times: number };

export type JsonEdit =
  | { readonly op: 'replace'; readonly node: number; readonly value: unknown }
  | { readonly op: 'remove'; readonly node: number }
  | { readonly op: 'addKey'; readonly node: number; readonly key: string; readonly value: unknown }
  | { readonly op: 'textual'; readonly text: 'dupkey' | 'deep' | 'trailing' | 'bom' | 'nul' };

const position: fc.Arbitrary<Position> = fc.oneof(
  fc.record({ kind: fc.constant('frac' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({ kind: fc.constant('head' as const), at: fc.integer({ min: 0, max: 600 }) }),
  fc.record({ kind: fc.constant('tail' as const), at: fc.integer({ min: 0, max: 200 }) }),
);

/** Little-endian bytes of values that break size and offset arithmetic. */
const interesting = (): fc.Arbitrary<number[]> =>
  fc.constantFrom(
    [0],
    [0xff],
    [0x7f],
    [0x80],
    [0xff, 0xff, 0xff, 0xff],
    [0xff, 0xff, 0xff, 0x7f],
    [0, 0, 0, 0x80],
    [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
    [0, 0, 0, 0, 0, 0, 0xf0, 0x7f], // +inf as f64
    [0, 0, 0xc0, 0x7f], // NaN as f32
    [0x2d], // '-'
    [0x39, 0x39, 0x39, 0x39, 0x39, 0x39, 0x39, 0x39, 0x39, 0x39, 0x39, 0x39], // '999999999999'
    [0x5b, 0x5b, 0x5b, 0x5b], // '[[[['
    [0x22], // '"'
  );

export const byteEdit: fc.Arbitrary<ByteEdit> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), pos: position, bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constant('set' as const), pos: position, bytes: fc.oneof(interesting(), fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 8 })) }),
  fc.record({ op: fc.constant('insert' as const), pos: position, bytes: fc.oneof(interesting(), fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 16 })) }),
  fc.record({ op: fc.constant('delete' as const), pos: position, length: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ op: fc.constant('truncate' as const), pos: position }),
  fc.record({ op: fc.constant('repeat' as const), pos: position, length: fc.integer({ min: 1, max: 64 }), times: fc.integer({ min: 1, max: 50 }) }),
);

const offsetOf = (p: Position, length: number): number => {
  if (length === 0) return 0;
  if (p.kind === 'frac') return Math.min(length - 1, Math.floor(p.at * length));
  if (p.kind === 'head') return Math.min(length - 1, p.at);
  return Math.max(0, length - 1 - p.at);
};

/** Applies byte edits in order (each to the result of the previous). */
export const applyBytes = (input: Uint8Array, edits: readonly ByteEdit[]): Uint8Array => {
  let b = input;
  for (const e of edits) {
    const at = offsetOf(e.pos, b.length);
    switch (e.op) {
      case 'flip': {
        if (b.length === 0) break;
        b = b.slice();
        b[at] ^= 1 << e.bit;
        break;
      }
      case 'set': {
        b = b.slice();
        for (let k = 0; k < e.bytes.length && at + k < b.length; k++) b[at + k] = e.bytes[k];
        break;
      }
      case 'insert': {
        const out = new Uint8Array(b.length + e.bytes.length);
        out.set(b.subarray(0, at), 0);
        out.set(e.bytes, at);
        out.set(b.subarray(at), at + e.bytes.length);
        b = out;
        break;
      }
      case 'delete': {
        const end = Math.min(b.length, at + e.length);
        const out = new Uint8Array(b.length - (end - at));
        out.set(b.subarray(0, at), 0);
        out.set(b.subarray(end), at);
        b = out;
        break;
      }
      case 'truncate':
        b = b.slice(0, at);
        break;
      case 'repeat': {
        const span = b.subarray(at, Math.min(b.length, at + e.length));
        const out = new Uint8Array(b.length + span.length * e.times);
        out.set(b.subarray(0, at + span.length), 0);
        for (let k = 0; k < e.times; k++) out.set(span, at + span.length * (k + 1));
        out.set(b.subarray(at + span.length), at + span.length * (e.times + 1));
        b = out;
        break;
      }
    }
  }
  return b;
};

/** Values that are valid JSON but wrong in type, sign, size or meaning somewhere. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(-1, 0, 1, 2, -1000, 0.5, -0.5, 1e308, -1e308, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 53 + 2, 5_000_000, 255, 256, 65536, null, true, false, '', '../../x', '__proto__', 'a/b', '0', [], {}, [0], [[]], { s: [0, 0, 0, 0] }, [0, 0, 0, 0], [1, 2, 3, 4, 5]),
  fc.integer({ min: -5, max: 300 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string({ maxLength: 12 }),
);

export const jsonEdit: fc.Arbitrary<JsonEdit> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('replace' as const), node: fc.nat(), value: hostileValue }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('remove' as const), node: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('addKey' as const), node: fc.nat(), key: fc.constantFrom('__proto__', 'constructor', 'extra', 'x', ''), value: hostileValue }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('textual' as const), text: fc.constantFrom('dupkey' as const, 'deep' as const, 'trailing' as const, 'bom' as const, 'nul' as const) }) },
);

/** Every container and leaf of a JSON value with its parent, in document order. */
const nodesOf = (root: unknown): { parent: unknown; key: string | number | null; value: unknown }[] => {
  const out: { parent: unknown; key: string | number | null; value: unknown }[] = [{ parent: null, key: null, value: root }];
  for (let i = 0; i < out.length && out.length < 5000; i++) {
    const v = out[i].value;
    if (Array.isArray(v)) v.forEach((x, k) => out.push({ parent: v, key: k, value: x }));
    else if (v !== null && typeof v === 'object') for (const k of Object.keys(v)) out.push({ parent: v, key: k, value: (v as Record<string, unknown>)[k] });
  }
  return out;
};

/** Applies JSON edits to JSON text (text that does not parse is edited as bytes would be: unchanged). */
export const applyJson = (text: string, edits: readonly JsonEdit[]): string => {
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch {
    return text;
  }
  const textual: JsonEdit[] = [];
  for (const e of edits) {
    if (e.op === 'textual') {
      textual.push(e);
      continue;
    }
    const nodes = nodesOf(root);
    const n = nodes[e.node % nodes.length];
    if (e.op === 'replace') {
      if (n.parent === null) root = e.value;
      else (n.parent as Record<string | number, unknown>)[n.key as string | number] = e.value;
    } else if (e.op === 'remove') {
      if (Array.isArray(n.parent)) n.parent.splice(n.key as number, 1);
      else if (n.parent !== null) delete (n.parent as Record<string, unknown>)[n.key as string];
    } else if (n.value !== null && typeof n.value === 'object' && !Array.isArray(n.value)) {
      Object.defineProperty(n.value, e.key, { value: e.value, enumerable: true, configurable: true, writable: true });
    }
  }
  let out = JSON.stringify(root) ?? 'null';
  for (const e of textual) {
    if (e.op !== 'textual') continue;
    if (e.text === 'dupkey') out = out.replace(/^\{("[^"]*"):([^,}]*)/, '{$1:$2,$1:$2');
    else if (e.text === 'deep') out = `${'['.repeat(20_000)}${out}${']'.repeat(20_000)}`;
    else if (e.text === 'trailing') out += ',';
    else if (e.text === 'bom') out = `\uFEFF${out}`;
    else out = out.replace(/"/, '"\u0000');
  }
  return out;
};
