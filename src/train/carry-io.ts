// Saving and restoring the ACT carry for exact resume (the carry persists across batches, so a
// checkpoint without it would restart every row): converts between the model's carry snapshot
// (`Hrm.exportCarry`/`importCarry`, which read and check the state) and the checkpoint's flat
// record of it. No model internals are touched here.

import type { Carry, Hrm } from '../model/api.ts';
import type { CarrySnapshot } from './checkpoint.ts';

/** Host copies of a live carry, as the checkpoint stores them (does not consume the carry). */
export const exportCarry = async (hrm: Hrm, carry: Carry): Promise<CarrySnapshot> => {
  const s = await hrm.exportCarry(carry);
  const d = s.currentData;
  return {
    zH: s.zH,
    zL: s.zL,
    steps: s.steps,
    halted: s.halted,
    inputs: d.inputs,
    labels: d.labels,
    puzzleIdentifiers: d.puzzleIdentifiers,
    batchSize: d.batchSize,
    seqLen: d.seqLen,
  };
};

/** A live carry of `hrm` holding a checkpoint's carry (checked by the model against its sizes). */
export const importCarry = (hrm: Hrm, s: CarrySnapshot): Carry =>
  hrm.importCarry({
    zH: s.zH,
    zL: s.zL,
    steps: s.steps,
    halted: s.halted,
    currentData: { inputs: s.inputs, labels: s.labels, puzzleIdentifiers: s.puzzleIdentifiers, batchSize: s.batchSize, seqLen: s.seqLen },
  });
