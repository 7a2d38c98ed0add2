// WebAssembly text of the SwiGLU family (forward and backward by rows, e^x inlined eight lanes at a time).

import type { SimdVariant } from './wat.ts';
import { expInline, interleave } from './wat.ts';

/** Worker-dispatched kernels of this family and their parameter counts (before scratch, lo, hi). */
export const SWIGLU_KERNELS = { swiglu: 3, swigluBwd: 4 } as const;

/**
 * Statements of SwiGLU's backward on four lanes, given s = e^(−g) in \`s\`: s ← σ(g) = 1/(1 + s), then
 * \`u\` ← dg = d·u·s·(1 + g·(1 − s)) and \`g\` ← du = d·g·s.
 */
const swigluBwdLanes = (g: string, u: string, s: string, d: string): string =>
  `(local.set ${s} (f32x4.div (v128.const f32x4 1 1 1 1) (f32x4.add (v128.const f32x4 1 1 1 1) (local.get ${s}))))
        (local.set ${u} (f32x4.mul (f32x4.mul (f32x4.mul (local.get ${d}) (local.get ${u})) (local.get ${s}))
                                 (f32x4.add (v128.const f32x4 1 1 1 1) (f32x4.mul (local.get ${g}) (f32x4.sub (v128.const f32x4 1 1 1 1) (local.get ${s}))))))
        (local.set ${g} (f32x4.mul (f32x4.mul (local.get ${d}) (local.get ${g})) (local.get ${s})))`;

export const swigluWat = (variant: SimdVariant): string => `
  ;; swiglu: y[r,j] = g·σ(g)·u with g = gu[r, j], u = gu[r, I + j]; rows [lo, hi)
  (func $swiglu (export "swiglu") (param $gu i32) (param $y i32) (param $I i32) (param $scr i32) (param $lo i32) (param $hi i32)
    (local $r i32) (local $j i32) (local $pg i32) (local $py i32) (local $g v128) (local $e v128) (local $I4 i32) (local $o i32)
    (local $n v128) (local $q v128) (local $gs f32) (local $I8 i32) (local $g2 v128) (local $e2 v128) (local $n2 v128) (local $q2 v128)
    (local.set $I4 (i32.and (local.get $I) (i32.const -4)))
    (local.set $I8 (i32.and (local.get $I) (i32.const -8)))
    (local.set $r (local.get $lo))
    (block $er (loop $lr
      (br_if $er (i32.ge_u (local.get $r) (local.get $hi)))
      (local.set $pg (i32.add (local.get $gu) (i32.shl (i32.mul (local.get $r) (local.get $I)) (i32.const 3))))
      (local.set $py (i32.add (local.get $y) (i32.shl (i32.mul (local.get $r) (local.get $I)) (i32.const 2))))
      (local.set $j (i32.const 0))
      ;; eight at a time: two independent exp chains in flight
      (block $e8 (loop $l8
        (br_if $e8 (i32.ge_u (local.get $j) (local.get $I8)))
        (local.set $o (i32.shl (local.get $j) (i32.const 2)))
        (local.set $g (v128.load (i32.add (local.get $pg) (local.get $o))))
        (local.set $g2 (v128.load offset=16 (i32.add (local.get $pg) (local.get $o))))
        (local.set $e (f32x4.neg (local.get $g)))
        (local.set $e2 (f32x4.neg (local.get $g2)))
        ${interleave(expInline(variant, '$e', '$n', '$q'), expInline(variant, '$e2', '$n2', '$q2'))}
        (v128.store (i32.add (local.get $py) (local.get $o))
          (f32x4.div (f32x4.mul (local.get $g) (v128.load (i32.add (local.get $pg) (i32.add (local.get $o) (i32.shl (local.get $I) (i32.const 2))))))
            (f32x4.add (v128.const f32x4 1 1 1 1) (local.get $e))))
        (v128.store offset=16 (i32.add (local.get $py) (local.get $o))
          (f32x4.div (f32x4.mul (local.get $g2) (v128.load offset=16 (i32.add (local.get $pg) (i32.add (local.get $o) (i32.shl (local.get $I) (i32.const 2))))))
            (f32x4.add (v128.const f32x4 1 1 1 1) (local.get $e2))))
        (local.set $j (i32.add (local.get $j) (i32.const 8)))
        (br $l8)))
      (block $e1 (loop $l1
        (br_if $e1 (i32.ge_u (local.get $j) (local.get $I4)))
        (local.set $o (i32.shl (local.get $j) (i32.const 2)))
        (local.set $g (v128.load (i32.add (local.get $pg) (local.get $o))))
        (local.set $e (f32x4.neg (local.get $g)))
        ${expInline(variant, '$e', '$n', '$q')}
        (v128.store (i32.add (local.get $py) (local.get $o))
          (f32x4.div (f32x4.mul (local.get $g) (v128.load (i32.add (local.get $pg) (i32.add (local.get $o) (i32.shl (local.get $I) (i32.const 2))))))
            (f32x4.add (v128.const f32x4 1 1 1 1) (local.get $e))))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $l1)))
      (block $e2 (loop $l2
        (br_if $e2 (i32.ge_u (local.get $j) (local.get $I)))
        (local.set $o (i32.shl (local.get $j) (i32.const 2)))
        (local.set $gs (f32.load (i32.add (local.get $pg) (local.get $o))))
        (f32.store (i32.add (local.get $py) (local.get $o))
          (f32.div (f32.mul (local.get $gs) (f32.load (i32.add (local.get $pg) (i32.add (local.get $o) (i32.shl (local.get $I) (i32.const 2))))))
            (f32.add (f32.const 1) (call $expf (f32.neg (local.get $gs))))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $l2)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $lr))))

  ;; swigluBwd: dg = dy·u·s·(1 + g·(1 − s)), du = dy·g·s with s = σ(g); rows [lo, hi)
  (func $swigluBwd (export "swigluBwd") (param $dy i32) (param $gu i32) (param $dgu i32) (param $I i32) (param $scr i32) (param $lo i32) (param $hi i32)
    (local $r i32) (local $j i32) (local $pg i32) (local $pd i32) (local $py i32) (local $o i32) (local $oi i32)
    (local $g v128) (local $u v128) (local $s v128) (local $d v128) (local $n v128) (local $q v128)
    (local $g2 v128) (local $u2 v128) (local $s2 v128) (local $d2 v128) (local $n2 v128) (local $q2 v128) (local $I8 i32)
    (local.set $I8 (i32.and (local.get $I) (i32.const -8)))
    (local.set $r (local.get $lo))
    (block $er (loop $lr
      (br_if $er (i32.ge_u (local.get $r) (local.get $hi)))
      (local.set $pg (i32.add (local.get $gu) (i32.shl (i32.mul (local.get $r) (local.get $I)) (i32.const 3))))
      (local.set $pd (i32.add (local.get $dgu) (i32.shl (i32.mul (local.get $r) (local.get $I)) (i32.const 3))))
      (local.set $py (i32.add (local.get $dy) (i32.shl (i32.mul (local.get $r) (local.get $I)) (i32.const 2))))
      (local.set $j (i32.const 0))
      ;; eight at a time: two independent exp chains in flight
      (block $e8 (loop $l8
        (br_if $e8 (i32.ge_u (local.get $j) (local.get $I8)))
        (local.set $o (i32.shl (local.get $j) (i32.const 2)))
        (local.set $oi (i32.add (local.get $o) (i32.shl (local.get $I) (i32.const 2))))
        ${['', '2'].map((k) => `(local.set $g${k} (v128.load offset=${k ? 16 : 0} (i32.add (local.get $pg) (local.get $o))))
        (local.set $u${k} (v128.load offset=${k ? 16 : 0} (i32.add (local.get $pg) (local.get $oi))))
        (local.set $d${k} (v128.load offset=${k ? 16 : 0} (i32.add (local.get $py) (local.get $o))))
        (local.set $s${k} (f32x4.neg (local.get $g${k})))`).join('\n        ')}
        ${interleave(expInline(variant, '$s', '$n', '$q'), expInline(variant, '$s2', '$n2', '$q2'))}
        ${['', '2'].map((k) => swigluBwdLanes(`$g${k}`, `$u${k}`, `$s${k}`, `$d${k}`)).join('\n        ')}
        ${['', '2'].map((k) => `(v128.store offset=${k ? 16 : 0} (i32.add (local.get $pd) (local.get $o)) (local.get $u${k}))
        (v128.store offset=${k ? 16 : 0} (i32.add (local.get $pd) (local.get $oi)) (local.get $g${k}))`).join('\n        ')}
        (local.set $j (i32.add (local.get $j) (i32.const 8)))
        (br $l8)))
      (block $e1 (loop $l1
        (br_if $e1 (i32.ge_u (local.get $j) (local.get $I)))
        (local.set $o (i32.shl (local.get $j) (i32.const 2)))
        (local.set $oi (i32.add (local.get $o) (i32.shl (local.get $I) (i32.const 2))))
        (if (i32.le_u (i32.add (local.get $j) (i32.const 4)) (local.get $I))
          (then
            (local.set $g (v128.load (i32.add (local.get $pg) (local.get $o))))
            (local.set $u (v128.load (i32.add (local.get $pg) (local.get $oi))))
            (local.set $d (v128.load (i32.add (local.get $py) (local.get $o)))))
          (else
            (local.set $g (f32x4.splat (f32.load (i32.add (local.get $pg) (local.get $o)))))
            (local.set $u (f32x4.splat (f32.load (i32.add (local.get $pg) (local.get $oi)))))
            (local.set $d (f32x4.splat (f32.load (i32.add (local.get $py) (local.get $o)))))))
        (local.set $s (f32x4.neg (local.get $g)))
        ${expInline(variant, '$s', '$n', '$q')}
        ${swigluBwdLanes('$g', '$u', '$s', '$d')}
        (if (i32.le_u (i32.add (local.get $j) (i32.const 4)) (local.get $I))
          (then
            (v128.store (i32.add (local.get $pd) (local.get $o)) (local.get $u))
            (v128.store (i32.add (local.get $pd) (local.get $oi)) (local.get $g))
            (local.set $j (i32.add (local.get $j) (i32.const 4))))
          (else
            (f32.store (i32.add (local.get $pd) (local.get $o)) (f32x4.extract_lane 0 (local.get $u)))
            (f32.store (i32.add (local.get $pd) (local.get $oi)) (f32x4.extract_lane 0 (local.get $g)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))))
        (br $l1)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $lr))))
`;
