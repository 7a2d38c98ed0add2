// WebAssembly text of the RoPE family: the rotation (forward) and its transpose (backward) by rows.

/** Worker-dispatched kernels of this family and their parameter counts (before scratch, lo, hi). */
export const ROPE_KERNELS = { rope: 9 } as const;

export const ropeWat = (): string => `
  ;; rope: rows r = b·S + s in [lo, hi) of x[B,S,W]: rotated heads j < nh get, for i < h = hd/2,
  ;; dir 1: y[i] = x[i]·cos[i] − x[i+h]·sin[i], y[i+h] = x[i+h]·cos[i+h] + x[i]·sin[i+h];
  ;; dir 0 (the transpose): y[i] = x[i]·cos[i] + x[i+h]·sin[i+h], y[i+h] = x[i+h]·cos[i+h] − x[i]·sin[i];
  ;; the other channels are copied (four at a time, then one by one; not at all in place). cos, sin [S, hd].
  ;; In place (y = x) is allowed: each step loads x[i], x[i+h] before it stores y[i], y[i+h].
  (func $rope (export "rope") (param $x i32) (param $cos i32) (param $sin i32) (param $y i32) (param $S i32) (param $W i32)
      (param $hd i32) (param $nh i32) (param $dir i32) (param $scr i32) (param $lo i32) (param $hi i32)
    (local $r i32) (local $j i32) (local $i i32) (local $h i32) (local $h4 i32) (local $row i32) (local $o i32)
    (local $cs i32) (local $sn i32) (local $ci i32) (local $si i32)
    (local $vlo v128) (local $vhi v128) (local $c1 v128) (local $c2 v128) (local $s1 v128) (local $s2 v128) (local $A v128) (local $Bv v128)
    (local.set $h (i32.shr_u (local.get $hd) (i32.const 1)))
    (local.set $h4 (i32.and (local.get $h) (i32.const -4)))
    (local.set $r (local.get $lo))
    (block $er (loop $lr
      (br_if $er (i32.ge_u (local.get $r) (local.get $hi)))
      (local.set $row (i32.shl (i32.mul (local.get $r) (local.get $W)) (i32.const 2)))
      (local.set $i (i32.mul (local.get $nh) (local.get $hd)))
      ;; in place (y = x) the unrotated channels are already there
      (if (i32.eq (local.get $x) (local.get $y)) (then (local.set $i (local.get $W))))
      (block $ev (loop $lv
        (br_if $ev (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $W)))
        (v128.store (i32.add (local.get $y) (i32.add (local.get $row) (i32.shl (local.get $i) (i32.const 2))))
          (v128.load (i32.add (local.get $x) (i32.add (local.get $row) (i32.shl (local.get $i) (i32.const 2))))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $lv)))
      (block $ec (loop $lc
        (br_if $ec (i32.ge_u (local.get $i) (local.get $W)))
        (f32.store (i32.add (local.get $y) (i32.add (local.get $row) (i32.shl (local.get $i) (i32.const 2))))
          (f32.load (i32.add (local.get $x) (i32.add (local.get $row) (i32.shl (local.get $i) (i32.const 2))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $lc)))
      (local.set $cs (i32.add (local.get $cos) (i32.shl (i32.mul (i32.rem_u (local.get $r) (local.get $S)) (local.get $hd)) (i32.const 2))))
      (local.set $sn (i32.add (local.get $sin) (i32.shl (i32.mul (i32.rem_u (local.get $r) (local.get $S)) (local.get $hd)) (i32.const 2))))
      (local.set $j (i32.const 0))
      (block $ej (loop $lj
        (br_if $ej (i32.ge_u (local.get $j) (local.get $nh)))
        (local.set $i (i32.const 0))
        (block $ei (loop $li
          (br_if $ei (i32.ge_u (local.get $i) (local.get $h)))
          (local.set $o (i32.add (local.get $row) (i32.shl (i32.add (i32.mul (local.get $j) (local.get $hd)) (local.get $i)) (i32.const 2))))
          (local.set $ci (i32.add (local.get $cs) (i32.shl (local.get $i) (i32.const 2))))
          (local.set $si (i32.add (local.get $sn) (i32.shl (local.get $i) (i32.const 2))))
          (if (i32.lt_u (local.get $i) (local.get $h4))
            (then
              (local.set $vlo (v128.load (i32.add (local.get $x) (local.get $o))))
              (local.set $vhi (v128.load (i32.add (local.get $x) (i32.add (local.get $o) (i32.shl (local.get $h) (i32.const 2))))))
              (local.set $c1 (v128.load (local.get $ci)))
              (local.set $c2 (v128.load (i32.add (local.get $ci) (i32.shl (local.get $h) (i32.const 2)))))
              (local.set $s1 (v128.load (local.get $si)))
              (local.set $s2 (v128.load (i32.add (local.get $si) (i32.shl (local.get $h) (i32.const 2))))))
            (else
              (local.set $vlo (f32x4.splat (f32.load (i32.add (local.get $x) (local.get $o)))))
              (local.set $vhi (f32x4.splat (f32.load (i32.add (local.get $x) (i32.add (local.get $o) (i32.shl (local.get $h) (i32.const 2)))))))
              (local.set $c1 (f32x4.splat (f32.load (local.get $ci))))
              (local.set $c2 (f32x4.splat (f32.load (i32.add (local.get $ci) (i32.shl (local.get $h) (i32.const 2))))))
              (local.set $s1 (f32x4.splat (f32.load (local.get $si))))
              (local.set $s2 (f32x4.splat (f32.load (i32.add (local.get $si) (i32.shl (local.get $h) (i32.const 2))))))))
          (if (local.get $dir)
            (then (local.set $A (f32x4.neg (local.get $s1))) (local.set $Bv (local.get $s2)))
            (else (local.set $A (local.get $s2)) (local.set $Bv (f32x4.neg (local.get $s1)))))
          (local.set $c1 (f32x4.add (f32x4.mul (local.get $vlo) (local.get $c1)) (f32x4.mul (local.get $vhi) (local.get $A))))
          (local.set $c2 (f32x4.add (f32x4.mul (local.get $vhi) (local.get $c2)) (f32x4.mul (local.get $vlo) (local.get $Bv))))
          (if (i32.lt_u (local.get $i) (local.get $h4))
            (then
              (v128.store (i32.add (local.get $y) (local.get $o)) (local.get $c1))
              (v128.store (i32.add (local.get $y) (i32.add (local.get $o) (i32.shl (local.get $h) (i32.const 2)))) (local.get $c2))
              (local.set $i (i32.add (local.get $i) (i32.const 4))))
            (else
              (f32.store (i32.add (local.get $y) (local.get $o)) (f32x4.extract_lane 0 (local.get $c1)))
              (f32.store (i32.add (local.get $y) (i32.add (local.get $o) (i32.shl (local.get $h) (i32.const 2)))) (f32x4.extract_lane 0 (local.get $c2)))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))))
          (br $li)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $lj)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $lr))))
`;
