// Reference multi-head attention (float64), non-causal, over a fused qkv projection laid out as
// all Q heads, then all K heads, then all V heads (hd channels each). Scale 1/sqrt(hd), softmax over
// keys, no mask. Forward and backward side by side; the backward recomputes the probabilities.
// Legend: B batch, S positions, Hh heads, hd head dim, C = Hh·hd, qkv row width 3C.

import type { Tensor } from '../core/tensor.ts';
import { wrap64 } from '../core/tensor.ts';
import { shapes } from '../core/shapes.ts';

type T64 = Tensor<Float64Array>;

/** P[s,t] = softmax_t(⟨q_s, k_t⟩·scale) for one (batch b, head hh), written into p[S·S]. */
const probabilities = (qkv: Float64Array, b: number, hh: number, S: number, C: number, hd: number, p: Float64Array): void => {
  const scale = 1 / Math.sqrt(hd);
  const W = 3 * C;
  for (let s = 0; s < S; s++) {
    const q = (b * S + s) * W + hh * hd; // Q head hh at qkv[(b*S + s)*3C + hh*hd]
    let max = -Infinity;
    for (let t = 0; t < S; t++) {
      const k = (b * S + t) * W + C + hh * hd; // K head hh at offset C
      let dot = 0;
      for (let i = 0; i < hd; i++) dot += qkv[q + i] * qkv[k + i];
      p[s * S + t] = dot * scale;
      if (p[s * S + t] > max) max = p[s * S + t];
    }
    let sum = 0;
    for (let t = 0; t < S; t++) {
      p[s * S + t] = Math.exp(p[s * S + t] - max);
      sum += p[s * S + t];
    }
    for (let t = 0; t < S; t++) p[s * S + t] /= sum;
  }
};

/** out[b,s,hh·hd + i] = Σ_t P_bh[s,t] · V[b,t,hh,i]. */
export const attention = (qkv: T64, numHeads: number): T64 => {
  const [B, S, C] = shapes.attention(qkv.shape, numHeads);
  const hd = C / numHeads;
  const W = 3 * C;
  const out = new Float64Array(B * S * C);
  const p = new Float64Array(S * S);
  for (let b = 0; b < B; b++) {
    for (let hh = 0; hh < numHeads; hh++) {
      probabilities(qkv.data, b, hh, S, C, hd, p);
      for (let s = 0; s < S; s++) {
        const o = (b * S + s) * C + hh * hd;
        for (let t = 0; t < S; t++) {
          const v = (b * S + t) * W + 2 * C + hh * hd; // V head hh at offset 2C
          const pst = p[s * S + t];
          for (let i = 0; i < hd; i++) out[o + i] += pst * qkv.data[v + i];
        }
      }
    }
  }
  return wrap64([B, S, C], out);
};

/**
 * dqkv[B,S,3C] given dy[B,S,C]: per (b, head) with O = P·V:
 * dV = Pᵀ·dO, dP = dO·Vᵀ, dZ[s,t] = P[s,t]·(dP[s,t] − Σ_u P[s,u]·dP[s,u]),
 * dQ = scale·dZ·K, dK = scale·dZᵀ·Q.
 */
export const attentionBackward = (dy: T64, qkv: T64, numHeads: number): T64 => {
  const qkvShape = shapes.attentionBackward(dy.shape, qkv.shape, numHeads);
  const [B, S, W] = qkvShape;
  const C = W / 3;
  const hd = C / numHeads;
  const scale = 1 / Math.sqrt(hd);
  const x = qkv.data;
  const g = new Float64Array(x.length);
  const p = new Float64Array(S * S);
  const dz = new Float64Array(S * S);
  for (let b = 0; b < B; b++) {
    for (let hh = 0; hh < numHeads; hh++) {
      probabilities(x, b, hh, S, C, hd, p);
      for (let s = 0; s < S; s++) {
        const o = (b * S + s) * C + hh * hd; // dy[(b*S + s)*C + hh*hd + i]
        let rowDot = 0;
        for (let t = 0; t < S; t++) {
          const v = (b * S + t) * W + 2 * C + hh * hd;
          let dp = 0;
          for (let i = 0; i < hd; i++) {
            dp += dy.data[o + i] * x[v + i];
            g[v + i] += p[s * S + t] * dy.data[o + i]; // dV[t] += P[s,t]·dO[s]
          }
          dz[s * S + t] = dp;
          rowDot += p[s * S + t] * dp;
        }
        for (let t = 0; t < S; t++) dz[s * S + t] = p[s * S + t] * (dz[s * S + t] - rowDot);
      }
      for (let s = 0; s < S; s++) {
        const q = (b * S + s) * W + hh * hd;
        for (let t = 0; t < S; t++) {
          const k = (b * S + t) * W + C + hh * hd;
          const d = dz[s * S + t] * scale;
          for (let i = 0; i < hd; i++) {
            g[q + i] += d * x[k + i]; // dQ[s] += dZ[s,t]·K[t]
            g[k + i] += d * x[q + i]; // dK[t] += dZ[s,t]·Q[s]
          }
        }
      }
    }
  }
  return wrap64(qkvShape, g);
};
