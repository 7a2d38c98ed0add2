// createHrm: the complete HRM (ACT loss head over the inner model, spec §1–§5) on any Backend, or
// TRM (spec §10) when arch.name is 'trm': the same loss head, carry, optimizer and EMA around TRM's
// segment (one network, the whole last cycle back-propagated, src/model/trm/segment.ts).
// One training step = reset of halted rows, one segment, heads, halting (q_halt > q_continue, or
// q_halt > 0 with no_ACT_continue), the Q-target segment (not with no_ACT_continue), losses,
// backward of total/globalBatchSize, SignSGD on the puzzle table, AdamATan2 on the parameters
// (then EMA). Eval = one segment per call, halting at haltMaxSteps.
// Only small values come back to the host: per-token CE, argmax, Q logits, BCE terms.
// Training, evaluation, the CLI, `hrm trace` and the benchmarks use only this module.

import type { Backend } from '../core/backend.ts';
import { Rng } from '../core/rng.ts';
import type { Tensor } from '../core/tensor.ts';
import { numel, sameShape, shapeToString, tensor64 } from '../core/tensor.ts';
import { ropeTables } from './rope-tables.ts';
import type { ActStepResult, Carry, CarrySnapshot, Hrm, StepObserver, StepRates, TrainingState } from './api.ts';
import type { Batch } from '../core/batch.ts';
import type { HrmConfig } from './config.ts';
import { deriveSizes } from './config.ts';
import type { Grads, ModelContext } from './context.ts';
import { disposeAll } from './context.ts';
import { embedBackward, embedForward } from './embedding.ts';
import { headsBackward, headsForward, qHeadForward } from './heads.ts';
import { initialValues } from './init.ts';
import type { Layout } from './layout.ts';
import { buildLayout, parameterNames, PUZZLE_TABLE } from './layout.ts';
import { advanceSteps, decideHalting, lossesAndMetrics, mergeData, qTargetLogits, rowStats } from './act.ts';
import { IGNORE_LABEL } from '../core/batch.ts';
import type { OptimizerState } from './optimizer.ts';
import { disposeOptimizerState, initOptimizerState, newGrads, optimizerStep, packOptimizer } from './optimizer.ts';
import type { SegmentTape } from './segment.ts';
import { segmentBackward, segmentForward } from './segment.ts';
import type { TrmSegmentTape } from './trm/segment.ts';
import { trmSegmentBackward, trmSegmentForward } from './trm/segment.ts';

export interface CreateHrmOptions {
  readonly backend: Backend<unknown>;
  /** seed of the initialization and of the exploration generator (default: config.train.seed) */
  readonly seed?: number;
}

/** The carry as the model keeps it: the public host fields plus the state handles. */
interface ModelCarry<T> extends Carry {
  readonly zH: T; // [B,S,D]
  readonly zL: T; // [B,S,D]
  readonly owner: object;
}

/** Thrown for a batch that does not fit the model (names the field and what was expected). */
export class BatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BatchError';
  }
}

/** Thrown by loadState for missing, unknown or mis-shaped entries. */
export class StateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StateError';
  }
}

/** One segment of the configured model: HRM's (one-step gradient) or TRM's (last cycle back-propagated). */
const runSegment = <T>(ctx: ModelContext<T>, zH: T, zL: T, x: T, withGrad: boolean, probe = false): { zH: T; zL: T; tape: SegmentTape<T> | TrmSegmentTape<T> | null } =>
  ctx.arch.name === 'trm' ? trmSegmentForward(ctx, zH, zL, x, withGrad, probe) : segmentForward(ctx, zH, zL, x, withGrad, probe);

/** dx of runSegment's tape from dzH; weight gradients go into `grads`. */
const segmentGradient = <T>(ctx: ModelContext<T>, tape: SegmentTape<T> | TrmSegmentTape<T>, dzH: T, grads: Grads<T>): T =>
  ctx.arch.name === 'trm' ? trmSegmentBackward(ctx, tape as TrmSegmentTape<T>, dzH, grads) : segmentBackward(ctx, tape as SegmentTape<T>, dzH, grads);

/** Builds an HRM (or TRM, by arch.name) on `options.backend`, initialized from the seed (spec §1.9). */
export const createHrm = (config: HrmConfig, options: CreateHrmOptions): Hrm => new HrmModel(config, options.backend, options.seed ?? config.train.seed);

class HrmModel<T> implements Hrm {
  readonly layout: Layout;
  private readonly b: Backend<T>;
  private readonly sizes;
  private readonly names: readonly string[];
  private params = new Map<string, T>();
  private opt: OptimizerState<T>;
  private rng: Rng;
  private rope: { cos: T; sin: T } | null;
  private readonly live = new WeakSet<object>(); // carries not yet consumed
  private disposed = false;

  constructor(readonly config: HrmConfig, backend: Backend<unknown>, seed: number) {
    this.b = backend as Backend<T>;
    this.layout = buildLayout(config.arch);
    this.sizes = deriveSizes(config.arch);
    this.names = parameterNames(this.layout);
    const root = Rng.fromSeed(seed);
    const initRng = root.fork();
    this.rng = root.fork();
    for (const [name, value] of initialValues(this.layout, initRng)) this.params.set(name, this.b.fromArray(value.shape, value.data));
    this.opt = initOptimizerState(this.b, this.params, this.names, config.train.ema);
    if (config.arch.pos_encodings === 'rope') {
      const t = ropeTables(this.sizes.totalSeqLen, this.sizes.headDim, config.arch.rope_theta);
      this.rope = { cos: this.b.fromArray(t.cos.shape, t.cos.data), sin: this.b.fromArray(t.sin.shape, t.sin.data) };
    } else {
      this.rope = null;
    }
  }

  get backend(): Backend<unknown> {
    return this.b as Backend<unknown>;
  }

  private alive(): void {
    if (this.disposed) throw new Error('Hrm: the model was disposed');
  }

  /** A context whose weights are the live parameters, or the EMA copy for parameters when `ema`. */
  private context(record: ((key: string, h: T) => void) | undefined, ema = false): ModelContext<T> {
    const { params, opt } = this;
    const w = (name: string): T => {
      const h = (ema && opt.ema !== null ? opt.ema.get(name) : undefined) ?? params.get(name);
      if (h === undefined) throw new Error(`Hrm: no weight '${name}'`);
      return h;
    };
    return { b: this.b, arch: this.config.arch, sizes: this.sizes, rope: this.rope, w, record };
  }

  /** A recorder that copies handles and reads them to the observer; `flush` awaits the reads. */
  private recorder(observe: StepObserver | undefined): { record?: (key: string, h: T) => void; flush: () => Promise<void> } {
    if (observe === undefined) return { flush: async () => {} };
    const pending: Promise<void>[] = [];
    const b = this.b;
    return {
      record: (key, h) => {
        const copy = b.scale(h, 1);
        pending.push(
          b.read(copy).then((t) => {
            b.dispose(copy);
            observe.tensor(key, t);
          }),
        );
      },
      flush: async () => {
        await Promise.all(pending);
      },
    };
  }

  initialCarry(batchSize: number, seqLen: number): Carry {
    this.alive();
    if (seqLen !== this.config.arch.seq_len) {
      throw new BatchError(`initialCarry: seqLen ${seqLen} does not match the model's seq_len ${this.config.arch.seq_len}`);
    }
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new BatchError(`initialCarry: batchSize ${batchSize}, expected an integer ≥ 1`);
    const shape = [batchSize, this.sizes.totalSeqLen, this.config.arch.hidden_size];
    const carry: ModelCarry<T> = {
      batchSize,
      steps: new Int32Array(batchSize),
      halted: new Uint8Array(batchSize).fill(1),
      currentData: {
        inputs: new Int32Array(batchSize * seqLen),
        labels: new Int32Array(batchSize * seqLen).fill(IGNORE_LABEL),
        puzzleIdentifiers: new Int32Array(batchSize),
        batchSize,
        seqLen,
      },
      zH: this.b.zeros(shape),
      zL: this.b.zeros(shape),
      owner: this,
    };
    this.live.add(carry);
    return carry;
  }

  disposeCarry(carry: Carry): void {
    const c = this.take(carry, 'disposeCarry');
    disposeAll(this.b, c.zH, c.zL);
  }

  /** Checks that `carry` is a live carry of this model and marks it consumed. */
  private take(carry: Carry, where: string): ModelCarry<T> {
    this.alive();
    const c = carry as ModelCarry<T>;
    if (c.owner !== this) throw new Error(`${where}: the carry belongs to another model`);
    if (!this.live.has(c)) throw new Error(`${where}: the carry was already consumed (each step returns the next one)`);
    this.live.delete(c);
    return c;
  }

  private checkBatch(batch: Batch, carry: Carry, where: string): void {
    if (batch.batchSize !== carry.batchSize) throw new BatchError(`${where}: batch.batchSize ${batch.batchSize} does not match the carry's ${carry.batchSize}`);
    this.checkData(batch, carry.batchSize, `${where}: batch`);
  }

  /** Checks rows of data [B,T] against the model: sizes, tokens in the vocabulary, ids in range. */
  private checkData(data: Batch, B: number, field: string): void {
    const a = this.config.arch;
    const T = a.seq_len;
    if (data.batchSize !== B) throw new BatchError(`${field}.batchSize ${data.batchSize}, expected ${B}`);
    if (data.seqLen !== T) throw new BatchError(`${field}.seqLen ${data.seqLen}, expected seq_len ${T}`);
    if (data.inputs.length !== B * T) throw new BatchError(`${field}.inputs has ${data.inputs.length} values, expected ${B}·${T}`);
    if (data.labels.length !== B * T) throw new BatchError(`${field}.labels has ${data.labels.length} values, expected ${B}·${T}`);
    if (data.puzzleIdentifiers.length !== B) {
      throw new BatchError(`${field}.puzzleIdentifiers has ${data.puzzleIdentifiers.length} values, expected ${B}`);
    }
    for (let i = 0; i < B * T; i++) {
      const x = data.inputs[i];
      if (x < 0 || x >= a.vocab_size) throw new BatchError(`${field}.inputs[${i}] = ${x}, expected a token in [0, ${a.vocab_size})`);
      const y = data.labels[i];
      if (y !== IGNORE_LABEL && (y < 0 || y >= a.vocab_size)) {
        throw new BatchError(`${field}.labels[${i}] = ${y}, expected a token in [0, ${a.vocab_size}) or ${IGNORE_LABEL}`);
      }
    }
    for (let b = 0; b < B; b++) {
      const id = data.puzzleIdentifiers[b];
      if (id < 0 || id >= a.num_puzzle_identifiers) {
        throw new BatchError(`${field}.puzzleIdentifiers[${b}] = ${id}, expected an id in [0, ${a.num_puzzle_identifiers})`);
      }
    }
  }

  async exportCarry(carry: Carry): Promise<CarrySnapshot> {
    this.alive();
    const c = carry as ModelCarry<T>;
    if (c.owner !== this) throw new Error('exportCarry: the carry belongs to another model');
    if (!this.live.has(c)) throw new Error('exportCarry: the carry was already consumed (each step returns the next one)');
    const [zH, zL] = await Promise.all([this.b.read(c.zH), this.b.read(c.zL)]);
    const d = c.currentData;
    return {
      zH: tensor64(zH.shape, zH.data),
      zL: tensor64(zL.shape, zL.data),
      steps: Int32Array.from(c.steps),
      halted: Uint8Array.from(c.halted),
      currentData: {
        inputs: Int32Array.from(d.inputs),
        labels: Int32Array.from(d.labels),
        puzzleIdentifiers: Int32Array.from(d.puzzleIdentifiers),
        batchSize: d.batchSize,
        seqLen: d.seqLen,
      },
    };
  }

  importCarry(s: CarrySnapshot): Carry {
    this.alive();
    const a = this.config.arch;
    const B = s.steps.length;
    if (B < 1) throw new BatchError('importCarry: snapshot.steps is empty, expected [B] with B ≥ 1');
    const want = [B, this.sizes.totalSeqLen, a.hidden_size];
    for (const [field, z] of [['zH', s.zH], ['zL', s.zL]] as const) {
      if (!sameShape(z.shape, want) || z.data.length !== numel(want)) {
        throw new BatchError(`importCarry: snapshot.${field} has shape ${shapeToString(z.shape)} (${z.data.length} values), expected ${shapeToString(want)}`);
      }
    }
    if (s.halted.length !== B) throw new BatchError(`importCarry: snapshot.halted has ${s.halted.length} values, expected [${B}] (as snapshot.steps)`);
    for (let r = 0; r < B; r++) {
      if (s.halted[r] > 1) throw new BatchError(`importCarry: snapshot.halted[${r}] = ${s.halted[r]}, expected 0 or 1`);
      if (s.steps[r] < 0) throw new BatchError(`importCarry: snapshot.steps[${r}] = ${s.steps[r]}, expected ≥ 0`);
    }
    this.checkData(s.currentData, B, 'importCarry: snapshot.currentData');
    const d = s.currentData;
    const carry: ModelCarry<T> = {
      batchSize: B,
      steps: Int32Array.from(s.steps),
      halted: Uint8Array.from(s.halted),
      currentData: {
        inputs: Int32Array.from(d.inputs),
        labels: Int32Array.from(d.labels),
        puzzleIdentifiers: Int32Array.from(d.puzzleIdentifiers),
        batchSize: B,
        seqLen: d.seqLen,
      },
      zH: this.b.fromArray(want, s.zH.data),
      zL: this.b.fromArray(want, s.zL.data),
      owner: this,
    };
    this.live.add(carry);
    return carry;
  }

  /** Reset of halted rows (spec §3.2 step 1): new states, steps before the increment, the data processed. */
  private reset(c: ModelCarry<T>, batch: Batch): { zH: T; zL: T; data: Batch } {
    const b = this.b;
    const zH = b.resetRows(c.zH, this.params.get('H_init') as T, c.halted);
    const zL = b.resetRows(c.zL, this.params.get('L_init') as T, c.halted);
    disposeAll(b, c.zH, c.zL);
    return { zH, zL, data: mergeData(c.currentData, batch, c.halted) };
  }

  /** Reads CE, argmax and Q logits of a forward; returns host values. */
  private async readHeads(logits: T, q: T, labels: Int32Array, B: number) {
    const b = this.b;
    const T_ = this.config.arch.seq_len;
    const ce = b.crossEntropy(logits, labels, this.sizes.lossKind);
    const am = b.argmax(logits);
    const [ceH, amH, qH] = await Promise.all([b.read(ce), b.read(am), b.read(q)]);
    disposeAll(b, ce, am);
    const predictions = Int32Array.from(amH.data);
    const qHalt = Float64Array.from({ length: B }, (_, r) => qH.data[2 * r]);
    const qContinue = Float64Array.from({ length: B }, (_, r) => qH.data[2 * r + 1]);
    return { ce: ceH, predictions, qHalt, qContinue, stats: rowStats(ceH.data, predictions, labels, B, T_) };
  }

  /**
   * Elementwise BCE of q[B,2] against the targets [B,2]: column 0 the halt targets (host), column 1
   * the continue targets (a device tensor [B], CONSUMED), joined on the device. Returns the targets'
   * handle now and the per-column host values when read.
   */
  private bce(q: T, haltTarget: Uint8Array, continueTarget: T, B: number) {
    const b = this.b;
    const halt = b.fromArray([B, 1, 1], Float64Array.from(haltTarget));
    const cont = b.reshape(continueTarget, [B, 1, 1]);
    const joined = b.concatSeq(halt, cont);
    disposeAll(b, halt, cont);
    const targets = b.reshape(joined, [B, 2]);
    const l = b.bceWithLogits(q, targets);
    const values = b.read(l).then((lh) => ({
      halt: Float64Array.from({ length: B }, (_, r) => lh.data[2 * r]),
      cont: Float64Array.from({ length: B }, (_, r) => lh.data[2 * r + 1]),
    }));
    b.dispose(l);
    return { targets, values };
  }

  /** σ(values) by the backend's sigmoid (so the BCE backward's σ matches it exactly), left on the device. */
  private sigmoidOf(values: Float64Array): T {
    const h = this.b.fromArray([values.length], values);
    const s = this.b.sigmoid(h);
    this.b.dispose(h);
    return s;
  }

  async trainStep(
    carry: Carry,
    batch: Batch,
    rates: StepRates,
    globalBatchSize: number,
    options: { observe?: StepObserver } = {},
  ): Promise<{ carry: Carry; result: ActStepResult }> {
    this.checkBatch(batch, carry, 'trainStep');
    if (!(globalBatchSize > 0)) throw new BatchError(`trainStep: globalBatchSize ${globalBatchSize}, expected > 0`);
    const c = this.take(carry, 'trainStep');
    const b = this.b;
    const a = this.config.arch;
    const B = c.batchSize;
    const M = a.halt_max_steps;
    const obs = options.observe;
    const rec = this.recorder(obs);
    const ctx = this.context(rec.record);
    const host = (key: string, shape: number[], data: ArrayLike<number>) => obs?.tensor(key, tensor64(shape, data));

    // 1. reset halted rows
    const { zH: zH0, zL: zL0, data } = this.reset(c, batch);
    rec.record?.('reset.z_H', zH0);
    rec.record?.('reset.z_L', zL0);
    const steps = advanceSteps(c.steps, c.halted);
    // 2. the segment (HRM: one-step gradient; TRM: the last cycle), and the heads
    const x = embedForward(ctx, data.inputs, data.puzzleIdentifiers, B);
    if (obs?.probe) {
      rec.record?.('x', x);
      rec.record?.('z_H.in', zH0);
      rec.record?.('z_L.in', zL0);
    }
    const seg = runSegment(ctx, zH0, zL0, x, true, obs?.probe === true);
    disposeAll(b, zH0, zL0);
    const heads = headsForward(ctx, seg.zH, B);
    rec.record?.('logits', heads.logits);
    // the Q-target segment (no gradient) depends on the carry alone, not on the halting decision:
    // queued before the heads are read, so that one wait for the device serves both
    const hasTarget = M > 1 && !a.no_ACT_continue;
    let nextQ: Promise<Tensor<Float64Array>> | null = null;
    if (hasTarget) {
      const next = runSegment(ctx, seg.zH, seg.zL, x, false);
      const nq = qHeadForward(ctx, next.zH, B);
      nextQ = b.read(nq.q);
      disposeAll(b, next.zH, next.zL, nq.q, nq.z0);
    }
    const r = await this.readHeads(heads.logits, heads.q, data.labels, B);
    host('q_halt_logits', [B], r.qHalt);
    host('q_continue_logits', [B], r.qContinue);
    host('ce', [B, a.seq_len], r.ce.data);
    // 3. halting, then the Q target from a second segment on the new carry (no gradient)
    // no_ACT_continue: halting compares q_halt with 0, and there is no Q-continue target
    const qThreshold = a.no_ACT_continue ? new Float64Array(B) : r.qContinue;
    const { halted, isLast } = decideHalting({
      steps, qHalt: r.qHalt, qContinue: qThreshold, training: true, haltMaxSteps: M, explorationProb: a.halt_exploration_prob, rng: this.rng,
      fixedSegments: a.fixed_segments,
    });
    // the Q-continue target stays on the device (no wait for it); it is read only for an observer
    let continueTarget: T;
    if (nextQ !== null) {
      const nqH = await nextQ;
      const nextHalt = Float64Array.from({ length: B }, (_, i) => nqH.data[2 * i]);
      const nextCont = Float64Array.from({ length: B }, (_, i) => nqH.data[2 * i + 1]);
      continueTarget = this.sigmoidOf(qTargetLogits(isLast, nextHalt, nextCont));
      host('next_q_halt_logits', [B], nextHalt);
      host('next_q_continue_logits', [B], nextCont);
      if (obs !== undefined) host('target_q_continue', [B], (await b.read(continueTarget)).data);
    } else {
      // no Q-continue loss: the target σ(q_continue) itself makes its gradient exactly zero
      continueTarget = this.sigmoidOf(r.qContinue);
    }
    b.dispose(x);
    // the BCE values only feed the reported losses: read once the step's backward and optimizer are queued
    const bce = this.bce(heads.q, r.stats.seqCorrect, continueTarget, B);
    // 4. backward of total / globalBatchSize
    const rowScale = Float64Array.from(r.stats.count, (n) => 1 / (globalBatchSize * Math.max(n, 1)));
    const dlogits = b.crossEntropyBackward(heads.logits, data.labels, this.sizes.lossKind, rowScale);
    const dq = b.bceWithLogitsBackward(heads.q, bce.targets, 0.5 / globalBatchSize);
    const grads: Grads<T> = newGrads(this.opt);
    const dzH = headsBackward(ctx, heads.tape, dlogits, dq, B, grads);
    disposeAll(b, dlogits, dq, heads.logits, heads.q, bce.targets);
    const dx = segmentGradient(ctx, seg.tape!, dzH, grads);
    b.dispose(dzH);
    const dLocal = embedBackward(ctx, dx, data.inputs, B, grads);
    b.dispose(dx);
    if (obs?.gradients) {
      for (const n of this.names) rec.record?.(`grad.${n}`, grads.get(n) as T);
      if (dLocal !== null) rec.record?.('grad.puzzle_emb.local_weights', dLocal);
    }
    rec.record?.('carry.z_H', seg.zH);
    rec.record?.('carry.z_L', seg.zL);
    await rec.flush();
    // 5. SignSGD on the puzzle rows of this call's data, AdamATan2, EMA
    optimizerStep(b, this.params, this.names, grads, dLocal === null ? null : { grad: dLocal, ids: data.puzzleIdentifiers }, rates, this.config.train, this.opt);
    const bceValues = await bce.values;
    const losses = lossesAndMetrics({ stats: r.stats, bceHalt: bceValues.halt, bceContinue: hasTarget ? bceValues.cont : null, qHalt: r.qHalt, halted, steps });
    const next: ModelCarry<T> = { batchSize: B, steps, halted, currentData: data, zH: seg.zH, zL: seg.zL, owner: this };
    this.live.add(next);
    return { carry: next, result: this.result(losses, halted, steps, r) };
  }

  async evalStep(
    carry: Carry,
    batch: Batch,
    options: { haltMaxSteps?: number; weights?: 'live' | 'ema'; observe?: StepObserver } = {},
  ): Promise<{ carry: Carry; result: ActStepResult }> {
    this.checkBatch(batch, carry, 'evalStep');
    const M = options.haltMaxSteps ?? this.config.arch.halt_max_steps;
    if (!Number.isInteger(M) || M < 1) throw new BatchError(`evalStep: haltMaxSteps ${M}, expected an integer ≥ 1`);
    const useEma = options.weights === 'ema';
    if (useEma && this.opt.ema === null) throw new Error("evalStep: weights 'ema' requested but the config has train.ema = false");
    const c = this.take(carry, 'evalStep');
    const b = this.b;
    const B = c.batchSize;
    const obs = options.observe;
    const rec = this.recorder(obs);
    const ctx = this.context(rec.record, useEma);
    const { zH: zH0, zL: zL0, data } = this.reset(c, batch);
    const steps = advanceSteps(c.steps, c.halted);
    const x = embedForward(ctx, data.inputs, data.puzzleIdentifiers, B);
    if (obs?.probe) {
      rec.record?.('x', x);
      rec.record?.('z_H.in', zH0);
      rec.record?.('z_L.in', zL0);
    }
    const seg = runSegment(ctx, zH0, zL0, x, false, obs?.probe === true);
    disposeAll(b, zH0, zL0, x);
    const heads = headsForward(ctx, seg.zH, B);
    rec.record?.('logits', heads.logits);
    const r = await this.readHeads(heads.logits, heads.q, data.labels, B);
    obs?.tensor('q_halt_logits', tensor64([B], r.qHalt));
    obs?.tensor('q_continue_logits', tensor64([B], r.qContinue));
    obs?.tensor('ce', tensor64([B, this.config.arch.seq_len], r.ce.data));
    const { halted } = decideHalting({ steps, qHalt: r.qHalt, qContinue: r.qContinue, training: false, haltMaxSteps: M, explorationProb: 0, rng: this.rng });
    const bce = this.bce(heads.q, r.stats.seqCorrect, b.zeros([B]), B);
    const bceValues = await bce.values;
    const losses = lossesAndMetrics({ stats: r.stats, bceHalt: bceValues.halt, bceContinue: null, qHalt: r.qHalt, halted, steps });
    disposeAll(b, bce.targets, heads.logits, heads.q, heads.tape.zTok ?? undefined, heads.tape.z0);
    rec.record?.('carry.z_H', seg.zH);
    rec.record?.('carry.z_L', seg.zL);
    await rec.flush();
    const next: ModelCarry<T> = { batchSize: B, steps, halted, currentData: data, zH: seg.zH, zL: seg.zL, owner: this };
    this.live.add(next);
    return { carry: next, result: this.result(losses, halted, steps, r) };
  }

  private result(
    losses: ReturnType<typeof lossesAndMetrics>,
    halted: Uint8Array,
    steps: Int32Array,
    r: { predictions: Int32Array; qHalt: Float64Array; qContinue: Float64Array },
  ): ActStepResult {
    return {
      ...losses,
      halted,
      steps,
      allHalted: halted.every((h) => h !== 0),
      predictions: r.predictions,
      qHaltLogits: r.qHalt,
      qContinueLogits: r.qContinue,
    };
  }

  async saveState(): Promise<TrainingState> {
    this.alive();
    const readAll = async (m: ReadonlyMap<string, T>) => {
      const out = new Map<string, Tensor<Float64Array>>();
      for (const [k, h] of m) out.set(k, await this.b.read(h));
      return out;
    };
    const parameters = new Map<string, Tensor<Float64Array>>();
    for (const e of this.layout) parameters.set(e.name, await this.b.read(this.params.get(e.name) as T));
    return {
      parameters,
      adamM: await readAll(this.opt.m),
      adamV: await readAll(this.opt.v),
      ...(this.opt.ema === null ? {} : { ema: await readAll(this.opt.ema) }),
      optimizerStep: this.opt.step,
      rng: this.rng.state(),
    };
  }

  loadState(state: Partial<TrainingState> & Pick<TrainingState, 'parameters'>): void {
    this.alive();
    const check = (what: string, m: ReadonlyMap<string, Tensor<Float64Array>>, entries: readonly { name: string; shape: readonly number[] }[]) => {
      const known = new Set(entries.map((e) => e.name));
      const problems: string[] = [];
      for (const e of entries) {
        const t = m.get(e.name);
        if (t === undefined) problems.push(`missing '${e.name}' (expected shape ${shapeToString(e.shape)})`);
        else if (!sameShape(t.shape, e.shape)) problems.push(`'${e.name}' has shape ${shapeToString(t.shape)}, expected ${shapeToString(e.shape)}`);
        else if (t.data.length !== numel(e.shape)) problems.push(`'${e.name}' has ${t.data.length} values, expected ${numel(e.shape)}`);
      }
      for (const k of m.keys()) if (!known.has(k)) problems.push(`unexpected entry '${k}'`);
      if (problems.length > 0) throw new StateError(`loadState: ${what}: ${problems.join('; ')}`);
    };
    check('parameters', state.parameters, this.layout);
    const paramEntries = this.layout.filter((e) => this.names.includes(e.name));
    if (state.adamM !== undefined) check('adamM', state.adamM, paramEntries);
    if (state.adamV !== undefined) check('adamV', state.adamV, paramEntries);
    if (state.ema !== undefined && this.opt.ema !== null) check('ema', state.ema, paramEntries);
    const upload = (target: Map<string, T>, src: ReadonlyMap<string, Tensor<Float64Array>>) => {
      for (const [k, t] of src) {
        const old = target.get(k);
        target.set(k, this.b.fromArray(t.shape, t.data));
        if (old !== undefined) this.b.dispose(old);
      }
    };
    upload(this.params, state.parameters);
    if (state.adamM !== undefined) upload(this.opt.m, state.adamM);
    if (state.adamV !== undefined) upload(this.opt.v, state.adamV);
    if (this.opt.ema !== null) {
      if (state.ema !== undefined) upload(this.opt.ema, state.ema);
      else upload(this.opt.ema, new Map(this.names.map((n) => [n, state.parameters.get(n) as Tensor<Float64Array>])));
    }
    packOptimizer(this.b, this.params, this.names, this.opt);
    if (state.optimizerStep !== undefined) this.opt.step = state.optimizerStep;
    if (state.rng !== undefined) this.rng = Rng.fromState(state.rng);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const b = this.b;
    for (const h of this.params.values()) b.dispose(h);
    this.params.clear();
    disposeOptimizerState(b, this.opt);
    if (this.rope !== null) disposeAll(b, this.rope.cos, this.rope.sin);
  }
}

export { PUZZLE_TABLE };
