// The CPU engine's GEMM alone, on one thread, with no backend around it: the module's `gemm` export
// called directly on operands already in memory (B pre-packed in 8-column panels; A packed per panel
// by the kernel, or read in place), in GFLOP/s per CPU second (process.cpuUsage), so a busy machine
// still gives comparable figures. Small sizes stay in cache: they show the micro-kernel's ceiling.
// Usage: node --import tsx bench/simd-microkernel.ts [relaxed|plain] [sizes as JSON [[m,n,k],…]]

import { engineModule, enableRelaxedFlag } from '../src/accelerated/simd/module.ts';
import { Wasm } from '../src/accelerated/simd/wasm-api.ts';
import type { SimdVariant } from '../src/accelerated/simd/wat.ts';

const variant = (process.argv[2] ?? 'relaxed') as SimdVariant;
const sizes = JSON.parse(process.argv[3] ?? '[[60,64,128],[60,64,512],[600,384,128],[2592,384,128],[2592,128,512],[2592,1536,256]]') as number[][];

if (variant === 'relaxed') enableRelaxedFlag();
const module = await engineModule(variant);
const memory = new Wasm.Memory({ initial: 32 * 16, maximum: 65536, shared: true });
const instance = await Wasm.instantiate(module, { env: { memory } });
const gemm = instance.exports.gemm as (...a: number[]) => void;
const mr = variant === 'relaxed' ? 6 : 4;
const f32 = new Float32Array(memory.buffer);
for (let i = 0; i < f32.length; i++) f32[i] = Math.random() * 2 - 1;

// byte offsets: A at 1 MiB, packed B at 8 MiB, C at 16 MiB, scratch at 28 MiB (sizes up to 2592×1536×256 fit)
const [A, B, C, SCR] = [1 << 20, 8 << 20, 16 << 20, 28 << 20];
const cpuMs = (fn: () => void, reps: number): number => {
  fn();
  const c0 = process.cpuUsage();
  for (let i = 0; i < reps; i++) fn();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000 / reps;
};

console.log(`| m×n×k | A packed per panel | A read in place | (${variant}, GFLOP/s per CPU second) |\n|---|---|---|---|`);
for (const [m, n, k] of sizes) {
  const flops = 2 * m * n * k;
  const reps = Math.max(3, Math.round(3e9 / flops));
  const panels = Math.ceil(m / mr);
  // gemm(a, lda, atr, b, brs, bps, c, ldc, m, n, k, init, bias, scratch, panel lo, panel hi)
  const packed = cpuMs(() => gemm(A, k, 0, B, 32, k * 32, C, n, m, n, k, 0, 0, SCR, 0, panels), reps);
  const inPlace = cpuMs(() => gemm(A, m, 2, B, 32, k * 32, C, n, m, n, k, 0, 0, SCR, 0, panels), reps);
  console.log(`| ${m}×${n}×${k} | ${(flops / packed / 1e6).toFixed(1)} | ${(flops / inPlace / 1e6).toFixed(1)} | |`);
}
