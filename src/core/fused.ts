// The fused kernels of the Backend record (the products linearRope, linearSwiglu and their
// backwards; adamAtan2Many over many tensors) written as compositions of a backend's own unfused
// kernels: the definition of what they compute (the reference uses exactly this), and the path of
// every engine that has no one-pass form of them. Shape errors name the fused kernel.
// Intermediates are released as soon as they are used.
// Legend: B batch, S sequence, K input width, W = heads·hd output width, I SwiGLU inner size.

import type { AdamAtan2Hyper, AdamState, Backend, LinearGrads } from './backend.ts';
import { shapes } from './shapes.ts';
import type { Shape } from './tensor.ts';
import { numel, shapeToString } from './tensor.ts';

/** The unfused kernels the compositions are made of. */
export type Parts<T> = Pick<Backend<T>, 'shape' | 'dispose' | 'linear' | 'linearBackward' | 'rope' | 'ropeBackward' | 'swiglu' | 'swigluBackward'>;

/** y[B,S,W] = rope(x[B,S,K]·w[W,K]ᵀ) on the first `rotatedHeads` heads of width hd. */
export const composedLinearRope = <T>(b: Parts<T>, x: T, w: T, cos: T, sin: T, headDim: number, rotatedHeads: number): T => {
  shapes.linearRope(b.shape(x), b.shape(w), b.shape(cos), b.shape(sin), headDim, rotatedHeads);
  const raw = b.linear(x, w);
  const y = b.rope(raw, cos, sin, headDim, rotatedHeads);
  b.dispose(raw);
  return y;
};

/** dx[B,S,K], dw[W,K] of linearRope for dy[B,S,W]: linearBackward of ropeBackward(dy). */
export const composedLinearRopeBackward = <T>(
  b: Parts<T>, dy: T, x: T, w: T, cos: T, sin: T, headDim: number, rotatedHeads: number,
): LinearGrads<T> => {
  shapes.linearRopeBackward(b.shape(dy), b.shape(x), b.shape(w), b.shape(cos), b.shape(sin), headDim, rotatedHeads);
  const dRaw = b.ropeBackward(dy, cos, sin, headDim, rotatedHeads);
  const { dx, dw } = b.linearBackward(dRaw, x, w, false);
  b.dispose(dRaw);
  return { dx, dw };
};

/** gu[...,2I] = x[...,K]·w[2I,K]ᵀ and y[...,I] = swiglu(gu). */
export const composedLinearSwiglu = <T>(b: Parts<T>, x: T, w: T): { readonly y: T; readonly gu: T } => {
  shapes.linearSwiglu(b.shape(x), b.shape(w));
  const gu = b.linear(x, w);
  return { y: b.swiglu(gu), gu };
};

/** dx[...,K], dw[2I,K] of linearSwiglu for dy[...,I]: linearBackward of swigluBackward(dy, gu). */
export const composedLinearSwigluBackward = <T>(b: Parts<T>, dy: T, x: T, w: T, gu: T): LinearGrads<T> => {
  shapes.linearSwigluBackward(b.shape(dy), b.shape(x), b.shape(w), b.shape(gu));
  const dgu = b.swigluBackward(dy, gu);
  const { dx, dw } = b.linearBackward(dgu, x, w, false);
  b.dispose(dgu);
  return { dx, dw };
};

/** adamAtan2 on each (states[i], grads[i]) in order. CONSUMES every state's param, m and v. */
export const composedAdamAtan2Many = <T>(
  b: Pick<Backend<T>, 'shape' | 'adamAtan2'>, states: readonly AdamState<T>[], grads: readonly T[], hyper: AdamAtan2Hyper,
): AdamState<T>[] => {
  shapes.adamAtan2Many(states.map((s) => ({ param: b.shape(s.param), m: b.shape(s.m), v: b.shape(s.v) })), grads.map((g) => b.shape(g)));
  return states.map((s, i) => b.adamAtan2(s, grads[i], hyper));
};

/** emaMany as ema on each pair (its definition, and every engine's path without packs). CONSUMES every e. */
export const composedEmaMany = <T>(b: Pick<Backend<T>, 'shape' | 'ema'>, es: readonly T[], ps: readonly T[], decay: number): T[] => {
  shapes.emaMany(es.map((e) => b.shape(e)), ps.map((p) => b.shape(p)));
  return es.map((e, i) => b.ema(e, ps[i], decay));
};

/** pack, packedZeros and place for an engine that keeps every tensor in its own storage. */
export const withoutPacks = <T>(b: Pick<Backend<T>, 'shape' | 'zeros' | 'dispose'>): Pick<Backend<T>, 'pack' | 'packedZeros' | 'place'> => ({
  pack: (ts: readonly T[]): T[] => [...ts],
  packedZeros: (ss: readonly Shape[]): T[] => ss.map((s) => b.zeros(s)),
  place: (g: T, slot: T): T => {
    if (numel(b.shape(g)) !== numel(b.shape(slot))) throw new Error(`place: g ${shapeToString(b.shape(g))} does not fit slot ${shapeToString(b.shape(slot))}`);
    b.dispose(slot);
    return g;
  },
});
