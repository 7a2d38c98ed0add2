// What one thread of the CPU engine can do at best on this machine, measured in CPU seconds (so a busy
// machine still gives comparable figures): the matrix product's GFLOP/s with every operand in cache
// (the engine's `gemm` export called directly, B packed, A packed per panel), and the bytes per
// second of a plain copy of arrays far larger than the caches (what an elementwise pass can reach).
// A step's kernel families are set against these (× threads: an upper bound for two threads, which
// also share the memory bus).

import { engineModule, enableRelaxedFlag } from '../accelerated/simd/module.ts';
import { Wasm } from '../accelerated/simd/wasm-api.ts';
import type { SimdVariant } from '../accelerated/simd/wat.ts';
import { microRows } from '../accelerated/simd/wat.ts';

export interface Ceiling {
  /** GFLOP/s of the products per thread (the micro-kernel in cache) */
  readonly productGflops: number;
  /** GB/s (read + written) of one thread copying out of cache */
  readonly memoryGBps: number;
  /** how they were measured, for the report */
  readonly how: string;
}

/** CPU milliseconds per call of fn (one untimed call first). */
export const cpuMsPerCall = (fn: () => void, reps: number): number => {
  fn();
  const c0 = process.cpuUsage();
  for (let i = 0; i < reps; i++) fn();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000 / reps;
};

/** A fresh instance of the engine's module on its own memory, with random data in it. */
export const gemmProbe = async (
  variant: SimdVariant,
): Promise<{ gemm: (...a: number[]) => void; f32: Float32Array; mr: number }> => {
  if (variant === 'relaxed') await enableRelaxedFlag();
  const module = await engineModule(variant);
  const memory = new Wasm.Memory({ initial: 32 * 16, maximum: 65536, shared: true });
  const instance = await Wasm.instantiate(module, { env: { memory } });
  const f32 = new Float32Array(memory.buffer);
  for (let i = 0; i < f32.length; i++) f32[i] = Math.random() * 2 - 1;
  return { gemm: instance.exports.gemm as (...a: number[]) => void, f32, mr: microRows(variant) };
};

/** Byte offsets of A, packed B, C and scratch in a probe's memory (sizes up to 2592×1536×256 fit). */
export const PROBE_AT = { A: 1 << 20, B: 8 << 20, C: 16 << 20, SCR: 28 << 20 } as const;

/** GFLOP/s per CPU second of C[m,n] = A[m,k]·B (A row-major packed per panel, or atr 2: read in place). */
export const gemmGflops = (probe: { gemm: (...a: number[]) => void; mr: number }, m: number, n: number, k: number, atr: 0 | 2, reps: number): number => {
  const { A, B, C, SCR } = PROBE_AT;
  const panels = Math.ceil(m / probe.mr);
  // gemm(a, lda, atr, b, brs, bps, c, ldc, m, n, k, init, bias, scratch, panel lo, panel hi)
  const ms = cpuMsPerCall(() => probe.gemm(A, atr === 0 ? k : m, atr, B, 32, k * 32, C, n, m, n, k, 0, 0, SCR, 0, panels), reps);
  return (2 * m * n * k) / ms / 1e6;
};

/** The ceilings of the SIMD engine in `variant` on this machine (about a second of CPU time). */
export const simdCeiling = async (variant: SimdVariant): Promise<Ceiling> => {
  const probe = await gemmProbe(variant);
  const [m, n, k] = [probe.mr * 10, 64, 256];
  const productGflops = Math.max(...[0, 1, 2].map(() => gemmGflops(probe, m, n, k, 0, 2000)));
  const floats = 8 << 20;
  const buf = new Float32Array(2 * floats);
  buf.fill(1);
  const copyMs = Math.min(...[0, 1, 2].map(() => cpuMsPerCall(() => buf.copyWithin(floats, 0, floats), 5)));
  const memoryGBps = (2 * 4 * floats) / copyMs / 1e6;
  return {
    productGflops,
    memoryGBps,
    how: `products: the ${variant} micro-kernel alone at ${m}×${n}×${k} in cache; memory: a ${(4 * floats) >> 20} MiB copy; both per CPU second of one thread`,
  };
};
