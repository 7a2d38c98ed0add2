// One batch of puzzles as every layer sees it (data loader, model, backends' loss kernels) and the
// label that marks a token as ignored by the loss and the metrics. Types and one constant only.
// Shapes: B batch, T seq_len.

/** A label that the loss and the metrics skip (the original's IGNORE_LABEL_ID). */
export const IGNORE_LABEL = -100;

/** One batch as the data loader delivers it (labels already mapped: −100 = ignored). */
export interface Batch {
  readonly inputs: Int32Array; // [B, T]
  readonly labels: Int32Array; // [B, T]
  readonly puzzleIdentifiers: Int32Array; // [B]
  readonly batchSize: number;
  readonly seqLen: number;
}
