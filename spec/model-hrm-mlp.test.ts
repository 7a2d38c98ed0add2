// HRM with the sequence-axis token mixer (arch.mlp_t on HRM's two modules, as docs/learning's 6×6
// runs use it): the WebAssembly SIMD engine equals the float64 reference over three training steps
// (logits, Q values, carries, every gradient, halting, parameters; src/verify/model.ts's check), on
// pinned tiny cases with one and two blocks per module.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../src/core/backend.ts';
import { createSimdBackend } from '../src/accelerated/simd/backend.ts';
import { checkModel, modelConfig, type ModelCase } from '../src/verify/model.ts';
import { buildLayout, parameterNames } from '../src/model/layout.ts';

const base: ModelCase = {
  model: 'hrm-mlp', hidden: 16, heads: 2, H_layers: 1, L_layers: 1, H_cycles: 2, L_cycles: 2, pos: 'learned',
  puzzle: 'none', loss: 'stablemax_cross_entropy', B: 3, seqLen: 7, seed: 11,
};

describe('HRM with mlp_t blocks', () => {
  let simd: Backend<unknown>;
  beforeAll(async () => {
    simd = (await createSimdBackend({ threads: 2 })) as Backend<unknown>;
  });
  afterAll(async () => {
    await simd?.close?.();
  });

  it('has an mlp_t in every block of both levels and no attention weights', () => {
    const names = parameterNames(buildLayout(modelConfig({ ...base, H_layers: 2 }).arch));
    expect(names.filter((n) => n.includes('.mlp_t.gate_up_proj'))).toEqual([
      'H_level.layers.0.mlp_t.gate_up_proj.weight', 'H_level.layers.1.mlp_t.gate_up_proj.weight', 'L_level.layers.0.mlp_t.gate_up_proj.weight',
    ]);
    expect(names.some((n) => n.includes('self_attn'))).toBe(false);
  });

  for (const c of [base, { ...base, H_layers: 2, L_layers: 2, H_cycles: 1, puzzle: 'padded' as const, loss: 'softmax_cross_entropy' as const, seed: 29 }]) {
    it(`simd = reference over three training steps (${c.H_layers}+${c.L_layers} blocks, puzzle ${c.puzzle})`, async () => {
      const r = await checkModel(simd, c);
      expect(r.ok ? 'ok' : r.failure).toBe('ok');
    });
  }
});
