// The CPU engine's GEMM alone, on one thread, with no backend around it: the module's `gemm` export
// called directly on operands already in memory (B pre-packed in 8-column panels; A packed per panel
// by the kernel, or read in place), in GFLOP/s per CPU second (process.cpuUsage), so a busy machine
// still gives comparable figures. Small sizes stay in cache: they show the micro-kernel's ceiling.
// Usage: node --import tsx bench/simd-microkernel.ts [relaxed|plain] [sizes as JSON [[m,n,k],…]]

import { gemmGflops, gemmProbe } from '../src/bench/ceiling.ts';
import type { SimdVariant } from '../src/accelerated/simd/wat.ts';

const variant = (process.argv[2] ?? 'relaxed') as SimdVariant;
const sizes = JSON.parse(process.argv[3] ?? '[[60,64,128],[60,64,512],[600,384,128],[2592,384,128],[2592,128,512],[2592,1536,256]]') as number[][];

const probe = await gemmProbe(variant);
console.log(`| m×n×k | A packed per panel | A read in place | (${variant}, GFLOP/s per CPU second) |\n|---|---|---|---|`);
for (const [m, n, k] of sizes) {
  const reps = Math.max(3, Math.round(3e9 / (2 * m * n * k)));
  console.log(`| ${m}×${n}×${k} | ${gemmGflops(probe, m, n, k, 0, reps).toFixed(1)} | ${gemmGflops(probe, m, n, k, 2, reps).toFixed(1)} | |`);
}
