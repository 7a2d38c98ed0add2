// Training-step timing of the CPU engine alone: median wall time of `Hrm.trainStep` per
// configuration and thread count, the process CPU time per step (what a busy machine still lets
// one compare), the ratio to PyTorch's anchor, the per-kernel breakdown (top rows) and each kernel
// family against its ceiling (products: the micro-kernel's GFLOP/s; elementwise: copy bandwidth;
// measured before the first configuration and again after each, the highest taken: on a loaded
// machine one measurement can fall well below what the steps then reach).
// Usage: node --import tsx bench/simd-step.ts [configs=tiny,small] [threads=1] [reps=5] [rows=12] [cpu]
// `cpu` also counts each kernel call's process CPU time (load-robust per-family figures; the
// getrusage calls it takes are then part of the step time and CPU).

import os from 'node:os';
import { createSimdBackend } from '../src/accelerated/simd/backend.ts';
import type { Backend } from '../src/core/backend.ts';
import { ANCHORS, type AnchorName } from '../src/bench/anchors.ts';
import { type Ceiling, simdCeiling } from '../src/bench/ceiling.ts';
import { ceilingLines } from '../src/bench/report.ts';
import { benchSteps } from '../src/bench/steps.ts';

const configs = (process.argv[2] ?? 'tiny,small').split(',') as AnchorName[];
const threadsList = (process.argv[3] ?? '1').split(',').map(Number);
const reps = Number(process.argv[4] ?? 5);
const topRows = Number(process.argv[5] ?? 12);
const cpuPerCall = process.argv[6] === 'cpu';

/** The higher of two ceiling measurements (a loaded machine lowers the one taken while it is busy). */
const higher = (a: Ceiling, b: Ceiling): Ceiling => ({
  productGflops: Math.max(a.productGflops, b.productGflops),
  memoryGBps: Math.max(a.memoryGBps, b.memoryGBps),
  how: a.how,
});

for (const threads of threadsList) {
  const be = await createSimdBackend({ threads });
  let ceiling = await simdCeiling(be.variant);
  for (const name of configs) {
    const a = ANCHORS[name];
    const c0 = process.cpuUsage();
    const r = await benchSteps(be as unknown as Backend<unknown>, a.sizes, { trainGflop: a.stepGflop, evalGflop: 0 }, { warmup: 2, reps, budgetMs: 60_000 }, null, 0, cpuPerCall);
    const c = process.cpuUsage(c0);
    ceiling = higher(ceiling, await simdCeiling(be.variant));
    const py = a.pytorch?.[threads === 1 ? 1 : 2].stepMs ?? NaN;
    const cpuMsPerStep = ((c.user + c.system) / 1000) / (reps + 2);
    console.log(
      `${name} ${threads}t: median ${r.train.medianMs.toFixed(1)} ms (min ${r.train.minMs.toFixed(1)}), ${r.train.gflops.toFixed(1)} GFLOP/s, ` +
        `cpu/wall ${r.train.cpuPerWall.toFixed(2)}, cpu ≈${cpuMsPerStep.toFixed(0)} ms/step (incl. warm-up); PyTorch ${py} ms → ×${(py / r.train.medianMs).toFixed(2)} (min ×${(py / r.train.minMs).toFixed(2)}); load ${os.loadavg()[0].toFixed(2)}`,
    );
    for (const row of r.breakdown.slice(0, topRows)) {
      console.log(`  ${row.kernel.padEnd(24)} ${row.msPerStep.toFixed(1).padStart(8)} ms ${(100 * row.fraction).toFixed(1).padStart(5)}%  ${row.callsPerStep.toFixed(0)} calls`);
    }
    console.log(ceilingLines(r.families, r.train.medianMs, threads, ceiling, r.engine).join('\n'));
  }
  await be.close();
}
