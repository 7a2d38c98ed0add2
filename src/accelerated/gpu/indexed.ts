// Cell-wise WGSL kernels (webgpu): one thread per output cell, the cell's flat index i a u32, so
// splitting it into row, column, head… is exact for every tensor a buffer can hold. The gpu.js
// bodies of the same kernels compute with float32 numbers: floor((i + 0.5)/W) is exact only below
// 2^23 cells and i itself only below 2^24, and a paper-width step (batch 384: qkv 48M cells, gate_up
// 97M) is far past that. A kernel gives its inputs, its u32 sizes and f32 scalars by name, and a
// WGSL function body that returns cell i's value (`p.NAME` reads a size or scalar; inputs are
// `array<f32>` by name, or `array<u32>` for host integers). This file is the plumbing only: parameter block, bindings, grid,
// and the copy that gives an in-place kernel a buffer of its own.

import type { Shape } from '../../core/tensor.ts';
import { numel } from '../../core/tensor.ts';
import type { Device, GpuTensor } from './device.ts';

export interface IndexedKernel {
  /** the pipeline's name (one per kernel body) */
  readonly name: string;
  /** input binding names, in argument order */
  readonly inputs: readonly string[];
  /** the inputs (by name) declared `array<u32>`: host integers handed over as their bits in a Float32Array */
  readonly u32?: readonly string[];
  /** u32 sizes, in parameter-block order */
  readonly sizes: readonly string[];
  /** f32 scalars, after the sizes */
  readonly scalars?: readonly string[];
  /** WGSL statements of `fn cell(i: u32) -> f32` */
  readonly body: string;
  /** WGSL functions the body calls (optional) */
  readonly helpers?: string;
}

const THREADS = 256;
const MAX_GROUPS = 65535;

/** The kernel's WGSL: a parameter block (n, gx, sizes, scalars), inputs, out; the cell function. */
const source = (k: IndexedKernel): string => {
  const fields = ['n: u32', 'gx: u32', ...k.sizes.map((s) => `${s}: u32`), ...(k.scalars ?? []).map((s) => `${s}: f32`)];
  return `
struct P { ${fields.join(', ')} }
@group(0) @binding(0) var<uniform> p: P;
${k.inputs.map((name, j) => `@group(0) @binding(${1 + j}) var<storage, read> ${name}: array<${k.u32?.includes(name) ? 'u32' : 'f32'}>;`).join('\n')}
@group(0) @binding(${1 + k.inputs.length}) var<storage, read_write> out: array<f32>;
${k.helpers ?? ''}
fn cell(i: u32) -> f32 {
${k.body}
}

@compute @workgroup_size(${THREADS})
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let i = (wid.y * p.gx + wid.x) * ${THREADS}u + lid.x;
  if (i >= p.n) { return; }
  out[i] = cell(i);
}
`;
};

/**
 * Runs `k` over a fresh output of `shape` (webgpu only): inputs in `k.inputs` order, sizes and
 * scalars by name. The grid is split over x/y past 65535 workgroups.
 */
export const runIndexed = (
  dev: Device, k: IndexedKernel, inputs: readonly (GpuTensor | Float32Array)[], shape: Shape,
  sizes: Readonly<Record<string, number>>, scalars: Readonly<Record<string, number>> = {},
): GpuTensor => {
  if (inputs.length !== k.inputs.length) throw new Error(`${k.name}: ${inputs.length} inputs, the kernel reads ${k.inputs.length}`);
  const n = numel(shape);
  const blocks = Math.ceil(n / THREADS);
  const gx = Math.max(1, Math.min(blocks, MAX_GROUPS));
  const words = 2 + k.sizes.length + (k.scalars ?? []).length;
  const params = new ArrayBuffer(Math.ceil(words / 4) * 16);
  const u32 = new Uint32Array(params);
  const f32 = new Float32Array(params);
  u32[0] = n;
  u32[1] = gx;
  k.sizes.forEach((s, j) => {
    const v = sizes[s];
    if (!(Number.isInteger(v) && v >= 0 && v < 2 ** 32)) throw new Error(`${k.name}: size '${s}' is ${v}, expected an integer in [0, 2^32)`);
    u32[2 + j] = v;
  });
  (k.scalars ?? []).forEach((s, j) => {
    const v = scalars[s];
    if (typeof v !== 'number') throw new Error(`${k.name}: scalar '${s}' is missing`);
    f32[2 + k.sizes.length + j] = v;
  });
  const [out] = dev.runWgsl({ name: k.name, code: () => source(k), params, inputs, outputs: [shape], groups: [gx, Math.ceil(blocks / gx), 1] });
  return out;
};

/** x[i]: a tensor's values in a buffer of its own. */
const COPY: IndexedKernel = { name: 'copy.cells', inputs: ['x'], sizes: [], body: '  return x[i];' };

/**
 * Handles a WGSL kernel may write in place (webgpu): each of ts that shares its values with
 * another handle (or with another of ts) is copied into a fresh buffer and released. CONSUMES ts.
 */
export const ownBuffers = (dev: Device, ts: readonly GpuTensor[]): GpuTensor[] => {
  const seen = new Set<object>();
  const copied = new Set<GpuTensor>();
  const out = ts.map((t) => {
    const mine = dev.writableInPlace(t) && !seen.has(t.storage);
    seen.add(t.storage);
    if (mine) return t;
    copied.add(t);
    return runIndexed(dev, COPY, [t], t.shape, {});
  });
  // released once every copy is queued (an alias's values stay readable until then)
  for (const t of copied) if (!out.includes(t)) dev.release(t);
  return out;
};
