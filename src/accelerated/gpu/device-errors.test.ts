// A call the WebGPU device rejects (here a grid past its 65535 workgroups per dimension) voids its
// whole submit and would read back as zeros: the read throws, naming the device's message, and so
// does every read after it. Skipped with the reason when no WebGPU adapter answers here.

import { describe, expect, it } from 'vitest';
import { createGpuBackend } from './backend.ts';

const KERNEL = `@group(0) @binding(0) var<uniform> p: vec4<u32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> o: array<f32>;
@compute @workgroup_size(1) fn main() { o[0] = x[0]; }`;

describe('gpu webgpu device errors', () => {
  it('a read after a rejected dispatch throws with the device message instead of returning zeros', async (ctx) => {
    let b;
    try {
      b = await createGpuBackend({ gpuMode: 'webgpu', log: () => {} });
    } catch (e) {
      return ctx.skip(`webgpu unavailable: ${(e as Error).message}`);
    }
    const error = console.error;
    console.error = () => {}; // gpu.js prints the device's message too
    try {
      const x = b.fromArray([4], [1, 2, 3, 4]);
      expect(Array.from((await b.read(b.scale(x, 2))).data)).toEqual([2, 4, 6, 8]);
      const [y] = b.device.runWgsl({ name: 'too-wide', code: () => KERNEL, params: new ArrayBuffer(16), inputs: [x], outputs: [[4]], groups: [70000, 1, 1] });
      await expect(b.read(y)).rejects.toThrow(/device reported an error.*(70000|65535|workgroup)/);
      await expect(b.read(b.scale(x, 3))).rejects.toThrow(/device reported an error/);
    } finally {
      console.error = error;
      await b.close();
    }
  }, 120_000);
});
