// Property: the gradients of one training step (createHrm's trainStep: the one-step graph, heads,
// losses, the puzzle-vector path) equal central finite differences in float64 of the scaled total
// loss (lm + ½(q_halt + q_continue)) / B of the one-step graph (the last L and H updates from the
// entering states held constant), with the halting decisions and Q targets held at the step's values. Random tiny configs: hidden, heads, layers, cycles, RoPE or learned
// positions, puzzle embedding off / padded / multi-slot, both losses. Runs: HRM_PROP_RUNS (20).

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Backend } from '../src/core/backend.ts';
import type { Tensor } from '../src/core/tensor.ts';
import { referenceBackend } from '../src/reference/backend.ts';
import { createHrm } from '../src/model/hrm.ts';
import { embedForward } from '../src/model/embedding.ts';
import { segmentForward } from '../src/model/segment.ts';
import { headsForward } from '../src/model/heads.ts';
import { rowStats } from '../src/model/act.ts';
import { contextFor, probedSegment, randomBatch, randomWeights, tinyConfig } from '../spec/support/model-harness.ts';
import { checkRandomCoordinates } from '../spec/support/fd-check.ts';

type T64 = Tensor<Float64Array>;
const RUNS = Number(process.env.HRM_PROP_RUNS ?? 20);
const b = referenceBackend;

/** The states entering the last L update of a segment from the reset states (H_init/L_init broadcast), at `weights`. */
const preStates = async (config: ReturnType<typeof tinyConfig>, weights: Map<string, T64>, batch: ReturnType<typeof randomBatch>): Promise<{ zH: T64; zL: T64 }> => {
  const { probes, zH0, zL0 } = await probedSegment(config, weights, batch, segmentForward);
  const { H_cycles: H, L_cycles: L } = config.arch;
  const zL = L >= 2 ? probes.get(`L.h${H - 1}.l${L - 2}`)! : H >= 2 ? probes.get(`L.h${H - 2}.l${L - 1}`)! : zL0;
  const zH = H >= 2 ? probes.get(`H.h${H - 2}`)! : zH0;
  return { zH, zL };
};

/**
 * The scaled total loss of the one-step graph at `weights`: the last L update and the last H update
 * (a 1/1-cycle segment) from the fixed entering states, heads, and losses with fixed halt and
 * continue targets.
 */
const scaledLoss = async (
  config: ReturnType<typeof tinyConfig>,
  weights: Map<string, T64>,
  batch: ReturnType<typeof randomBatch>,
  states: { zH: T64; zL: T64 },
  seqCorrect: Uint8Array,
  contTarget: Float64Array,
): Promise<number> => {
  const { ctx } = contextFor(b, config, weights);
  const B = batch.batchSize;
  const x = embedForward(ctx, batch.inputs, batch.puzzleIdentifiers, B);
  const seg = segmentForward(ctx, b.fromArray(states.zH.shape, states.zH.data), b.fromArray(states.zL.shape, states.zL.data), x, false);
  const heads = headsForward(ctx, seg.zH, B);
  const ce = (await b.read(b.crossEntropy(heads.logits, batch.labels, ctx.sizes.lossKind))).data;
  const q = (await b.read(heads.q)).data;
  const stats = rowStats(ce, new Int32Array(ce.length), batch.labels, B, config.arch.seq_len);
  const tg = new Float64Array(2 * B);
  for (let r = 0; r < B; r++) {
    tg[2 * r] = seqCorrect[r];
    tg[2 * r + 1] = contTarget[r];
  }
  const bce = (await b.read(b.bceWithLogits(b.fromArray([B, 2], q), b.fromArray([B, 2], tg)))).data;
  const total = stats.lmPerRow.reduce((s, v) => s + v, 0) + 0.5 * bce.reduce((s, v) => s + v, 0);
  return total / B;
};

const arbConfig = fc.record({
  hidden: fc.constantFrom(4, 8),
  heads: fc.constantFrom(1, 2),
  H_layers: fc.integer({ min: 1, max: 2 }),
  L_layers: fc.integer({ min: 1, max: 2 }),
  H_cycles: fc.integer({ min: 1, max: 3 }),
  L_cycles: fc.integer({ min: 1, max: 3 }),
  pos: fc.constantFrom('rope' as const, 'learned' as const),
  puzzle: fc.constantFrom('none', 'padded', 'full', 'two-slots'),
  loss: fc.constantFrom('stablemax_cross_entropy' as const, 'softmax_cross_entropy' as const),
  B: fc.integer({ min: 1, max: 3 }),
  seqLen: fc.integer({ min: 2, max: 5 }),
  seed: fc.integer({ min: 0, max: 1_000_000 }),
});

describe('whole one-step graph vs finite differences (float64)', () => {
  it('gradients of the scaled total loss w.r.t. random coordinates of every kind of weight', async () => {
    await fc.assert(
      fc.asyncProperty(arbConfig, async (p) => {
        const ndim = { none: 0, padded: p.hidden - 1, full: p.hidden, 'two-slots': p.hidden + 2 }[p.puzzle];
        const config = tinyConfig(
          {
            hidden_size: p.hidden, num_heads: p.heads, H_layers: p.H_layers, L_layers: p.L_layers, H_cycles: p.H_cycles, L_cycles: p.L_cycles,
            pos_encodings: p.pos, puzzle_emb_ndim: ndim, loss_type: p.loss, seq_len: p.seqLen, halt_max_steps: 3, num_puzzle_identifiers: 3,
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
        await hrm.dispose();
        const stats = rowStats(new Float64Array(p.B * p.seqLen), step.result.predictions, batch.labels, p.B, p.seqLen);
        const contTarget = obs.get('target_q_continue')!.data;
        const states = await preStates(config, weights, batch);
        const oneStep = tinyConfig({ ...config.arch, H_cycles: 1, L_cycles: 1 }, config.train);
        // the loss the step reports equals the oracle's at the same point
        const at = await scaledLoss(oneStep, weights, batch, states, stats.seqCorrect, contTarget);
        expect(at).toBeCloseTo(step.result.totalLoss / p.B, 12);
        await checkRandomCoordinates({
          weights, names: hrm.layout.filter((e) => e.kind === 'parameter').map((e) => e.name), grads: obs, puzzleIdentifiers: batch.puzzleIdentifiers, ndim, seed: p.seed,
          lossAt: (w) => scaledLoss(oneStep, w, batch, states, stats.seqCorrect, contTarget), what: JSON.stringify(p),
        });
      }),
      { numRuns: RUNS },
    );
  });
});
