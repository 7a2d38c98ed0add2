// WebAssembly text of the attention family: row softmax, 4×4-shuffle transposes, and the per-(batch,
// head) forward and backward kernels, which call $gemm (gemm.wat.ts) on scratch panels.

import type { SimdVariant } from './wat.ts';
import { expInline, interleave, microRows, SH_H64, SH_HI, SH_L64, SH_LO } from './wat.ts';
import { gemmScratchBytes } from './gemm.wat.ts';

/** Worker-dispatched kernels of this family and their parameter counts (before scratch, lo, hi). */
export const ATTENTION_KERNELS = { attnFwd: 6, attnBwd: 7 } as const;

/** Bytes of per-thread scratch attention (forward or backward) needs at sequence length S, head dim hd. */
export const attentionScratchBytes = (variant: SimdVariant, S: number, hd: number): number => {
  const Sp = (S + 7) & ~7;
  // K/V transposes [hd, Sp] ×2, probabilities and dP [S + MR, Sp] ×2, then the GEMM scratch
  return (2 * hd * Sp + 2 * (S + 8) * Sp) * 4 + gemmScratchBytes(variant) + 256;
};

export const attentionWat = (variant: SimdVariant): string => {
  const MR = microRows(variant);
  return `
  ;; softmaxRows: for each of rows rows of length n (row stride ld floats) at p:
  ;; x ← e^{scale·(x − max)} / Σ
  (func $softmaxRows (param $p i32) (param $rows i32) (param $n i32) (param $ld i32) (param $scale f32)
    (local $r i32) (local $row i32) (local $j i32) (local $mx f32) (local $sum f32) (local $n4 i32)
    (local $vs v128) (local $vm v128) (local $e v128) (local $vsum v128) (local $inv f32) (local $en v128) (local $er v128)
    (local $n8 i32) (local $e2 v128) (local $en2 v128) (local $er2 v128) (local $vsum2 v128)
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (local.set $n8 (i32.and (local.get $n) (i32.const -8)))
    (local.set $vs (f32x4.splat (local.get $scale)))
    (local.set $r (i32.const 0))
    (block $er (loop $lr
      (br_if $er (i32.ge_u (local.get $r) (local.get $rows)))
      (local.set $row (i32.add (local.get $p) (i32.shl (i32.mul (local.get $r) (local.get $ld)) (i32.const 2))))
      (local.set $vm (v128.const f32x4 -inf -inf -inf -inf))
      (local.set $j (i32.const 0))
      (block $e0 (loop $l0
        (br_if $e0 (i32.ge_u (local.get $j) (local.get $n4)))
        (local.set $vm (f32x4.pmax (local.get $vm) (v128.load (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $l0)))
      (local.set $vm (f32x4.pmax (local.get $vm) (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $vm) (local.get $vm))))
      (local.set $vm (f32x4.pmax (local.get $vm) (i8x16.shuffle 4 5 6 7 0 1 2 3 12 13 14 15 8 9 10 11 (local.get $vm) (local.get $vm))))
      (local.set $mx (f32x4.extract_lane 0 (local.get $vm)))
      (block $e1 (loop $l1
        (br_if $e1 (i32.ge_u (local.get $j) (local.get $n)))
        (local.set $inv (f32.load (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2)))))
        (local.set $mx (select (local.get $inv) (local.get $mx) (f32.gt (local.get $inv) (local.get $mx))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $l1)))
      (local.set $vm (f32x4.splat (local.get $mx)))
      (local.set $vsum (v128.const i32x4 0 0 0 0))
      (local.set $vsum2 (v128.const i32x4 0 0 0 0))
      (local.set $j (i32.const 0))
      ;; eight at a time: two independent exp chains in flight
      (block $e8 (loop $l8
        (br_if $e8 (i32.ge_u (local.get $j) (local.get $n8)))
        (local.set $e (f32x4.mul (f32x4.sub (v128.load (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2)))) (local.get $vm)) (local.get $vs)))
        (local.set $e2 (f32x4.mul (f32x4.sub (v128.load offset=16 (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2)))) (local.get $vm)) (local.get $vs)))
        ${interleave(expInline(variant, '$e', '$en', '$er'), expInline(variant, '$e2', '$en2', '$er2'))}
        (v128.store (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))) (local.get $e))
        (v128.store offset=16 (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))) (local.get $e2))
        (local.set $vsum (f32x4.add (local.get $vsum) (local.get $e)))
        (local.set $vsum2 (f32x4.add (local.get $vsum2) (local.get $e2)))
        (local.set $j (i32.add (local.get $j) (i32.const 8)))
        (br $l8)))
      (local.set $vsum (f32x4.add (local.get $vsum) (local.get $vsum2)))
      (block $e2 (loop $l2
        (br_if $e2 (i32.ge_u (local.get $j) (local.get $n4)))
        (local.set $e (f32x4.mul (f32x4.sub (v128.load (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2)))) (local.get $vm)) (local.get $vs)))
        ${expInline(variant, '$e', '$en', '$er')}
        (v128.store (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))) (local.get $e))
        (local.set $vsum (f32x4.add (local.get $vsum) (local.get $e)))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $l2)))
      (local.set $sum (f32.add (f32.add (f32x4.extract_lane 0 (local.get $vsum)) (f32x4.extract_lane 1 (local.get $vsum)))
                               (f32.add (f32x4.extract_lane 2 (local.get $vsum)) (f32x4.extract_lane 3 (local.get $vsum)))))
      (block $e3 (loop $l3
        (br_if $e3 (i32.ge_u (local.get $j) (local.get $n)))
        (local.set $inv (call $expf (f32.mul (f32.sub (f32.load (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2)))) (local.get $mx)) (local.get $scale))))
        (f32.store (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))) (local.get $inv))
        (local.set $sum (f32.add (local.get $sum) (local.get $inv)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $l3)))
      (local.set $inv (f32.div (f32.const 1) (local.get $sum)))
      (local.set $vs (f32x4.splat (local.get $inv)))
      (local.set $j (i32.const 0))
      (block $e4 (loop $l4
        (br_if $e4 (i32.ge_u (local.get $j) (local.get $n4)))
        (v128.store (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2)))
          (f32x4.mul (v128.load (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2)))) (local.get $vs)))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $l4)))
      (block $e5 (loop $l5
        (br_if $e5 (i32.ge_u (local.get $j) (local.get $n)))
        (f32.store (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2)))
          (f32.mul (f32.load (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2)))) (local.get $inv)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $l5)))
      (local.set $vs (f32x4.splat (local.get $scale)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $lr))))

  ;; transpose: dst[c·ldd + r] = src[r·lds + c] for r < rows, c < cols: 4×4 blocks through shuffles
  ;; (4 vector loads, 8 shuffles, 4 vector stores), then the leftover columns and rows one float at a time
  (func $transpose (param $src i32) (param $lds i32) (param $rows i32) (param $cols i32) (param $dst i32) (param $ldd i32)
    (local $r i32) (local $c i32) (local $s i32) (local $d i32) (local $step i32) (local $ls i32) (local $r4 i32) (local $c4 i32)
    (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128) (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $step (i32.shl (local.get $ldd) (i32.const 2)))
    (local.set $ls (i32.shl (local.get $lds) (i32.const 2)))
    (local.set $r4 (i32.and (local.get $rows) (i32.const -4)))
    (local.set $c4 (i32.and (local.get $cols) (i32.const -4)))
    (local.set $r (i32.const 0))
    (block $eb (loop $lb
      (br_if $eb (i32.ge_u (local.get $r) (local.get $r4)))
      (local.set $s (i32.add (local.get $src) (i32.shl (i32.mul (local.get $r) (local.get $lds)) (i32.const 2))))
      (local.set $d (i32.add (local.get $dst) (i32.shl (local.get $r) (i32.const 2))))
      (local.set $c (i32.const 0))
      (block $ec4 (loop $lc4
        (br_if $ec4 (i32.ge_u (local.get $c) (local.get $c4)))
        (local.set $x0 (v128.load (local.get $s)))
        (local.set $x1 (v128.load (i32.add (local.get $s) (local.get $ls))))
        (local.set $x2 (v128.load (i32.add (local.get $s) (i32.shl (local.get $ls) (i32.const 1)))))
        (local.set $x3 (v128.load (i32.add (local.get $s) (i32.mul (local.get $ls) (i32.const 3)))))
        (local.set $t0 (i8x16.shuffle ${SH_LO} (local.get $x0) (local.get $x1)))
        (local.set $t1 (i8x16.shuffle ${SH_LO} (local.get $x2) (local.get $x3)))
        (local.set $t2 (i8x16.shuffle ${SH_HI} (local.get $x0) (local.get $x1)))
        (local.set $t3 (i8x16.shuffle ${SH_HI} (local.get $x2) (local.get $x3)))
        (v128.store (local.get $d) (i8x16.shuffle ${SH_L64} (local.get $t0) (local.get $t1)))
        (v128.store (i32.add (local.get $d) (local.get $step)) (i8x16.shuffle ${SH_H64} (local.get $t0) (local.get $t1)))
        (v128.store (i32.add (local.get $d) (i32.shl (local.get $step) (i32.const 1))) (i8x16.shuffle ${SH_L64} (local.get $t2) (local.get $t3)))
        (v128.store (i32.add (local.get $d) (i32.mul (local.get $step) (i32.const 3))) (i8x16.shuffle ${SH_H64} (local.get $t2) (local.get $t3)))
        (local.set $s (i32.add (local.get $s) (i32.const 16)))
        (local.set $d (i32.add (local.get $d) (i32.shl (local.get $step) (i32.const 2))))
        (local.set $c (i32.add (local.get $c) (i32.const 4)))
        (br $lc4)))
      (local.set $r (i32.add (local.get $r) (i32.const 4)))
      (br $lb)))
    ;; leftover columns c ≥ c4 of the first r4 rows, then every column of rows ≥ r4
    (if (i32.lt_u (local.get $c4) (local.get $cols))
      (then (call $transposeScalar (i32.add (local.get $src) (i32.shl (local.get $c4) (i32.const 2))) (local.get $lds) (local.get $r4)
        (i32.sub (local.get $cols) (local.get $c4)) (i32.add (local.get $dst) (i32.shl (i32.mul (local.get $c4) (local.get $ldd)) (i32.const 2))) (local.get $ldd))))
    (call $transposeScalar (i32.add (local.get $src) (i32.shl (i32.mul (local.get $r4) (local.get $lds)) (i32.const 2))) (local.get $lds)
      (i32.sub (local.get $rows) (local.get $r4)) (local.get $cols) (i32.add (local.get $dst) (i32.shl (local.get $r4) (i32.const 2))) (local.get $ldd)))

  ;; transposeScalar: as transpose, one float at a time (reads contiguous, pointer steps)
  (func $transposeScalar (param $src i32) (param $lds i32) (param $rows i32) (param $cols i32) (param $dst i32) (param $ldd i32)
    (local $r i32) (local $c i32) (local $s i32) (local $d i32) (local $step i32)
    (local.set $step (i32.shl (local.get $ldd) (i32.const 2)))
    (local.set $r (i32.const 0))
    (block $er (loop $lr
      (br_if $er (i32.ge_u (local.get $r) (local.get $rows)))
      (local.set $s (i32.add (local.get $src) (i32.shl (i32.mul (local.get $r) (local.get $lds)) (i32.const 2))))
      (local.set $d (i32.add (local.get $dst) (i32.shl (local.get $r) (i32.const 2))))
      (local.set $c (local.get $cols))
      (block $ec (loop $lc
        (br_if $ec (i32.eqz (local.get $c)))
        (f32.store (local.get $d) (f32.load (local.get $s)))
        (local.set $s (i32.add (local.get $s) (i32.const 4)))
        (local.set $d (i32.add (local.get $d) (local.get $step)))
        (local.set $c (i32.sub (local.get $c) (i32.const 1)))
        (br $lc)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $lr))))

  ;; probs: P[S, Sp] = softmax(Q Kᵀ·scale) of one head (q, k at row stride ld); kt scratch [hd, Sp]
  (func $probs (param $q i32) (param $k i32) (param $ld i32) (param $S i32) (param $hd i32) (param $scale f32)
      (param $kt i32) (param $P i32) (param $gs i32)
    (local $Sp i32)
    (local.set $Sp (i32.and (i32.add (local.get $S) (i32.const 7)) (i32.const -8)))
    (call $transpose (local.get $k) (local.get $ld) (local.get $S) (local.get $hd) (local.get $kt) (local.get $Sp))
    (call $gemm (local.get $q) (local.get $ld) (i32.const 0) (local.get $kt) (i32.shl (local.get $Sp) (i32.const 2)) (i32.const 32)
      (local.get $P) (local.get $Sp) (local.get $S) (local.get $S) (local.get $hd) (i32.const 0) (i32.const 0)
      (local.get $gs) (i32.const 0) (i32.div_u (i32.add (local.get $S) (i32.const ${MR - 1})) (i32.const ${MR})))
    (call $softmaxRows (local.get $P) (local.get $S) (local.get $S) (local.get $Sp) (local.get $scale)))

  ;; attnFwd: out[B,S,H·hd] head h of batch b (item b·H + h) = softmax(Q_h K_hᵀ·scale) V_h, items [lo, hi)
  (func (export "attnFwd") (param $qkv i32) (param $out i32) (param $S i32) (param $H i32) (param $hd i32) (param $scale f32)
      (param $scr i32) (param $lo i32) (param $hi i32)
    (local $it i32) (local $b i32) (local $h i32) (local $ld i32) (local $q i32) (local $Sp i32)
    (local $kt i32) (local $P i32) (local $gs i32) (local $np i32)
    (local.set $Sp (i32.and (i32.add (local.get $S) (i32.const 7)) (i32.const -8)))
    (local.set $ld (i32.mul (i32.mul (local.get $H) (local.get $hd)) (i32.const 3)))
    (local.set $kt (local.get $scr))
    (local.set $P (i32.add (local.get $kt) (i32.shl (i32.mul (i32.mul (local.get $hd) (local.get $Sp)) (i32.const 2)) (i32.const 2))))
    (local.set $gs (i32.add (local.get $P) (i32.shl (i32.mul (i32.mul (i32.add (local.get $S) (i32.const 8)) (local.get $Sp)) (i32.const 2)) (i32.const 2))))
    (local.set $np (i32.div_u (i32.add (local.get $S) (i32.const ${MR - 1})) (i32.const ${MR})))
    (local.set $it (local.get $lo))
    (block $e (loop $l
      (br_if $e (i32.ge_u (local.get $it) (local.get $hi)))
      (local.set $b (i32.div_u (local.get $it) (local.get $H)))
      (local.set $h (i32.rem_u (local.get $it) (local.get $H)))
      (local.set $q (i32.add (local.get $qkv) (i32.shl (i32.add (i32.mul (i32.mul (local.get $b) (local.get $S)) (local.get $ld)) (i32.mul (local.get $h) (local.get $hd))) (i32.const 2))))
      (call $probs (local.get $q) (i32.add (local.get $q) (i32.shl (i32.mul (local.get $H) (local.get $hd)) (i32.const 2)))
        (local.get $ld) (local.get $S) (local.get $hd) (local.get $scale) (local.get $kt) (local.get $P) (local.get $gs))
      (call $gemm (local.get $P) (local.get $Sp) (i32.const 0)
        (i32.add (local.get $q) (i32.shl (i32.mul (local.get $H) (local.get $hd)) (i32.const 3))) (i32.shl (local.get $ld) (i32.const 2)) (i32.const 32)
        (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (i32.mul (local.get $b) (local.get $S)) (i32.mul (local.get $H) (local.get $hd))) (i32.mul (local.get $h) (local.get $hd))) (i32.const 2)))
        (i32.mul (local.get $H) (local.get $hd)) (local.get $S) (local.get $hd) (local.get $S) (i32.const 0) (i32.const 0)
        (local.get $gs) (i32.const 0) (local.get $np))
      (local.set $it (i32.add (local.get $it) (i32.const 1)))
      (br $l))))

  ;; attnBwd: dqkv[B,S,3·H·hd] from dout[B,S,H·hd] (probabilities recomputed); items b·H + h in [lo, hi)
  ;; dV = Pᵀ dO, dP = dO Vᵀ, dS = P∘(dP − rowsum(P∘dP))·scale, dQ = dS K, dK = dSᵀ Q
  (func (export "attnBwd") (param $qkv i32) (param $dout i32) (param $dqkv i32) (param $S i32) (param $H i32) (param $hd i32)
      (param $scale f32) (param $scr i32) (param $lo i32) (param $hi i32)
    (local $it i32) (local $b i32) (local $h i32) (local $ld i32) (local $q i32) (local $kk i32) (local $v i32) (local $Sp i32)
    (local $kt i32) (local $P i32) (local $dP i32) (local $gs i32) (local $np i32) (local $do i32) (local $ldo i32)
    (local $dq i32) (local $i i32) (local $j i32) (local $pr i32) (local $dr i32) (local $acc f32)
    (local $S4 i32) (local $vacc v128) (local $vd v128) (local $vscale v128)
    (local.set $S4 (i32.and (local.get $S) (i32.const -4)))
    (local.set $vscale (f32x4.splat (local.get $scale)))
    (local.set $Sp (i32.and (i32.add (local.get $S) (i32.const 7)) (i32.const -8)))
    (local.set $ld (i32.mul (i32.mul (local.get $H) (local.get $hd)) (i32.const 3)))
    (local.set $ldo (i32.mul (local.get $H) (local.get $hd)))
    (local.set $kt (local.get $scr))
    (local.set $P (i32.add (local.get $kt) (i32.shl (i32.mul (i32.mul (local.get $hd) (local.get $Sp)) (i32.const 2)) (i32.const 2))))
    (local.set $dP (i32.add (local.get $P) (i32.shl (i32.mul (i32.add (local.get $S) (i32.const 8)) (local.get $Sp)) (i32.const 2))))
    (local.set $gs (i32.add (local.get $dP) (i32.shl (i32.mul (i32.add (local.get $S) (i32.const 8)) (local.get $Sp)) (i32.const 2))))
    (local.set $np (i32.div_u (i32.add (local.get $S) (i32.const ${MR - 1})) (i32.const ${MR})))
    (local.set $it (local.get $lo))
    (block $e (loop $l
      (br_if $e (i32.ge_u (local.get $it) (local.get $hi)))
      (local.set $b (i32.div_u (local.get $it) (local.get $H)))
      (local.set $h (i32.rem_u (local.get $it) (local.get $H)))
      (local.set $q (i32.add (local.get $qkv) (i32.shl (i32.add (i32.mul (i32.mul (local.get $b) (local.get $S)) (local.get $ld)) (i32.mul (local.get $h) (local.get $hd))) (i32.const 2))))
      (local.set $kk (i32.add (local.get $q) (i32.shl (local.get $ldo) (i32.const 2))))
      (local.set $v (i32.add (local.get $kk) (i32.shl (local.get $ldo) (i32.const 2))))
      (local.set $dq (i32.add (local.get $dqkv) (i32.sub (local.get $q) (local.get $qkv))))
      (local.set $do (i32.add (local.get $dout) (i32.shl (i32.add (i32.mul (i32.mul (local.get $b) (local.get $S)) (local.get $ldo)) (i32.mul (local.get $h) (local.get $hd))) (i32.const 2))))
      (call $probs (local.get $q) (local.get $kk) (local.get $ld) (local.get $S) (local.get $hd) (local.get $scale) (local.get $kt) (local.get $P) (local.get $gs))
      ;; dP = dO Vᵀ (V transposed into kt)
      (call $transpose (local.get $v) (local.get $ld) (local.get $S) (local.get $hd) (local.get $kt) (local.get $Sp))
      (call $gemm (local.get $do) (local.get $ldo) (i32.const 0) (local.get $kt) (i32.shl (local.get $Sp) (i32.const 2)) (i32.const 32)
        (local.get $dP) (local.get $Sp) (local.get $S) (local.get $S) (local.get $hd) (i32.const 0) (i32.const 0)
        (local.get $gs) (i32.const 0) (local.get $np))
      ;; dS in place of dP
      (local.set $i (i32.const 0))
      (block $ei (loop $li
        (br_if $ei (i32.ge_u (local.get $i) (local.get $S)))
        (local.set $pr (i32.add (local.get $P) (i32.shl (i32.mul (local.get $i) (local.get $Sp)) (i32.const 2))))
        (local.set $dr (i32.add (local.get $dP) (i32.shl (i32.mul (local.get $i) (local.get $Sp)) (i32.const 2))))
        ;; acc = Σ_j P·dP: four lanes at a time, then the leftover keys
        (local.set $vacc (v128.const i32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (block $ev (loop $lv
          (br_if $ev (i32.ge_u (local.get $j) (local.get $S4)))
          (local.set $vacc (f32x4.add (local.get $vacc) (f32x4.mul (v128.load (i32.add (local.get $pr) (i32.shl (local.get $j) (i32.const 2))))
                                                                  (v128.load (i32.add (local.get $dr) (i32.shl (local.get $j) (i32.const 2)))))))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $lv)))
        (local.set $acc (f32.add (f32.add (f32x4.extract_lane 0 (local.get $vacc)) (f32x4.extract_lane 1 (local.get $vacc)))
                                 (f32.add (f32x4.extract_lane 2 (local.get $vacc)) (f32x4.extract_lane 3 (local.get $vacc)))))
        (block $ej (loop $lj
          (br_if $ej (i32.ge_u (local.get $j) (local.get $S)))
          (local.set $acc (f32.add (local.get $acc) (f32.mul (f32.load (i32.add (local.get $pr) (i32.shl (local.get $j) (i32.const 2))))
                                                              (f32.load (i32.add (local.get $dr) (i32.shl (local.get $j) (i32.const 2)))))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $lj)))
        ;; dS = P·(dP − acc)·scale: four lanes at a time, then the leftover keys
        (local.set $vd (f32x4.splat (local.get $acc)))
        (local.set $j (i32.const 0))
        (block $ew (loop $lw
          (br_if $ew (i32.ge_u (local.get $j) (local.get $S4)))
          (v128.store (i32.add (local.get $dr) (i32.shl (local.get $j) (i32.const 2)))
            (f32x4.mul (f32x4.mul (v128.load (i32.add (local.get $pr) (i32.shl (local.get $j) (i32.const 2))))
                                  (f32x4.sub (v128.load (i32.add (local.get $dr) (i32.shl (local.get $j) (i32.const 2)))) (local.get $vd)))
                       (local.get $vscale)))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $lw)))
        (block $ek (loop $lk
          (br_if $ek (i32.ge_u (local.get $j) (local.get $S)))
          (f32.store (i32.add (local.get $dr) (i32.shl (local.get $j) (i32.const 2)))
            (f32.mul (f32.mul (f32.load (i32.add (local.get $pr) (i32.shl (local.get $j) (i32.const 2))))
                              (f32.sub (f32.load (i32.add (local.get $dr) (i32.shl (local.get $j) (i32.const 2)))) (local.get $acc)))
                     (local.get $scale)))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $lk)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $li)))
      ;; dV = Pᵀ dO
      (call $gemm (local.get $P) (local.get $Sp) (i32.const 2) (local.get $do) (i32.shl (local.get $ldo) (i32.const 2)) (i32.const 32)
        (i32.add (local.get $dq) (i32.shl (local.get $ldo) (i32.const 3))) (local.get $ld) (local.get $S) (local.get $hd) (local.get $S)
        (i32.const 0) (i32.const 0) (local.get $gs) (i32.const 0) (local.get $np))
      ;; dQ = dS K
      (call $gemm (local.get $dP) (local.get $Sp) (i32.const 0) (local.get $kk) (i32.shl (local.get $ld) (i32.const 2)) (i32.const 32)
        (local.get $dq) (local.get $ld) (local.get $S) (local.get $hd) (local.get $S)
        (i32.const 0) (i32.const 0) (local.get $gs) (i32.const 0) (local.get $np))
      ;; dK = dSᵀ Q
      (call $gemm (local.get $dP) (local.get $Sp) (i32.const 2) (local.get $q) (i32.shl (local.get $ld) (i32.const 2)) (i32.const 32)
        (i32.add (local.get $dq) (i32.shl (local.get $ldo) (i32.const 2))) (local.get $ld) (local.get $S) (local.get $hd) (local.get $S)
        (i32.const 0) (i32.const 0) (local.get $gs) (i32.const 0) (local.get $np))
      (local.set $it (i32.add (local.get $it) (i32.const 1)))
      (br $l))))
`;
};
