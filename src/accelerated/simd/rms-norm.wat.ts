// WebAssembly text of the RMSNorm family: residual add + RMSNorm by rows (b = 0: plain RMSNorm) and
// its backward, whose row sums and final difference run in float64.

import { SH_L64 } from './wat.ts';

/** Worker-dispatched kernels of this family and their parameter counts (before scratch, lo, hi). */
export const RMS_NORM_KERNELS = { addRms: 5, addRmsBwd: 6 } as const;

export const rmsNormWat = (): string => `
  ;; addRms: y[r,:] = x·1/sqrt(mean(x²) + eps) with x = a[r,:] (+ b[r,:] when b ≠ 0); rows [lo, hi)
  (func (export "addRms") (param $a i32) (param $b i32) (param $y i32) (param $D i32) (param $eps f32)
      (param $scr i32) (param $lo i32) (param $hi i32)
    (local $r i32) (local $o i32) (local $j i32) (local $D4 i32) (local $acc v128) (local $x v128) (local $xs f32) (local $ss f32) (local $rs f32) (local $vr v128)
    (local.set $D4 (i32.and (local.get $D) (i32.const -4)))
    (local.set $r (local.get $lo))
    (block $er (loop $lr
      (br_if $er (i32.ge_u (local.get $r) (local.get $hi)))
      (local.set $o (i32.shl (i32.mul (local.get $r) (local.get $D)) (i32.const 2)))
      (local.set $acc (v128.const i32x4 0 0 0 0))
      (local.set $j (i32.const 0))
      (block $e1 (loop $l1
        (br_if $e1 (i32.ge_u (local.get $j) (local.get $D4)))
        (local.set $x (v128.load (i32.add (local.get $a) (i32.add (local.get $o) (i32.shl (local.get $j) (i32.const 2))))))
        (if (local.get $b) (then (local.set $x (f32x4.add (local.get $x) (v128.load (i32.add (local.get $b) (i32.add (local.get $o) (i32.shl (local.get $j) (i32.const 2)))))))))
        (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (local.get $x) (local.get $x))))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $l1)))
      (local.set $ss (f32.add (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
                              (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc)))))
      (block $e2 (loop $l2
        (br_if $e2 (i32.ge_u (local.get $j) (local.get $D)))
        (local.set $xs (f32.load (i32.add (local.get $a) (i32.add (local.get $o) (i32.shl (local.get $j) (i32.const 2))))))
        (if (local.get $b) (then (local.set $xs (f32.add (local.get $xs) (f32.load (i32.add (local.get $b) (i32.add (local.get $o) (i32.shl (local.get $j) (i32.const 2)))))))))
        (local.set $ss (f32.add (local.get $ss) (f32.mul (local.get $xs) (local.get $xs))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $l2)))
      (local.set $rs (f32.div (f32.const 1) (f32.sqrt (f32.add (f32.div (local.get $ss) (f32.convert_i32_u (local.get $D))) (local.get $eps)))))
      (local.set $vr (f32x4.splat (local.get $rs)))
      (local.set $j (i32.const 0))
      (block $e3 (loop $l3
        (br_if $e3 (i32.ge_u (local.get $j) (local.get $D4)))
        (local.set $x (v128.load (i32.add (local.get $a) (i32.add (local.get $o) (i32.shl (local.get $j) (i32.const 2))))))
        (if (local.get $b) (then (local.set $x (f32x4.add (local.get $x) (v128.load (i32.add (local.get $b) (i32.add (local.get $o) (i32.shl (local.get $j) (i32.const 2)))))))))
        (v128.store (i32.add (local.get $y) (i32.add (local.get $o) (i32.shl (local.get $j) (i32.const 2)))) (f32x4.mul (local.get $x) (local.get $vr)))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $l3)))
      (block $e4 (loop $l4
        (br_if $e4 (i32.ge_u (local.get $j) (local.get $D)))
        (local.set $xs (f32.load (i32.add (local.get $a) (i32.add (local.get $o) (i32.shl (local.get $j) (i32.const 2))))))
        (if (local.get $b) (then (local.set $xs (f32.add (local.get $xs) (f32.load (i32.add (local.get $b) (i32.add (local.get $o) (i32.shl (local.get $j) (i32.const 2)))))))))
        (f32.store (i32.add (local.get $y) (i32.add (local.get $o) (i32.shl (local.get $j) (i32.const 2)))) (f32.mul (local.get $xs) (local.get $rs)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $l4)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $lr))))

  ;; addRmsBwd: dx[r,:] = rs·dy − rs³·x·(Σ dy·x)/D with x = a (+ b), rs = 1/sqrt(mean(x²) + eps); rows [lo, hi).
  ;; The two sums run in float64 (Σ dy·x cancels when dy is nearly orthogonal to x), and so does the
  ;; final difference, rounded to float32 once: its two terms cancel when x is nearly parallel to dy
  ;; (each term rounded to float32 first was off by ≈ 1 ulp of the terms, many ulps of the result).
  (func (export "addRmsBwd") (param $dy i32) (param $a i32) (param $b i32) (param $dx i32) (param $D i32) (param $eps f32)
      (param $scr i32) (param $lo i32) (param $hi i32)
    (local $r i32) (local $o i32) (local $j i32) (local $D4 i32) (local $acc v128) (local $dot v128) (local $x v128) (local $g v128)
    (local $xs f32) (local $gs f32) (local $ss f64) (local $ds f64) (local $rd f64) (local $cd f64) (local $vr v128) (local $vc v128)
    (local $lo2 v128) (local $hi2 v128)
    (local.set $D4 (i32.and (local.get $D) (i32.const -4)))
    (local.set $r (local.get $lo))
    (block $er (loop $lr
      (br_if $er (i32.ge_u (local.get $r) (local.get $hi)))
      (local.set $o (i32.shl (i32.mul (local.get $r) (local.get $D)) (i32.const 2)))
      (local.set $acc (v128.const i32x4 0 0 0 0))
      (local.set $dot (v128.const i32x4 0 0 0 0))
      (local.set $j (i32.const 0))
      (block $e1 (loop $l1
        (br_if $e1 (i32.ge_u (local.get $j) (local.get $D4)))
        (local.set $x (v128.load (i32.add (local.get $a) (i32.add (local.get $o) (i32.shl (local.get $j) (i32.const 2))))))
        (if (local.get $b) (then (local.set $x (f32x4.add (local.get $x) (v128.load (i32.add (local.get $b) (i32.add (local.get $o) (i32.shl (local.get $j) (i32.const 2)))))))))
        (local.set $g (v128.load (i32.add (local.get $dy) (i32.add (local.get $o) (i32.shl (local.get $j) (i32.const 2))))))
        (local.set $acc (f64x2.add (local.get $acc) (f64x2.mul (f64x2.promote_low_f32x4 (local.get $x)) (f64x2.promote_low_f32x4 (local.get $x)))))
        (local.set $dot (f64x2.add (local.get $dot) (f64x2.mul (f64x2.promote_low_f32x4 (local.get $x)) (f64x2.promote_low_f32x4 (local.get $g)))))
        (local.set $x (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $x) (local.get $x)))
        (local.set $g (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $g) (local.get $g)))
        (local.set $acc (f64x2.add (local.get $acc) (f64x2.mul (f64x2.promote_low_f32x4 (local.get $x)) (f64x2.promote_low_f32x4 (local.get $x)))))
        (local.set $dot (f64x2.add (local.get $dot) (f64x2.mul (f64x2.promote_low_f32x4 (local.get $x)) (f64x2.promote_low_f32x4 (local.get $g)))))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $l1)))
      (local.set $ss (f64.add (f64x2.extract_lane 0 (local.get $acc)) (f64x2.extract_lane 1 (local.get $acc))))
      (local.set $ds (f64.add (f64x2.extract_lane 0 (local.get $dot)) (f64x2.extract_lane 1 (local.get $dot))))
      (block $e2 (loop $l2
        (br_if $e2 (i32.ge_u (local.get $j) (local.get $D)))
        (local.set $xs (f32.load (i32.add (local.get $a) (i32.add (local.get $o) (i32.shl (local.get $j) (i32.const 2))))))
        (if (local.get $b) (then (local.set $xs (f32.add (local.get $xs) (f32.load (i32.add (local.get $b) (i32.add (local.get $o) (i32.shl (local.get $j) (i32.const 2)))))))))
        (local.set $gs (f32.load (i32.add (local.get $dy) (i32.add (local.get $o) (i32.shl (local.get $j) (i32.const 2))))))
        (local.set $ss (f64.add (local.get $ss) (f64.mul (f64.promote_f32 (local.get $xs)) (f64.promote_f32 (local.get $xs)))))
        (local.set $ds (f64.add (local.get $ds) (f64.mul (f64.promote_f32 (local.get $xs)) (f64.promote_f32 (local.get $gs)))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $l2)))
      (local.set $rd (f64.div (f64.const 1) (f64.sqrt (f64.add (f64.div (local.get $ss) (f64.convert_i32_u (local.get $D))) (f64.promote_f32 (local.get $eps))))))
      (local.set $cd (f64.div (f64.mul (f64.mul (f64.mul (local.get $rd) (local.get $rd)) (local.get $rd)) (local.get $ds)) (f64.convert_i32_u (local.get $D))))
      (local.set $vr (f64x2.splat (local.get $rd)))
      (local.set $vc (f64x2.splat (local.get $cd)))
      (local.set $j (i32.const 0))
      (block $e3 (loop $l3
        (br_if $e3 (i32.ge_u (local.get $j) (local.get $D4)))
        (local.set $x (v128.load (i32.add (local.get $a) (i32.add (local.get $o) (i32.shl (local.get $j) (i32.const 2))))))
        (if (local.get $b) (then (local.set $x (f32x4.add (local.get $x) (v128.load (i32.add (local.get $b) (i32.add (local.get $o) (i32.shl (local.get $j) (i32.const 2)))))))))
        (local.set $g (v128.load (i32.add (local.get $dy) (i32.add (local.get $o) (i32.shl (local.get $j) (i32.const 2))))))
        (local.set $lo2 (f64x2.sub (f64x2.mul (f64x2.promote_low_f32x4 (local.get $g)) (local.get $vr))
                                   (f64x2.mul (f64x2.promote_low_f32x4 (local.get $x)) (local.get $vc))))
        (local.set $x (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $x) (local.get $x)))
        (local.set $g (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $g) (local.get $g)))
        (local.set $hi2 (f64x2.sub (f64x2.mul (f64x2.promote_low_f32x4 (local.get $g)) (local.get $vr))
                                   (f64x2.mul (f64x2.promote_low_f32x4 (local.get $x)) (local.get $vc))))
        (v128.store (i32.add (local.get $dx) (i32.add (local.get $o) (i32.shl (local.get $j) (i32.const 2))))
          (i8x16.shuffle ${SH_L64} (f32x4.demote_f64x2_zero (local.get $lo2)) (f32x4.demote_f64x2_zero (local.get $hi2))))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $l3)))
      (block $e4 (loop $l4
        (br_if $e4 (i32.ge_u (local.get $j) (local.get $D)))
        (local.set $xs (f32.load (i32.add (local.get $a) (i32.add (local.get $o) (i32.shl (local.get $j) (i32.const 2))))))
        (if (local.get $b) (then (local.set $xs (f32.add (local.get $xs) (f32.load (i32.add (local.get $b) (i32.add (local.get $o) (i32.shl (local.get $j) (i32.const 2)))))))))
        (local.set $gs (f32.load (i32.add (local.get $dy) (i32.add (local.get $o) (i32.shl (local.get $j) (i32.const 2))))))
        (f32.store (i32.add (local.get $dx) (i32.add (local.get $o) (i32.shl (local.get $j) (i32.const 2))))
          (f32.demote_f64 (f64.sub (f64.mul (f64.promote_f32 (local.get $gs)) (local.get $rd)) (f64.mul (f64.promote_f32 (local.get $xs)) (local.get $cd)))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $l4)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $lr))))
`;
