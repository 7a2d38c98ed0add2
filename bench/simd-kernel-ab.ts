// The CPU engine's attention, SwiGLU and fused-product kernels alone at the model's shapes (the QKV
// projection with RoPE, gate_up with SwiGLU; sequence 81; tiny: 16
// batch × 2 heads of 32, hidden 64 → SwiGLU inner 256; small: 32 × 4 heads of 32, inner 384; medium:
// 32 × 4 heads of 64, inner 768), on one thread, in CPU milliseconds per call (process.cpuUsage: a
// busy machine still gives comparable figures); attention also in GFLOP/s (forward 4·B·H·S²·hd,
// backward 8·B·H·S²·hd with the recomputed QKᵀ). `--old DIR` also loads another checkout's engine and
// alternates the two in one process (`--rounds`, old first in even rounds), so the ratio old/new of
// the per-round medians is taken side by side.
//   npx tsx bench/simd-kernel-ab.ts [--old DIR] [--reps 100] [--rounds 5]

import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cpuMsPerCall } from '../src/bench/ceiling.ts';
import { summarize } from '../src/bench/stats.ts';
import { parseFlags } from '../src/cli/args.ts';

const { flags } = parseFlags('simd-kernel-ab', process.argv.slice(2), {
  old: { kind: 'string', help: 'another checkout whose engine is timed alternately with this one' },
  reps: { kind: 'int', help: 'calls per timing (1..10000)', min: 1, max: 10000 },
  rounds: { kind: 'int', help: 'alternating rounds with --old (1..50)', min: 1, max: 50 },
});
const reps = Number(flags.reps ?? 100);

interface Engine {
  fromArray(shape: number[], data: ArrayLike<number>): unknown;
  attention(qkv: unknown, heads: number): unknown;
  attentionBackward(dy: unknown, qkv: unknown, heads: number): unknown;
  swiglu(gu: unknown): unknown;
  swigluBackward(dy: unknown, gu: unknown): unknown;
  linearRope(x: unknown, w: unknown, cos: unknown, sin: unknown, hd: number, rotated: number): unknown;
  linearRopeBackward(dy: unknown, x: unknown, w: unknown, cos: unknown, sin: unknown, hd: number, rotated: number): { dx: unknown; dw: unknown };
  linearSwiglu(x: unknown, w: unknown): { y: unknown; gu: unknown };
  linearSwigluBackward(dy: unknown, x: unknown, w: unknown, gu: unknown): { dx: unknown; dw: unknown };
  dispose(t: unknown): void;
  close(): Promise<void>;
}
const open = async (root: string): Promise<Engine> => {
  const { createSimdBackend } = await import(pathToFileURL(resolve(root, 'src/accelerated/simd/backend.ts')).href);
  return (await createSimdBackend({ threads: 1 })) as Engine;
};

const sides: [string, string][] = [['new', resolve(import.meta.dirname, '..')]];
if (flags.old !== undefined) sides.unshift(['old', resolve(String(flags.old))]);
const engines = await Promise.all(sides.map(([, r]) => open(r)));
const rounds = engines.length > 1 ? Number(flags.rounds ?? 5) : 1;
const S = 81;
const wave = (n: number, f: number, a: number): Float32Array => Float32Array.from({ length: n }, (_, i) => a * Math.sin(i * f));

/** Disposes the first of a pair of results and returns the second (for the caller to dispose). */
const pair = (e: Engine, r: { dx: unknown; dw: unknown } | { y: unknown; gu: unknown }): unknown => {
  const [a, b] = Object.values(r);
  e.dispose(a);
  return b;
};

/** One kernel at one shape: how to make its inputs on an engine, and its forward and backward calls. */
interface Case {
  readonly name: string;
  /** product operations of forward and backward (0: report milliseconds only) */
  readonly flop: readonly [number, number];
  readonly inputs: (e: Engine) => unknown[];
  readonly fwd: (e: Engine, x: unknown[]) => unknown;
  readonly bwd: (e: Engine, x: unknown[]) => unknown;
}
const cases: Case[] = [];
for (const [cfg, B, H, hd, I] of [['tiny', 16, 2, 32, 256], ['small', 32, 4, 32, 384], ['medium', 32, 4, 64, 768]] as const) {
  const W = 3 * H * hd;
  const flop = 4 * B * H * S * S * hd;
  cases.push({
    name: `attention ${cfg} (${B}×${H} heads of ${hd})`,
    flop: [flop, 2 * flop],
    inputs: (e) => [e.fromArray([B, S, W], wave(B * S * W, 0.37, 2)), e.fromArray([B, S, H * hd], wave(B * S * H * hd, 0.11, 1))],
    fwd: (e, [qkv]) => e.attention(qkv, H),
    bwd: (e, [qkv, dy]) => e.attentionBackward(dy, qkv, H),
  });
  cases.push({
    name: `swiglu ${cfg} (${B * S} rows, inner ${I})`,
    flop: [0, 0],
    inputs: (e) => [e.fromArray([B * S, 2 * I], wave(B * S * 2 * I, 0.29, 3)), e.fromArray([B * S, I], wave(B * S * I, 0.13, 1))],
    fwd: (e, [gu]) => e.swiglu(gu),
    bwd: (e, [gu, dy]) => e.swigluBackward(dy, gu),
  });
  const [N, D] = [B * S, H * hd];
  const angle = wave(S * hd, 0.7, 3);
  cases.push({
    name: `linearRope ${cfg} (${N}×${D} · ${W}×${D}, RoPE on ${2 * H} heads)`,
    flop: [2 * N * D * W, 4 * N * D * W],
    inputs: (e) => [
      e.fromArray([B, S, D], wave(N * D, 0.23, 1)), e.fromArray([W, D], wave(W * D, 0.17, 0.1)),
      e.fromArray([S, hd], angle.map(Math.cos)), e.fromArray([S, hd], angle.map(Math.sin)), e.fromArray([B, S, W], wave(N * W, 0.31, 1)),
    ],
    fwd: (e, [x, w, c, sn]) => e.linearRope(x, w, c, sn, hd, 2 * H),
    bwd: (e, [x, w, c, sn, dy]) => pair(e, e.linearRopeBackward(dy, x, w, c, sn, hd, 2 * H)),
  });
  cases.push({
    name: `linearSwiglu ${cfg} (${N}×${D} · ${2 * I}×${D})`,
    flop: [2 * N * D * 2 * I, 4 * N * D * 2 * I],
    inputs: (e) => {
      const [x, w] = [e.fromArray([N, D], wave(N * D, 0.23, 1)), e.fromArray([2 * I, D], wave(2 * I * D, 0.17, 0.1))];
      return [x, w, e.linearSwiglu(x, w).gu, e.fromArray([N, I], wave(N * I, 0.31, 1))];
    },
    fwd: (e, [x, w]) => pair(e, e.linearSwiglu(x, w)),
    bwd: (e, [x, w, gu, dy]) => pair(e, e.linearSwigluBackward(dy, x, w, gu)),
  });
}

console.log(`| kernel | engine | forward CPU ms | backward CPU ms |\n|---|---|---|---|`);
const ratios: string[] = [];
for (const c of cases) {
  const per = engines.map(() => ({ f: [] as number[], b: [] as number[] }));
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? engines.map((_, i) => i) : engines.map((_, i) => engines.length - 1 - i);
    for (const i of order) {
      const e = engines[i];
      const x = c.inputs(e);
      per[i].f.push(cpuMsPerCall(() => e.dispose(c.fwd(e, x)), reps));
      per[i].b.push(cpuMsPerCall(() => e.dispose(c.bwd(e, x)), Math.max(1, reps >> 1)));
      for (const t of x) e.dispose(t);
    }
  }
  const rate = (flop: number, ms: number): string => (flop > 0 ? ` (${(flop / ms / 1e6).toFixed(1)} GFLOP/s)` : '');
  const med = per.map((p) => [summarize(p.f).medianMs, summarize(p.b).medianMs]);
  med.forEach(([f, b], i) => console.log(`| ${c.name} | ${sides[i][0]} | ${f.toFixed(3)}${rate(c.flop[0], f)} | ${b.toFixed(3)}${rate(c.flop[1], b)} |`));
  if (engines.length > 1) {
    // per round, old/new; the median over rounds
    const r = (a: number[], b: number[]): number => summarize(a.map((x, k) => x / b[k])).medianMs;
    ratios.push(`${c.name}: old/new forward ×${r(per[0].f, per[1].f).toFixed(2)}, backward ×${r(per[0].b, per[1].b).toFixed(2)}`);
  }
}
if (ratios.length > 0) console.log(`\n${ratios.join('\n')}`);
await Promise.all(engines.map((e) => e.close()));
