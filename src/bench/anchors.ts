// The performance anchors (see the project's anchors document): the benchmark configurations and
// the original PyTorch HRM's measured CPU step times on this machine kind. Data only; the model
// config codec lives in src/model/config.ts and the bench converts these into it.

export type AnchorName = 'tiny' | 'small' | 'medium' | 'paper-width' | 'paper';
export const ANCHOR_NAMES: readonly AnchorName[] = ['tiny', 'small', 'medium', 'paper-width', 'paper'];

/** The sizes that differ between the benchmark configurations (all others are shared, below). */
export interface BenchSizes {
  readonly name: string;
  readonly batchSize: number;
  readonly hidden: number;
  readonly heads: number;
  /** H_layers = L_layers */
  readonly layers: number;
  readonly hCycles: number;
  readonly lCycles: number;
  /** one puzzle-embedding position in front of the sequence (puzzle_emb_ndim = hidden) */
  readonly puzzleEmb?: boolean;
}

/** Positions a block sees: the tokens plus the puzzle-embedding position when there is one. */
export const positions = (s: BenchSizes, seqLen: number = SHARED.seqLen): number => seqLen + (s.puzzleEmb === true ? 1 : 0);

/** What every anchor configuration shares. */
export const SHARED = {
  seqLen: 81,
  vocab: 11,
  expansion: 4,
  haltMaxSteps: 16,
  haltExplorationProb: 0.1,
  posEncodings: 'rope',
  puzzleEmbNdim: 0,
  loss: 'stablemax_cross_entropy',
  rmsNormEps: 1e-5,
  ropeTheta: 10000,
} as const;

export interface PytorchFigure {
  /** median training-step time (ms) */
  readonly stepMs: number;
  /** one evaluation segment, forward only (ms) */
  readonly evalMs: number;
}

export interface Anchor {
  readonly sizes: BenchSizes;
  readonly trainableParams: number;
  /** matmul work of one training step, 2·m·n·k over every layer evaluated (GFLOP) */
  readonly stepGflop: number;
  /** PyTorch 1.13 CPU figures by thread count (absent where none was measured) */
  readonly pytorch?: Readonly<Record<1 | 2, PytorchFigure>>;
}

const sizes = (name: string, batchSize: number, hidden: number, heads: number, layers: number): BenchSizes => ({
  name, batchSize, hidden, heads, layers, hCycles: 2, lCycles: 2,
});

export const ANCHORS: Readonly<Record<AnchorName, Anchor>> = {
  tiny: {
    sizes: sizes('tiny', 16, 64, 2, 2),
    trainableParams: 263_682,
    stepGflop: 6.3,
    pytorch: { 1: { stepMs: 149, evalMs: 50 }, 2: { stepMs: 161, evalMs: 57 } },
  },
  small: {
    sizes: sizes('small', 32, 128, 4, 2),
    trainableParams: 1_051_650,
    stepGflop: 47.0,
    pytorch: { 1: { stepMs: 834, evalMs: 295 }, 2: { stepMs: 575, evalMs: 216 } },
  },
  medium: {
    sizes: sizes('medium', 32, 256, 4, 4),
    trainableParams: 6_821_890,
    stepGflop: 296,
    pytorch: { 1: { stepMs: 3930, evalMs: 1420 }, 2: { stepMs: 2320, evalMs: 790 } },
  },
  'paper-width': {
    sizes: sizes('paper-width', 8, 512, 8, 4),
    trainableParams: 27_275_266,
    stepGflop: 290,
    pytorch: { 1: { stepMs: 3440, evalMs: 1240 }, 2: { stepMs: 2020, evalMs: 770 } },
  },
  // the paper's Sudoku-Extreme-1k width at its global batch: a GPU configuration (no CPU figure)
  paper: {
    sizes: { ...sizes('paper', 384, 512, 8, 4), puzzleEmb: true },
    trainableParams: 27_275_266,
    stepGflop: 14_075,
  },
};

/** A deliberately small configuration for the CI smoke run (not an anchor: no PyTorch figure). */
export const SMOKE_SIZES: BenchSizes = { name: 'smoke', batchSize: 2, hidden: 32, heads: 2, layers: 1, hCycles: 1, lCycles: 2 };

/** SwiGLU inner size: round(expansion·D·2/3) (half to even) rounded up to a multiple of 256. */
export const swigluInner = (hidden: number, expansion: number): number => {
  const x = (expansion * hidden * 2) / 3;
  const f = Math.floor(x);
  const r = x - f === 0.5 ? (f % 2 === 0 ? f : f + 1) : Math.round(x);
  return Math.ceil(r / 256) * 256;
};

/** Trainable parameters of a configuration without puzzle embedding (blocks + embed + lm_head + q_head). */
export const trainableParams = (s: BenchSizes, vocab = SHARED.vocab, expansion = SHARED.expansion): number => {
  const d = s.hidden;
  const inner = swigluInner(d, expansion);
  const block = 3 * d * d + d * d + 2 * inner * d + inner * d;
  return 2 * s.layers * block + 2 * vocab * d + 2 * d + 2;
};

/**
 * Matmul work of one training step (GFLOP, 2·m·n·k): two segments' forwards (the gradient segment
 * and the Q-target segment) plus the backward of the final L and H module calls and the heads.
 */
export const stepGflop = (s: BenchSizes, seqLen = SHARED.seqLen, vocab = SHARED.vocab, expansion = SHARED.expansion): number => {
  const S = positions(s, seqLen);
  const n = s.batchSize * S;
  const d = s.hidden;
  const inner = swigluInner(d, expansion);
  const blockLinear = 2 * n * d * (3 * d + d + 2 * inner + inner);
  const blockAttn = 4 * s.batchSize * S * S * d;
  const block = blockLinear + blockAttn;
  const moduleCalls = s.hCycles * s.lCycles + s.hCycles;
  const segment = moduleCalls * s.layers * block + 2 * s.batchSize * seqLen * d * vocab + 2 * s.batchSize * d * 2;
  // backward: 2× forward work for the last L call, the last H call and the heads
  const backward = 2 * (2 * s.layers * block + 2 * s.batchSize * seqLen * d * vocab + 2 * s.batchSize * d * 2);
  return (2 * segment + backward) / 1e9;
};

/** Matmul work of one evaluation segment (forward only), GFLOP. */
export const evalGflop = (s: BenchSizes, seqLen = SHARED.seqLen, vocab = SHARED.vocab, expansion = SHARED.expansion): number => {
  const S = positions(s, seqLen);
  const n = s.batchSize * S;
  const d = s.hidden;
  const inner = swigluInner(d, expansion);
  const block = 2 * n * d * (3 * d + d + 2 * inner + inner) + 4 * s.batchSize * S * S * d;
  const moduleCalls = s.hCycles * s.lCycles + s.hCycles;
  return (moduleCalls * s.layers * block + 2 * s.batchSize * seqLen * d * vocab + 2 * s.batchSize * d * 2) / 1e9;
};
