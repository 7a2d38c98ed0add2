// The input embedding (spec §1.4), forward and backward:
//   e = concat(puzzle slots [B,P,D] (the row's puzzle vector zero-padded to P·D), EmbedTokens[inputs] [B,T,D])
//   learned positions: e = 0.707106781·(e + EmbedPos[S,D]);   x = √D · e      → x [B,S,D]
// The puzzle vectors ("local weights" [B, ndim]) are rows of the puzzle table read by id; their
// gradient is returned separately for SignSGD (the table is a buffer, not an Adam parameter).

import type { ModelContext, Grads } from './context.ts';
import { addGrad, disposeAll } from './context.ts';
import { PUZZLE_TABLE } from './layout.ts';

const POS_SCALE = 0.707106781;

/** x[B,S,D] for tokens inputs[B·T] and puzzle ids[B]. */
export const embedForward = <T>(ctx: ModelContext<T>, inputs: Int32Array, ids: Int32Array, B: number): T => {
  const { b, arch } = ctx;
  const D = arch.hidden_size;
  const T_ = arch.seq_len;
  const P = ctx.sizes.puzzleEmbLen;
  const ndim = arch.puzzle_emb_ndim;
  let e = b.embedding(ctx.w('embed_tokens.embedding_weight'), inputs, [B, T_]); // [B,T,D]
  if (P > 0) {
    const local = b.embedding(ctx.w(PUZZLE_TABLE), ids, [B]); // [B, ndim]
    ctx.record?.('puzzle_emb.local_weights', local);
    let slots: T;
    if (ndim === P * D) {
      slots = b.reshape(local, [B, P, D]);
    } else {
      // zero-pad [B, ndim] to [B, P·D] through the sequence-axis concat on a width-1 view
      const col = b.reshape(local, [B, ndim, 1]);
      const pad = b.zeros([B, P * D - ndim, 1]);
      const padded = b.concatSeq(col, pad);
      disposeAll(b, col, pad);
      slots = b.reshape(padded, [B, P, D]);
    }
    const cat = b.concatSeq(slots, e);
    disposeAll(b, slots, e);
    e = cat;
  }
  if (arch.pos_encodings === 'learned') {
    const withPos = b.addBroadcast(e, ctx.w('embed_pos.embedding_weight'));
    b.dispose(e);
    e = b.scale(withPos, POS_SCALE);
    b.dispose(withPos);
  }
  const x = b.scale(e, Math.sqrt(D));
  b.dispose(e);
  return x;
};

/**
 * Backward of embedForward from dx[B,S,D] (borrowed): embed_tokens and embed_pos gradients go into
 * `grads`; returns the puzzle vectors' gradient [B, ndim] (owned) when P > 0, else null.
 */
export const embedBackward = <T>(ctx: ModelContext<T>, dx: T, inputs: Int32Array, B: number, grads: Grads<T>): T | null => {
  const { b, arch } = ctx;
  const D = arch.hidden_size;
  const T_ = arch.seq_len;
  const P = ctx.sizes.puzzleEmbLen;
  const ndim = arch.puzzle_emb_ndim;
  let de = b.scale(dx, Math.sqrt(D));
  if (arch.pos_encodings === 'learned') {
    const d2 = b.scale(de, POS_SCALE);
    b.dispose(de);
    de = d2;
    addGrad(b, grads, 'embed_pos.embedding_weight', b.sumBatch(de));
  }
  const dTok = P > 0 ? b.sliceSeq(de, P, T_) : de;
  addGrad(b, grads, 'embed_tokens.embedding_weight', b.embeddingBackward(dTok, inputs, arch.vocab_size));
  if (P === 0) {
    b.dispose(de);
    return null;
  }
  b.dispose(dTok);
  const dSlots = b.sliceSeq(de, 0, P); // [B,P,D]
  b.dispose(de);
  if (ndim === P * D) return b.reshape(dSlots, [B, ndim]);
  const col = b.reshape(dSlots, [B, P * D, 1]);
  const cut = b.sliceSeq(col, 0, ndim);
  b.dispose(col);
  return b.reshape(cut, [B, ndim]);
};
