// The browser entry of hrm-ts (`import … from 'hrm-ts/browser'`, or the `browser` condition of
// 'hrm-ts'): the platform-neutral library with the engines' browser adapters installed: the CPU
// engine's threads as Web Workers (the page must be cross-origin isolated, and the engine must be
// driven from a worker, where Atomics.wait is allowed), gpu.js's browser bundle on navigator.gpu.
// Nothing reachable from here imports a `node:` module (spec/browser-entry.test.ts).

import { platform as simdBrowser } from './accelerated/simd/platform-browser.ts';
import { platform as gpuBrowser } from './accelerated/gpu/platform-browser.ts';
import { simdPlatform } from './accelerated/simd/platform.ts';
import { gpuPlatform } from './accelerated/gpu/platform.ts';

simdPlatform.install(simdBrowser);
gpuPlatform.install(gpuBrowser);

export * from './library.ts';
export { browserSimdProblem } from './accelerated/simd/platform-browser.ts';
