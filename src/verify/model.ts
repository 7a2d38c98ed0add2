// The whole-model check of the conformance suite: one random tiny HRM or TRM config (TRM with
// attention or mlp_t blocks, one or two puzzle slots), three training steps
// on a target backend and on the float64 reference from the same weights and batch, compared
// quantity by quantity (logits, Q logits, the Q target, per-token CE, the carried states, every
// gradient, the losses, the halting decisions, and the parameters after the three optimizer
// steps) under rel-L2 tolerances. If a halting decision differs, the reference margin
// |q_halt − q_continue| must be within float32 noise there; after a differing halting decision or a
// near-zero gradient element taking the other sign, the trajectories legitimately part and later
// steps are not compared. Tolerances follow the case's conditioning: the reference is run a second
// time from weights nudged by float32 rounding noise, and where that alone moves a quantity by more
// than its base tolerance allows, the tolerance is SENSITIVITY_FACTOR times that movement (a float32
// backend cannot be closer to float64 than the problem lets any float32-rounded input be); where the
// nudge moves it by more than ILL_CONDITIONED, the trajectories are treated as parted. Shared by properties/model-equivalence.test.ts and `hrm verify`; no test
// framework here. Kernel-by-kernel checks live in runner.ts.

import fc from 'fast-check';
import type { Backend } from '../core/backend.ts';
import { IGNORE_LABEL } from '../core/batch.ts';
import { Rng } from '../core/rng.ts';
import type { Tensor } from '../core/tensor.ts';
import { shapeToString, sameShape } from '../core/tensor.ts';
import type { HrmConfig } from '../model/config.ts';
import { decodeConfig } from '../model/config.ts';
import { createHrm } from '../model/hrm.ts';
import { initialValues } from '../model/init.ts';
import { buildLayout } from '../model/layout.ts';
import { referenceBackend } from '../reference/backend.ts';
import type { Worst } from './compare.ts';
import type { KernelReport } from './runner.ts';

type T64 = Tensor<Float64Array>;

/** Training steps compared per drawn config. */
export const MODEL_STEPS = 3;

/**
 * rel-L2 tolerances (‖a − r‖ ≤ tol·‖r‖ + MODEL_ATOL·√n): forward values see one float32 rounding per
 * op through a few layers; gradients go back through them once more; parameters after AdamATan2
 * are dominated by the sign-like first update, which a near-zero gradient element may flip.
 */
export const MODEL_TOL = { forward: 1e-4, gradient: 1e-3, parameter: 1e-3 } as const;
export const MODEL_ATOL = 1e-7;
/** the total loss: |a − r| ≤ LOSS_RTOL·|r| + LOSS_ATOL */
const LOSS_RTOL = 1e-4;
const LOSS_ATOL = 1e-6;
/** a halting decision may differ only where the reference margin is this close to the tie */
export const HALT_MARGIN = 1e-4;
/** relative size of the nudge applied to every weight to measure the reference's own sensitivity: 4 units of float32 roundoff */
export const NUDGE = 2 ** -22;
/** a quantity's tolerance is at least this many times the rel-L2 movement the nudge causes in the reference */
export const SENSITIVITY_FACTOR = 16;
/** a nudge moving a quantity by more than this rel-L2 marks the trajectories as parted (not compared further) */
export const ILL_CONDITIONED = 1e-2;

/** One drawn tiny model: architecture choices, batch size, sequence length, weight/batch seed. */
export interface ModelCase {
  /** HRM (attention or mlp_t blocks), TRM with attention blocks, or TRM with mlp_t blocks (no RoPE with mlp_t: rope draws become 'none') */
  readonly model: 'hrm' | 'hrm-mlp' | 'trm-att' | 'trm-mlp';
  readonly hidden: number;
  readonly heads: number;
  readonly H_layers: number;
  readonly L_layers: number;
  readonly H_cycles: number;
  readonly L_cycles: number;
  readonly pos: 'rope' | 'learned';
  readonly puzzle: 'none' | 'padded' | 'full';
  readonly loss: 'stablemax_cross_entropy' | 'softmax_cross_entropy';
  readonly B: number;
  readonly seqLen: number;
  readonly seed: number;
}

/** fast-check arbitrary of tiny configs: HRM (attention / mlp_t) / TRM-attention / TRM-mlp_t, hidden 8|16, 1–2 heads, 1–2 layers and cycles per level, both position encodings, puzzle embedding off / padded / full, both losses, B 1–3, seq 2–9. */
export const arbModelCase: fc.Arbitrary<ModelCase> = fc.record({
  model: fc.constantFrom('hrm' as const, 'hrm-mlp' as const, 'trm-att' as const, 'trm-mlp' as const),
  hidden: fc.constantFrom(8, 16),
  heads: fc.constantFrom(1, 2),
  H_layers: fc.integer({ min: 1, max: 2 }),
  L_layers: fc.integer({ min: 1, max: 2 }),
  H_cycles: fc.integer({ min: 1, max: 2 }),
  L_cycles: fc.integer({ min: 1, max: 2 }),
  pos: fc.constantFrom('rope' as const, 'learned' as const),
  puzzle: fc.constantFrom('none' as const, 'padded' as const, 'full' as const),
  loss: fc.constantFrom('stablemax_cross_entropy' as const, 'softmax_cross_entropy' as const),
  B: fc.integer({ min: 1, max: 3 }),
  seqLen: fc.integer({ min: 2, max: 9 }),
  seed: fc.integer({ min: 0, max: 1_000_000 }),
});

/** The HrmConfig of a drawn case (vocabulary 7, 3 puzzle identifiers, at most 2 ACT steps, no exploration). */
export const modelConfig = (p: ModelCase): HrmConfig =>
  decodeConfig(
    {
      description: 'tiny verification model',
      arch: {
        seq_len: p.seqLen, vocab_size: 7, num_puzzle_identifiers: 3, puzzle_emb_ndim: { none: 0, padded: p.hidden - 3, full: p.hidden }[p.puzzle],
        H_cycles: p.H_cycles, L_cycles: p.L_cycles, H_layers: p.H_layers, L_layers: p.L_layers, hidden_size: p.hidden, expansion: 1,
        num_heads: p.heads, pos_encodings: p.model.endsWith('-mlp') && p.pos === 'rope' ? 'none' : p.pos, halt_max_steps: 2, halt_exploration_prob: 0, loss_type: p.loss,
        ...(p.model === 'hrm-mlp' ? { mlp_t: true } : {}),
        ...(p.model.startsWith('hrm') ? {} : { name: 'trm', mlp_t: p.model === 'trm-mlp', no_ACT_continue: true, puzzle_emb_len: p.puzzle === 'padded' ? 2 : 0 }),
      },
      train: { global_batch_size: p.B, lr_warmup_steps: 1, lr: 1e-3 },
    },
    'verify model case',
  );

/** Seeded initial weights with the Q head and the puzzle embedding perturbed so that they matter. */
export const modelWeights = (config: HrmConfig, seed: number): Map<string, T64> => {
  const rng = Rng.fromSeed(seed);
  const v = initialValues(buildLayout(config.arch), rng);
  for (const [name, std] of [['q_head.weight', 0.3], ['q_head.bias', 0.3], ['puzzle_emb.weights', 0.5]] as const) {
    const t = v.get(name);
    if (t !== undefined) v.set(name, { shape: t.shape, data: Float64Array.from(t.data, (x) => x + std * rng.normal()) });
  }
  return v;
};

/** A seeded batch of B rows: tokens in [1, V), about 30% of the labels ignored (−100). */
export const modelBatch = (config: HrmConfig, B: number, seed: number) => {
  const rng = Rng.fromSeed(seed);
  const T = config.arch.seq_len;
  const V = config.arch.vocab_size;
  return {
    inputs: Int32Array.from({ length: B * T }, () => rng.int(1, V - 1)),
    labels: Int32Array.from({ length: B * T }, () => (rng.uniform() < 0.3 ? IGNORE_LABEL : rng.int(1, V - 1))),
    puzzleIdentifiers: Int32Array.from({ length: B }, () => rng.int(0, config.arch.num_puzzle_identifiers - 1)),
    batchSize: B,
    seqLen: T,
  };
};

interface Observed {
  readonly keys: Map<string, T64>;
  readonly halted: Uint8Array;
  readonly qh: Float64Array;
  readonly qc: Float64Array;
  readonly loss: number;
}

/** MODEL_STEPS training steps of one model from `weights` on `batch`: what each step observes, then the parameters. */
const trajectory = async (
  backend: Backend<unknown>,
  config: HrmConfig,
  weights: ReadonlyMap<string, T64>,
  batch: ReturnType<typeof modelBatch>,
): Promise<{ steps: Observed[]; params: ReadonlyMap<string, T64> }> => {
  const B = batch.batchSize;
  const hrm = createHrm(config, { backend, seed: 7 });
  try {
    hrm.loadState({ parameters: weights });
    let carry = hrm.initialCarry(B, config.arch.seq_len);
    const steps: Observed[] = [];
    for (let k = 1; k <= MODEL_STEPS; k++) {
      const keys = new Map<string, T64>();
      const lr = k < 2 ? 5e-4 : 1e-3;
      const r = await hrm.trainStep(carry, batch, { lr, puzzleEmbLr: 10 * lr }, B, { observe: { tensor: (key, v) => void keys.set(key, v), gradients: true } });
      carry = r.carry;
      steps.push({ keys, halted: r.result.halted, qh: r.result.qHaltLogits, qc: r.result.qContinueLogits, loss: r.result.totalLoss });
    }
    hrm.disposeCarry(carry);
    return { steps, params: (await hrm.saveState()).parameters };
  } finally {
    await hrm.dispose();
  }
};

/** `weights` with every element scaled by (1 + u·NUDGE), u uniform in [−1, 1): float32-rounding-sized noise. */
const nudgeWeights = (weights: ReadonlyMap<string, T64>, seed: number): Map<string, T64> => {
  const rng = Rng.fromSeed(seed ^ 0x5bd1e995);
  return new Map([...weights].map(([name, t]) => [name, { shape: t.shape, data: Float64Array.from(t.data, (x) => x * (1 + NUDGE * (2 * rng.uniform() - 1))) }]));
};

/** Whether two observed steps made the same halting decisions (else the batches they go on with differ). */
const sameHalting = (n: Observed, r: Observed): boolean => n.halted.every((h, row) => h === r.halted[row]);

/** Whether an element that is near zero relative to the tensor's RMS has a different sign in a than in r. */
export const signFlipNearZero = (a: T64, r: T64): boolean => {
  let ss = 0;
  for (const v of r.data) ss += v * v;
  const rms = Math.sqrt(ss / Math.max(1, r.data.length));
  for (let i = 0; i < r.data.length; i++) {
    if (Math.abs(r.data[i]) <= 1e-3 * rms && Math.sign(a.data[i]) !== Math.sign(r.data[i])) return true;
  }
  return false;
};

/**
 * rel-L2 comparison of one quantity. The Worst it returns is in norms, not elements: err = ‖a − r‖,
 * allowed = tol·‖r‖ + MODEL_ATOL·√n, ratio = err/allowed (Infinity on NaN); index/got/ref name the
 * element with the largest |a − r|. A string when a tensor is missing or shapes differ.
 */
export const compareRelL2 = (what: string, a: T64 | undefined, r: T64 | undefined, tol: number): { ok: boolean; rel: number; worst: Worst } | string => {
  if (r === undefined) return `${what}: missing from the reference's observation`;
  if (a === undefined) return `${what}: missing from the target's observation`;
  if (!sameShape(a.shape, r.shape)) return `${what}: shape ${shapeToString(a.shape)}, reference ${shapeToString(r.shape)}`;
  let e = 0;
  let n = 0;
  let worstAt = 0;
  let worstAbs = -1;
  for (let i = 0; i < r.data.length; i++) {
    const d = a.data[i] - r.data[i];
    e += Number.isNaN(d) ? Infinity : d * d;
    n += r.data[i] * r.data[i];
    const ad = Number.isNaN(d) ? Infinity : Math.abs(d);
    if (ad > worstAbs) {
      worstAbs = ad;
      worstAt = i;
    }
  }
  const err = Math.sqrt(e);
  const allowed = tol * Math.sqrt(n) + MODEL_ATOL * Math.sqrt(r.data.length);
  const ok = err <= allowed;
  const ratio = Number.isNaN(err) ? Infinity : err === 0 ? 0 : allowed === 0 ? Infinity : err / allowed;
  const rel = err / (Math.sqrt(n) || 1);
  return { ok, rel, worst: { output: what, index: worstAt, got: a.data[worstAt] ?? NaN, ref: r.data[worstAt] ?? NaN, err, allowed, ratio } };
};

/** The outcome of one drawn case: ok, or the first mismatch; `worst` is the largest err/allowed over every quantity compared. */
export type ModelCheck =
  | { readonly ok: true; readonly worst?: Worst; readonly diverged: boolean }
  | { readonly ok: false; readonly worst?: Worst; readonly failure: string };

/** Describes a failed rel-L2 comparison: the quantity, the rel-L2 error against its tolerance, the worst element. */
const describeRelL2 = (w: Worst, rel: number, tol: number): string =>
  `${w.output}: rel-L2 ${rel.toExponential(2)} > ${tol} (‖err‖ ${w.err.toExponential(3)} > allowed ${w.allowed.toExponential(3)}; worst [${w.index}]: got ${w.got}, reference ${w.ref})`;

/** Runs case `p` on `target` and on the reference and compares everything observed (see the file comment). */
export const checkModel = async (target: Backend<unknown>, p: ModelCase): Promise<ModelCheck> => {
  const cfg = `config ${JSON.stringify(p)}`;
  const config = modelConfig(p);
  const weights = modelWeights(config, p.seed);
  const batch = modelBatch(config, p.B, p.seed + 1);
  const ref = await trajectory(referenceBackend as Backend<unknown>, config, weights, batch);
  const nudged = await trajectory(referenceBackend as Backend<unknown>, config, nudgeWeights(weights, p.seed), batch);
  let got: Awaited<ReturnType<typeof trajectory>>;
  try {
    got = await trajectory(target, config, weights, batch);
  } catch (e) {
    return { ok: false, failure: `the target threw ${(e as Error).name}: ${(e as Error).message} (${cfg})` };
  }
  let worst: Worst | undefined;
  /** compares one quantity; returns a failure message or undefined */
  // `sensitive` is the nudged reference's observation while it halts as the reference did (a near-zero
  // gradient sign flip it takes stays in: its effect is part of what float32 noise can do here);
  // undefined after a halting difference, when it says nothing about conditioning
  const close = (what: string, a: T64 | undefined, r: T64 | undefined, base: number, sensitive: T64 | undefined): string | 'ill-conditioned' | undefined => {
    const s = sensitive === undefined ? undefined : compareRelL2(what, sensitive, r, base);
    const movement = s === undefined || typeof s === 'string' ? 0 : s.rel;
    if (movement > ILL_CONDITIONED) return 'ill-conditioned';
    const tol = Math.max(base, SENSITIVITY_FACTOR * movement);
    const c = compareRelL2(what, a, r, tol);
    if (typeof c === 'string') return c;
    if (worst === undefined || c.worst.ratio > worst.ratio) worst = c.worst;
    const widened = tol > base ? ` (widened from ${base}: a float32-sized nudge of the weights alone moves the reference by ${movement.toExponential(2)})` : '';
    return c.ok ? undefined : describeRelL2(c.worst, c.rel, tol) + widened;
  };
  const fail = (msg: string): ModelCheck => ({ ok: false, worst, failure: `${msg} (${cfg})` });
  let diverged = false;
  let nudgeFollows = true;
  for (let k = 0; k < MODEL_STEPS && !diverged; k++) {
    const r = ref.steps[k];
    const a = got.steps[k];
    const n = nudgeFollows ? nudged.steps[k] : undefined;
    const at = (key: string) => `step ${k + 1} ${key}`;
    for (const [keys, base] of [[FORWARD_KEYS.filter((key) => r.keys.has(key)), MODEL_TOL.forward], [[...r.keys.keys()].filter((key) => key.startsWith('grad.')), MODEL_TOL.gradient]] as const) {
      for (const key of keys) {
        const m = close(at(key), a.keys.get(key), r.keys.get(key), base, n?.keys.get(key));
        if (m === 'ill-conditioned') diverged = true;
        else if (m !== undefined) return fail(m);
      }
    }
    if (diverged) break;
    if (n !== undefined && !sameHalting(n, r)) nudgeFollows = false;
    // AdamATan2's first update and SignSGD step by the sign of each gradient element: an element
    // that is zero up to float32 noise may take the other sign, after which the trajectories
    // legitimately part (fixture README, "sign decisions"); later steps are then not compared.
    for (const key of r.keys.keys()) if (key.startsWith('grad.') && signFlipNearZero(a.keys.get(key)!, r.keys.get(key)!)) diverged = true;
    const lossErr = Math.abs(a.loss - r.loss);
    const lossAllowed = LOSS_RTOL * Math.abs(r.loss) + LOSS_ATOL;
    const lossRatio = Number.isNaN(lossErr) ? Infinity : lossErr / lossAllowed;
    if (worst === undefined || lossRatio > worst.ratio) worst = { output: at('total loss'), index: 0, got: a.loss, ref: r.loss, err: lossErr, allowed: lossAllowed, ratio: lossRatio };
    if (!(lossErr <= lossAllowed)) return fail(`${at('total loss')}: got ${a.loss}, reference ${r.loss}, |error| ${lossErr.toExponential(3)} > allowed ${lossAllowed.toExponential(3)}`);
    for (let row = 0; row < p.B; row++) {
      if (a.halted[row] === r.halted[row]) continue;
      // no_ACT_continue (TRM) halts on q_halt > 0, HRM on q_halt > q_continue
      const margin = config.arch.no_ACT_continue ? Math.abs(r.qh[row]) : Math.abs(r.qh[row] - r.qc[row]);
      if (!(margin < HALT_MARGIN)) {
        return fail(`${at(`halting of row ${row}`)}: target ${a.halted[row] ? 'halts' : 'continues'}, reference ${r.halted[row] ? 'halts' : 'continues'} with margin ${config.arch.no_ACT_continue ? '|q_halt|' : '|q_halt − q_continue|'} ${margin.toExponential(3)} ≥ ${HALT_MARGIN} (not a tie)`);
      }
      diverged = true;
    }
  }
  if (!diverged) {
    for (const [name, t] of ref.params) {
      const m = close(`after ${MODEL_STEPS} steps: ${name}`, got.params.get(name), t, MODEL_TOL.parameter, nudgeFollows ? nudged.params.get(name) : undefined);
      if (m === 'ill-conditioned') diverged = true;
      else if (m !== undefined) return fail(m);
    }
  }
  return { ok: true, worst, diverged };
};

const FORWARD_KEYS = ['logits', 'q_halt_logits', 'q_continue_logits', 'next_q_halt_logits', 'next_q_continue_logits', 'target_q_continue', 'ce', 'carry.z_H', 'carry.z_L'];

/** A `model` row of `hrm verify`: a KernelReport whose kernel is 'model'; worst is in rel-L2 norms (see compareRelL2). */
export type ModelReport = Omit<KernelReport, 'kernel'> & {
  readonly kernel: 'model';
  /** passing configs whose trajectories legitimately parted (halting tie or near-zero sign flip) before all steps and the final parameters were compared */
  readonly diverged: number;
};

/** fast-check run of checkModel on `target` (runs drawn configs, or the one replayed `path`), reporting the worst quantity seen and, on failure, the replay seed and path. */
export const verifyModel = async (target: Backend<unknown>, options: { readonly runs: number; readonly seed: number; readonly path?: string }): Promise<ModelReport> => {
  let worst: Worst | undefined;
  let lastFailure: string | undefined;
  let diverged = 0;
  const details = await fc.check(
    fc.asyncProperty(arbModelCase, async (p) => {
      const r = await checkModel(target, p);
      if (r.worst !== undefined && (worst === undefined || r.worst.ratio > worst.ratio)) worst = r.worst;
      if (!r.ok) lastFailure = r.failure;
      else if (r.diverged && lastFailure === undefined) diverged++;
      return r.ok;
    }),
    { numRuns: options.runs, seed: options.seed, ...(options.path !== undefined ? { path: options.path } : {}) },
  );
  if (!details.failed) return { kernel: 'model', runs: details.numRuns, pass: true, worst, seed: details.seed, diverged };
  const thrown = details.errorInstance instanceof Error ? details.errorInstance.message : undefined;
  return {
    kernel: 'model',
    runs: details.numRuns,
    pass: false,
    worst,
    seed: details.seed,
    path: details.counterexamplePath ?? undefined,
    failure: lastFailure ?? thrown ?? 'property failed',
    diverged,
  };
};
