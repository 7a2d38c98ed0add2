// The Backend interface: a record of named kernels, each with its forward and its backward
// (vector-Jacobian product). The HRM model (src/model) is written once against this record;
// the reference backend (src/reference, float64) defines the semantics and every accelerated
// backend (src/accelerated/*, float32) must agree with it under the property suite.
//
// Conventions
// - `T` is the backend's tensor handle (host Tensor for the reference, a device/arena handle for
//   accelerated engines). Shapes are row-major; the last axis is the contiguous one.
// - Kernels never modify their arguments; they return fresh handles. The only exceptions are the
//   optimizer kernels marked CONSUMES, which may reuse the memory of the handles they are given
//   (the caller must neither use nor dispose those handles afterwards; the reference simply returns
//   new arrays).
// - Integer inputs (token ids, labels, masks) are host arrays: they come from the data loader.
// - Handles that are no longer needed are released with `dispose` (a no-op for the reference).
// - Graph building is synchronous; only `read` is asynchronous (a GPU backend resolves it after
//   the queued work finishes). Shape errors throw `ShapeError` naming kernel, argument and shapes.
// - Legend: B batch, S sequence (incl. puzzle slots), T tokens (seq_len), D hidden, Hh heads,
//   hd head dim, I SwiGLU inner size, V vocab, N any number of rows (product of leading axes).

import type { Shape, Tensor } from './tensor.ts';
import { shapeToString } from './tensor.ts';

export type LossKind = 'stablemax_cross_entropy' | 'softmax_cross_entropy';

export class ShapeError extends Error {
  constructor(kernel: string, argument: string, got: Shape, expected: string) {
    super(`${kernel}: argument '${argument}' has shape ${shapeToString(got)}, expected ${expected}`);
    this.name = 'ShapeError';
  }
}

export interface LinearGrads<T> {
  readonly dx: T;
  readonly dw: T;
  /** present iff the forward had a bias */
  readonly db?: T;
}

export interface AdamAtan2Hyper {
  readonly lr: number;
  readonly weightDecay: number;
  readonly beta1: number;
  readonly beta2: number;
  /** step counter, 1 on the first update */
  readonly step: number;
}

export interface AdamState<T> {
  readonly param: T;
  readonly m: T;
  readonly v: T;
}

export interface Backend<T> {
  /** e.g. 'reference', 'simd', 'gpu' */
  readonly name: string;
  /** a short description of what actually runs (mode, threads, SIMD variant) */
  readonly description: string;
  readonly dtype: 'float64' | 'float32';

  // ---- memory -------------------------------------------------------------------------------
  /** Uploads host values (copied). */
  fromArray(shape: Shape, data: ArrayLike<number>): T;
  /** A tensor of zeros. */
  zeros(shape: Shape): T;
  shape(t: T): Shape;
  /**
   * Downloads a tensor as host float64 values (a fresh Tensor): the values as of the call, so the
   * handle may be disposed (or written by a later CONSUMES kernel) while the read is pending.
   */
  read(t: T): Promise<Tensor<Float64Array>>;
  /** Releases a handle; using it afterwards is an error. */
  dispose(t: T): void;
  /** Same values under a new shape with the same number of elements (may alias; dispose either one). */
  reshape(t: T, shape: Shape): T;
  /**
   * The same values with their memory in one storage where the engine keeps packs (the gpu
   * backend on webgpu: one buffer, each tensor a view), so a kernel over all of them (the
   * optimizer's adamAtan2Many) runs as one pass. Engines without packs return `ts` themselves.
   * CONSUMES ts.
   */
  pack(ts: readonly T[]): T[];
  /** Zeros of each shape, packed as `pack` packs (one tensor per shape elsewhere). */
  packedZeros(shapes: readonly Shape[]): T[];
  /**
   * g's values in slot's memory (slot: a tensor of g's size, e.g. from packedZeros). An engine may
   * have the kernel that computes g write there directly. Without packs: g itself (slot released).
   * CONSUMES g and slot.
   */
  place(g: T, slot: T): T;
  /** Releases the backend itself (worker threads, device); optional. */
  close?(): Promise<void>;

  // ---- dense algebra ------------------------------------------------------------------------
  /** y[N,M] = x[N,K]·w[M,K]ᵀ (+ b[M]). x may have any leading axes: y has x's leading axes + [M]. */
  linear(x: T, w: T, b?: T): T;
  /** Given dy (shape of y): dx = dy·w, dw = Σ_N dyᵀ·x, db = Σ_N dy. */
  linearBackward(dy: T, x: T, w: T, withBias: boolean): LinearGrads<T>;

  /** a + b, same shapes. Backward: dy flows to both. */
  add(a: T, b: T): T;
  /** s·a. Backward: s·dy. */
  scale(a: T, s: number): T;
  /** x[B,S,D] + y[S,D] broadcast over B. Backward of y: sumBatch(dy). */
  addBroadcast(x: T, y: T): T;
  /** Σ over the leading axis: x[B,...] → [...]. */
  sumBatch(x: T): T;

  // ---- normalization ------------------------------------------------------------------------
  /** RMSNorm without weight over the last axis: y = x / sqrt(mean(x²) + eps). x[N,D]. */
  rmsNorm(x: T, eps: number): T;
  rmsNormBackward(dy: T, x: T, eps: number): T;
  /** Fused residual: rmsNorm(a + b). Backward returns d(a+b), which is both da and db. */
  addRmsNorm(a: T, b: T, eps: number): T;
  addRmsNormBackward(dy: T, a: T, b: T, eps: number): T;

  // ---- attention block pieces ---------------------------------------------------------------
  /**
   * Half-split RoPE on the first `rotatedHeads` heads of x[B,S,W] (W = heads·hd, heads of width hd
   * laid out contiguously): for each rotated head, v' = v·cos[s] + rotate_half(v)·sin[s] with
   * rotate_half(v) = concat(−v[hd/2:], v[:hd/2]). Heads past `rotatedHeads` are copied unchanged.
   * cos, sin: [S, hd]. For the fused QKV layout rotatedHeads = 2·Hh (Q and K heads).
   */
  rope(x: T, cos: T, sin: T, headDim: number, rotatedHeads: number): T;
  ropeBackward(dy: T, cos: T, sin: T, headDim: number, rotatedHeads: number): T;
  /**
   * Non-causal multi-head attention over a fused qkv[B,S,3·Hh·hd] (all Q heads, then all K heads,
   * then all V heads): out[B,S,Hh·hd] with head h = softmax(Q_h K_hᵀ / √hd) V_h.
   */
  attention(qkv: T, numHeads: number): T;
  attentionBackward(dy: T, qkv: T, numHeads: number): T;
  /** SwiGLU on a fused gu[N,2I] (gate first, then up): y[N,I] = silu(g)·u. */
  swiglu(gu: T): T;
  swigluBackward(dy: T, gu: T): T;

  // ---- fused products (a dense product with its activation: one pass where the engine can) ---
  /**
   * QKV projection with RoPE: rope(linear(x, w), cos, sin, headDim, rotatedHeads), x[B,S,K],
   * w[W,K] → [B,S,W]. The backward returns the gradients of linear for dy' = ropeBackward(dy).
   */
  linearRope(x: T, w: T, cos: T, sin: T, headDim: number, rotatedHeads: number): T;
  linearRopeBackward(dy: T, x: T, w: T, cos: T, sin: T, headDim: number, rotatedHeads: number): LinearGrads<T>;
  /**
   * gate_up projection with SwiGLU: gu = linear(x, w) [...,2I] for x[...,K], w[2I,K], and
   * y = swiglu(gu) [...,I]; gu is returned too (the backward needs it). The backward returns the
   * gradients of linear for dgu = swigluBackward(dy, gu) (no db).
   */
  linearSwiglu(x: T, w: T): { readonly y: T; readonly gu: T };
  linearSwigluBackward(dy: T, x: T, w: T, gu: T): LinearGrads<T>;

  // ---- embeddings and sequence plumbing -----------------------------------------------------
  /** y[N,D] = table[ids[n]] for ids of length N (ids may carry leading axes in `idsShape`). */
  embedding(table: T, ids: Int32Array, idsShape: Shape): T;
  /** Scatter-add of dy[...,D] into a zero table of `rows` rows. */
  embeddingBackward(dy: T, ids: Int32Array, rows: number): T;
  /** Concatenates a[B,P,D] and b[B,T,D] along the sequence axis → [B,P+T,D]. */
  concatSeq(a: T, b: T): T;
  /** x[B,S,D] → x[:, start:start+len, :]. */
  sliceSeq(x: T, start: number, len: number): T;
  /** Backward of sliceSeq: dy[B,len,D] placed at `start` in zeros of [B,S,D]. */
  sliceSeqBackward(dy: T, fullLen: number, start: number): T;
  /** Row b of state[B,S,D] becomes init[D] broadcast over S where mask[b] ≠ 0; others copied. */
  resetRows(state: T, init: T, mask: Uint8Array): T;
  /**
   * Swaps the last two axes: x[B,M,N] → y[B,N,M], y[b,n,m] = x[b,m,n] (TRM's token-mixing MLP runs
   * across the sequence axis). Its own VJP: dx = transpose(dy).
   */
  transpose(x: T): T;

  // ---- heads and losses ---------------------------------------------------------------------
  /**
   * Per-token cross-entropy ce[B,T] of logits[B,T,V] against labels (length B·T, −100 = ignored,
   * giving 0). Stablemax: s(x) = x+1 for x ≥ 0, 1/(1−x) for x < 0; log p = log(s_y / Σ s).
   */
  crossEntropy(logits: T, labels: Int32Array, kind: LossKind): T;
  /** dlogits = rowScale[b] · ∂ce[b,t]/∂logits[b,t,:] (0 on ignored tokens). rowScale length B. */
  crossEntropyBackward(logits: T, labels: Int32Array, kind: LossKind, rowScale: Float64Array): T;
  /** Index of the largest value over the last axis (first on ties), as values of a tensor [...]. */
  argmax(x: T): T;
  sigmoid(x: T): T;
  /** Elementwise BCE-with-logits ℓ(x, y) = max(x,0) − x·y + log(1 + e^{−|x|}). */
  bceWithLogits(x: T, target: T): T;
  /** scale · (σ(x) − target), using the same σ as `sigmoid`. */
  bceWithLogitsBackward(x: T, target: T, scale: number): T;

  // ---- optimizers (CONSUMES param, m, v / table) ---------------------------------------------
  /**
   * AdamATan2 as released: θ ← θ(1 − lr·wd); m ← lerp(m, g, 1−β1); v ← lerp(v, g², 1−β2);
   * θ ← θ − (lr/(1−β1^t))·atan2(m, √v/√(1−β2^t)), with float32 rounding at the kernel's points.
   */
  adamAtan2(state: AdamState<T>, grad: T, hyper: AdamAtan2Hyper): AdamState<T>;
  /**
   * adamAtan2 on each (states[i], grads[i]) with one hyper (the model's step over all its dense
   * parameters): what an engine can do in fewer passes than one per tensor. CONSUMES every param,
   * m and v; states and grads of equal length, their tensors distinct.
   */
  adamAtan2Many(states: readonly AdamState<T>[], grads: readonly T[], hyper: AdamAtan2Hyper): AdamState<T>[];
  /**
   * SignSGD on the rows of table[R,E] named by ids (length B): duplicate ids' grads[B,E] rows are
   * summed, then W[u] ← W[u]·(1 − lr·wd) − lr·sign(g_u). Untouched rows stay bit-identical.
   */
  signSgdRows(table: T, grads: T, ids: Int32Array, lr: number, weightDecay: number): T;
  /** EMA of weights: e ← decay·e + (1 − decay)·p. CONSUMES e. */
  ema(e: T, p: T, decay: number): T;
  /**
   * ema on each (es[i], ps[i]) with one decay (the model's EMA copies of all its dense
   * parameters): what an engine can do in fewer passes than one per tensor. CONSUMES every e.
   */
  emaMany(es: readonly T[], ps: readonly T[], decay: number): T[];
}

/** The names of every kernel a backend must provide (used by the property suite and `hrm verify`). */
export const KERNEL_NAMES = [
  'linear', 'linearBackward', 'add', 'scale', 'addBroadcast', 'sumBatch',
  'rmsNorm', 'rmsNormBackward', 'addRmsNorm', 'addRmsNormBackward',
  'rope', 'ropeBackward', 'attention', 'attentionBackward', 'swiglu', 'swigluBackward',
  'linearRope', 'linearRopeBackward', 'linearSwiglu', 'linearSwigluBackward',
  'embedding', 'embeddingBackward', 'concatSeq', 'sliceSeq', 'sliceSeqBackward', 'resetRows', 'transpose',
  'crossEntropy', 'crossEntropyBackward', 'argmax', 'sigmoid', 'bceWithLogits', 'bceWithLogitsBackward',
  'adamAtan2', 'adamAtan2Many', 'signSgdRows', 'ema', 'emaMany',
] as const;

export type KernelName = (typeof KERNEL_NAMES)[number];
