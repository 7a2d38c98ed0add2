// One segment of the recurrence (spec §2) with the one-step gradient:
//   for h < H_cycles, l < L_cycles, except the very last (h, l):  z_L ← L(z_L, z_H + x)
//     and after each H-cycle but the last:                        z_H ← H(z_H, z_L)
//   then, recorded for backward:  z_L* ← L(z_L, z_H + x);  z_H* ← H(z_H, z_L*)
// Everything before the last two updates runs without a tape and releases its intermediates at
// once, so the activations kept for backward do not depend on the cycle counts. The incoming
// z_H, z_L of the last two updates are constants: gradients reach only the last L and H weights
// and x (through the last L update's injection). States [B,S,D].

import type { ModelContext, Grads } from './context.ts';
import type { ModuleTape } from './reasoning-module.ts';
import { moduleBackward, moduleForward } from './reasoning-module.ts';

export interface SegmentTape<T> {
  readonly l: ModuleTape<T>;
  readonly h: ModuleTape<T>;
}

export interface SegmentResult<T> {
  readonly zH: T; // new z_H (owned)
  readonly zL: T; // new z_L (owned)
  readonly tape: SegmentTape<T> | null;
}

/**
 * Runs one segment from zH, zL (borrowed) with input embedding x (borrowed). With `withGrad` the
 * last L and H updates keep their tapes. Probe keys (when ctx.record is set and `probe` is true):
 * L.h{h}.l{l} after each L update and H.h{h} after each H update.
 */
export const segmentForward = <T>(ctx: ModelContext<T>, zH0: T, zL0: T, x: T, withGrad: boolean, probe = false): SegmentResult<T> => {
  const { b, arch } = ctx;
  const rec = probe ? ctx.record : undefined;
  let zH = zH0;
  let zL = zL0;
  const release = (z: T, original: T) => {
    if (z !== original) b.dispose(z);
  };
  for (let h = 0; h < arch.H_cycles; h++) {
    for (let l = 0; l < arch.L_cycles; l++) {
      if (h === arch.H_cycles - 1 && l === arch.L_cycles - 1) break;
      const inj = b.add(zH, x);
      const next = moduleForward(ctx, 'L_level', zL, inj, false).out;
      b.dispose(inj);
      release(zL, zL0);
      zL = next;
      rec?.(`L.h${h}.l${l}`, zL);
    }
    if (h !== arch.H_cycles - 1) {
      const next = moduleForward(ctx, 'H_level', zH, zL, false).out;
      release(zH, zH0);
      zH = next;
      rec?.(`H.h${h}`, zH);
    }
  }
  // the one-step-gradient pair
  const inj = b.add(zH, x);
  const lStep = moduleForward(ctx, 'L_level', zL, inj, withGrad);
  b.dispose(inj);
  release(zL, zL0);
  rec?.(`L.h${arch.H_cycles - 1}.l${arch.L_cycles - 1}`, lStep.out);
  const hStep = moduleForward(ctx, 'H_level', zH, lStep.out, withGrad);
  release(zH, zH0);
  rec?.(`H.h${arch.H_cycles - 1}`, hStep.out);
  const tape = withGrad ? { l: lStep.tape as ModuleTape<T>, h: hStep.tape as ModuleTape<T> } : null;
  return { zH: hStep.out, zL: lStep.out, tape };
};

/**
 * dx[B,S,D] (owned) from dzH* (borrowed): through the last H update to z_L*, through the last L
 * update to its injection z_H + x, whose z_H part is a constant. Weight gradients go into `grads`.
 */
export const segmentBackward = <T>(ctx: ModelContext<T>, tape: SegmentTape<T>, dzH: T, grads: Grads<T>): T => {
  const dzL = moduleBackward(ctx, tape.h, dzH, grads); // d(z_H + z_L*) → its z_L* part
  const dx = moduleBackward(ctx, tape.l, dzL, grads); // d(z_L + z_H + x) → its x part
  ctx.b.dispose(dzL);
  return dx;
};
