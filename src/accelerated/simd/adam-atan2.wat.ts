// WebAssembly text of the AdamATan2 update: two parameters at a time as float64 lanes, rounded to
// float32 exactly where the reference formula rounds, atan2 by a reduced odd series.

/** Worker-dispatched kernels of this family and their parameter counts (before scratch, lo, hi). */
export const ADAM_ATAN2_KERNELS = { adam: 13 } as const;

/** f64x2 constant with the same value in both lanes. */
const d2 = (v: number | string): string => `(v128.const f64x2 ${v} ${v})`;
/** x rounded to float32 and back (what Math.fround does), per f64 lane. */
const r32 = (x: string): string => `(f64x2.promote_low_f32x4 (f32x4.demote_f64x2_zero ${x}))`;

/**
 * Statements: $at ← atan2($y, $x) per f64 lane for $x ≥ 0 (or NaN), within ≈1e−14 of the true value:
 * t = min(|y|, x)/max(|y|, x) ∈ [0, 1] (0 when both are 0, 1 when they are equal, also ∞), reduced by
 * atan t = π/6 + atan((t√3 − 1)/(t + √3)) when t > tan(π/12), an odd series of 11 terms on
 * |u| ≤ tan(π/12), π/2 − … when |y| > x, and y's sign. Scratch locals $a $t $u $z $big.
 */
const atan2F64 = (): string => {
  const coef = Array.from({ length: 11 }, (_, k) => ((k % 2 === 0 ? 1 : -1) / (2 * k + 1)).toPrecision(17));
  const poly = coef
    .slice(0, -1)
    .reverse()
    .reduce((acc, c) => `(f64x2.add (f64x2.mul ${acc} (local.get $z)) ${d2(c)})`, d2(coef[coef.length - 1]));
  return `(local.set $a (f64x2.abs (local.get $y)))
      (local.set $u (f64x2.pmin (local.get $a) (local.get $x)))
      (local.set $z (f64x2.pmax (local.get $a) (local.get $x)))
      (local.set $t (v128.bitselect ${d2(1)} (f64x2.div (local.get $u) (local.get $z)) (f64x2.eq (local.get $u) (local.get $z))))
      (local.set $t (v128.andnot (local.get $t) (f64x2.eq (local.get $z) ${d2(0)})))
      (local.set $big (f64x2.gt (local.get $t) ${d2('0.2679491924311227')}))
      (local.set $u (v128.bitselect
        (f64x2.div (f64x2.sub (f64x2.mul (local.get $t) ${d2('1.7320508075688772')}) ${d2(1)}) (f64x2.add (local.get $t) ${d2('1.7320508075688772')}))
        (local.get $t) (local.get $big)))
      (local.set $z (f64x2.mul (local.get $u) (local.get $u)))
      (local.set $at (f64x2.add (f64x2.mul (local.get $u) ${poly}) (v128.and (local.get $big) ${d2('0.52359877559829882')})))
      (local.set $at (v128.bitselect (f64x2.sub ${d2('1.5707963267948966')} (local.get $at)) (local.get $at) (f64x2.gt (local.get $a) (local.get $x))))
      (local.set $at (v128.bitselect (local.get $y) (local.get $at) ${d2('-0.0')}))`;
};

/**
 * Statements: one AdamATan2 update of two parameters held as f64 lanes ($g, $p, $mo, $vo → $pn, $mn,
 * $vn), with every intermediate rounded to float32 exactly where the JS/reference formula rounds:
 * m = f(w1·g + f(m − w1·m)), v = f(w2·f(g²) + f(v − w2·v)), denom = f(f(√v)/bc2), θ = f(p·wd),
 * p' = θ − f(step·f(atan2(m, denom))) (rounded once more when stored).
 */
const adamF64 = (): string => `(local.set $mn ${r32(`(f64x2.add (f64x2.mul (local.get $w1) (local.get $g)) ${r32('(f64x2.sub (local.get $mo) (f64x2.mul (local.get $w1) (local.get $mo)))')})`)})
      (local.set $vn ${r32(`(f64x2.add (f64x2.mul (local.get $w2) ${r32('(f64x2.mul (local.get $g) (local.get $g))')}) ${r32('(f64x2.sub (local.get $vo) (f64x2.mul (local.get $w2) (local.get $vo)))')})`)})
      (local.set $y (local.get $mn))
      (local.set $x ${r32(`(f64x2.div ${r32('(f64x2.sqrt (local.get $vn))')} (local.get $bc2))`)})
      ${atan2F64()}
      (local.set $pn (f64x2.sub ${r32('(f64x2.mul (local.get $p) (local.get $wd))')} ${r32(`(f64x2.mul (local.get $step) ${r32('(local.get $at)')})`)}))`;

/** The AdamATan2 kernel: elements in blocks of 4096, two at a time as f64 lanes, the odd one alone. */
export const adamAtan2Wat = (): string => `
  ;; adam: AdamATan2 over n floats (see adamF64): reads p0, m0, v0, g, writes p, m, v (each may be
  ;; the same memory as its old value); blocks of 4096 floats [lo, hi)
  (func (export "adam") (param $p0 i32) (param $m0 i32) (param $v0 i32) (param $gr i32) (param $pd i32) (param $md i32) (param $vd i32)
      (param $n i32) (param $sstep f64) (param $swd f64) (param $sbc2 f64) (param $sw1 f64) (param $sw2 f64)
      (param $scr i32) (param $lo i32) (param $hi i32)
    (local $i i32) (local $e i32) (local $o i32) (local $two i32)
    (local $step v128) (local $wd v128) (local $bc2 v128) (local $w1 v128) (local $w2 v128)
    (local $g v128) (local $p v128) (local $mo v128) (local $vo v128) (local $pn v128) (local $mn v128) (local $vn v128)
    (local $y v128) (local $x v128) (local $at v128) (local $a v128) (local $t v128) (local $u v128) (local $z v128) (local $big v128)
    (local.set $step (f64x2.splat (local.get $sstep)))
    (local.set $wd (f64x2.splat (local.get $swd)))
    (local.set $bc2 (f64x2.splat (local.get $sbc2)))
    (local.set $w1 (f64x2.splat (local.get $sw1)))
    (local.set $w2 (f64x2.splat (local.get $sw2)))
    (local.set $i (i32.shl (local.get $lo) (i32.const 12)))
    (local.set $e (i32.shl (local.get $hi) (i32.const 12)))
    (if (i32.gt_u (local.get $e) (local.get $n)) (then (local.set $e (local.get $n))))
    (block $x1 (loop $l1
      (br_if $x1 (i32.ge_u (local.get $i) (local.get $e)))
      (local.set $o (i32.shl (local.get $i) (i32.const 2)))
      (local.set $two (i32.le_u (i32.add (local.get $i) (i32.const 2)) (local.get $e)))
      (if (local.get $two)
        (then
          (local.set $g (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $gr) (local.get $o)))))
          (local.set $p (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $p0) (local.get $o)))))
          (local.set $mo (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $m0) (local.get $o)))))
          (local.set $vo (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $v0) (local.get $o))))))
        (else
          (local.set $g (f64x2.promote_low_f32x4 (v128.load32_zero (i32.add (local.get $gr) (local.get $o)))))
          (local.set $p (f64x2.promote_low_f32x4 (v128.load32_zero (i32.add (local.get $p0) (local.get $o)))))
          (local.set $mo (f64x2.promote_low_f32x4 (v128.load32_zero (i32.add (local.get $m0) (local.get $o)))))
          (local.set $vo (f64x2.promote_low_f32x4 (v128.load32_zero (i32.add (local.get $v0) (local.get $o)))))))
      ${adamF64()}
      (local.set $pn (f32x4.demote_f64x2_zero (local.get $pn)))
      (local.set $mn (f32x4.demote_f64x2_zero (local.get $mn)))
      (local.set $vn (f32x4.demote_f64x2_zero (local.get $vn)))
      (if (local.get $two)
        (then
          (v128.store64_lane 0 (i32.add (local.get $pd) (local.get $o)) (local.get $pn))
          (v128.store64_lane 0 (i32.add (local.get $md) (local.get $o)) (local.get $mn))
          (v128.store64_lane 0 (i32.add (local.get $vd) (local.get $o)) (local.get $vn))
          (local.set $i (i32.add (local.get $i) (i32.const 2))))
        (else
          (v128.store32_lane 0 (i32.add (local.get $pd) (local.get $o)) (local.get $pn))
          (v128.store32_lane 0 (i32.add (local.get $md) (local.get $o)) (local.get $mn))
          (v128.store32_lane 0 (i32.add (local.get $vd) (local.get $o)) (local.get $vn))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))))
      (br $l1))))
`;
