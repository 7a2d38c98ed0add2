// Carry snapshots of createHrm (Hrm.exportCarry / importCarry) on the reference: exporting does not
// consume the carry, export → import into a second model with the same state → further training
// reproduces continuing the original carry exactly (results, carries, parameters), and malformed
// snapshots are refused with the field and the expected shape named.

import { describe, expect, it } from 'vitest';
import { Rng } from '../src/core/rng.ts';
import { referenceBackend } from '../src/reference/backend.ts';
import type { CarrySnapshot, Hrm } from '../src/model/api.ts';
import type { Batch } from '../src/core/batch.ts';
import { decodeConfig } from '../src/model/config.ts';
import { createHrm } from '../src/model/hrm.ts';

const config = decodeConfig(
  {
    description: 'carry snapshot test model',
    arch: {
      seq_len: 6, vocab_size: 7, num_puzzle_identifiers: 3, puzzle_emb_ndim: 8, H_cycles: 2, L_cycles: 2, H_layers: 1, L_layers: 1,
      hidden_size: 8, expansion: 1, num_heads: 2, pos_encodings: 'rope', halt_max_steps: 3, halt_exploration_prob: 0.5,
    },
    train: { global_batch_size: 4, lr_warmup_steps: 1, lr: 3e-3 },
  },
  'carry snapshot test config',
);
const B = 4;
const T = config.arch.seq_len;
const S = T + 1; // puzzle_emb_len = ceil(8 / 8)
const D = config.arch.hidden_size;
const rates = { lr: 3e-3, puzzleEmbLr: 1e-2 };

const batch = (seed: number): Batch => {
  const rng = Rng.fromSeed(seed);
  return {
    inputs: Int32Array.from({ length: B * T }, () => rng.int(1, 6)),
    labels: Int32Array.from({ length: B * T }, () => (rng.uniform() < 0.3 ? -100 : rng.int(1, 6))),
    puzzleIdentifiers: Int32Array.from({ length: B }, () => rng.int(0, 2)),
    batchSize: B,
    seqLen: T,
  };
};

const snapshotValues = (s: CarrySnapshot) => ({
  zH: { shape: [...s.zH.shape], data: Array.from(s.zH.data) },
  zL: { shape: [...s.zL.shape], data: Array.from(s.zL.data) },
  steps: Array.from(s.steps),
  halted: Array.from(s.halted),
  inputs: Array.from(s.currentData.inputs),
  labels: Array.from(s.currentData.labels),
  ids: Array.from(s.currentData.puzzleIdentifiers),
  batchSize: s.currentData.batchSize,
  seqLen: s.currentData.seqLen,
});

const parameters = async (hrm: Hrm) => {
  const st = await hrm.saveState();
  return { p: [...st.parameters].map(([k, t]) => [k, Array.from(t.data)]), m: [...st.adamM].map(([k, t]) => [k, Array.from(t.data)]), rng: st.rng };
};

describe('Hrm carry snapshots (reference)', () => {
  it('export does not consume; export → import → training continues exactly as with the original carry', async () => {
    const a = createHrm(config, { backend: referenceBackend, seed: 11 });
    let carry = a.initialCarry(B, T);
    for (let k = 0; k < 4; k++) carry = (await a.trainStep(carry, batch(100 + k), rates, B)).carry;
    const snap = await a.exportCarry(carry);
    expect([...snap.zH.shape]).toEqual([B, S, D]);
    expect(snap.zH.data.some((v) => v !== 0)).toBe(true);
    expect(snap.halted.some((h) => h === 0)).toBe(true); // a mid-ACT carry: some rows carry on
    const twice = await a.exportCarry(carry); // still live, unchanged
    expect(snapshotValues(twice)).toEqual(snapshotValues(snap));

    const b = createHrm(config, { backend: referenceBackend, seed: 99 });
    b.loadState(await a.saveState());
    let restored = b.importCarry(snap);
    expect(snapshotValues(await b.exportCarry(restored))).toEqual(snapshotValues(snap));

    for (let k = 0; k < 5; k++) {
      const x = batch(200 + k);
      const ra = await a.trainStep(carry, x, rates, B);
      const rb = await b.trainStep(restored, x, rates, B);
      expect(rb.result).toEqual(ra.result);
      carry = ra.carry;
      restored = rb.carry;
    }
    expect(snapshotValues(await b.exportCarry(restored))).toEqual(snapshotValues(await a.exportCarry(carry)));
    expect(await parameters(b)).toEqual(await parameters(a));
    const ea = await a.evalStep(carry, batch(300));
    const eb = await b.evalStep(restored, batch(300));
    expect(eb.result).toEqual(ea.result);
    a.disposeCarry(ea.carry);
    b.disposeCarry(eb.carry);
    await Promise.all([a.dispose(), b.dispose()]);
  });

  it('refuses malformed snapshots naming the field and the expected shape; refuses consumed or foreign carries', async () => {
    const hrm = createHrm(config, { backend: referenceBackend, seed: 3 });
    const carry = hrm.initialCarry(B, T);
    const snap = await hrm.exportCarry(carry);
    const z = (shape: number[]) => ({ shape, data: new Float64Array(shape.reduce((p, q) => p * q, 1)) });
    expect(() => hrm.importCarry({ ...snap, zH: z([B, S, D + 1]) })).toThrow(`snapshot.zH has shape [${B}, ${S}, ${D + 1}] (${B * S * (D + 1)} values), expected [${B}, ${S}, ${D}]`);
    expect(() => hrm.importCarry({ ...snap, zL: z([B, S - 1, D]) })).toThrow(/snapshot\.zL has shape .*expected \[4, 7, 8\]/);
    expect(() => hrm.importCarry({ ...snap, halted: new Uint8Array(B - 1) })).toThrow('snapshot.halted has 3 values, expected [4]');
    expect(() => hrm.importCarry({ ...snap, halted: Uint8Array.from([0, 2, 0, 0]) })).toThrow('snapshot.halted[1] = 2, expected 0 or 1');
    expect(() => hrm.importCarry({ ...snap, steps: Int32Array.from([0, 0, -1, 0]) })).toThrow('snapshot.steps[2] = -1, expected ≥ 0');
    const inputs = Int32Array.from(snap.currentData.inputs);
    inputs[5] = 7;
    expect(() => hrm.importCarry({ ...snap, currentData: { ...snap.currentData, inputs } })).toThrow('snapshot.currentData.inputs[5] = 7, expected a token in [0, 7)');
    expect(() => hrm.importCarry({ ...snap, currentData: { ...snap.currentData, seqLen: T + 1 } })).toThrow(`snapshot.currentData.seqLen ${T + 1}, expected seq_len ${T}`);
    expect(() => hrm.importCarry({ ...snap, currentData: { ...snap.currentData, puzzleIdentifiers: new Int32Array(B + 1) } })).toThrow(
      'snapshot.currentData.puzzleIdentifiers has 5 values, expected 4',
    );

    const other = createHrm(config, { backend: referenceBackend, seed: 4 });
    await expect(other.exportCarry(carry)).rejects.toThrow('exportCarry: the carry belongs to another model');
    hrm.disposeCarry(carry);
    await expect(hrm.exportCarry(carry)).rejects.toThrow('exportCarry: the carry was already consumed');
    await Promise.all([hrm.dispose(), other.dispose()]);
  });
});
