// Saving and restoring the ACT carry for exact resume (the carry persists across batches, so a
// checkpoint without it would restart every row). The model API has no carry export yet: this
// module prefers `hrm.exportCarry/importCarry` when a model offers them, and otherwise reads the
// state handles the model keeps on its carry (`zH`, `zL` [B,S,D]) through the backend and builds
// a restored carry from `initialCarry` with those fields replaced. Checked loudly, never guessed.

import type { Backend } from '../core/backend.ts';
import { wrap64 } from '../core/tensor.ts';
import type { Carry, Hrm } from '../model/api.ts';
import type { CarrySnapshot } from './checkpoint.ts';

interface CarryIo {
  exportCarry(carry: Carry): Promise<CarrySnapshot>;
  importCarry(snapshot: CarrySnapshot): Carry;
}

interface StateHandles {
  zH: unknown;
  zL: unknown;
}

const hasIo = (hrm: Hrm): hrm is Hrm & CarryIo =>
  typeof (hrm as Partial<CarryIo>).exportCarry === 'function' && typeof (hrm as Partial<CarryIo>).importCarry === 'function';

const handles = (carry: Carry, where: string): StateHandles => {
  const c = carry as Carry & Partial<StateHandles>;
  if (c.zH === undefined || c.zL === undefined) throw new Error(`${where}: this model's carry exposes no state handles (zH, zL); the carry cannot be saved`);
  return c as unknown as StateHandles;
};

/** Host copies of a live carry (does not consume it). */
export const exportCarry = async (hrm: Hrm, carry: Carry): Promise<CarrySnapshot> => {
  if (hasIo(hrm)) return hrm.exportCarry(carry);
  const h = handles(carry, 'exportCarry');
  const b = hrm.backend as Backend<unknown>;
  const [zH, zL] = await Promise.all([b.read(h.zH), b.read(h.zL)]);
  const d = carry.currentData;
  return {
    zH: wrap64(zH.shape, zH.data),
    zL: wrap64(zL.shape, zL.data),
    steps: Int32Array.from(carry.steps),
    halted: Uint8Array.from(carry.halted),
    inputs: Int32Array.from(d.inputs),
    labels: Int32Array.from(d.labels),
    puzzleIdentifiers: Int32Array.from(d.puzzleIdentifiers),
    batchSize: carry.batchSize,
    seqLen: d.seqLen,
  };
};

/** A live carry of `hrm` holding a snapshot's contents. */
export const importCarry = (hrm: Hrm, s: CarrySnapshot): Carry => {
  if (hasIo(hrm)) return hrm.importCarry(s);
  const fresh = hrm.initialCarry(s.batchSize, s.seqLen);
  const h = handles(fresh, 'importCarry');
  const b = hrm.backend as Backend<unknown>;
  const want = b.shape(h.zH);
  if (want.length !== s.zH.shape.length || want.some((d, i) => d !== s.zH.shape[i] || d !== s.zL.shape[i])) {
    throw new Error(`importCarry: saved carry.z_H/z_L have shapes [${s.zH.shape.join(', ')}]/[${s.zL.shape.join(', ')}], the model expects [${want.join(', ')}]`);
  }
  b.dispose(h.zH);
  b.dispose(h.zL);
  const mutable = fresh as unknown as Record<string, unknown>;
  mutable.zH = b.fromArray(s.zH.shape, s.zH.data);
  mutable.zL = b.fromArray(s.zL.shape, s.zL.data);
  mutable.steps = Int32Array.from(s.steps);
  mutable.halted = Uint8Array.from(s.halted);
  mutable.currentData = {
    inputs: Int32Array.from(s.inputs),
    labels: Int32Array.from(s.labels),
    puzzleIdentifiers: Int32Array.from(s.puzzleIdentifiers),
    batchSize: s.batchSize,
    seqLen: s.seqLen,
  };
  return fresh;
};
