// The backend registry: turns a name from code or the CLI (`--backend`) into a Backend, and lists
// every configuration the conformance suite (properties/, `hrm verify`) must hold to the reference.
// An unavailable configuration is reported with its reason, never silently replaced by another.

import type { Backend } from '../core/backend.ts';
import { referenceBackend } from '../reference/backend.ts';

export type BackendName = 'reference' | 'simd' | 'gpu' | 'auto';
export const BACKEND_NAMES: readonly BackendName[] = ['auto', 'reference', 'simd', 'gpu'];

export type GpuMode = 'webgpu' | 'webasm' | 'headlessgl' | 'cpu';
export type SimdVariant = 'relaxed' | 'plain';

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

/** One configuration under test: either a way to create it, or the reason it cannot run here. */
export type ConformanceTarget =
  | { readonly id: string; readonly create: () => Promise<Backend<unknown>> }
  | { readonly id: string; readonly unavailable: string };

type Factory = (options: BackendOptions) => Promise<Backend<unknown>>;

const factories: Record<Exclude<BackendName, 'auto'>, Factory> = {
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
  return factories[name as Exclude<BackendName, 'auto'>](options);
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
  for (const mode of ['webasm', 'webgpu', 'cpu', 'headlessgl'] as const) {
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
  for (const simd of ['relaxed', 'plain'] as const) {
    for (const threads of [1, 2]) {
      const id = `simd-${simd}-${threads}t`;
      if (simd === 'relaxed' && !relaxed.ok) targets.push({ id, unavailable: relaxed.reason });
      else targets.push({ id, create: async () => (await createSimdBackend({ simd, threads })) as Backend<unknown> });
    }
  }
  return targets;
};
