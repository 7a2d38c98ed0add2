// Reference SwiGLU activation (float64) on a fused gate/up projection: gu[N,2I] holds the gate in
// its first I channels and "up" in the next I (the original's gate_up_proj layout). The down
// projection is a separate `linear`. Legend: N rows, I inner size.

import type { Tensor } from '../core/tensor.ts';
import { wrap64 } from '../core/tensor.ts';
import { shapes } from '../core/shapes.ts';
import { sigmoidScalar } from '../core/formulas.ts';

type T64 = Tensor<Float64Array>;

/** y[n,i] = silu(gu[n,i])·gu[n,I+i], silu(g) = g·σ(g). */
export const swiglu = (gu: T64): T64 => {
  const shape = shapes.swiglu(gu.shape);
  const I = shape[shape.length - 1];
  const N = I === 0 ? 0 : gu.data.length / (2 * I);
  const y = new Float64Array(N * I);
  for (let n = 0; n < N; n++) {
    for (let i = 0; i < I; i++) {
      const g = gu.data[n * 2 * I + i]; // gate gu[n, i]
      const u = gu.data[n * 2 * I + I + i]; // up gu[n, I + i]
      y[n * I + i] = g * sigmoidScalar(g) * u;
    }
  }
  return wrap64(shape, y);
};

/** dgate = dy·u·σ(g)·(1 + g·(1 − σ(g))), dup = dy·silu(g); laid out like gu. */
export const swigluBackward = (dy: T64, gu: T64): T64 => {
  const shape = shapes.swigluBackward(dy.shape, gu.shape);
  const I = gu.shape[gu.shape.length - 1] / 2;
  const N = I === 0 ? 0 : gu.data.length / (2 * I);
  const d = new Float64Array(gu.data.length);
  for (let n = 0; n < N; n++) {
    for (let i = 0; i < I; i++) {
      const g = gu.data[n * 2 * I + i];
      const u = gu.data[n * 2 * I + I + i];
      const sg = sigmoidScalar(g);
      const gy = dy.data[n * I + i];
      d[n * 2 * I + i] = gy * u * sg * (1 + g * (1 - sg));
      d[n * 2 * I + I + i] = gy * g * sg;
    }
  }
  return wrap64(shape, d);
};
