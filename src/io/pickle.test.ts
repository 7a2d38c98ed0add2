// Tests of the restricted unpickler on pickles CPython wrote (protocols 2 and 4), and of what it
// refuses: globals outside the whitelist, unsupported opcodes, truncation, persistent ids
// without a loader.

import { describe, expect, it } from 'vitest';
import { PickleError, PickleWriter, unpickle, type PyValue } from './pickle.ts';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
const none = { fileName: 'test.pkl', allowedGlobals: new Set<string>() };

/** Plain JavaScript view of a PyValue, for comparisons. */
const plain = (v: PyValue): unknown => {
  if (v === null || typeof v !== 'object') return v;
  switch (v.kind) {
    case 'tuple':
      return { tuple: v.items.map(plain) };
    case 'list':
      return v.items.map(plain);
    case 'dict':
      return Object.fromEntries([...v.entries].map(([k, x]) => [String(k), plain(x)]));
    case 'global':
      return { global: v.name };
    case 'call':
      return { call: v.callee, args: v.args.map(plain) };
    case 'external':
      return { external: v.value };
  }
};

// pickle.dumps({'a': [1, -2, 300, 70000, -(2**31), 2**40, -(2**70), 1.5, None, True, False, 'héllo'],
//               'b': ('x', ('y',), (), (1, 2, 3)), 'c': {}}, protocol=P) for P = 2 and 4
const PROTO2 =
  '80027d71002858010000006171015d7102284b014afeffffff4d2c014a701101004a000000808a060000000000018a090000000000000000c0473ff80000000000004e8889580600000068c3a96c6c6f71036558010000006271042858010000007871055801000000797106857107294b014b024b03877108747109580100000063710a7d710b752e';
const PROTO4 =
  '80049569000000000000007d94288c0161945d94284b014afeffffff4d2c014a701101004a000000808a060000000000018a090000000000000000c0473ff80000000000004e88898c0668c3a96c6c6f94658c016294288c0178948c0179948594294b014b024b03879474948c0163947d94752e';
const EXPECTED = {
  a: [1, -2, 300, 70000, -(2 ** 31), 2 ** 40, -(2n ** 70n), 1.5, null, true, false, 'héllo'],
  b: { tuple: ['x', { tuple: ['y'] }, { tuple: [] }, { tuple: [1, 2, 3] }] },
  c: {},
};

describe('unpickle', () => {
  it('reads a protocol-2 pickle written by CPython', () => {
    expect(plain(unpickle(hex(PROTO2), none))).toEqual(EXPECTED);
  });
  it('reads a protocol-4 pickle written by CPython (FRAME, MEMOIZE, SHORT_BINUNICODE)', () => {
    expect(plain(unpickle(hex(PROTO4), none))).toEqual(EXPECTED);
  });
  it('builds an OrderedDict from a whitelisted global and keeps insertion order', () => {
    // pickle.dumps(OrderedDict([('k', 1)]), protocol=2)
    const v = unpickle(hex('800263636f6c6c656374696f6e730a4f726465726564446963740a71002952710158010000006b71024b01732e'), {
      fileName: 'od.pkl',
      allowedGlobals: new Set(['collections.OrderedDict']),
    });
    expect(v !== null && typeof v === 'object' && v.kind === 'dict' && v.className).toBe('collections.OrderedDict');
    expect(plain(v)).toEqual({ k: 1 });
  });
  it('refuses a global outside the whitelist, naming it, before anything is called', () => {
    // cos\nsystem\n(S'echo hi'\ntR.  (the classic code-execution pickle)
    const evil = new TextEncoder().encode("cos\nsystem\n(S'echo hi'\ntR.");
    expect(() => unpickle(evil, none)).toThrow(/test\.pkl: pickle opcode GLOBAL at byte 0: global 'os\.system' is not allowed/);
    expect(() => unpickle(hex(PROTO2.replace('80027d', '80028c026f73948c0673797374656d94937d')), none)).toThrow(/global 'os\.system' is not allowed/);
  });
  it('refuses unsupported opcodes, naming them and their offset', () => {
    expect(() => unpickle(new TextEncoder().encode("(S'x'\n."), none)).toThrow(/test\.pkl: pickle opcode STRING \(0x53\) at byte 1: unsupported opcode/);
    expect(() => unpickle(hex('8002ff'), none)).toThrow(/pickle opcode 0xff at byte 2/);
  });
  it('detects truncation and a missing STOP', () => {
    expect(() => unpickle(hex(PROTO2).subarray(0, 40), none)).toThrow(/test\.pkl: .*truncated pickle/);
    expect(() => unpickle(hex('80024b01'), none)).toThrow(/truncated pickle \(no STOP\)/);
  });
  it('refuses persistent ids without a loader and passes them to the loader otherwise', () => {
    const p = hex('80024b0751' + '2e'); // BININT1 7, BINPERSID, STOP
    expect(() => unpickle(p, none)).toThrow(/BINPERSID at byte 4: persistent ids are not supported/);
    expect(plain(unpickle(p, { ...none, persistentLoad: (pid) => `loaded ${String(pid)}` }))).toEqual({ external: 'loaded 7' });
  });
  it('reads 4-byte memo slots (LONG_BINPUT, LONG_BINGET) and BININT2', () => {
    // BININT1 5, LONG_BINPUT 300, LONG_BINGET 300, TUPLE2, BININT2 65535, TUPLE2, STOP
    expect(plain(unpickle(hex('80024b05722c0100006a2c01000086' + '4dffff' + '862e'), none))).toEqual({ tuple: [{ tuple: [5, 5] }, 65535] });
  });
  it('refuses a GET of a memo slot that was never stored', () => {
    expect(() => unpickle(hex('8002680a2e'), none)).toThrow(/BINGET at byte 2: memo key 10 was never stored/);
  });
});

describe('PickleWriter', () => {
  it('encodes ints exactly as CPython does (the bytes of the protocol-2 pickle above)', () => {
    const ints = [1, -2, 300, 70000, -(2 ** 31), 2 ** 40, -(2n ** 70n)];
    const w = new PickleWriter();
    for (const n of ints) w.int(n);
    const body = Buffer.from(w.finish().subarray(2, -1)).toString('hex');
    expect(body).toBe('4b014afeffffff4d2c014a701101004a000000808a060000000000018a090000000000000000c0');
  });
  it('writes what the unpickler reads back: strings (shared ones as memo GETs), tuples of every length, dicts, bools, None', () => {
    const w = new PickleWriter();
    w.emptyDict().setItems(3, (i) => {
      if (i === 0) w.str('a').tuple(5, () => [1, 2, 3, 4, 5].forEach((x) => w.int(x)));
      if (i === 1) w.str('b').tuple(2, () => w.str('x', true).str('x', true));
      if (i === 2) w.str('c').tuple(3, () => w.bool(true).bool(false).none());
    });
    expect(plain(unpickle(w.finish(), none))).toEqual({ a: { tuple: [1, 2, 3, 4, 5] }, b: { tuple: ['x', 'x'] }, c: { tuple: [true, false, null] } });
  });
  it('batches more than 1000 items in SETITEMS of at most 1000, and memo slots past 255 use LONG_BINPUT', () => {
    const w = new PickleWriter();
    w.emptyDict().setItems(2500, (i) => w.str(`k${i}`).int(i));
    const bytes = w.finish();
    const last = (n: number): number => {
      const x = new PickleWriter();
      x.emptyDict().setItems(n, (i) => x.str(`k${i}`).int(i));
      const b = x.finish();
      return b[b.length - 2];
    };
    expect([last(1000), last(1001), last(2000)]).toEqual([0x75, 0x73, 0x75]); // SETITEMS, then a lone SETITEM
    const back = unpickle(bytes, none) as { entries: Map<string, number> };
    expect(back.entries.size).toBe(2500);
    expect(back.entries.get('k2499')).toBe(2499);
  });
  it('an APPENDS of 300,000 items does not overflow the call stack', () => {
    const bytes = [0x80, 2, 0x5d, 0x28];
    for (let i = 0; i < 300000; i++) bytes.push(0x4b, i & 0xff);
    bytes.push(0x65, 0x2e);
    expect((unpickle(Uint8Array.from(bytes), none) as { items: unknown[] }).items.length).toBe(300000);
  });
});

describe('errors', () => {
  it('are PickleErrors naming the file; a refused global is shown escaped and cut to 80 characters', () => {
    const name = `evil\n${'x'.repeat(200)}`;
    const bytes = Uint8Array.from([0x80, 2, 0x63, ...new TextEncoder().encode(`${name}\nf\n`), 0x2e]);
    let caught: unknown;
    try {
      unpickle(bytes, none);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(PickleError);
    expect((caught as PickleError).file).toBe('test.pkl');
    expect((caught as Error).message).toMatch(/^test\.pkl: pickle opcode GLOBAL at byte 2: global 'evil\.x{75}…' is not allowed/);
  });
});
