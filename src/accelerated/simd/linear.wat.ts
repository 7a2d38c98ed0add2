// WebAssembly text of the linear family: packing of weights and activations into 8-column panels
// (packBT for wᵀ, packB for a row-major matrix) and the three products of a linear layer (forward,
// dX, dW), each a call of $gemm (gemm.wat.ts) over a range of row panels.

/** Worker-dispatched kernels of this family and their parameter counts (before scratch, lo, hi). */
export const LINEAR_KERNELS = { packBT: 4, packB: 4, linear: 7, linearDx: 6, linearDw: 6 } as const;

export const linearWat = (): string => `
  ;; packBT: panels dst[jp][p][j] = w[(8·jp + j)·k + p] (0 for 8·jp + j ≥ m) of a row-major w[m,k],
  ;; i.e. B = wᵀ packed for gemm (brs = 32, bps = k·32). Panels [lo, hi).
  (func (export "packBT") (param $w i32) (param $m i32) (param $k i32) (param $dst i32) (param $scr i32) (param $lo i32) (param $hi i32)
    (local $jp i32) (local $j i32) (local $p i32) (local $row i32) (local $s i32) (local $d i32)
    (local.set $jp (local.get $lo))
    (block $e1 (loop $l1
      (br_if $e1 (i32.ge_u (local.get $jp) (local.get $hi)))
      (local.set $j (i32.const 0))
      (block $e2 (loop $l2
        (br_if $e2 (i32.ge_u (local.get $j) (i32.const 8)))
        (local.set $row (i32.add (i32.shl (local.get $jp) (i32.const 3)) (local.get $j)))
        (local.set $d (i32.add (local.get $dst) (i32.shl (i32.add (i32.shl (i32.mul (local.get $jp) (local.get $k)) (i32.const 3)) (local.get $j)) (i32.const 2))))
        (local.set $s (i32.add (local.get $w) (i32.shl (i32.mul (local.get $row) (local.get $k)) (i32.const 2))))
        (local.set $p (i32.const 0))
        (block $e3 (loop $l3
          (br_if $e3 (i32.ge_u (local.get $p) (local.get $k)))
          (f32.store (local.get $d) (if (result f32) (i32.lt_u (local.get $row) (local.get $m)) (then (f32.load (local.get $s))) (else (f32.const 0))))
          (local.set $s (i32.add (local.get $s) (i32.const 4)))
          (local.set $d (i32.add (local.get $d) (i32.const 32)))
          (local.set $p (i32.add (local.get $p) (i32.const 1)))
          (br $l3)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $l2)))
      (local.set $jp (i32.add (local.get $jp) (i32.const 1)))
      (br $l1))))

  ;; linear: y[N,M] = x[N,K]·wᵀ (+ bias) with wp = packBT(w); row panels [lo, hi)
  (func (export "linear") (param $x i32) (param $wp i32) (param $bias i32) (param $y i32)
      (param $n i32) (param $k i32) (param $m i32) (param $scr i32) (param $lo i32) (param $hi i32)
    (call $gemm (local.get $x) (local.get $k) (i32.const 0) (local.get $wp) (i32.const 32) (i32.shl (local.get $k) (i32.const 5))
      (local.get $y) (local.get $m) (local.get $n) (local.get $m) (local.get $k)
      (if (result i32) (local.get $bias) (then (i32.const 2)) (else (i32.const 0))) (local.get $bias)
      (local.get $scr) (local.get $lo) (local.get $hi)))

  ;; packB: panels dst[jp][p][j] = src[p·n + 8·jp + j] (0 for 8·jp + j ≥ n) of a row-major src[k,n],
  ;; i.e. B packed for gemm (brs = 32, bps = k·32). Panels [lo, hi).
  (func (export "packB") (param $src i32) (param $k i32) (param $n i32) (param $dst i32) (param $scr i32) (param $lo i32) (param $hi i32)
    (local $jp i32) (local $p i32) (local $j i32) (local $s i32) (local $d i32) (local $cols i32)
    (local.set $jp (local.get $lo))
    (block $e1 (loop $l1
      (br_if $e1 (i32.ge_u (local.get $jp) (local.get $hi)))
      (local.set $cols (i32.sub (local.get $n) (i32.shl (local.get $jp) (i32.const 3))))
      (local.set $s (i32.add (local.get $src) (i32.shl (local.get $jp) (i32.const 5))))
      (local.set $d (i32.add (local.get $dst) (i32.shl (i32.mul (local.get $jp) (local.get $k)) (i32.const 5))))
      (local.set $p (i32.const 0))
      (block $e2 (loop $l2
        (br_if $e2 (i32.ge_u (local.get $p) (local.get $k)))
        (if (i32.ge_u (local.get $cols) (i32.const 8))
          (then
            (v128.store (local.get $d) (v128.load (local.get $s)))
            (v128.store offset=16 (local.get $d) (v128.load offset=16 (local.get $s))))
          (else
            (local.set $j (i32.const 0))
            (block $e3 (loop $l3
              (br_if $e3 (i32.ge_u (local.get $j) (i32.const 8)))
              (f32.store (i32.add (local.get $d) (i32.shl (local.get $j) (i32.const 2)))
                (if (result f32) (i32.lt_u (local.get $j) (local.get $cols))
                  (then (f32.load (i32.add (local.get $s) (i32.shl (local.get $j) (i32.const 2)))))
                  (else (f32.const 0))))
              (local.set $j (i32.add (local.get $j) (i32.const 1)))
              (br $l3)))))
        (local.set $s (i32.add (local.get $s) (i32.shl (local.get $n) (i32.const 2))))
        (local.set $d (i32.add (local.get $d) (i32.const 32)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $l2)))
      (local.set $jp (i32.add (local.get $jp) (i32.const 1)))
      (br $l1))))

  ;; linearDx: dx[N,K] = dy[N,M]·w[M,K] with wp = packB(w); row panels of dx [lo, hi)
  (func (export "linearDx") (param $dy i32) (param $wp i32) (param $dx i32)
      (param $n i32) (param $k i32) (param $m i32) (param $scr i32) (param $lo i32) (param $hi i32)
    (call $gemm (local.get $dy) (local.get $m) (i32.const 0) (local.get $wp) (i32.const 32) (i32.shl (local.get $m) (i32.const 5))
      (local.get $dx) (local.get $k) (local.get $n) (local.get $k) (local.get $m) (i32.const 0) (i32.const 0)
      (local.get $scr) (local.get $lo) (local.get $hi)))

  ;; linearDw: dw[M,K] = dy[N,M]ᵀ·x[N,K] with xp = packB(x); row panels of dw [lo, hi)
  (func (export "linearDw") (param $dy i32) (param $xp i32) (param $dw i32)
      (param $n i32) (param $k i32) (param $m i32) (param $scr i32) (param $lo i32) (param $hi i32)
    (call $gemm (local.get $dy) (local.get $m) (i32.const 1) (local.get $xp) (i32.const 32) (i32.shl (local.get $n) (i32.const 5))
      (local.get $dw) (local.get $k) (local.get $m) (local.get $k) (local.get $n) (i32.const 0) (i32.const 0)
      (local.get $scr) (local.get $lo) (local.get $hi)))
`;
