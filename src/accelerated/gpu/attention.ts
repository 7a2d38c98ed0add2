// Non-causal multi-head attention on gpu.js (float32) over a fused qkv[B,S,3·W] (all Q heads, then
// all K heads, then all V heads), and its backward. Launch sequence: scores → row statistics
// (max, Σexp) → probabilities → output; the backward recomputes the probabilities, then dP, the
// row dots Σ_t P·dP, dS and one launch writing dQ|dK|dV into the fused layout.
// Legend: B batch, S sequence, Hh heads, hd head dim, W = Hh·hd, F = 3·W, BH = B·Hh.

import { shapes } from '../../core/shapes.ts';
import type { Device, GpuTensor } from './device.ts';
import type { KernelThis } from './gpujs.ts';

type Dims = KernelThis<{ S: number; Hh: number; hd: number; W: number; F: number }>;

/** L[bh,s,t] = (Q[b,s,h,:]·K[b,t,h,:])·scale; thread i = (bh·S + s)·S + t. */
function scoresBody(this: Dims, qkv: Float32Array, scale: number): number {
  const i = this.thread.x;
  const S = this.constants.S;
  const r = Math.floor((i + 0.5) / S);
  const t = i - r * S;
  const bh = Math.floor((r + 0.5) / S);
  const s = r - bh * S;
  const b = Math.floor((bh + 0.5) / this.constants.Hh);
  const h = bh - b * this.constants.Hh;
  const q = (b * S + s) * this.constants.F + h * this.constants.hd;
  const k = (b * S + t) * this.constants.F + this.constants.W + h * this.constants.hd;
  let acc = 0;
  for (let j = 0; j < this.constants.hd; j++) {
    acc += qkv[q + j] * qkv[k + j];
  }
  return acc * scale;
}

/** st[2r] = max_t L[r,t], st[2r+1] = Σ_t exp(L[r,t] − max); r = bh·S + s. */
function rowStatsBody(this: Dims, L: Float32Array): number {
  const j = this.thread.x;
  const r = Math.floor((j + 0.5) / 2);
  const base = r * this.constants.S;
  let mx = L[base];
  for (let t = 1; t < this.constants.S; t++) {
    mx = Math.max(mx, L[base + t]);
  }
  if (j - r * 2 < 0.5) {
    return mx;
  }
  let sum = 0;
  for (let u = 0; u < this.constants.S; u++) {
    sum += Math.exp(L[base + u] - mx);
  }
  return sum;
}

/** P[r,t] = exp(L[r,t] − max_r)/Σ_r. */
function probsBody(this: Dims, L: Float32Array, st: Float32Array): number {
  const i = this.thread.x;
  const r = Math.floor((i + 0.5) / this.constants.S);
  return Math.exp(L[i] - st[2 * r]) / st[2 * r + 1];
}

/** out[b,s,h·hd+j] = Σ_t P[bh,s,t]·V[b,t,h,j]; thread i = (b·S + s)·W + h·hd + j. */
function outputBody(this: Dims, P: Float32Array, qkv: Float32Array): number {
  const i = this.thread.x;
  const S = this.constants.S;
  const row = Math.floor((i + 0.5) / this.constants.W);
  const c = i - row * this.constants.W;
  const b = Math.floor((row + 0.5) / S);
  const s = row - b * S;
  const h = Math.floor((c + 0.5) / this.constants.hd);
  const p = ((b * this.constants.Hh + h) * S + s) * S;
  const v = b * S * this.constants.F + 2 * this.constants.W + c;
  let acc = 0;
  for (let t = 0; t < S; t++) {
    acc += P[p + t] * qkv[v + t * this.constants.F];
  }
  return acc;
}

/** dP[bh,s,t] = Σ_j dy[b,s,h,j]·V[b,t,h,j]. */
function dProbsBody(this: Dims, dy: Float32Array, qkv: Float32Array): number {
  const i = this.thread.x;
  const S = this.constants.S;
  const r = Math.floor((i + 0.5) / S);
  const t = i - r * S;
  const bh = Math.floor((r + 0.5) / S);
  const s = r - bh * S;
  const b = Math.floor((bh + 0.5) / this.constants.Hh);
  const h = bh - b * this.constants.Hh;
  const g = (b * S + s) * this.constants.W + h * this.constants.hd;
  const v = (b * S + t) * this.constants.F + 2 * this.constants.W + h * this.constants.hd;
  let acc = 0;
  for (let j = 0; j < this.constants.hd; j++) {
    acc += dy[g + j] * qkv[v + j];
  }
  return acc;
}

/** dS[r,t] = P[r,t]·(dP[r,t] − Σ_u P[r,u]·dP[r,u])·scale (softmax backward with the score scale). */
function dScoresBody(this: Dims, P: Float32Array, dP: Float32Array, scale: number): number {
  const i = this.thread.x;
  const r = Math.floor((i + 0.5) / this.constants.S);
  const base = r * this.constants.S;
  let dot = 0;
  for (let u = 0; u < this.constants.S; u++) {
    dot += P[base + u] * dP[base + u];
  }
  return P[i] * (dP[i] - dot) * scale;
}

/**
 * dqkv[b,s,part·W + h·hd + j]: part 0 dQ = Σ_t dS[bh,s,t]·K[b,t], part 1 dK = Σ_u dS[bh,u,s]·Q[b,u],
 * part 2 dV = Σ_u P[bh,u,s]·dy[b,u]; thread i = (b·S + s)·F + c.
 */
function dQkvBody(this: Dims, dS: Float32Array, P: Float32Array, qkv: Float32Array, dy: Float32Array): number {
  const i = this.thread.x;
  const S = this.constants.S;
  const W = this.constants.W;
  const F = this.constants.F;
  const row = Math.floor((i + 0.5) / F);
  const c = i - row * F;
  const b = Math.floor((row + 0.5) / S);
  const s = row - b * S;
  const part = Math.floor((c + 0.5) / W);
  const cc = c - part * W;
  const h = Math.floor((cc + 0.5) / this.constants.hd);
  const bh = (b * this.constants.Hh + h) * S;
  let acc = 0;
  if (part < 0.5) {
    for (let t = 0; t < S; t++) {
      acc += dS[(bh + s) * S + t] * qkv[(b * S + t) * F + W + cc];
    }
  } else if (part < 1.5) {
    for (let u = 0; u < S; u++) {
      acc += dS[(bh + u) * S + s] * qkv[(b * S + u) * F + cc];
    }
  } else {
    for (let u = 0; u < S; u++) {
      acc += P[(bh + u) * S + s] * dy[(b * S + u) * W + cc];
    }
  }
  return acc;
}

const dimsOf = (qkv: GpuTensor, numHeads: number): { S: number; Hh: number; hd: number; W: number; F: number } => {
  const [, S, F] = qkv.shape;
  const W = F / 3;
  return { S, Hh: numHeads, hd: W / numHeads, W, F };
};

/** P[B,Hh,S,S] = softmax(QKᵀ/√hd) over the last axis. */
const probabilities = (dev: Device, qkv: GpuTensor, c: ReturnType<typeof dimsOf>, name: string): GpuTensor => {
  const B = qkv.shape[0];
  const rowsShape = [B, c.Hh, c.S];
  const L = dev.run({ name: `${name}.scores`, body: scoresBody, constants: c, args: [qkv, 1 / Math.sqrt(c.hd)], shape: [...rowsShape, c.S] });
  const st = dev.run({ name: `${name}.rowStats`, body: rowStatsBody, constants: c, args: [L], shape: [...rowsShape, 2] });
  const P = dev.run({ name: `${name}.probs`, body: probsBody, constants: c, args: [L, st], shape: [...rowsShape, c.S] });
  dev.release(L);
  dev.release(st);
  return P;
};

/** out[B,S,W] = per head softmax(Q_h K_hᵀ/√hd)·V_h. */
export const attention = (dev: Device, qkv: GpuTensor, numHeads: number): GpuTensor => {
  const shape = shapes.attention(qkv.shape, numHeads);
  const c = dimsOf(qkv, numHeads);
  const P = probabilities(dev, qkv, c, 'attention');
  const out = dev.run({ name: 'attention.output', body: outputBody, constants: c, args: [P, qkv], shape });
  dev.release(P);
  return out;
};

/** dqkv[B,S,3W] from dy[B,S,W]. */
export const attentionBackward = (dev: Device, dy: GpuTensor, qkv: GpuTensor, numHeads: number): GpuTensor => {
  const shape = shapes.attentionBackward(dy.shape, qkv.shape, numHeads);
  const c = dimsOf(qkv, numHeads);
  const P = probabilities(dev, qkv, c, 'attentionBackward');
  const dP = dev.run({ name: 'attentionBackward.dProbs', body: dProbsBody, constants: c, args: [dy, qkv], shape: P.shape });
  const dS = dev.run({ name: 'attentionBackward.dScores', body: dScoresBody, constants: c, args: [P, dP, 1 / Math.sqrt(c.hd)], shape: P.shape });
  dev.release(dP);
  const dqkv = dev.run({ name: 'attentionBackward.dQkv', body: dQkvBody, constants: c, args: [dS, P, qkv, dy], shape });
  dev.release(dS);
  dev.release(P);
  return dqkv;
};
