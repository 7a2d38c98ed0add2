// WebAssembly text of the elementwise family: y = a + b or y = s·a in blocks of 4096 floats.

/** Worker-dispatched kernels of this family and their parameter counts (before scratch, lo, hi). */
export const ELEMENTWISE_KERNELS = { ewAxpb: 5 } as const;

export const elementwiseWat = (): string => `
  ;; ewAdd: y = a + b (s = 0) or y = s·a (b = 0) over n floats, in blocks of 4096 floats [lo, hi)
  (func (export "ewAxpb") (param $a i32) (param $b i32) (param $y i32) (param $s f32) (param $n i32)
      (param $scr i32) (param $lo i32) (param $hi i32)
    (local $i i32) (local $e i32) (local $e4 i32) (local $vs v128) (local $o i32)
    (local.set $i (i32.shl (local.get $lo) (i32.const 12)))
    (local.set $e (i32.shl (local.get $hi) (i32.const 12)))
    (if (i32.gt_u (local.get $e) (local.get $n)) (then (local.set $e (local.get $n))))
    (local.set $e4 (i32.add (local.get $i) (i32.and (i32.sub (local.get $e) (local.get $i)) (i32.const -4))))
    (local.set $vs (f32x4.splat (local.get $s)))
    (if (local.get $b)
      (then
        (block $x1 (loop $l1
          (br_if $x1 (i32.ge_u (local.get $i) (local.get $e4)))
          (local.set $o (i32.shl (local.get $i) (i32.const 2)))
          (v128.store (i32.add (local.get $y) (local.get $o))
            (f32x4.add (v128.load (i32.add (local.get $a) (local.get $o))) (v128.load (i32.add (local.get $b) (local.get $o)))))
          (local.set $i (i32.add (local.get $i) (i32.const 4)))
          (br $l1)))
        (block $x2 (loop $l2
          (br_if $x2 (i32.ge_u (local.get $i) (local.get $e)))
          (local.set $o (i32.shl (local.get $i) (i32.const 2)))
          (f32.store (i32.add (local.get $y) (local.get $o))
            (f32.add (f32.load (i32.add (local.get $a) (local.get $o))) (f32.load (i32.add (local.get $b) (local.get $o)))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $l2))))
      (else
        (block $x3 (loop $l3
          (br_if $x3 (i32.ge_u (local.get $i) (local.get $e4)))
          (local.set $o (i32.shl (local.get $i) (i32.const 2)))
          (v128.store (i32.add (local.get $y) (local.get $o)) (f32x4.mul (v128.load (i32.add (local.get $a) (local.get $o))) (local.get $vs)))
          (local.set $i (i32.add (local.get $i) (i32.const 4)))
          (br $l3)))
        (block $x4 (loop $l4
          (br_if $x4 (i32.ge_u (local.get $i) (local.get $e)))
          (local.set $o (i32.shl (local.get $i) (i32.const 2)))
          (f32.store (i32.add (local.get $y) (local.get $o)) (f32.mul (f32.load (i32.add (local.get $a) (local.get $o))) (local.get $s)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $l4))))))
`;
