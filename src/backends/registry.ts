// The backend registry: turns a name from code or the CLI (`--backend`) into a Backend, and lists
// every configuration the conformance suite (properties/, `hrm verify`) must hold to the reference.
// An unavailable configuration is reported with its reason, never silently replaced by another.

import type { Backend } from '../core/backend.ts';
import { referenceBackend } from '../reference/backend.ts';
import { GPU_MODES, type GpuMode } from '../accelerated/gpu/gpujs.ts';
import type { SimdVariant } from '../accelerated/simd/wat.ts';

export { GPU_MODES, type GpuMode, type SimdVariant };

/** Every backend a command or the bench can name; `auto` picks gpu on a hardware GPU, else simd. */
export const BACKEND_NAMES = ['auto', 'reference', 'simd', 'gpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
/** The backends that run as themselves (everything but `auto`). */
export const ENGINE_NAMES = ['reference', 'simd', 'gpu'] as const satisfies readonly BackendName[];
export type EngineName = (typeof ENGINE_NAMES)[number];
/** The CPU engine's two WebAssembly variants (relaxed needs V8's relaxed SIMD). */
export const SIMD_VARIANTS = ['relaxed', 'plain'] as const satisfies readonly SimdVariant[];

export interface BackendOptions {
  /** worker threads for the CPU engine (default: the machine's cores) */
  readonly threads?: number;
  /** SIMD variant for the CPU engine (default: relaxed when V8 allows it) */
  readonly simd?: SimdVariant;
  /** gpu.js mode (default: webgpu when an adapter answers, else webasm) */
  readonly gpuMode?: GpuMode;
  /** gpu only: refuse software WebGPU adapters (lavapipe/llvmpipe/SwiftShader); `auto` sets it */
  readonly requireHardwareAdapter?: boolean;
  /** where the chosen mode is reported (default: stderr) */
  readonly log?: (message: string) => void;
}

/**
 * The flags that choose and tune a backend, the same in every command that runs a model (hrm train,
 * eval, solve, trace). Plain data in the shape of the CLI's flag specs; `backendFromFlags` reads them.
 */
export const BACKEND_FLAGS = {
  backend: { kind: 'string', help: 'compute backend', choices: BACKEND_NAMES },
  threads: { kind: 'int', help: 'worker threads of the CPU engine (default: all cores)', min: 1 },
  simd: { kind: 'string', help: "the CPU engine's SIMD variant (default: relaxed where V8 allows it)", choices: SIMD_VARIANTS },
  'gpu-mode': { kind: 'string', help: 'gpu.js mode of the gpu backend (default: webgpu when an adapter answers, else webasm)', choices: GPU_MODES },
} as const;

/** The backend name and options that parsed `BACKEND_FLAGS` values ask for (`fallback` when --backend is absent). */
export const backendFromFlags = (
  flags: Readonly<Record<string, unknown>>,
  fallback: BackendName = 'auto',
): { readonly name: BackendName; readonly options: BackendOptions } => {
  const pick = <L extends string>(key: string, values: readonly L[]): L | undefined => {
    const v = flags[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
      throw new RangeError(`--${key} is ${JSON.stringify(v)}, expected one of ${values.join(', ')}`);
    }
    return v as L;
  };
  const threads = flags.threads;
  if (threads !== undefined && !(typeof threads === 'number' && Number.isInteger(threads) && threads >= 1)) {
    throw new RangeError(`--threads is ${JSON.stringify(threads)}, expected an integer ≥ 1`);
  }
  const simd = pick('simd', SIMD_VARIANTS);
  const gpuMode = pick('gpu-mode', GPU_MODES);
  return {
    name: pick('backend', BACKEND_NAMES) ?? fallback,
    options: { ...(threads !== undefined ? { threads } : {}), ...(simd !== undefined ? { simd } : {}), ...(gpuMode !== undefined ? { gpuMode } : {}) },
  };
};

/** One configuration under test: either a way to create it, or the reason it cannot run here. */
export type ConformanceTarget =
  | { readonly id: string; readonly create: () => Promise<Backend<unknown>> }
  | { readonly id: string; readonly unavailable: string };

type Factory = (options: BackendOptions) => Promise<Backend<unknown>>;

const factories: Record<EngineName, Factory> = {
  reference: async () => referenceBackend as Backend<unknown>,
  simd: async (options) => {
    const { createSimdBackend } = await import('../accelerated/simd/backend.ts');
    return (await createSimdBackend({ threads: options.threads, simd: options.simd, log: options.log })) as Backend<unknown>;
  },
  gpu: async (options) => {
    const { createGpuBackend } = await import('../accelerated/gpu/backend.ts');
    return (await createGpuBackend({ gpuMode: options.gpuMode, requireHardwareAdapter: options.requireHardwareAdapter, log: options.log })) as Backend<unknown>;
  },
};

/** Creates the named backend; `auto` picks gpu on a real GPU adapter, else the fastest CPU engine. */
export const createBackend = async (name: string, options: BackendOptions = {}): Promise<Backend<unknown>> => {
  const log = options.log ?? ((m: string) => console.error(m));
  if (name === 'auto') {
    for (const candidate of ['gpu', 'simd'] as const) {
      try {
        const b = await factories[candidate]({ ...options, requireHardwareAdapter: candidate === 'gpu', log: () => {} });
        log(`backend auto: using ${b.name} (${b.description})`);
        return b;
      } catch (e) {
        log(`backend auto: ${candidate} not used: ${(e as Error).message}`);
      }
    }
    log('backend auto: using reference (float64, plain loops)');
    return referenceBackend as Backend<unknown>;
  }
  if (!(name in factories)) {
    throw new Error(`unknown backend '${name}': expected one of ${BACKEND_NAMES.join(', ')}`);
  }
  return factories[name as EngineName](options);
};

/** Every backend configuration the conformance suite runs (the reference itself is the oracle). */
export const conformanceTargets = async (): Promise<ConformanceTarget[]> => [
  { id: 'reference', create: async () => referenceBackend as Backend<unknown> },
  ...(await simdTargets()),
  ...(await gpuTargets()),
];

/** gpu.js in each mode it has; a mode that cannot run here is listed with the reason. */
const gpuTargets = async (): Promise<ConformanceTarget[]> => {
  const { createGpuBackend } = await import('../accelerated/gpu/backend.ts');
  const { modeProblem } = await import('../accelerated/gpu/mode.ts');
  const targets: ConformanceTarget[] = [];
  for (const mode of GPU_MODES) {
    const id = `gpu-${mode}`;
    const problem = await modeProblem(mode);
    if (problem !== null) targets.push({ id, unavailable: problem });
    else targets.push({ id, create: async () => (await createGpuBackend({ gpuMode: mode, log: () => {} })) as Backend<unknown> });
  }
  return targets;
};

/** The CPU engine in both SIMD variants on 1 and 2 threads; relaxed is unavailable where V8 refuses it. */
const simdTargets = async (): Promise<ConformanceTarget[]> => {
  const { createSimdBackend } = await import('../accelerated/simd/backend.ts');
  const { relaxedSupport } = await import('../accelerated/simd/module.ts');
  const relaxed = await relaxedSupport();
  const targets: ConformanceTarget[] = [];
  for (const simd of SIMD_VARIANTS) {
    for (const threads of [1, 2]) {
      const id = `simd-${simd}-${threads}t`;
      if (simd === 'relaxed' && !relaxed.ok) targets.push({ id, unavailable: relaxed.reason });
      else targets.push({ id, create: async () => (await createSimdBackend({ simd, threads })) as Backend<unknown> });
    }
  }
  return targets;
};
