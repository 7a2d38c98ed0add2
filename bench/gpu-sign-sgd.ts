// The puzzle table's SignSGD on webgpu, side by side in one process: the WGSL pass over the batch's
// distinct rows (in place) against the gpu.js pass over every cell of the table (each cell scanning
// all B ids, into a fresh table). For each case the two paths alternate (A B A B …), each sample a
// chain of `inner` calls on one table waited for with the device's flush, so a busy machine slows
// both alike and the ratio stays meaningful. Also per call: dispatches, buffer creations and bytes
// uploaded, and the bytes each path writes (the new path U·E floats, the old one R·E).
// Prints a markdown table (median ms per call, old/new ratio) and optionally writes JSON.
//   npx tsx bench/gpu-sign-sgd.ts [--reps N] [--cases R×E×B,…] [--json FILE]
// (ARC-scale, 10⁵ rows × 512 at batch 768: --cases 100000x512x768 --reps 3; the gpu.js pass takes
// tens of seconds per call on a software adapter.)

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
  readonly gpujs: PathFigures;
  /** gpu.js time / WGSL time (> 1: the WGSL pass is faster) */
  readonly ratio: number;
  readonly samples: number;
  /** cells where the two paths' results differ after one call from the same table (0 up to 2²³ cells) */
  readonly differ: number;
  readonly inner: { readonly wgsl: number; readonly gpujs: number };
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
    const tables = paths.map(() => b.fromArray([R, E], W));
    let k = 0;
    /** `inner` calls of path p on its table, waited for; ms per call. */
    const sample = async (p: number, inner: number): Promise<number> => {
      const t0 = now();
      for (let i = 0; i < inner; i++) tables[p] = paths[p][1](tables[p], grads, batches[k++ % batches.length]);
      await dev.flush();
      return (now() - t0) / inner;
    };
    // warm-up (pipelines compiled, pool filled): one call of each path on the same table and ids,
    // whose results must agree bit for bit (a device error, e.g. a table past the adapter's
    // storage-binding limit, surfaces here as a failed read); then calls per sample so that a
    // sample takes ≈ 300 ms
    for (let p = 0; p < paths.length; p++) tables[p] = paths[p][1](tables[p], grads, batches[0]);
    const [x, y] = await Promise.all(tables.map((t) => dev.download(t)));
    const [xb, yb] = [x, y].map((a) => new Uint32Array(a.buffer, a.byteOffset, a.length));
    if (xb.length !== R * E || yb.length !== R * E) throw new Error(`${R}×${E}, batch ${B}: a result came back with ${xb.length} / ${yb.length} cells`);
    let differ = 0;
    for (let i = 0; i < xb.length; i++) if (xb[i] !== yb[i]) differ++;
    // the gpu.js pass computes its cell's row and column in float32: exact up to 2²³ cells only
    if (differ > 0 && R * E <= 2 ** 23) throw new Error(`${R}×${E}, batch ${B}: the two paths disagree in ${differ} cells after one call`);
    const inner = paths.map(() => 1);
    for (let p = 0; p < paths.length; p++) {
      const one = await sample(p, 1);
      const per = one < 100 ? await sample(p, 10) : one; // a short call: its own wait dominates one sample
      inner[p] = Math.max(1, Math.min(500, Math.floor(300 / Math.max(0.01, per))));
    }
    const ms = paths.map((): number[] => []);
    const counts = paths.map(() => ({ dispatches: 0, bufferCreations: 0, bytesUp: 0, calls: 0 }));
    for (let r = 0; r < reps; r++) {
      for (let p = 0; p < paths.length; p++) {
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
    const gpujs = fig(1, R * E);
    rows.push({ table: `${R}×${E}`, batch: B, distinct, wgsl, gpujs, ratio: gpujs.ms / wgsl.ms, samples: reps, differ, inner: { wgsl: inner[0], gpujs: inner[1] } });
    process.stderr.write(`${R}×${E}, batch ${B}: WGSL ${wgsl.ms.toFixed(3)} ms, gpu.js ${gpujs.ms.toFixed(3)} ms per call\n`);
    for (const t of [...tables, grads]) b.dispose(t);
  }
} finally {
  await b.close();
}

const lines = [
  `SignSGD on the puzzle table, ${b.description}: the WGSL pass over the batch's distinct rows (in place) vs the gpu.js pass over every cell, median ms per call of ${reps} alternating samples per path.`,
  '',
  '| table R×E | batch B (distinct U) | WGSL ms | gpu.js ms | gpu.js / WGSL | dispatches per call (WGSL / gpu.js) | buffers created while timed | floats written per call (WGSL / gpu.js) | bytes up per call (WGSL / gpu.js) | cells that differ |',
  '|---|---|---|---|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.table} | ${r.batch} (${r.distinct}) | ${r.wgsl.ms.toFixed(3)} | ${r.gpujs.ms.toFixed(2)} | ×${r.ratio.toFixed(1)} | ${r.wgsl.dispatchesPerCall} / ${r.gpujs.dispatchesPerCall} | ${r.wgsl.bufferCreations} / ${r.gpujs.bufferCreations} | ${r.wgsl.cellsWritten} / ${r.gpujs.cellsWritten} | ${r.wgsl.bytesUpPerCall} / ${r.gpujs.bytesUpPerCall} | ${r.differ} |`),
];
process.stdout.write(`${lines.join('\n')}\n`);
const json = flag('json');
if (json !== undefined) writeFileSync(json, `${JSON.stringify({ device: b.description, reps, rows }, null, 1)}\n`);
