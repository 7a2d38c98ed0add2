// The output heads (spec §1.8), forward and backward:
//   logits[B,T,V] = lm_head(z_H[:, P:, :])           (no bias; puzzle slots dropped)
//   q[B,2]        = q_head(z_H[:, 0, :]) + bias       (column 0 = halt, 1 = continue)
// Position 0 is the first puzzle slot when P ≥ 1, else the first token.

import type { ModelContext, Grads } from './context.ts';
import { addGrad, disposeAll } from './context.ts';

export interface HeadsTape<T> {
  readonly zTok: T | null; // z_H[:, P:, :] when P > 0 (owned); null when it is z_H itself (borrowed)
  readonly zH: T; // borrowed
  readonly z0: T; // z_H[:, 0, :] as [B, D] (owned)
}

/** q[B,2] from zH (borrowed); with `keep` also the tape for headsBackward, else the slice is released. */
export const qHeadForward = <T>(ctx: ModelContext<T>, zH: T, B: number): { q: T; z0: T } => {
  const { b } = ctx;
  const z0 = b.reshape(b.sliceSeq(zH, 0, 1), [B, ctx.arch.hidden_size]);
  const q = b.linear(z0, ctx.w('q_head.weight'), ctx.w('q_head.bias'));
  return { q, z0 };
};

/** logits[B,T,V] and q[B,2] from zH[B,S,D] (borrowed), with the tape for headsBackward. */
export const headsForward = <T>(ctx: ModelContext<T>, zH: T, B: number): { logits: T; q: T; tape: HeadsTape<T> } => {
  const { b } = ctx;
  const P = ctx.sizes.puzzleEmbLen;
  const zTok = P > 0 ? b.sliceSeq(zH, P, ctx.arch.seq_len) : null;
  const logits = b.linear(zTok ?? zH, ctx.w('lm_head.weight'));
  const { q, z0 } = qHeadForward(ctx, zH, B);
  return { logits, q, tape: { zTok, zH, z0 } };
};

/** dzH[B,S,D] (owned) from dlogits and dq (borrowed); lm_head and q_head gradients go into `grads`. Releases the tape. */
export const headsBackward = <T>(ctx: ModelContext<T>, tape: HeadsTape<T>, dlogits: T, dq: T, B: number, grads: Grads<T>): T => {
  const { b } = ctx;
  const P = ctx.sizes.puzzleEmbLen;
  const S = ctx.sizes.totalSeqLen;
  const D = ctx.arch.hidden_size;
  const lm = b.linearBackward(dlogits, tape.zTok ?? tape.zH, ctx.w('lm_head.weight'), false);
  addGrad(b, grads, 'lm_head.weight', lm.dw);
  let dzH = lm.dx;
  if (P > 0) {
    dzH = b.sliceSeqBackward(lm.dx, S, P);
    b.dispose(lm.dx);
  }
  const qb = b.linearBackward(dq, tape.z0, ctx.w('q_head.weight'), true);
  addGrad(b, grads, 'q_head.weight', qb.dw);
  addGrad(b, grads, 'q_head.bias', qb.db as T);
  const dz0view = b.reshape(qb.dx, [B, 1, D]); // aliases qb.dx: release through the view only
  const dz0 = b.sliceSeqBackward(dz0view, S, 0);
  b.dispose(dz0view);
  const out = b.add(dzH, dz0);
  disposeAll(b, dzH, dz0, tape.zTok ?? undefined, tape.z0);
  return out;
};
