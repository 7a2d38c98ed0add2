// The puzzle table's SignSGD on webgpu, side by side in one process: the WGSL pass over the batch's
// distinct rows (in place) against the gpu.js pass over every cell of the table (each cell scanning
// all B ids, into a fresh table). For each case the two paths alternate (A B A B …), each sample a
// chain of `inner` calls on one table waited for with the device's flush, so a busy machine slows
// both alike and the ratio stays meaningful. Also per call: dispatches, buffer creations and bytes
// uploaded, and the floats each path writes (the new path U·E, the old one R·E). One call of each
// path from the same table must give the same bits (checked before timing). Tables past 2²⁴ cells
// (which the gpu.js pass refuses) time the WGSL pass alone.
// Prints a markdown table (median ms per call, old/new ratio) and optionally writes JSON.
//   npx tsx bench/gpu-sign-sgd.ts [--reps N] [--cases R×E×B,…] [--json FILE]
// (ARC's size, 10⁵ rows × 512 at batch 768: --cases 100000x512x768; its 205 MB table needs an
// adapter that binds storage buffers that large, which lavapipe's 128 MiB limit does not.)

import { writeFileSync } from 'node:fs';
import { createGpuBackend } from '../src/accelerated/gpu/backend.ts';
import type { GpuTensor } from '../src/accelerated/gpu/device.ts';
import { signSgdRows, signSgdRowsGpuJs } from '../src/accelerated/gpu/sign-sgd.ts';
import { now, summarize } from '../src/bench/stats.ts';

/** [R, E, B]: a table of R rows of width E, a batch of B ids. The first is the paper's Sudoku-width step on a larger table. */
const DEFAULT_CASES: readonly (readonly [number, number, number])[] = [
  [8000, 512, 384],
  [1000, 128, 32],
];

interface PathFigures {
  readonly ms: number;
  readonly dispatchesPerCall: number;
  readonly bufferCreations: number;
  readonly bytesUpPerCall: number;
  /** floats the pass writes per call */
  readonly cellsWritten: number;
}

interface Row {
  readonly table: string;
  readonly batch: number;
  readonly distinct: number;
  readonly wgsl: PathFigures;
  /** null past 2²⁴ cells (the gpu.js pass refuses such tables) */
  readonly gpujs: PathFigures | null;
  /** gpu.js time / WGSL time (> 1: the WGSL pass is faster) */
  readonly ratio: number | null;
  readonly samples: number;
  /** calls per sample of each path */
  readonly inner: readonly number[];
}

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const reps = Number(flag('reps') ?? 5);
if (!(Number.isInteger(reps) && reps >= 1 && reps <= 100)) throw new Error(`--reps: expected an integer 1..100, got ${flag('reps')}`);
const cases = flag('cases')?.split(',').map((s) => s.split(/[x×]/).map(Number)) ?? DEFAULT_CASES;
for (const c of cases) {
  if (c.length !== 3 || c.some((d) => !Number.isInteger(d) || d < 1)) throw new Error(`--cases: expected R×E×B with positive integers, got ${c.join('×')}`);
}

const b = await createGpuBackend({ gpuMode: 'webgpu' });
const dev = b.device;
let seed = 2024;
const rand = (): number => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed / 2 ** 32;
};

type Step = (table: GpuTensor, grads: GpuTensor, ids: Int32Array) => GpuTensor;
const paths: readonly (readonly [string, Step])[] = [
  ['wgsl', (t, g, ids) => signSgdRows(dev, t, g, ids, 1e-2, 0.1)],
  ['gpujs', (t, g, ids) => signSgdRowsGpuJs(dev, t, g, ids, 1e-2, 0.1)],
];

const rows: Row[] = [];
try {
  for (const [R, E, B] of cases) {
    const W = Float32Array.from({ length: R * E }, () => rand() - 0.5);
    const grads = b.fromArray([B, E], Float32Array.from({ length: B * E }, () => rand() - 0.5));
    const batches = Array.from({ length: 8 }, () => Int32Array.from({ length: B }, () => Math.floor(rand() * R)));
    const distinct = Math.round(batches.reduce((s, ids) => s + new Set(ids).size, 0) / batches.length);
    const run = R * E <= 2 ** 24 ? paths : paths.slice(0, 1);
    const tables = run.map(() => b.fromArray([R, E], W));
    let k = 0;
    /** `inner` calls of path p on its table, waited for; ms per call. */
    const sample = async (p: number, inner: number): Promise<number> => {
      const t0 = now();
      for (let i = 0; i < inner; i++) tables[p] = run[p][1](tables[p], grads, batches[k++ % batches.length]);
      await dev.flush();
      return (now() - t0) / inner;
    };
    // warm-up (pipelines compiled, pool filled): one call of each path on the same table and ids,
    // whose results must agree bit for bit (a device error, e.g. a table past the adapter's
    // storage-binding limit, surfaces here as a failed read); then calls per sample so that a
    // sample takes ≈ 300 ms
    for (let p = 0; p < run.length; p++) tables[p] = run[p][1](tables[p], grads, batches[0]);
    const bits = (await Promise.all(tables.map((t) => dev.download(t)))).map((a) => new Uint32Array(a.buffer, a.byteOffset, a.length));
    if (bits.some((x) => x.length !== R * E)) throw new Error(`${R}×${E}, batch ${B}: a result came back with ${bits.map((x) => x.length).join(' / ')} cells`);
    if (bits.length === 2 && bits[0].some((v, i) => v !== bits[1][i])) throw new Error(`${R}×${E}, batch ${B}: the two paths disagree after one call`);
    const inner = run.map(() => 1);
    for (let p = 0; p < run.length; p++) {
      const one = await sample(p, 1);
      const per = one < 100 ? await sample(p, 10) : one; // a short call: its own wait dominates one sample
      inner[p] = Math.max(1, Math.min(500, Math.floor(300 / Math.max(0.01, per))));
    }
    const ms = run.map((): number[] => []);
    const counts = run.map(() => ({ dispatches: 0, bufferCreations: 0, bytesUp: 0, calls: 0 }));
    for (let r = 0; r < reps; r++) {
      for (let p = 0; p < run.length; p++) {
        const c0 = dev.counters();
        ms[p].push(await sample(p, inner[p]));
        const c1 = dev.counters();
        counts[p].dispatches += c1.dispatches - c0.dispatches;
        counts[p].bufferCreations += c1.bufferCreations - c0.bufferCreations;
        counts[p].bytesUp += c1.bytesUp - c0.bytesUp;
        counts[p].calls += inner[p];
      }
    }
    const fig = (p: number, cells: number): PathFigures => ({
      ms: summarize(ms[p]).medianMs,
      dispatchesPerCall: counts[p].dispatches / counts[p].calls,
      bufferCreations: counts[p].bufferCreations,
      bytesUpPerCall: counts[p].bytesUp / counts[p].calls,
      cellsWritten: cells,
    });
    const wgsl = fig(0, distinct * E);
    const gpujs = run.length === 2 ? fig(1, R * E) : null;
    rows.push({ table: `${R}×${E}`, batch: B, distinct, wgsl, gpujs, ratio: gpujs === null ? null : gpujs.ms / wgsl.ms, samples: reps, inner });
    process.stderr.write(`${R}×${E}, batch ${B}: WGSL ${wgsl.ms.toFixed(3)} ms, gpu.js ${gpujs?.ms.toFixed(3) ?? '–'} ms per call\n`);
    for (const t of [...tables, grads]) b.dispose(t);
  }
} finally {
  await b.close();
}

const or = (v: number | string | undefined): string => (v === undefined ? '–' : String(v));
const lines = [
  `SignSGD on the puzzle table, ${b.description}: the WGSL pass over the batch's distinct rows (in place) vs the gpu.js pass over every cell, median ms per call of ${reps} alternating samples per path.`,
  '',
  '| table R×E | batch B (distinct U) | WGSL ms | gpu.js ms | gpu.js / WGSL | dispatches per call (WGSL / gpu.js) | buffers created while timed | floats written per call (WGSL / gpu.js) | bytes up per call (WGSL / gpu.js) |',
  '|---|---|---|---|---|---|---|---|---|',
  ...rows.map((r) => {
    const o = r.gpujs ?? undefined;
    return `| ${r.table} | ${r.batch} (${r.distinct}) | ${r.wgsl.ms.toFixed(3)} | ${or(o?.ms.toFixed(2))} | ${r.ratio === null ? '– (past 2²⁴ cells)' : `×${r.ratio.toFixed(1)}`} | ${r.wgsl.dispatchesPerCall} / ${or(o?.dispatchesPerCall)} | ${r.wgsl.bufferCreations} / ${or(o?.bufferCreations)} | ${r.wgsl.cellsWritten} / ${or(o?.cellsWritten)} | ${r.wgsl.bytesUpPerCall} / ${or(o?.bytesUpPerCall)} |`;
  }),
];
process.stdout.write(`${lines.join('\n')}\n`);
const json = flag('json');
if (json !== undefined) writeFileSync(json, `${JSON.stringify({ device: b.description, reps, rows }, null, 1)}\n`);
