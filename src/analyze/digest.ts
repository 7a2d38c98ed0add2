// A fingerprint of a model's weights: FNV-1a (64-bit) over the names and float64 bytes of every
// tensor, in name order. Used to show that an analysis leaves the model unchanged. Pure.

import type { Tensor } from '../core/tensor.ts';

/** 16 hex digits identifying the tensors' names, shapes and values. */
export const weightsDigest = (tensors: ReadonlyMap<string, Tensor<Float64Array>>): string => {
  // the state as two 32-bit halves (offset basis 0xcbf29ce484222325)
  let hi = 0xcbf29ce4;
  let lo = 0x84222325;
  const eat = (bytes: Uint8Array) => {
    for (const b of bytes) {
      lo = (lo ^ b) >>> 0;
      // (hi, lo) * PRIME mod 2^64 with PRIME = 2^40 + 0x1b3
      const l = lo * 0x1b3;
      const carry = Math.floor(l / 2 ** 32);
      const newLo = l >>> 0;
      const newHi = (hi * 0x1b3 + carry + ((lo << 8) >>> 0)) >>> 0;
      lo = newLo;
      hi = newHi;
    }
  };
  const enc = new TextEncoder();
  for (const name of [...tensors.keys()].sort()) {
    const t = tensors.get(name) as Tensor<Float64Array>;
    eat(enc.encode(`${name}:${t.shape.join('x')};`));
    eat(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
};
