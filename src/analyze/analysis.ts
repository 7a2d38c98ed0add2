// `hrm analyze` without the edges: the paper's two measurable claims about how HRM reasons, on a
// model and a list of puzzle batches. (1) Hierarchical convergence: the forward residual of every
// L and H update across all segments, for the model, for the same weights with H frozen
// (H_cycles 1, L_cycles H_cycles·L_cycles: the same L updates per segment without an H update in
// between, the "plain recurrent" contrast) and for the untrained model of the same config. (2) The
// dimensionality hierarchy: the participation ratio of the final z_H and z_L, trained against
// untrained, with bootstrap intervals over puzzles and against the number of puzzles; plus PCA
// trajectories of the states. Returns plain numbers (JSON-ready); no files, no clock, no console,
// so the same code runs in the browser.

import { Rng } from '../core/rng.ts';
import type { Hrm, TrainingState } from '../model/api.ts';
import { deriveSizes, type HrmConfig } from '../model/config.ts';
import { createHrm } from '../model/hrm.ts';
import { collectDynamics, type Dynamics, type PuzzleBatch, type Update } from './dynamics.ts';
import { principalComponents, project } from './pca.ts';
import { bootstrapDraws, curveSizes, gramEstimator, interval, prCurve, tokenEstimator, type CurvePoint, type Interval, type PrEstimator } from './pr.ts';

export interface AnalysisOptions {
  /** segments per puzzle (default: the config's halt_max_steps) */
  readonly segments?: number;
  /** stop each puzzle where ACT halts instead of running every segment */
  readonly act?: boolean;
  /** bootstrap replicates for the PR intervals */
  readonly bootstrap?: number;
  /** seed of the bootstrap, the PR-curve subsets and the PCA start */
  readonly seed?: number;
  /** random subsets per size on the PR curve */
  readonly curveRepeats?: number;
  /** puzzles whose trajectories are plotted */
  readonly trajectories?: number;
  /** memory for the states the PCA is fitted on (bytes; the first puzzles that fit are used) */
  readonly pcaBytes?: number;
  /** analyse the EMA copy of the weights (configs with train.ema) */
  readonly weights?: 'live' | 'ema';
  readonly onProgress?: (model: string, puzzlesDone: number) => void;
}

export interface StepStats {
  readonly count: number; // puzzles with a value at this update
  readonly mean: number;
  readonly sd: number;
  readonly p10: number;
  readonly p50: number;
  readonly p90: number;
}

/** One update's residual over puzzles; `index` runs 1.. through all segments. */
export type ResidualStep = Update & StepStats & { readonly index: number };

export interface PrPair {
  readonly z_H: Interval;
  readonly z_L: Interval;
  /** PR(z_H) / PR(z_L), interval from the paired bootstrap */
  readonly ratio: Interval;
}

export interface ModelAnalysis {
  readonly residuals: readonly ResidualStep[];
  /** mean segment at which ACT halts (first q_halt > q_continue, capped at the segments run) */
  readonly act_segments: number;
  /** fraction of the puzzles whose final prediction is right on every supervised cell */
  readonly exact_accuracy: number;
  /** per_puzzle: each puzzle's final state flattened [S·D] is one sample; per_token: each position's [D] is one */
  readonly pr: { readonly per_puzzle: PrPair; readonly per_token: PrPair };
  readonly pr_curve: {
    readonly per_puzzle: { readonly z_H: readonly CurvePoint[]; readonly z_L: readonly CurvePoint[] };
    readonly per_token: { readonly z_H: readonly CurvePoint[]; readonly z_L: readonly CurvePoint[] };
  };
}

export interface Trajectories {
  /** puzzles the PCA was fitted on (every state of each: the start and every update) */
  readonly fitted_puzzles: number;
  readonly explained: readonly number[]; // variance fraction per component
  readonly iterations: number;
  /** points[p][j] = coordinates of puzzle p's j-th state; labels[j] names the update that made it */
  readonly points: readonly (readonly (readonly number[])[])[];
  readonly labels: readonly string[];
}

export interface AnalysisResult {
  readonly puzzles: number;
  readonly positions: number; // S
  readonly hidden: number; // D
  readonly segments: number;
  readonly mode: 'all-segments' | 'act';
  readonly bootstrap: number;
  readonly seed: number;
  readonly trained: ModelAnalysis & { readonly trajectories: { readonly z_H: Trajectories; readonly z_L: Trajectories } };
  readonly untrained: ModelAnalysis;
  /** null when H_cycles is already 1 (nothing to freeze) */
  readonly frozen: { readonly H_cycles: 1; readonly L_cycles: number; readonly residuals: readonly ResidualStep[] } | null;
}

/** mean, sd and percentiles of the finite values */
export const stepStats = (values: ArrayLike<number>): StepStats => {
  const v = Float64Array.from(Array.from(values).filter(Number.isFinite)).sort();
  const n = v.length;
  if (n === 0) return { count: 0, mean: NaN, sd: NaN, p10: NaN, p50: NaN, p90: NaN };
  const mean = v.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  const q = (p: number) => {
    const pos = p * (n - 1);
    const i = Math.floor(pos);
    return i + 1 < n ? v[i] + (pos - i) * (v[i + 1] - v[i]) : v[i];
  };
  return { count: n, mean, sd, p10: q(0.1), p50: q(0.5), p90: q(0.9) };
};

const residualSteps = (d: Dynamics): ResidualStep[] => d.schedule.map((u, k) => ({ index: k + 1, ...u, ...stepStats(d.residuals[k]) }));

/** PR point values, paired-bootstrap intervals and curves of one model's final states. */
const prOf = (d: Dynamics, reps: number, repeats: number, rng: Rng): Pick<ModelAnalysis, 'pr' | 'pr_curve'> => {
  const N = d.puzzles;
  if (N < 2) throw new Error(`analysis: ${N} puzzle(s); the participation ratio needs at least 2`);
  const all = Int32Array.from({ length: N }, (_, i) => i);
  const pair = (h: PrEstimator, l: PrEstimator): PrPair => {
    const [bh, bl] = bootstrapDraws([h, l], reps, rng.fork());
    const vh = h.pr(all);
    const vl = l.pr(all);
    return { z_H: interval(vh, bh), z_L: interval(vl, bl), ratio: interval(vh / vl, bh.map((x, i) => x / bl[i])) };
  };
  const puzzle = { h: gramEstimator(d.finalH, N, d.stateSize), l: gramEstimator(d.finalL, N, d.stateSize) };
  const token = { h: tokenEstimator(d.finalH, N, d.positions, d.hidden), l: tokenEstimator(d.finalL, N, d.positions, d.hidden) };
  const sizes = curveSizes(N);
  return {
    pr: { per_puzzle: pair(puzzle.h, puzzle.l), per_token: pair(token.h, token.l) },
    pr_curve: {
      per_puzzle: { z_H: prCurve(puzzle.h, sizes, repeats, rng.fork()), z_L: prCurve(puzzle.l, sizes, repeats, rng.fork()) },
      per_token: { z_H: prCurve(token.h, sizes, repeats, rng.fork()), z_L: prCurve(token.l, sizes, repeats, rng.fork()) },
    },
  };
};

const modelAnalysis = (d: Dynamics, reps: number, repeats: number, rng: Rng): ModelAnalysis => ({
  residuals: residualSteps(d),
  act_segments: d.haltSegment.reduce((a, b) => a + b, 0) / Math.max(d.puzzles, 1),
  exact_accuracy: d.exact.reduce((a, b) => a + b, 0) / Math.max(d.puzzles, 1),
  ...prOf(d, reps, repeats, rng),
});

const trajectories = (states: readonly Float32Array[][], labels: string[], shown: number, seed: number): Trajectories => {
  const rows = states.flat();
  const pca = principalComponents(rows, 3, { seed });
  return {
    fitted_puzzles: states.length,
    explained: pca.variances.map((v) => (pca.totalVariance > 0 ? v / pca.totalVariance : 0)),
    iterations: pca.iterations,
    points: states.slice(0, shown).map((seq) => seq.map((x) => project(pca, x))),
    labels,
  };
};

/** The weights a companion model starts from: the parameters, with the EMA copy over them when asked. */
const weightsOf = (state: TrainingState, weights: 'live' | 'ema'): TrainingState['parameters'] => {
  if (weights === 'live' || state.ema === undefined) return state.parameters;
  const merged = new Map(state.parameters);
  for (const [k, v] of state.ema) merged.set(k, v);
  return merged;
};

/** The companions of a model: untrained (same config and seed scheme as `hrm train`) and H frozen (same weights). */
export const companionModels = async (trained: Hrm, weights: 'live' | 'ema' = 'live'): Promise<{ untrained: Hrm; frozen: Hrm | null }> => {
  const config = trained.config;
  const untrained = createHrm(config, { backend: trained.backend, seed: config.train.seed });
  const a = config.arch;
  if (a.H_cycles === 1) return { untrained, frozen: null };
  const frozenConfig: HrmConfig = { ...config, arch: { ...a, H_cycles: 1, L_cycles: a.H_cycles * a.L_cycles } };
  const frozen = createHrm(frozenConfig, { backend: trained.backend, seed: config.train.seed });
  frozen.loadState({ parameters: weightsOf(await trained.saveState(), weights) });
  return { untrained, frozen };
};

/** Runs the whole analysis of `trained` (with its companions) on `batches`. */
export const analyzeModels = async (
  models: { readonly trained: Hrm; readonly untrained: Hrm; readonly frozen: Hrm | null },
  batches: readonly PuzzleBatch[],
  options: AnalysisOptions = {},
): Promise<AnalysisResult> => {
  const config = models.trained.config;
  const a = config.arch;
  const M = options.segments ?? a.halt_max_steps;
  const act = options.act ?? false;
  const reps = options.bootstrap ?? 200;
  const seed = options.seed ?? 0;
  const repeats = options.curveRepeats ?? 8;
  const shown = options.trajectories ?? 3;
  const N = batches.reduce((n, b) => n + b.size, 0);
  const S = deriveSizes(a).totalSeqLen;
  const statesPerPuzzle = 2 + M * a.H_cycles * (a.L_cycles + 1);
  const keepStates = Math.max(Math.min(N, Math.floor((options.pcaBytes ?? 256 * 2 ** 20) / (statesPerPuzzle * S * a.hidden_size * 4))), Math.min(N, shown, 2));
  const base = { segments: M, act, ...(options.weights ? { weights: options.weights } : {}) };
  const progress = (name: string) => (n: number) => options.onProgress?.(name, n);
  const dTrained = await collectDynamics(models.trained, batches, { ...base, keepStates, onBatch: progress('trained') });
  const dUntrained = await collectDynamics(models.untrained, batches, { segments: M, act, keepStates: 0, onBatch: progress('untrained') });
  const dFrozen = models.frozen === null ? null : await collectDynamics(models.frozen, batches, { segments: M, act, keepStates: 0, onBatch: progress('H frozen') });
  const rng = Rng.fromSeed(seed);
  const names = (module: 'L' | 'H') => ['start', ...dTrained.schedule.filter((u) => u.module === module).map((u) => (module === 'L' ? `s${u.segment} L h${u.h} l${u.l}` : `s${u.segment} H h${u.h}`))];
  return {
    puzzles: N,
    positions: dTrained.positions,
    hidden: dTrained.hidden,
    segments: M,
    mode: act ? 'act' : 'all-segments',
    bootstrap: reps,
    seed,
    trained: {
      ...modelAnalysis(dTrained, reps, repeats, rng.fork()),
      trajectories: {
        z_H: trajectories(dTrained.statesH, names('H'), shown, seed),
        z_L: trajectories(dTrained.statesL, names('L'), shown, seed),
      },
    },
    untrained: modelAnalysis(dUntrained, reps, repeats, rng.fork()),
    frozen: dFrozen === null ? null : { H_cycles: 1, L_cycles: a.H_cycles * a.L_cycles, residuals: residualSteps(dFrozen) },
  };
};

/** Bytes the analysis holds for N puzzles besides the model (Gram matrices, token moments, final states, PCA states). */
export const analysisBytes = (config: HrmConfig, puzzles: number, pcaBytes = 256 * 2 ** 20): number => {
  const S = deriveSizes(config.arch).totalSeqLen;
  const D = config.arch.hidden_size;
  return 2 * (puzzles * puzzles * 8 + puzzles * D * D * 8 + puzzles * S * D * 8) + pcaBytes;
};
