// One TRM segment (spec §10), with the gradient through the whole last cycle:
//   for h < H_cycles:  for l < L_cycles: z_L ← net(z_L, z_H + x);   then z_H ← net(z_H, z_L)
// where net(a, b) = L_level(a + b) is the one network of both updates. The first H_cycles − 1
// cycles run without a tape and release their intermediates at once; the last cycle keeps the
// tapes of its L_cycles + 1 calls, so the activations kept grow with L_cycles, not H_cycles. The
// states entering the last cycle are constants; x receives gradient through each of its L updates.
// States [B,S,D].

import type { ModelContext, Grads } from '../context.ts';
import type { ModuleTape } from '../reasoning-module.ts';
import { disposeModuleTape, moduleBackward, moduleForward } from '../reasoning-module.ts';

export interface TrmSegmentTape<T> {
  readonly l: readonly ModuleTape<T>[]; // the last cycle's L updates, in order
  readonly h: ModuleTape<T>; // its H update
}

export interface TrmSegmentResult<T> {
  readonly zH: T; // new z_H (owned)
  readonly zL: T; // new z_L (owned)
  readonly tape: TrmSegmentTape<T> | null;
}

/** Probe keys of the first network call: its summed input and each block's mixer, mid, MLP and output. */
const recordFirstCall = <T>(ctx: ModelContext<T>, tape: ModuleTape<T>, out: T): void => {
  const rec = ctx.record;
  if (rec === undefined) return;
  rec('call0.in', tape.inputs[0]);
  tape.blocks.forEach((t, i) => {
    const blk = t as unknown as Record<string, T>;
    if (ctx.arch.mlp_t) rec(`call0.layer${i}.mlp_t`, blk.mT); // transposed layout [B,D,S]
    else rec(`call0.layer${i}.attn`, blk.o);
    rec(`call0.layer${i}.mid`, blk.h1);
    rec(`call0.layer${i}.mlp`, blk.m);
    rec(`call0.layer${i}.out`, i + 1 < tape.inputs.length ? tape.inputs[i + 1] : out);
  });
};

/**
 * Runs one segment from zH0, zL0 (borrowed) with input embedding x (borrowed). With `withGrad` the
 * last cycle keeps its tapes. Probe keys (ctx.record set and `probe`): call0.* of the first call,
 * L.h{h}.l{l} after each L update and H.h{h} after each H update.
 */
export const trmSegmentForward = <T>(ctx: ModelContext<T>, zH0: T, zL0: T, x: T, withGrad: boolean, probe = false): TrmSegmentResult<T> => {
  const { b, arch } = ctx;
  const rec = probe ? ctx.record : undefined;
  let zH = zH0;
  let zL = zL0;
  const release = (z: T, original: T) => {
    if (z !== original) b.dispose(z);
  };
  const lTapes: ModuleTape<T>[] = [];
  let hTape: ModuleTape<T> | null = null;
  let first = probe;
  for (let h = 0; h < arch.H_cycles; h++) {
    const grad = withGrad && h === arch.H_cycles - 1;
    for (let l = 0; l < arch.L_cycles; l++) {
      const inj = b.add(zH, x);
      const r = moduleForward(ctx, 'L_level', zL, inj, grad || first);
      b.dispose(inj);
      if (first) {
        recordFirstCall(ctx, r.tape as ModuleTape<T>, r.out);
        if (!grad) disposeModuleTape(ctx, r.tape as ModuleTape<T>);
        first = false;
      }
      if (grad) lTapes.push(r.tape as ModuleTape<T>);
      release(zL, zL0);
      zL = r.out;
      rec?.(`L.h${h}.l${l}`, zL);
    }
    const r = moduleForward(ctx, 'L_level', zH, zL, grad);
    if (grad) hTape = r.tape;
    release(zH, zH0);
    zH = r.out;
    rec?.(`H.h${h}`, zH);
  }
  return { zH, zL, tape: withGrad ? { l: lTapes, h: hTape as ModuleTape<T> } : null };
};

/**
 * dx[B,S,D] (owned) from dzH (borrowed): through the last H update to the last z_L, then back
 * through the cycle's L updates; each L update's input gradient is both its z_L's gradient and
 * a term of dx (the z_H part of z_H + x is a constant). Weight gradients go into `grads`.
 */
export const trmSegmentBackward = <T>(ctx: ModelContext<T>, tape: TrmSegmentTape<T>, dzH: T, grads: Grads<T>): T => {
  const { b } = ctx;
  let dzL = moduleBackward(ctx, tape.h, dzH, grads); // d(z_H + z_L) → its z_L part
  let dx: T | null = null;
  for (let l = tape.l.length - 1; l >= 0; l--) {
    const d = moduleBackward(ctx, tape.l[l], dzL, grads); // d(z_L + (z_H + x))
    b.dispose(dzL);
    const sum: T = dx === null ? b.scale(d, 1) : b.add(dx, d);
    if (dx !== null) b.dispose(dx);
    dx = sum;
    dzL = d;
  }
  b.dispose(dzL);
  return dx as T;
};
