// WebAssembly text of the fused products (linearRope, linearSwiglu and their backwards): each work
// item is a panel of MR rows; a thread walks its panels in groups of FUSED_GROUP and applies the
// activation (or its backward) to a group's rows right after (before) the group's product, while
// they are in its cache, instead of a second task that walks the whole tensor again. Calls $gemm (gemm.wat.ts), $rope (rope.wat.ts), $swiglu
// and $swigluBwd (swiglu.wat.ts). Weights come packed as for the linear family (linear.wat.ts).

import type { SimdVariant } from './wat.ts';
import { microRows } from './wat.ts';

/** Worker-dispatched kernels of this family and their parameter counts (before scratch, lo, hi). */
export const FUSED_KERNELS = { linearRope: 11, linearSwiglu: 7, ropeDx: 12, swigluDx: 8 } as const;

/** Row panels per group: a group's rows (8·MR of them, e.g. 48 × 1536 floats of gu, 295 KiB) stay in L2 between the product and the activation. */
export const FUSED_GROUP = 8;

export const fusedWat = (variant: SimdVariant): string => {
  const MR = microRows(variant);
  // each kernel walks its row panels [lo, hi) in groups [g, ge) of FUSED_GROUP panels, rows
  // [g·MR, min(ge·MR, n)), and runs \`body\` on each group
  const groups = (body: string): string => `(local.set $g (local.get $lo))
    (block $eg (loop $lg
      (br_if $eg (i32.ge_u (local.get $g) (local.get $hi)))
      (local.set $ge (i32.add (local.get $g) (i32.const ${FUSED_GROUP})))
      (if (i32.gt_u (local.get $ge) (local.get $hi)) (then (local.set $ge (local.get $hi))))
      (local.set $r0 (i32.mul (local.get $g) (i32.const ${MR})))
      (local.set $r1 (i32.mul (local.get $ge) (i32.const ${MR})))
      (if (i32.gt_u (local.get $r1) (local.get $n)) (then (local.set $r1 (local.get $n))))
      ${body}
      (local.set $g (local.get $ge))
      (br $lg)))`;
  const locals = '(local $g i32) (local $ge i32) (local $r0 i32) (local $r1 i32)';
  // the forward product y[N,M] = x[N,K]·wᵀ with wp = packBT(w) on the group's panels, as the linear export
  const forward = (y: string): string => `(call $gemm (local.get $x) (local.get $k) (i32.const 0) (local.get $wp) (i32.const 32) (i32.shl (local.get $k) (i32.const 5))
      (local.get ${y}) (local.get $m) (local.get $n) (local.get $m) (local.get $k) (i32.const 0) (i32.const 0)
      (local.get $scr) (local.get $g) (local.get $ge))`;
  // dx[N,K] = d[N,M]·w with wp = packB(w) on the group's panels, as the linearDx export
  const dxProduct = (d: string): string => `(call $gemm (local.get ${d}) (local.get $m) (i32.const 0) (local.get $wp) (i32.const 32) (i32.shl (local.get $m) (i32.const 5))
      (local.get $dx) (local.get $k) (local.get $n) (local.get $k) (local.get $m) (i32.const 0) (i32.const 0)
      (local.get $scr) (local.get $g) (local.get $ge))`;
  return `
  ;; linearRope: y[N,M] = rope(x[N,K]·wᵀ) with wp = packBT(w): each group's product, then RoPE in
  ;; place on its rows (row r at position r mod S; the first nh heads of width hd). Row panels [lo, hi)
  (func (export "linearRope") (param $x i32) (param $wp i32) (param $y i32) (param $n i32) (param $k i32) (param $m i32)
      (param $cos i32) (param $sin i32) (param $S i32) (param $hd i32) (param $nh i32) (param $scr i32) (param $lo i32) (param $hi i32)
    ${locals}
    ${groups(`${forward('$y')}
      (call $rope (local.get $y) (local.get $cos) (local.get $sin) (local.get $y) (local.get $S) (local.get $m) (local.get $hd) (local.get $nh)
        (i32.const 1) (local.get $scr) (local.get $r0) (local.get $r1))`)})

  ;; linearSwiglu: gu[N,2I] = x[N,K]·wᵀ with wp = packBT(w), and y[N,I] = swiglu(gu) of each group's
  ;; rows right after their product (m = 2I). Row panels [lo, hi)
  (func (export "linearSwiglu") (param $x i32) (param $wp i32) (param $gu i32) (param $y i32) (param $n i32) (param $k i32) (param $m i32)
      (param $scr i32) (param $lo i32) (param $hi i32)
    ${locals}
    ${groups(`${forward('$gu')}
      (call $swiglu (local.get $gu) (local.get $y) (i32.shr_u (local.get $m) (i32.const 1)) (local.get $scr) (local.get $r0) (local.get $r1))`)})

  ;; ropeDx: d[N,M] = ropeᵀ(dy) on each group's rows, then dx[N,K] = d·w of the same panels with
  ;; wp = packB(w) (d is kept whole for the dW product). Row panels [lo, hi)
  (func (export "ropeDx") (param $dy i32) (param $cos i32) (param $sin i32) (param $S i32) (param $hd i32) (param $nh i32)
      (param $d i32) (param $wp i32) (param $dx i32) (param $n i32) (param $k i32) (param $m i32) (param $scr i32) (param $lo i32) (param $hi i32)
    ${locals}
    ${groups(`(call $rope (local.get $dy) (local.get $cos) (local.get $sin) (local.get $d) (local.get $S) (local.get $m) (local.get $hd) (local.get $nh)
        (i32.const 0) (local.get $scr) (local.get $r0) (local.get $r1))
      ${dxProduct('$d')}`)})

  ;; swigluDx: dgu[N,2I] = swigluBackward(dy[N,I], gu) on each group's rows, then dx[N,K] = dgu·w of
  ;; the same panels with wp = packB(w) (m = 2I; dgu is kept whole for the dW product). Row panels [lo, hi)
  (func (export "swigluDx") (param $dy i32) (param $gu i32) (param $dgu i32) (param $wp i32) (param $dx i32)
      (param $n i32) (param $k i32) (param $m i32) (param $scr i32) (param $lo i32) (param $hi i32)
    ${locals}
    ${groups(`(call $swigluBwd (local.get $dy) (local.get $gu) (local.get $dgu) (i32.shr_u (local.get $m) (i32.const 1)) (local.get $scr) (local.get $r0) (local.get $r1))
      ${dxProduct('$dgu')}`)})
`;
};
