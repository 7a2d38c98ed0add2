// One post-norm transformer block (spec §1.7), forward and backward side by side:
//   h1 = RMSNorm(h + o_proj(Attention(RoPE(qkv_proj(h)))))
//   h2 = RMSNorm(h1 + down_proj(SwiGLU(gate_up_proj(h1))))
// RoPE∘qkv_proj and SwiGLU∘gate_up_proj are the backend's fused products (linearRope, linearSwiglu).
// h, h1, h2: [B,S,D]; qkv: [B,S,3D]; gu: [B,S,2I]; s: [B,S,I]. No biases, non-causal attention,
// weightless RMSNorm. Without a tape every intermediate is released as soon as it is used.

import type { ModelContext, Grads } from './context.ts';
import { addGrad, disposeAll } from './context.ts';
import { blockNames } from './layout.ts';

/** What the backward of one block needs (all owned by the tape except `h`, the borrowed input). */
export interface BlockTape<T> {
  readonly h: T;
  readonly qkv: T; // after RoPE: what attention consumed
  readonly a: T;
  readonly o: T;
  readonly h1: T;
  readonly gu: T;
  readonly s: T;
  readonly m: T;
}

export type Level = 'H_level' | 'L_level';

/** h2[B,S,D] = Block_i(h); with `keep` the activations stay in a tape for blockBackward. */
export const blockForward = <T>(
  ctx: ModelContext<T>,
  level: Level,
  i: number,
  h: T,
  keep: boolean,
): { out: T; tape: BlockTape<T> | null } => {
  const { b } = ctx;
  const n = blockNames(level, i);
  const eps = ctx.arch.rms_norm_eps;
  const Hh = ctx.arch.num_heads;
  // RoPE on the Q and K heads, fused with their projection
  const qkv = ctx.rope === null ? b.linear(h, ctx.w(n.qkv)) : b.linearRope(h, ctx.w(n.qkv), ctx.rope.cos, ctx.rope.sin, ctx.sizes.headDim, 2 * Hh);
  const a = b.attention(qkv, Hh);
  const o = b.linear(a, ctx.w(n.o));
  const h1 = b.addRmsNorm(h, o, eps);
  const { out, gu, s, m } = residualMlpForward(ctx, n, h1);
  if (keep) return { out, tape: { h, qkv, a, o, h1, gu, s, m } };
  disposeAll(b, qkv, a, o, h1, gu, s, m);
  return { out, tape: null };
};

/**
 * The residual SwiGLU half of a block over the last axis of x[..., W] (W = D for the channel MLP,
 * S for TRM's mlp_t on the transposed state): out = RMSNorm(x + down(SwiGLU(gate_up(x)))).
 * Returns the output and its intermediates gu [..., 2I], s [..., I], m [..., W] (all owned).
 */
export const residualMlpForward = <T>(ctx: ModelContext<T>, n: { readonly gateUp: string; readonly down: string }, x: T): { out: T; gu: T; s: T; m: T } => {
  const { b } = ctx;
  const { y: s, gu } = b.linearSwiglu(x, ctx.w(n.gateUp));
  const m = b.linear(s, ctx.w(n.down));
  return { out: b.addRmsNorm(x, m, ctx.arch.rms_norm_eps), gu, s, m };
};

/** dx (owned) of residualMlpForward from dout (borrowed); its two weight gradients go into `grads`. Borrows the tape. */
export const residualMlpBackward = <T>(
  ctx: ModelContext<T>,
  n: { readonly gateUp: string; readonly down: string },
  tape: { readonly x: T; readonly gu: T; readonly s: T; readonly m: T },
  dout: T,
  grads: Grads<T>,
): T => {
  const { b } = ctx;
  // out = RMSNorm(x + m): d(x + m) flows to both
  const dsum = b.addRmsNormBackward(dout, tape.x, tape.m, ctx.arch.rms_norm_eps);
  const down = b.linearBackward(dsum, tape.s, ctx.w(n.down), false);
  addGrad(b, grads, n.down, down.dw);
  const gateUp = b.linearSwigluBackward(down.dx, tape.x, ctx.w(n.gateUp), tape.gu);
  b.dispose(down.dx);
  addGrad(b, grads, n.gateUp, gateUp.dw);
  const dx = b.add(dsum, gateUp.dx);
  disposeAll(b, dsum, gateUp.dx);
  return dx;
};

/** dh[B,S,D] from dh2 (borrowed); the four weight gradients go into `grads`. Releases the tape. */
export const blockBackward = <T>(ctx: ModelContext<T>, level: Level, i: number, tape: BlockTape<T>, dh2: T, grads: Grads<T>): T => {
  const { b } = ctx;
  const n = blockNames(level, i);
  const eps = ctx.arch.rms_norm_eps;
  const Hh = ctx.arch.num_heads;
  const dh1 = residualMlpBackward(ctx, n, { x: tape.h1, gu: tape.gu, s: tape.s, m: tape.m }, dh2, grads);
  // h1 = RMSNorm(h + o)
  const dsum1 = b.addRmsNormBackward(dh1, tape.h, tape.o, eps);
  b.dispose(dh1);
  const oBack = b.linearBackward(dsum1, tape.a, ctx.w(n.o), false);
  addGrad(b, grads, n.o, oBack.dw);
  const dqkv = b.attentionBackward(oBack.dx, tape.qkv, Hh);
  b.dispose(oBack.dx);
  const qkvBack = ctx.rope === null
    ? b.linearBackward(dqkv, tape.h, ctx.w(n.qkv), false)
    : b.linearRopeBackward(dqkv, tape.h, ctx.w(n.qkv), ctx.rope.cos, ctx.rope.sin, ctx.sizes.headDim, 2 * Hh);
  b.dispose(dqkv);
  addGrad(b, grads, n.qkv, qkvBack.dw);
  const dh = b.add(dsum1, qkvBack.dx);
  disposeAll(b, dsum1, qkvBack.dx);
  disposeBlockTape(ctx, tape);
  return dh;
};

/** Releases a tape's owned activations (not its borrowed input h). */
export const disposeBlockTape = <T>(ctx: ModelContext<T>, tape: BlockTape<T>): void => {
  disposeAll(ctx.b, tape.qkv, tape.a, tape.o, tape.h1, tape.gu, tape.s, tape.m);
};
