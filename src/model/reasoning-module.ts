// A reasoning module (spec §1.6): Module(z, injection) = Blocks_n(…Blocks_1(z + injection)), for the
// H level (z_H ← H(z_H, z_L)) and the L level (z_L ← L(z_L, z_H + x)); TRM's one network is the L
// level used for both updates; the blocks of either model are attention blocks or `mlp_t` blocks (arch.mlp_t). Forward with an optional
// tape, and the backward that returns d(z + injection), which is both dz and dinjection.
// Shapes: z, injection, out [B,S,D].

import type { ModelContext, Grads } from './context.ts';
import type { BlockTape, Level } from './block.ts';
import { blockBackward, blockForward, disposeBlockTape } from './block.ts';
import type { MlpTBlockTape } from './trm/mlp-t-block.ts';
import { disposeMlpTBlockTape, mlpTBlockBackward, mlpTBlockForward } from './trm/mlp-t-block.ts';

type AnyBlockTape<T> = BlockTape<T> | MlpTBlockTape<T>;

/** The module's activations: the summed input and every block's tape (block k>0 borrows block k−1's output, owned here). */
export interface ModuleTape<T> {
  readonly level: Level;
  readonly inputs: readonly T[]; // inputs[k] = input of block k (owned)
  readonly blocks: readonly AnyBlockTape<T>[];
}

const layersOf = <T>(ctx: ModelContext<T>, level: Level): number => (level === 'H_level' ? ctx.arch.H_layers : ctx.arch.L_layers);

/** out[B,S,D] = Module_level(z, injection); z and injection are borrowed. */
export const moduleForward = <T>(
  ctx: ModelContext<T>,
  level: Level,
  z: T,
  injection: T,
  keep: boolean,
): { out: T; tape: ModuleTape<T> | null } => {
  const { b } = ctx;
  let h = b.add(z, injection);
  const inputs: T[] = [];
  const blocks: AnyBlockTape<T>[] = [];
  for (let i = 0; i < layersOf(ctx, level); i++) {
    const r = ctx.arch.mlp_t ? mlpTBlockForward(ctx, level, i, h, keep) : blockForward(ctx, level, i, h, keep);
    if (keep) {
      inputs.push(h);
      blocks.push(r.tape as AnyBlockTape<T>);
    } else {
      b.dispose(h);
    }
    h = r.out;
  }
  return { out: h, tape: keep ? { level, inputs, blocks } : null };
};

/** d(z + injection)[B,S,D] from dout (borrowed); weight gradients go into `grads`. Releases the tape. */
export const moduleBackward = <T>(ctx: ModelContext<T>, tape: ModuleTape<T>, dout: T, grads: Grads<T>): T => {
  const { b } = ctx;
  let d = dout;
  for (let i = tape.blocks.length - 1; i >= 0; i--) {
    const t = tape.blocks[i];
    const next = ctx.arch.mlp_t ? mlpTBlockBackward(ctx, tape.level, i, t as MlpTBlockTape<T>, d, grads) : blockBackward(ctx, tape.level, i, t as BlockTape<T>, d, grads);
    if (d !== dout) b.dispose(d);
    b.dispose(tape.inputs[i]);
    d = next;
  }
  return d === dout ? b.scale(dout, 1) : d;
};

/** Releases a module tape without running backward. */
export const disposeModuleTape = <T>(ctx: ModelContext<T>, tape: ModuleTape<T>): void => {
  for (const t of tape.blocks) {
    if (ctx.arch.mlp_t) disposeMlpTBlockTape(ctx, t as MlpTBlockTape<T>);
    else disposeBlockTape(ctx, t as BlockTape<T>);
  }
  for (const h of tape.inputs) ctx.b.dispose(h);
};
