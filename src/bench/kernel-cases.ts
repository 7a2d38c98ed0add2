// The per-kernel benchmark cases of one configuration: every kernel a training step spends its
// time in (linear layers qkv/o/gate_up/down/lm_head, the fused qkv + RoPE and gate_up + SwiGLU
// products, attention, RMSNorm, SwiGLU, RoPE, the loss, the optimizer), at the shapes that configuration uses, with the work each call does.
// Work counts: matmuls count 2·m·n·k; elementwise kernels count a nominal number of arithmetic
// operations per element (named in `flopNote`), so their GFLOP/s compare runs, not machines.

import type { Backend } from '../core/backend.ts';
import type { Shape } from '../core/tensor.ts';
import { numel } from '../core/tensor.ts';
import { Rng } from '../core/rng.ts';
import { SHARED, swigluInner, trainableParams, type BenchSizes } from './anchors.ts';

/** One kernel at one shape: `forward`/`backward` make fresh results (to be synchronised and released). */
export interface KernelCase<T> {
  readonly name: string;
  /** human-readable shapes, e.g. "x[16,81,64]·w[192,64]ᵀ" */
  readonly shapes: string;
  readonly forwardFlops: number;
  readonly backwardFlops: number;
  readonly flopNote: string;
  /** the kernel call; returns every handle it produced */
  readonly forward: () => T[];
  /** the backward call, absent for kernels without one here (the optimizer) */
  readonly backward?: () => T[];
  /** the forward's results stay owned by the case (synchronise on them, never release them) */
  readonly keepsOutputs?: boolean;
  /** releases the case's inputs */
  readonly release: () => void;
}

/** Random values of a given std, as a backend tensor. */
const randomTensor = <T>(b: Backend<T>, rng: Rng, shape: Shape, std: number): T => {
  const data = new Float64Array(numel(shape));
  for (let i = 0; i < data.length; i++) data[i] = rng.normal() * std;
  return b.fromArray(shape, data);
};

/** RoPE tables cos/sin [S, hd] as the model builds them (half-split, theta 10000). */
const ropeTables = <T>(b: Backend<T>, s: number, hd: number): { cos: T; sin: T } => {
  const cos = new Float64Array(s * hd);
  const sin = new Float64Array(s * hd);
  const half = hd / 2;
  for (let t = 0; t < s; t++) {
    for (let i = 0; i < half; i++) {
      const f = t / SHARED.ropeTheta ** ((2 * i) / hd);
      cos[t * hd + i] = cos[t * hd + i + half] = Math.cos(f);
      sin[t * hd + i] = sin[t * hd + i + half] = Math.sin(f);
    }
  }
  return { cos: b.fromArray([s, hd], cos), sin: b.fromArray([s, hd], sin) };
};

const fmt = (s: Shape): string => `[${s.join(',')}]`;

/** The kernel cases of configuration `z` on backend `b` (inputs drawn from `seed`). */
export const kernelCases = <T>(b: Backend<T>, z: BenchSizes, seed = 1): KernelCase<T>[] => {
  const rng = Rng.fromSeed(seed);
  const B = z.batchSize;
  const S = SHARED.seqLen;
  const D = z.hidden;
  const Hh = z.heads;
  const hd = D / Hh;
  const I = swigluInner(D, SHARED.expansion);
  const V = SHARED.vocab;
  const N = B * S;
  const eps = SHARED.rmsNormEps;
  const cases: KernelCase<T>[] = [];

  // ---- linear layers: y[B,S,M] = x[B,S,K]·w[M,K]ᵀ ----
  const linears: ReadonlyArray<readonly [string, number, number]> = [
    ['linear qkv', 3 * D, D],
    ['linear o', D, D],
    ['linear gate_up', 2 * I, D],
    ['linear down', D, I],
    ['linear lm_head', V, D],
  ];
  for (const [name, M, K] of linears) {
    const x = randomTensor(b, rng, [B, S, K], 1);
    const w = randomTensor(b, rng, [M, K], 1 / Math.sqrt(K));
    const dy = randomTensor(b, rng, [B, S, M], 1);
    cases.push({
      name,
      shapes: `x${fmt([B, S, K])}·w${fmt([M, K])}ᵀ`,
      forwardFlops: 2 * N * M * K,
      backwardFlops: 4 * N * M * K,
      flopNote: '2·N·M·K forward, dx and dw backward',
      forward: () => [b.linear(x, w)],
      backward: () => {
        const g = b.linearBackward(dy, x, w, false);
        return g.db === undefined ? [g.dx, g.dw] : [g.dx, g.dw, g.db];
      },
      release: () => [x, w, dy].forEach((t) => b.dispose(t)),
    });
  }

  // ---- the fused products the block calls: qkv with RoPE, gate_up with SwiGLU ----
  {
    const x = randomTensor(b, rng, [B, S, D], 1);
    const wQkv = randomTensor(b, rng, [3 * D, D], 1 / Math.sqrt(D));
    const dQkv = randomTensor(b, rng, [B, S, 3 * D], 1);
    const { cos, sin } = ropeTables(b, S, hd);
    cases.push({
      name: 'linearRope qkv',
      shapes: `x${fmt([B, S, D])}·w${fmt([3 * D, D])}ᵀ, ${2 * Hh} rotated heads`,
      forwardFlops: 2 * N * 3 * D * D,
      backwardFlops: 4 * N * 3 * D * D,
      flopNote: 'the product only (the rotation is not counted)',
      forward: () => [b.linearRope(x, wQkv, cos, sin, hd, 2 * Hh)],
      backward: () => {
        const g = b.linearRopeBackward(dQkv, x, wQkv, cos, sin, hd, 2 * Hh);
        return [g.dx, g.dw];
      },
      release: () => [x, wQkv, dQkv, cos, sin].forEach((t) => b.dispose(t)),
    });
  }
  {
    const x = randomTensor(b, rng, [B, S, D], 1);
    const wGu = randomTensor(b, rng, [2 * I, D], 1 / Math.sqrt(D));
    const dS = randomTensor(b, rng, [B, S, I], 1);
    const gu = randomTensor(b, rng, [B, S, 2 * I], 1);
    cases.push({
      name: 'linearSwiglu gate_up',
      shapes: `x${fmt([B, S, D])}·w${fmt([2 * I, D])}ᵀ`,
      forwardFlops: 2 * N * 2 * I * D,
      backwardFlops: 4 * N * 2 * I * D,
      flopNote: 'the product only (the activation is not counted)',
      forward: () => {
        const r = b.linearSwiglu(x, wGu);
        return [r.y, r.gu];
      },
      backward: () => {
        const g = b.linearSwigluBackward(dS, x, wGu, gu);
        return [g.dx, g.dw];
      },
      release: () => [x, wGu, dS, gu].forEach((t) => b.dispose(t)),
    });
  }

  // ---- attention over a fused qkv[B,S,3D] ----
  {
    const qkv = randomTensor(b, rng, [B, S, 3 * D], 1);
    const dy = randomTensor(b, rng, [B, S, D], 1);
    cases.push({
      name: 'attention',
      shapes: `qkv${fmt([B, S, 3 * D])}, ${Hh} heads of ${hd}`,
      forwardFlops: 4 * B * S * S * D,
      backwardFlops: 8 * B * S * S * D,
      flopNote: 'QKᵀ and PV (softmax not counted); backward dV, dP, dQ, dK',
      forward: () => [b.attention(qkv, Hh)],
      backward: () => [b.attentionBackward(dy, qkv, Hh)],
      release: () => [qkv, dy].forEach((t) => b.dispose(t)),
    });
  }

  // ---- RoPE on the Q and K heads of qkv ----
  {
    const x = randomTensor(b, rng, [B, S, 3 * D], 1);
    const dy = randomTensor(b, rng, [B, S, 3 * D], 1);
    const { cos, sin } = ropeTables(b, S, hd);
    const rotated = N * 2 * D;
    cases.push({
      name: 'rope',
      shapes: `x${fmt([B, S, 3 * D])}, ${2 * Hh} rotated heads`,
      forwardFlops: 3 * rotated,
      backwardFlops: 3 * rotated,
      flopNote: '3 per rotated element',
      forward: () => [b.rope(x, cos, sin, hd, 2 * Hh)],
      backward: () => [b.ropeBackward(dy, cos, sin, hd, 2 * Hh)],
      release: () => [x, dy, cos, sin].forEach((t) => b.dispose(t)),
    });
  }

  // ---- RMSNorm, plain and fused with the residual add ----
  {
    const x = randomTensor(b, rng, [N, D], 1);
    const y = randomTensor(b, rng, [N, D], 1);
    const dy = randomTensor(b, rng, [N, D], 1);
    cases.push({
      name: 'rmsNorm',
      shapes: `x${fmt([N, D])}`,
      forwardFlops: 3 * N * D,
      backwardFlops: 6 * N * D,
      flopNote: '3 per element forward, 6 backward',
      forward: () => [b.rmsNorm(x, eps)],
      backward: () => [b.rmsNormBackward(dy, x, eps)],
      release: () => {},
    });
    cases.push({
      name: 'addRmsNorm',
      shapes: `a${fmt([N, D])} + b${fmt([N, D])}`,
      forwardFlops: 4 * N * D,
      backwardFlops: 7 * N * D,
      flopNote: '4 per element forward, 7 backward',
      forward: () => [b.addRmsNorm(x, y, eps)],
      backward: () => [b.addRmsNormBackward(dy, x, y, eps)],
      release: () => [x, y, dy].forEach((t) => b.dispose(t)),
    });
  }

  // ---- SwiGLU on a fused gate/up gu[B,S,2I] ----
  {
    const gu = randomTensor(b, rng, [B, S, 2 * I], 1);
    const dy = randomTensor(b, rng, [B, S, I], 1);
    cases.push({
      name: 'swiglu',
      shapes: `gu${fmt([B, S, 2 * I])}`,
      forwardFlops: 5 * N * I,
      backwardFlops: 10 * N * I,
      flopNote: '5 per output forward (exp counted once), 10 backward',
      forward: () => [b.swiglu(gu)],
      backward: () => [b.swigluBackward(dy, gu)],
      release: () => [gu, dy].forEach((t) => b.dispose(t)),
    });
  }

  // ---- stablemax cross-entropy over logits[B,T,V] ----
  {
    const logits = randomTensor(b, rng, [B, S, V], 1);
    const labels = new Int32Array(N);
    for (let i = 0; i < N; i++) labels[i] = rng.int(1, V - 1);
    const rowScale = new Float64Array(B).fill(1 / B);
    cases.push({
      name: 'loss (stablemax CE)',
      shapes: `logits${fmt([B, S, V])}`,
      forwardFlops: 4 * N * V,
      backwardFlops: 6 * N * V,
      flopNote: '4 per logit forward, 6 backward',
      forward: () => [b.crossEntropy(logits, labels, 'stablemax_cross_entropy')],
      backward: () => [b.crossEntropyBackward(logits, labels, 'stablemax_cross_entropy', rowScale)],
      release: () => b.dispose(logits),
    });
  }

  // ---- AdamATan2 over every trainable parameter at once (the optimizer's share of a step) ----
  {
    const P = trainableParams(z);
    // laid out as [1, P, 1] so the runner can synchronise on one element without a reshape alias
    const flat: Shape = [1, P, 1];
    let state = {
      param: randomTensor(b, rng, flat, 0.05),
      m: b.zeros(flat),
      v: b.zeros(flat),
    };
    const grad = randomTensor(b, rng, flat, 1e-3);
    let step = 0;
    cases.push({
      name: 'optimizer (adamAtan2)',
      shapes: `${P} parameters`,
      forwardFlops: 12 * P,
      backwardFlops: 0,
      flopNote: '12 per parameter (atan2 counted once)',
      keepsOutputs: true,
      forward: () => {
        step += 1;
        state = b.adamAtan2(state, grad, { lr: 1e-4, weightDecay: 0.1, beta1: 0.9, beta2: 0.95, step });
        return [state.param];
      },
      release: () => [state.param, state.m, state.v, grad].forEach((t) => b.dispose(t)),
    });
  }
  return cases;
};
