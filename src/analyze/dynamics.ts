// The forward dynamics of an HRM over a set of puzzles, read through the model's probe (every L
// and H update of every segment, spec §2): the forward residual ‖z_t − z_{t−1}‖ / ‖z_{t−1}‖ of the
// module each update changes, per puzzle; the final z_H, z_L of each puzzle; the segment where ACT
// would halt; and, for the first puzzles, every state (for PCA trajectories). Runs the model's eval
// mode only (no weights change). Pure apart from the model calls; no I/O.
// Shapes: N puzzles, S = seq_len + puzzle_emb_len positions, D hidden.

import { IGNORE_LABEL, type Batch } from '../core/batch.ts';
import type { Hrm } from '../model/api.ts';
import { haltsByQ } from '../model/act.ts';
import type { Tensor } from '../core/tensor.ts';

/** A test batch: `size` real rows first, then padding. */
export interface PuzzleBatch {
  readonly batch: Batch;
  readonly size: number;
}

/** One update of the recurrence: which module, in which segment (1-based) and cycle. */
export interface Update {
  readonly segment: number;
  readonly module: 'L' | 'H';
  readonly h: number; // H-cycle index
  readonly l: number; // L-cycle index (L updates), −1 for H updates
}

/** The updates of `segments` segments in execution order, for H_cycles × L_cycles. */
export const updateSchedule = (segments: number, hCycles: number, lCycles: number): Update[] => {
  const out: Update[] = [];
  for (let s = 1; s <= segments; s++) {
    for (let h = 0; h < hCycles; h++) {
      for (let l = 0; l < lCycles; l++) out.push({ segment: s, module: 'L', h, l });
      out.push({ segment: s, module: 'H', h, l: -1 });
    }
  }
  return out;
};

/** The probe key under which the model records an update's new state (src/model/segment.ts). */
const probeKey = (u: Update): string => (u.module === 'L' ? `L.h${u.h}.l${u.l}` : `H.h${u.h}`);

/** ‖a_r − b_r‖ / ‖b_r‖ for each of the first `rows` rows of [·, size] arrays (NaN when ‖b_r‖ = 0). */
export const rowResiduals = (next: ArrayLike<number>, prev: ArrayLike<number>, rows: number, size: number): Float64Array => {
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let num = 0;
    let den = 0;
    for (let i = r * size; i < (r + 1) * size; i++) {
      const d = next[i] - prev[i];
      num += d * d;
      den += prev[i] * prev[i];
    }
    out[r] = den > 0 ? Math.sqrt(num / den) : NaN;
  }
  return out;
};

export interface DynamicsOptions {
  /** segments run per puzzle (eval mode runs all of them) */
  readonly segments: number;
  /** stop each puzzle where ACT halts (first q_halt > q_continue; TRM: q_halt > 0), else analyse every segment */
  readonly act: boolean;
  /** the first this-many puzzles keep every state for trajectories */
  readonly keepStates: number;
  readonly weights?: 'live' | 'ema';
  /** called after each batch with the puzzles done */
  readonly onBatch?: (done: number) => void;
}

export interface Dynamics {
  readonly puzzles: number;
  readonly stateSize: number; // S·D
  readonly positions: number; // S
  readonly hidden: number; // D
  readonly schedule: readonly Update[];
  /** residuals[k][p]: the residual of update k for puzzle p (NaN after the puzzle halted, with act) */
  readonly residuals: readonly Float64Array[];
  /** final states [N, S·D] (at the halting segment with act, else after the last segment) */
  readonly finalH: Float64Array;
  readonly finalL: Float64Array;
  /** segment where ACT halts (first q_halt > q_continue, TRM: q_halt > 0, else the last), per puzzle (1-based); with act, the final state's */
  readonly haltSegment: Int32Array;
  /** whether the prediction at the final state is right on every supervised token, per puzzle */
  readonly exact: Uint8Array;
  /** states of the first puzzles: H[p] = [z_H at the start, after each H update …], L[p] likewise */
  readonly statesH: readonly Float32Array[][];
  readonly statesL: readonly Float32Array[][];
}

/** Runs `segments` eval-mode segments on every batch from a fresh carry and reads the dynamics. */
export const collectDynamics = async (hrm: Hrm, batches: readonly PuzzleBatch[], options: DynamicsOptions): Promise<Dynamics> => {
  const a = hrm.config.arch;
  const M = options.segments;
  if (!Number.isInteger(M) || M < 1) throw new Error(`collectDynamics: segments ${M}, expected an integer ≥ 1`);
  const schedule = updateSchedule(M, a.H_cycles, a.L_cycles);
  const perSegment = schedule.length / M;
  const N = batches.reduce((n, b) => n + b.size, 0);
  const residuals = schedule.map(() => new Float64Array(N).fill(NaN));
  let stateSize = 0;
  let positions = 0;
  let finalH = new Float64Array(0);
  let finalL = new Float64Array(0);
  const haltSegment = new Int32Array(N);
  const exact = new Uint8Array(N);
  const statesH: Float32Array[][] = [];
  const statesL: Float32Array[][] = [];
  let offset = 0;
  for (const { batch, size } of batches) {
    const T = batch.seqLen;
    let carry = hrm.initialCarry(batch.batchSize, T);
    const halt = new Int32Array(size); // ACT's halting segment, 0 = not yet
    for (let s = 1; s <= M; s++) {
      const seen = new Map<string, Tensor<Float64Array>>();
      const { carry: next, result } = await hrm.evalStep(carry, batch, {
        haltMaxSteps: M,
        ...(options.weights ? { weights: options.weights } : {}),
        observe: { probe: true, tensor: (key, value) => seen.set(key, value) },
      });
      carry = next;
      const get = (key: string): Tensor<Float64Array> => {
        const t = seen.get(key);
        if (t === undefined) throw new Error(`collectDynamics: the model recorded no '${key}'`);
        return t;
      };
      let zH = get('z_H.in');
      let zL = get('z_L.in');
      if (stateSize === 0) {
        stateSize = zH.data.length / batch.batchSize;
        positions = zH.shape[1];
        finalH = new Float64Array(N * stateSize);
        finalL = new Float64Array(N * stateSize);
      }
      const keep = (p: number) => offset + p < options.keepStates;
      if (s === 1) {
        for (let p = 0; p < size && keep(p); p++) {
          statesH.push([Float32Array.from(zH.data.subarray(p * stateSize, (p + 1) * stateSize))]);
          statesL.push([Float32Array.from(zL.data.subarray(p * stateSize, (p + 1) * stateSize))]);
        }
      }
      const running = (p: number) => !options.act || halt[p] === 0;
      for (let k = (s - 1) * perSegment; k < s * perSegment; k++) {
        const u = schedule[k];
        const z = get(probeKey(u));
        const r = rowResiduals(z.data, (u.module === 'L' ? zL : zH).data, size, stateSize);
        for (let p = 0; p < size; p++) {
          if (!running(p)) continue;
          residuals[k][offset + p] = r[p];
          if (keep(p)) (u.module === 'L' ? statesL : statesH)[offset + p].push(Float32Array.from(z.data.subarray(p * stateSize, (p + 1) * stateSize)));
        }
        if (u.module === 'L') zL = z;
        else zH = z;
      }
      const cH = get('carry.z_H').data;
      const cL = get('carry.z_L').data;
      for (let p = 0; p < size; p++) {
        if (halt[p] === 0 && (haltsByQ(hrm.config.arch.no_ACT_continue, result.qHaltLogits[p], result.qContinueLogits[p]) || s === M)) halt[p] = s;
        if (options.act ? halt[p] !== s : s !== M) continue;
        const row = offset + p;
        haltSegment[row] = halt[p];
        finalH.set(cH.subarray(p * stateSize, (p + 1) * stateSize), row * stateSize);
        finalL.set(cL.subarray(p * stateSize, (p + 1) * stateSize), row * stateSize);
        let ok = true;
        for (let t = 0; t < T; t++) {
          const y = batch.labels[p * T + t];
          if (y !== IGNORE_LABEL && result.predictions[p * T + t] !== y) ok = false;
        }
        exact[row] = ok ? 1 : 0;
      }
    }
    hrm.disposeCarry(carry);
    offset += size;
    options.onBatch?.(offset);
  }
  return {
    puzzles: N,
    stateSize,
    positions,
    hidden: a.hidden_size,
    schedule,
    residuals,
    finalH,
    finalL,
    haltSegment,
    exact,
    statesH,
    statesL,
  };
};
