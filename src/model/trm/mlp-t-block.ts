// The block with the sequence-axis token mixer (`mlp_t`, TRM's option, spec §10; also HRM's two levels), forward and backward:
//   hᵀ  = transpose(h)                                  [B,D,S]
//   h1ᵀ = RMSNorm_S(hᵀ + mlp_t(hᵀ))                     SwiGLU and norm over the sequence axis S
//   h1  = transpose(h1ᵀ)                                [B,S,D]
//   h2  = RMSNorm_D(h1 + mlp(h1))                       the channel MLP as in every block
// mlp_t weights: gate_up [2·I_t, S], down [S, I_t] (I_t from S = seq_len + P, puzzle slots included).

import type { ModelContext, Grads } from '../context.ts';
import { disposeAll } from '../context.ts';
import { blockNames, mlpTNames } from '../layout.ts';
import type { Level } from '../block.ts';
import { residualMlpBackward, residualMlpForward } from '../block.ts';

/** What the backward needs: the two residual-MLP halves' inputs and intermediates (owned). */
export interface MlpTBlockTape<T> {
  readonly ht: T; // hᵀ [B,D,S]
  readonly guT: T;
  readonly sT: T;
  readonly mT: T; // mlp_t output [B,D,S]
  readonly h1: T; // [B,S,D]
  readonly gu: T;
  readonly s: T;
  readonly m: T; // channel-MLP output [B,S,D]
}

/** h2[B,S,D] = MlpTBlock_i(h) of `level` (h borrowed); with `keep` the activations stay in a tape. */
export const mlpTBlockForward = <T>(ctx: ModelContext<T>, level: Level, i: number, h: T, keep: boolean): { out: T; tape: MlpTBlockTape<T> | null } => {
  const { b } = ctx;
  const ht = b.transpose(h);
  const t = residualMlpForward(ctx, mlpTNames(level, i), ht);
  const h1 = b.transpose(t.out);
  b.dispose(t.out);
  const c = residualMlpForward(ctx, blockNames(level, i), h1);
  const tape = { ht, guT: t.gu, sT: t.s, mT: t.m, h1, gu: c.gu, s: c.s, m: c.m };
  if (keep) return { out: c.out, tape };
  disposeMlpTBlockTape(ctx, tape);
  return { out: c.out, tape: null };
};

/** dh[B,S,D] (owned) from dh2 (borrowed); the four weight gradients go into `grads`. Releases the tape. */
export const mlpTBlockBackward = <T>(ctx: ModelContext<T>, level: Level, i: number, tape: MlpTBlockTape<T>, dh2: T, grads: Grads<T>): T => {
  const { b } = ctx;
  const dh1 = residualMlpBackward(ctx, blockNames(level, i), { x: tape.h1, gu: tape.gu, s: tape.s, m: tape.m }, dh2, grads);
  const dh1t = b.transpose(dh1);
  b.dispose(dh1);
  const dht = residualMlpBackward(ctx, mlpTNames(level, i), { x: tape.ht, gu: tape.guT, s: tape.sT, m: tape.mT }, dh1t, grads);
  b.dispose(dh1t);
  const dh = b.transpose(dht);
  b.dispose(dht);
  disposeMlpTBlockTape(ctx, tape);
  return dh;
};

export const disposeMlpTBlockTape = <T>(ctx: ModelContext<T>, tape: MlpTBlockTape<T>): void => {
  disposeAll(ctx.b, tape.ht, tape.guT, tape.sT, tape.mT, tape.h1, tape.gu, tape.s, tape.m);
};
