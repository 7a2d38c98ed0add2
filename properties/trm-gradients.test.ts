// Property: the gradients of one TRM training step (createHrm with arch.name 'trm': the whole last
// cycle back-propagated, heads, the q_halt-only loss of no_ACT_continue, the puzzle-vector path)
// equal central finite differences in float64 of the scaled total loss (lm + ½·q_halt BCE) / B of
// the last cycle (its L_cycles L updates and its H update through the one network) from the states
// entering it held constant, with the q_halt targets held at the step's values. Random tiny
// configs: attention or mlp_t blocks, 1–2 blocks, 1–3 cycles of each kind, RoPE / learned / no
// positions, puzzle embedding off / padded / several slots, both losses. Runs: HRM_PROP_RUNS (12).

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Backend } from '../src/core/backend.ts';
import type { Tensor } from '../src/core/tensor.ts';
import { referenceBackend } from '../src/reference/backend.ts';
import { createHrm } from '../src/model/hrm.ts';
import { embedForward } from '../src/model/embedding.ts';
import { trmSegmentForward } from '../src/model/trm/segment.ts';
import { headsForward } from '../src/model/heads.ts';
import { rowStats } from '../src/model/act.ts';
import { contextFor, probedSegment, randomBatch, randomWeights, tinyConfig } from '../spec/support/model-harness.ts';
import { checkRandomCoordinates } from '../spec/support/fd-check.ts';

type T64 = Tensor<Float64Array>;
type Config = ReturnType<typeof tinyConfig>;
type Batch = ReturnType<typeof randomBatch>;
const RUNS = Number(process.env.HRM_PROP_RUNS ?? 12);
const b = referenceBackend;

/** The states entering the last cycle of a segment started from H_init/L_init (broadcast), at `weights`. */
const lastCycleInputs = async (config: Config, weights: Map<string, T64>, batch: Batch): Promise<{ zH: T64; zL: T64 }> => {
  const { probes, zH0, zL0 } = await probedSegment(config, weights, batch, trmSegmentForward);
  const { H_cycles: H, L_cycles: L } = config.arch;
  if (H === 1) return { zH: zH0, zL: zL0 };
  return { zH: probes.get(`H.h${H - 2}`)!, zL: probes.get(`L.h${H - 2}.l${L - 1}`)! };
};

/** log(1 + e^x) without overflow. */
const softplus = (x: number): number => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));

/**
 * The scaled total loss of one cycle (a TRM config with H_cycles 1) from fixed entering states at
 * `weights`: heads, lm loss per row, and BCE of q_halt against the fixed exactness targets.
 */
const scaledLoss = async (oneCycle: Config, weights: Map<string, T64>, batch: Batch, states: { zH: T64; zL: T64 }, exact: Uint8Array): Promise<number> => {
  const { ctx } = contextFor(b, oneCycle, weights);
  const B = batch.batchSize;
  const x = embedForward(ctx, batch.inputs, batch.puzzleIdentifiers, B);
  const seg = trmSegmentForward(ctx, b.fromArray(states.zH.shape, states.zH.data), b.fromArray(states.zL.shape, states.zL.data), x, false);
  const heads = headsForward(ctx, seg.zH, B);
  const ce = (await b.read(b.crossEntropy(heads.logits, batch.labels, ctx.sizes.lossKind))).data;
  const q = (await b.read(heads.q)).data;
  const stats = rowStats(ce, new Int32Array(ce.length), batch.labels, B, oneCycle.arch.seq_len);
  let bce = 0;
  for (let r = 0; r < B; r++) bce += softplus(q[2 * r]) - q[2 * r] * exact[r]; // q_continue plays no part
  return (stats.lmPerRow.reduce((s, v) => s + v, 0) + 0.5 * bce) / B;
};

const arbConfig = fc.record({
  hidden: fc.constantFrom(4, 8),
  heads: fc.constantFrom(1, 2),
  mixer: fc.constantFrom('attention' as const, 'mlp_t' as const),
  L_layers: fc.integer({ min: 1, max: 2 }),
  H_cycles: fc.integer({ min: 1, max: 3 }),
  L_cycles: fc.integer({ min: 1, max: 3 }),
  pos: fc.constantFrom('rope' as const, 'learned' as const, 'none' as const),
  puzzle: fc.constantFrom('none', 'padded', 'slots'),
  loss: fc.constantFrom('stablemax_cross_entropy' as const, 'softmax_cross_entropy' as const),
  B: fc.integer({ min: 1, max: 3 }),
  seqLen: fc.integer({ min: 2, max: 5 }),
  seed: fc.integer({ min: 0, max: 1_000_000 }),
});

describe('TRM: the whole last cycle vs finite differences (float64)', () => {
  it('gradients of the scaled total loss w.r.t. random coordinates of every kind of weight', async () => {
    await fc.assert(
      fc.asyncProperty(arbConfig, async (p) => {
        const ndim = { none: 0, padded: p.hidden - 1, slots: p.hidden + 2 }[p.puzzle];
        const config = tinyConfig(
          {
            name: 'trm', mlp_t: p.mixer === 'mlp_t', no_ACT_continue: true, H_layers: 0,
            hidden_size: p.hidden, num_heads: p.heads, L_layers: p.L_layers, H_cycles: p.H_cycles, L_cycles: p.L_cycles,
            pos_encodings: p.mixer === 'mlp_t' && p.pos === 'rope' ? 'none' : p.pos, puzzle_emb_ndim: ndim,
            puzzle_emb_len: p.puzzle === 'slots' ? 3 : 0, loss_type: p.loss, seq_len: p.seqLen, halt_max_steps: 3, num_puzzle_identifiers: 3,
          },
          { global_batch_size: p.B },
        );
        const weights = randomWeights(config, p.seed);
        const batch = randomBatch(config, p.B, p.seed + 1);
        const hrm = createHrm(config, { backend: b as Backend<unknown>, seed: 0 });
        hrm.loadState({ parameters: weights });
        const obs = new Map<string, T64>();
        const step = await hrm.trainStep(hrm.initialCarry(p.B, p.seqLen), batch, { lr: 0, puzzleEmbLr: 0 }, p.B, {
          observe: { tensor: (k, v) => void obs.set(k, v), gradients: true },
        });
        const layout = hrm.layout;
        await hrm.dispose();
        const stats = rowStats(new Float64Array(p.B * p.seqLen), step.result.predictions, batch.labels, p.B, p.seqLen);
        const states = await lastCycleInputs(config, weights, batch);
        const oneCycle = tinyConfig({ ...config.arch, H_cycles: 1 }, config.train);
        // the loss the step reports equals the oracle's at the same point
        expect(await scaledLoss(oneCycle, weights, batch, states, stats.seqCorrect)).toBeCloseTo(step.result.totalLoss / p.B, 12);
        // nothing depends on q_continue: its row of the Q head gets exactly no gradient
        const D = p.hidden;
        expect(Array.from(obs.get('grad.q_head.weight')!.data.subarray(D, 2 * D))).toEqual(new Array(D).fill(0));
        expect(obs.get('grad.q_head.bias')!.data[1]).toBe(0);
        await checkRandomCoordinates({
          weights, names: layout.filter((e) => e.kind === 'parameter').map((e) => e.name), grads: obs, puzzleIdentifiers: batch.puzzleIdentifiers, ndim, seed: p.seed,
          lossAt: (w) => scaledLoss(oneCycle, w, batch, states, stats.seqCorrect), what: JSON.stringify(p),
        });
      }),
      { numRuns: RUNS },
    );
  });
});
