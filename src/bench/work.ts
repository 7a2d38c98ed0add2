// The work one kernel call does, from its arguments' shapes: floating-point operations of the matrix
// products it evaluates (what the products' ceiling is measured in) and the float32 bytes it must
// move at the least (each input read once, each output written once: what the memory ceiling is
// measured in). Kernels are grouped into the families of src/reference (one file each), so a step's
// time can be set against each family's own ceiling.

import type { Shape } from '../core/tensor.ts';
import { numel } from '../core/tensor.ts';

export interface Work {
  /** operations of the matrix products (2·m·n·k each) the call evaluates; 0 for elementwise kernels */
  readonly flops: number;
  /** float32 bytes the call reads and writes at the least */
  readonly bytes: number;
}

/** The kernel family (src/reference file) of each kernel; what is not listed is memory management. */
export const FAMILY: Readonly<Record<string, string>> = {
  linear: 'linear',
  linearBackward: 'linear',
  add: 'elementwise',
  scale: 'elementwise',
  addBroadcast: 'elementwise',
  sumBatch: 'elementwise',
  rmsNorm: 'rms-norm',
  rmsNormBackward: 'rms-norm',
  addRmsNorm: 'rms-norm',
  addRmsNormBackward: 'rms-norm',
  rope: 'rope',
  ropeBackward: 'rope',
  attention: 'attention',
  attentionBackward: 'attention',
  swiglu: 'swiglu',
  swigluBackward: 'swiglu',
  linearRope: 'linear',
  linearRopeBackward: 'linear',
  linearSwiglu: 'linear',
  linearSwigluBackward: 'linear',
  embedding: 'embedding',
  embeddingBackward: 'embedding',
  concatSeq: 'sequence',
  sliceSeq: 'sequence',
  sliceSeqBackward: 'sequence',
  resetRows: 'sequence',
  crossEntropy: 'cross-entropy',
  crossEntropyBackward: 'cross-entropy',
  argmax: 'cross-entropy',
  sigmoid: 'bce',
  bceWithLogits: 'bce',
  bceWithLogitsBackward: 'bce',
  adamAtan2: 'adam-atan2',
  adamAtan2Many: 'adam-atan2',
  signSgdRows: 'sign-sgd',
  ema: 'ema',
  emaMany: 'ema',
};

/** Families whose time is set against the products' ceiling (the rest: against memory bandwidth). */
export const PRODUCT_FAMILIES: ReadonlySet<string> = new Set(['linear', 'attention']);

const NONE: Work = { flops: 0, bytes: 0 };

/** The work of `kernel(...args)`; `shapeOf` gives a tensor argument's shape. Unknown kernels do none. */
export const callWork = (kernel: string, args: readonly unknown[], shapeOf: (t: unknown) => Shape): Work => {
  const n = (i: number): number => numel(shapeOf(args[i]));
  const last = (i: number): number => {
    const s = shapeOf(args[i]);
    return s[s.length - 1];
  };
  const mem = (floats: number): Work => ({ flops: 0, bytes: 4 * floats });
  switch (kernel) {
    case 'linear': {
      // x[N,K]·w[M,K]ᵀ
      const [M, K] = shapeOf(args[1]);
      const N = n(0) / K;
      return { flops: 2 * N * K * M, bytes: 4 * (N * K + M * K + N * M) };
    }
    case 'linearBackward': {
      // dX = dY·W and dW = dYᵀ·X (the bias sum is memory work inside the same call)
      const [M, K] = shapeOf(args[2]);
      const N = n(0) / M;
      return { flops: 4 * N * K * M, bytes: 4 * (N * M + N * K + M * K + N * K + M * K) };
    }
    case 'linearRope': {
      // x[N,K]·w[W,K]ᵀ, rotated with cos/sin [S,hd] before it is stored
      const [W, K] = shapeOf(args[1]);
      const N = n(0) / K;
      return { flops: 2 * N * K * W, bytes: 4 * (N * K + W * K + N * W + n(2) + n(3)) };
    }
    case 'linearRopeBackward': {
      // dX and dW of the product for dy rotated back while it loads
      const [W, K] = shapeOf(args[2]);
      const N = n(0) / W;
      return { flops: 4 * N * K * W, bytes: 4 * (N * W + N * K + W * K + N * K + W * K + n(3) + n(4)) };
    }
    case 'linearSwiglu': {
      // gu = x[N,K]·w[2I,K]ᵀ stored with y = silu(gate)·up [N,I]
      const [M, K] = shapeOf(args[1]);
      const N = n(0) / K;
      return { flops: 2 * N * K * M, bytes: 4 * (N * K + M * K + N * M + (N * M) / 2) };
    }
    case 'linearSwigluBackward': {
      // dX and dW of the product for dgu computed from dy[N,I] and gu[N,2I] while they load
      const [M, K] = shapeOf(args[2]);
      const N = n(0) / (M / 2);
      return { flops: 4 * N * K * M, bytes: 4 * ((N * M) / 2 + N * M + N * K + M * K + N * K + M * K) };
    }
    case 'attention': {
      // per (batch, head): S = QKᵀ, O = P·V
      const [B, S, W3] = shapeOf(args[0]);
      const H = args[1] as number;
      const hd = W3 / 3 / H;
      return { flops: 4 * B * H * S * S * hd, bytes: 4 * (B * S * W3 + (B * S * W3) / 3) };
    }
    case 'attentionBackward': {
      // per (batch, head): QKᵀ again (probabilities are recomputed), dP = dO·Vᵀ, dV = Pᵀ·dO, dQ = dS·K, dK = dSᵀ·Q
      const [B, S, W3] = shapeOf(args[1]);
      const H = args[2] as number;
      const hd = W3 / 3 / H;
      return { flops: 10 * B * H * S * S * hd, bytes: 4 * (n(0) + 2 * B * S * W3) };
    }
    case 'add':
    case 'bceWithLogits':
    case 'bceWithLogitsBackward':
    case 'ema':
      return mem(3 * n(0));
    case 'scale':
    case 'sigmoid':
    case 'rmsNorm':
    case 'rope':
    case 'ropeBackward':
      return mem(2 * n(0));
    case 'addBroadcast':
      return mem(2 * n(0) + n(1));
    case 'sumBatch':
      return mem(n(0) + n(0) / shapeOf(args[0])[0]);
    case 'rmsNormBackward':
    case 'addRmsNorm':
      return mem(3 * n(0));
    case 'addRmsNormBackward':
      return mem(4 * n(0));
    case 'swiglu':
      return mem(1.5 * n(0));
    case 'swigluBackward':
      return mem(5 * n(0));
    case 'embedding':
      return mem(2 * (args[1] as Int32Array).length * last(0));
    case 'embeddingBackward':
      return mem(n(0) + (args[2] as number) * last(0));
    case 'concatSeq':
      return mem(2 * (n(0) + n(1)));
    case 'sliceSeq': {
      const [B, , D] = shapeOf(args[0]);
      return mem(2 * B * (args[2] as number) * D);
    }
    case 'sliceSeqBackward': {
      const [B, , D] = shapeOf(args[0]);
      return mem(n(0) + B * (args[1] as number) * D);
    }
    case 'resetRows':
      return mem(2 * n(0));
    case 'crossEntropy':
    case 'argmax':
      return mem(n(0));
    case 'crossEntropyBackward':
      return mem(2 * n(0));
    case 'adamAtan2': {
      // reads param, m, v, grad; writes param, m, v
      const state = args[0] as { param: unknown };
      return mem(7 * numel(shapeOf(state.param)));
    }
    case 'adamAtan2Many': {
      // adamAtan2's traffic for every tensor
      const states = args[0] as { param: unknown }[];
      return mem(7 * states.reduce((a, s) => a + numel(shapeOf(s.param)), 0));
    }
    case 'signSgdRows':
      return mem(n(1) + 2 * (args[2] as Int32Array).length * last(0));
    case 'emaMany':
      // ema's traffic for every tensor
      return mem(3 * (args[0] as unknown[]).reduce((a: number, e) => a + numel(shapeOf(e)), 0));
    default:
      return NONE;
  }
};
