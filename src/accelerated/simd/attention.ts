// Softmax attention (no mask) on the CPU engine over a fused qkv[B,S,3·H·hd]: the forward and the
// backward (probabilities recomputed), one WebAssembly SIMD work item per (batch, head)
// (attention.wat.ts, products on gemm.wat.ts). Legend: B batch, S sequence, H heads, hd head dim.

import { shapes } from '../../core/shapes.ts';
import type { Engine } from './engine.ts';
import type { SimdTensor } from './memory.ts';
import { attentionScratchBytes } from './attention.wat.ts';

const f = Math.fround;

/** out[B,S,H·hd] = softmax(Q Kᵀ/√hd) V per (batch, head). */
export const attention = (e: Engine, qkv: SimdTensor, numHeads: number): SimdTensor => {
  e.mem.check('attention', 'qkv', qkv);
  const shape = shapes.attention(qkv.shape, numHeads);
  const [B, S, W] = shape;
  const hd = W / numHeads;
  const out = e.mem.alloc(shape);
  if (S > 0) {
    e.pool.run('attnFwd', [qkv.offset, out.offset, S, numHeads, hd, f(1 / Math.sqrt(hd))], B * numHeads, attentionScratchBytes(e.variant, S, hd), 4 * B * numHeads * S * S * hd);
  }
  return out;
};

/** dqkv[B,S,3·H·hd] from dy[B,S,H·hd]. */
export const attentionBackward = (e: Engine, dy: SimdTensor, qkv: SimdTensor, numHeads: number): SimdTensor => {
  e.mem.check('attentionBackward', 'dy', dy);
  e.mem.check('attentionBackward', 'qkv', qkv);
  const shape = shapes.attentionBackward(dy.shape, qkv.shape, numHeads);
  const [B, S, W3] = shape;
  const hd = W3 / (3 * numHeads);
  const dqkv = e.mem.alloc(shape);
  if (S > 0) {
    e.pool.run(
      'attnBwd',
      [qkv.offset, dy.offset, dqkv.offset, S, numHeads, hd, f(1 / Math.sqrt(hd))],
      B * numHeads,
      attentionScratchBytes(e.variant, S, hd),
      8 * B * numHeads * S * S * hd,
    );
  }
  return dqkv;
};
