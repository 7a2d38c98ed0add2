// Assembly of the engine's WebAssembly module: joins the text of every kernel family (`*.wat.ts`,
// each beside its wrapper) into one module, picks the SIMD variant V8 allows (relaxed SIMD needs
// Node 20's --experimental-wasm-relaxed-simd flag, set here through the platform adapter before
// compiling, while browsers ship it; a tiny relaxed module is validated to confirm it works), turns the text into a binary with `wabt`, and compiles it once per
// variant. What is not here: instantiation and threads (pool.ts).

import wabtInit from 'wabt';
import { simdPlatform } from './platform.ts';
import { ADAM_ATAN2_KERNELS, adamAtan2Wat } from './adam-atan2.wat.ts';
import { ATTENTION_KERNELS, attentionWat } from './attention.wat.ts';
import { ELEMENTWISE_KERNELS, elementwiseWat } from './elementwise.wat.ts';
import { FUSED_KERNELS, fusedWat } from './fused.wat.ts';
import { gemmWat } from './gemm.wat.ts';
import { LINEAR_KERNELS, linearWat } from './linear.wat.ts';
import { RMS_NORM_KERNELS, rmsNormWat } from './rms-norm.wat.ts';
import { ROPE_KERNELS, ropeWat } from './rope.wat.ts';
import { SWIGLU_KERNELS, swigluWat } from './swiglu.wat.ts';
import type { WasmModule } from './wasm-api.ts';
import { Wasm } from './wasm-api.ts';
import type { SimdVariant } from './wat.ts';
import { expFunctions } from './wat.ts';

/** The names and parameter counts (before scratch, lo, hi) of the kernels the worker pool dispatches. */
export const PARALLEL_KERNELS = {
  ...LINEAR_KERNELS,
  ...ATTENTION_KERNELS,
  ...RMS_NORM_KERNELS,
  ...SWIGLU_KERNELS,
  ...ELEMENTWISE_KERNELS,
  ...ROPE_KERNELS,
  ...ADAM_ATAN2_KERNELS,
  ...FUSED_KERNELS,
} as const;

export type ParallelKernel = keyof typeof PARALLEL_KERNELS;

/** The whole module text for one variant: the shared product first, then every family. */
export const engineWat = (variant: SimdVariant): string => `(module
  (import "env" "memory" (memory 1 65536 shared))
${gemmWat(variant)}
${linearWat()}
${expFunctions(variant)}
${attentionWat(variant)}
${rmsNormWat()}
${swigluWat(variant)}
${elementwiseWat()}
${ropeWat()}
${adamAtan2Wat()}
${fusedWat(variant)}
)`;

type Wabt = Awaited<ReturnType<typeof wabtInit>>;

let wabtPromise: Promise<Wabt> | undefined;
const wabt = (): Promise<Wabt> => (wabtPromise ??= wabtInit());

const features = { simd: true, relaxed_simd: true, threads: true };

/** WAT text → binary. Errors carry wabt's message with the module name. */
export const assemble = async (name: string, text: string): Promise<Uint8Array> => {
  const w = await wabt();
  const mod = w.parseWat(`${name}.wat`, text, features);
  try {
    // V8 validates when compiling; wabt's own validator refuses shared memories here
    return new Uint8Array(mod.toBinary({}).buffer);
  } finally {
    mod.destroy();
  }
};

const RELAXED_PROBE = `(module (func (export "f") (param v128) (result v128)
  (f32x4.relaxed_madd (local.get 0) (local.get 0) (local.get 0))))`;

/** The V8 flag that enables relaxed SIMD in Node 20 (also set inside every worker); browsers ship it enabled. */
export const enableRelaxedFlag = async (): Promise<void> => void (await simdPlatform.get()).setEngineFlag('--experimental-wasm-relaxed-simd');

/** Whether this V8 compiles relaxed SIMD after the flag is set; a reason when it does not. */
export const relaxedSupport = async (): Promise<{ ok: true } | { ok: false; reason: string }> => {
  try {
    await enableRelaxedFlag();
    const bytes = await assemble('relaxed-probe', RELAXED_PROBE);
    if (!Wasm.validate(bytes)) return { ok: false, reason: 'V8 does not validate f32x4.relaxed_madd even with --experimental-wasm-relaxed-simd' };
    await Wasm.compile(bytes);
    return { ok: true };
  } catch (e) {
    return { ok: false, reason: `relaxed SIMD unavailable: ${(e as Error).message}` };
  }
};

const compiled = new Map<SimdVariant, Promise<WasmModule>>();

/**
 * Compiles with V8's optimizing tier only: its baseline tier (Liftoff) runs SIMD kernels several
 * times slower, and the hot kernels would otherwise wait for dynamic tier-up in every process and
 * worker. The flag is restored once compilation is done (other modules keep their usual tiers).
 * Browsers allow no flags: there the module tiers up as V8 decides.
 */
const compileOptimized = async (bytes: Uint8Array): Promise<WasmModule> => {
  const platform = await simdPlatform.get();
  const tiered = platform.setEngineFlag('--no-liftoff');
  try {
    return await Wasm.compile(bytes);
  } finally {
    if (tiered) platform.setEngineFlag('--liftoff');
  }
};

/** The compiled engine module of one variant (assembled once per process). */
export const engineModule = (variant: SimdVariant): Promise<WasmModule> => {
  let p = compiled.get(variant);
  if (p === undefined) {
    p = assemble(`hrm-simd-${variant}`, engineWat(variant)).then(compileOptimized);
    compiled.set(variant, p);
  }
  return p;
};
