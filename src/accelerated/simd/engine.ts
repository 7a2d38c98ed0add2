// What every kernel file of the CPU engine works with: the tensors' memory (memory.ts), the worker
// pool that runs the WebAssembly kernels (pool.ts) and the SIMD variant they were compiled for; and
// how the engine starts (variant chosen, module compiled, workers started).

import type { Shape } from '../../core/tensor.ts';
import { numel } from '../../core/tensor.ts';
import { Arena } from './arena.ts';
import { Memory } from './memory.ts';
import { engineModule, relaxedSupport } from './module.ts';
import { Pool } from './pool.ts';
import { simdPlatform } from './platform.ts';
import type { SimdVariant } from './wat.ts';

export interface Engine {
  readonly mem: Memory;
  readonly pool: Pool;
  readonly variant: SimdVariant;
  /** what the engine is, for logs ("wasm simd128 relaxed-fma 6x8, 2 threads") */
  readonly description: string;
}

export interface SimdOptions {
  /** threads including the calling thread (default: the platform's cores); 1 = no workers */
  readonly threads?: number;
  /** 'relaxed' (6×8 relaxed-FMA micro-kernel) or 'plain' (4×8); default relaxed when V8 allows it */
  readonly simd?: SimdVariant;
  /** where the chosen variant is reported (default: nothing) */
  readonly log?: (message: string) => void;
  /** how long idle workers spin before sleeping, ms (default 0.5) */
  readonly spinMs?: number;
}

/** Picks the SIMD variant, compiles the module, starts the workers. */
export const startEngine = async (options: SimdOptions): Promise<Engine> => {
  const threads = options.threads ?? (await simdPlatform.get()).cores();
  if (!Number.isInteger(threads) || threads < 1) {
    throw new RangeError(`createSimdBackend: option 'threads' is ${threads}, expected an integer ≥ 1`);
  }
  let variant: SimdVariant;
  if (options.simd === 'plain') variant = 'plain';
  else {
    const support = await relaxedSupport();
    if (support.ok) variant = 'relaxed';
    else if (options.simd === 'relaxed') throw new Error(`createSimdBackend: simd 'relaxed' requested but ${support.reason}`);
    else {
      variant = 'plain';
      options.log?.(`simd: ${support.reason}; using plain SIMD`);
    }
  }
  if (options.simd !== undefined && options.simd !== 'plain' && options.simd !== 'relaxed') {
    throw new RangeError(`createSimdBackend: option 'simd' is '${String(options.simd)}', expected 'relaxed' or 'plain'`);
  }
  const module = await engineModule(variant);
  const arena = new Arena(64 << 20);
  const pool = await Pool.start(arena, module, { threads, relaxed: variant === 'relaxed', spinMs: options.spinMs });
  const description = `wasm simd128 ${variant === 'relaxed' ? 'relaxed-fma 6x8' : 'plain 4x8'}, ${threads} thread${threads === 1 ? '' : 's'}`;
  options.log?.(`simd: ${description}`);
  return { mem: new Memory(arena), pool, variant, description };
};

/** Rows of a tensor whose last axis is the row (0 when that axis is empty). */
export const rowsOf = (shape: Shape): number => {
  const d = shape[shape.length - 1];
  return d === 0 ? 0 : numel(shape) / d;
};
