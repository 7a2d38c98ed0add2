// WebAssembly text of the engine's matrix product, shared by the linear and attention families: the
// register-tile micro-kernel ($uk, MR×8 with MR = 6 relaxed or 4 plain), packing of A panels ($packA,
// $packRows), edge tiles ($tileIn, $tileOut) and the blocked driver $gemm (also exported, for the
// micro-kernel bench). B operands come packed in 8-column panels (see linear.wat.ts) or read in place.

import type { SimdVariant } from './wat.ts';
import { madd, microRows, range, SH_H64, SH_HI, SH_L64, SH_LO } from './wat.ts';

/** Depth of one block of the contraction axis (packed A panels hold MR × KC floats). */
export const KC = 512;

/** Bytes of per-thread scratch the GEMM driver needs (packed A block + one edge tile). */
export const gemmScratchBytes = (variant: SimdVariant): number => microRows(variant) * KC * 4 + 64 * 4;

/**
 * uk: C[MR,8] (row stride ldcB bytes) = init + Σ_p A(p)ᵀ ⊗ B(p) over k steps, where A(p) is MR
 * floats at a + p·aStep and B(p) is 8 floats at b + p·bStep. init: 0 zeros, 1 C itself, 2 bias[8].
 */
const microKernel = (variant: SimdVariant): string => {
  const MR = microRows(variant);
  const accs = range(MR).flatMap((i) => [`$c${i}0`, `$c${i}1`]);
  const locals = accs.map((a) => `(local ${a} v128)`).join(' ');
  const rowAddr = (i: number): string => `(i32.add (local.get $c) (i32.mul (local.get $ldc) (i32.const ${i})))`;
  const loadC = range(MR)
    .map((i) => `(local.set $c${i}0 (v128.load ${rowAddr(i)})) (local.set $c${i}1 (v128.load offset=16 ${rowAddr(i)}))`)
    .join('\n      ');
  const biasC = range(MR).map((i) => `(local.set $c${i}0 (local.get $b0)) (local.set $c${i}1 (local.get $b1))`).join(' ');
  const zeroC = accs.map((a) => `(local.set ${a} (v128.const i32x4 0 0 0 0))`).join(' ');
  const body = range(MR)
    .map(
      (i) => `(local.set $t (v128.load32_splat offset=${4 * i} (local.get $a)))
        (local.set $c${i}0 ${madd(variant, '(local.get $t)', '(local.get $b0)', `(local.get $c${i}0)`)})
        (local.set $c${i}1 ${madd(variant, '(local.get $t)', '(local.get $b1)', `(local.get $c${i}1)`)})`,
    )
    .join('\n        ');
  const store = range(MR)
    .map((i) => `(v128.store ${rowAddr(i)} (local.get $c${i}0)) (v128.store offset=16 ${rowAddr(i)} (local.get $c${i}1))`)
    .join('\n    ');
  return `
  (func $uk (param $a i32) (param $as i32) (param $b i32) (param $bs i32) (param $k i32)
            (param $c i32) (param $ldc i32) (param $init i32) (param $bias i32)
    (local $b0 v128) (local $b1 v128) (local $t v128) ${locals}
    (if (i32.eq (local.get $init) (i32.const 1))
      (then ${loadC})
      (else (if (i32.eq (local.get $init) (i32.const 2))
        (then (local.set $b0 (v128.load (local.get $bias))) (local.set $b1 (v128.load offset=16 (local.get $bias))) ${biasC})
        (else ${zeroC}))))
    (block $done (loop $lp
        (br_if $done (i32.eqz (local.get $k)))
        (local.set $b0 (v128.load (local.get $b)))
        (local.set $b1 (v128.load offset=16 (local.get $b)))
        ${body}
        (local.set $a (i32.add (local.get $a) (local.get $as)))
        (local.set $b (i32.add (local.get $b) (local.get $bs)))
        (local.set $k (i32.sub (local.get $k) (i32.const 1)))
        (br $lp)))
    ${store})`;
};

/**
 * One step of packRows: rows r_i = src[i·lda + p .. p+3] (i < MR) become the 4·MR floats
 * dst[p'·MR + i], p' < 4 (4×4 transposes by shuffles; for MR = 6 rows 4 and 5 are interleaved in).
 */
const packRowsStep = (MR: number): string => {
  const loads = range(MR)
    .map((i) => `(local.set $r${i} (v128.load (i32.add (local.get $src) (i32.mul (local.get $ld4) (i32.const ${i})))))`)
    .join(' ');
  const t = (x: string, y: string, sh: string): string => `(i8x16.shuffle ${sh} ${x} ${y})`;
  const g = (n: string): string => `(local.get $${n})`;
  const quads = `(local.set $a ${t(g('r0'), g('r1'), SH_LO)}) (local.set $b ${t(g('r2'), g('r3'), SH_LO)})
      (local.set $c ${t(g('r0'), g('r1'), SH_HI)}) (local.set $d ${t(g('r2'), g('r3'), SH_HI)})`;
  const T = [t(g('a'), g('b'), SH_L64), t(g('a'), g('b'), SH_H64), t(g('c'), g('d'), SH_L64), t(g('c'), g('d'), SH_H64)];
  const store = (j: number, v: string): string => `(v128.store offset=${16 * j} (local.get $dst) ${v})`;
  if (MR === 4) return `${loads}\n      ${quads}\n      ${T.map((v, j) => store(j, v)).join(' ')}`;
  // MR = 6: u = [r4p0 r5p0 r4p1 r5p1], v = [r4p2 r5p2 r4p3 r5p3]; T1 and T3 are kept in $a and $c
  return `${loads}\n      ${quads}
      (local.set $u ${t(g('r4'), g('r5'), SH_LO)}) (local.set $v ${t(g('r4'), g('r5'), SH_HI)})
      ${store(0, T[0])} ${store(3, T[2])}
      (local.set $a ${T[1]}) (local.set $c ${T[3]})
      ${store(1, t(g('u'), g('a'), SH_L64))} ${store(2, t(g('a'), g('u'), SH_H64))}
      ${store(4, t(g('v'), g('c'), SH_L64))} ${store(5, t(g('c'), g('v'), SH_H64))}`;
};

/** The product functions for one variant (no exports but `gemm`). */
export const gemmWat = (variant: SimdVariant): string => {
  const MR = microRows(variant);
  return `${microKernel(variant)}

  ;; packA: one MR-row panel of A into dst[p·MR + i] for p < k (0 for i ≥ rows), from
  ;; atr = 0: A(i,p) = src[i·lda + p] (row-major), or atr = 1: A(i,p) = src[p·lda + i] (transposed)
  (func $packA (param $src i32) (param $lda i32) (param $atr i32) (param $rows i32) (param $k i32) (param $dst i32)
    (local $i i32) (local $p i32) (local $s i32) (local $d i32) (local $ld4 i32)
    (if (local.get $atr)
      (then
        (local.set $ld4 (i32.shl (local.get $lda) (i32.const 2)))
        (local.set $p (i32.const 0))
        (if (i32.eq (local.get $rows) (i32.const ${MR}))
          (then
            ;; full panel: MR contiguous floats per step
            (block $ef (loop $lf
              (br_if $ef (i32.ge_u (local.get $p) (local.get $k)))
              (v128.store (local.get $dst) (v128.load (local.get $src)))
              ${MR === 6 ? '(i64.store offset=16 (local.get $dst) (i64.load offset=16 (local.get $src)))' : ''}
              (local.set $src (i32.add (local.get $src) (local.get $ld4)))
              (local.set $dst (i32.add (local.get $dst) (i32.const ${MR * 4})))
              (local.set $p (i32.add (local.get $p) (i32.const 1)))
              (br $lf)))
            (return)))
        (block $et (loop $lt
          (br_if $et (i32.ge_u (local.get $p) (local.get $k)))
          (local.set $i (i32.const 0))
          (block $eu (loop $lu
            (br_if $eu (i32.ge_u (local.get $i) (i32.const ${MR})))
            (f32.store (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 2)))
              (if (result f32) (i32.lt_u (local.get $i) (local.get $rows))
                (then (f32.load (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 2)))))
                (else (f32.const 0))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $lu)))
          (local.set $src (i32.add (local.get $src) (local.get $ld4)))
          (local.set $dst (i32.add (local.get $dst) (i32.const ${MR * 4})))
          (local.set $p (i32.add (local.get $p) (i32.const 1)))
          (br $lt)))
        (return)))
    (if (i32.eq (local.get $rows) (i32.const ${MR}))
      (then
        (call $packRows (local.get $src) (local.get $lda) (local.get $k) (local.get $dst))
        (return)))
    (local.set $i (i32.const 0))
    (block $ei (loop $li
      (br_if $ei (i32.ge_u (local.get $i) (i32.const ${MR})))
      (local.set $d (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 2))))
      (local.set $p (i32.const 0))
      (if (i32.lt_u (local.get $i) (local.get $rows))
        (then
          (local.set $s (i32.add (local.get $src) (i32.shl (i32.mul (local.get $i) (local.get $lda)) (i32.const 2))))
          (block $ep (loop $lp
            (br_if $ep (i32.ge_u (local.get $p) (local.get $k)))
            (f32.store (local.get $d) (f32.load (local.get $s)))
            (local.set $s (i32.add (local.get $s) (i32.const 4)))
            (local.set $d (i32.add (local.get $d) (i32.const ${MR * 4})))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $lp))))
        (else
          (block $ez (loop $lz
            (br_if $ez (i32.ge_u (local.get $p) (local.get $k)))
            (f32.store (local.get $d) (f32.const 0))
            (local.set $d (i32.add (local.get $d) (i32.const ${MR * 4})))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $lz)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $li))))

  ;; packRows: a full MR-row panel of a row-major A (row stride lda floats): dst[p·MR + i] = src[i·lda + p]
  ;; for p < k, four steps of p at a time through shuffles, the last k mod 4 one float at a time
  (func $packRows (param $src i32) (param $lda i32) (param $k i32) (param $dst i32)
    (local $p i32) (local $k4 i32) (local $ld4 i32) (local $i i32)
    ${range(MR).map((i) => `(local $r${i} v128)`).join(' ')} (local $a v128) (local $b v128) (local $c v128) (local $d v128) (local $u v128) (local $v v128)
    (local.set $ld4 (i32.shl (local.get $lda) (i32.const 2)))
    (local.set $k4 (i32.and (local.get $k) (i32.const -4)))
    (local.set $p (i32.const 0))
    (block $e4 (loop $l4
      (br_if $e4 (i32.ge_u (local.get $p) (local.get $k4)))
      ${packRowsStep(MR)}
      (local.set $src (i32.add (local.get $src) (i32.const 16)))
      (local.set $dst (i32.add (local.get $dst) (i32.const ${MR * 16})))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (br $l4)))
    (block $e1 (loop $l1
      (br_if $e1 (i32.ge_u (local.get $p) (local.get $k)))
      (local.set $i (i32.const 0))
      (block $ei (loop $li
        (br_if $ei (i32.ge_u (local.get $i) (i32.const ${MR})))
        (f32.store (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 2)))
          (f32.load (i32.add (local.get $src) (i32.mul (local.get $i) (local.get $ld4)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $li)))
      (local.set $src (i32.add (local.get $src) (i32.const 4)))
      (local.set $dst (i32.add (local.get $dst) (i32.const ${MR * 4})))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $l1))))

  ;; tileIn: tile[MR,8] = 0, then its top-left rows×cols block = C's (row stride ldc floats)
  (func $tileIn (param $c i32) (param $ldc i32) (param $rows i32) (param $cols i32) (param $tile i32)
    (local $i i32) (local $j i32)
    (local.set $i (i32.const 0))
    (block $ez (loop $lz
      (br_if $ez (i32.ge_u (local.get $i) (i32.const ${MR * 2})))
      (v128.store (i32.add (local.get $tile) (i32.shl (local.get $i) (i32.const 4))) (v128.const i32x4 0 0 0 0))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $lz)))
    (local.set $i (i32.const 0))
    (block $ei (loop $li
      (br_if $ei (i32.ge_u (local.get $i) (local.get $rows)))
      (local.set $j (i32.const 0))
      (block $ej (loop $lj
        (br_if $ej (i32.ge_u (local.get $j) (local.get $cols)))
        (f32.store (i32.add (local.get $tile) (i32.shl (i32.add (i32.shl (local.get $i) (i32.const 3)) (local.get $j)) (i32.const 2)))
          (f32.load (i32.add (local.get $c) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $ldc)) (local.get $j)) (i32.const 2)))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $lj)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $li))))

  ;; tileOut: C's rows×cols block (row stride ldc floats) = tile's top-left block
  (func $tileOut (param $tile i32) (param $c i32) (param $ldc i32) (param $rows i32) (param $cols i32)
    (local $i i32) (local $j i32)
    (local.set $i (i32.const 0))
    (block $ei (loop $li
      (br_if $ei (i32.ge_u (local.get $i) (local.get $rows)))
      (local.set $j (i32.const 0))
      (block $ej (loop $lj
        (br_if $ej (i32.ge_u (local.get $j) (local.get $cols)))
        (f32.store (i32.add (local.get $c) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $ldc)) (local.get $j)) (i32.const 2)))
          (f32.load (i32.add (local.get $tile) (i32.shl (i32.add (i32.shl (local.get $i) (i32.const 3)) (local.get $j)) (i32.const 2)))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $lj)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $li))))

  ;; gemm: C[m,n] (row stride ldc) = init + A[m,k]·B[k,n] over the row panels [plo, phi) of MR rows.
  ;; A: atr = 0 row-major A(i,p) = a[i·lda + p], atr = 1 transposed A(i,p) = a[p·lda + i]
  ;;    (both packed per panel and block into scratch); atr = 2 transposed, read in place.
  ;; B(p, j) for column panel jp = floats at b + jp·bps + p·brs (bytes): brs = ldb·4, bps = 32 reads a
  ;; row-major B in place; brs = 32, bps = k·32 reads panels packed by packBT.
  ;; init: 0 zeros, 1 accumulate into C, 2 bias[n] broadcast over rows.
  (func $gemm (export "gemm")
      (param $a i32) (param $lda i32) (param $atr i32) (param $b i32) (param $brs i32) (param $bps i32)
      (param $c i32) (param $ldc i32) (param $m i32) (param $n i32) (param $k i32) (param $init i32) (param $bias i32)
      (param $scr i32) (param $plo i32) (param $phi i32)
    (local $pc i32) (local $kc i32) (local $im i32) (local $ip i32) (local $jp i32) (local $np i32)
    (local $rows i32) (local $cols i32) (local $ap i32) (local $as i32) (local $bp i32) (local $cp i32) (local $tile i32)
    (local.set $np (i32.shr_u (i32.add (local.get $n) (i32.const 7)) (i32.const 3)))
    (local.set $tile (i32.add (local.get $scr) (i32.const ${MR * KC * 4})))
    (local.set $pc (i32.const 0))
    (loop $lpc
      (local.set $kc (i32.sub (local.get $k) (local.get $pc)))
      (if (i32.gt_u (local.get $kc) (i32.const ${KC})) (then (local.set $kc (i32.const ${KC}))))
      (local.set $im (if (result i32) (i32.eqz (local.get $pc)) (then (local.get $init)) (else (i32.const 1))))
      (local.set $ip (local.get $plo))
      (block $eip (loop $lip
        (br_if $eip (i32.ge_u (local.get $ip) (local.get $phi)))
        (local.set $rows (i32.sub (local.get $m) (i32.mul (local.get $ip) (i32.const ${MR}))))
        (if (i32.gt_u (local.get $rows) (i32.const ${MR})) (then (local.set $rows (i32.const ${MR}))))
        (if (i32.eq (local.get $atr) (i32.const 2))
          (then
            (local.set $ap (i32.add (local.get $a) (i32.shl (i32.add (i32.mul (local.get $pc) (local.get $lda)) (i32.mul (local.get $ip) (i32.const ${MR}))) (i32.const 2))))
            (local.set $as (i32.shl (local.get $lda) (i32.const 2))))
          (else
            (if (local.get $atr)
              (then (call $packA
                (i32.add (local.get $a) (i32.shl (i32.add (i32.mul (local.get $pc) (local.get $lda)) (i32.mul (local.get $ip) (i32.const ${MR}))) (i32.const 2)))
                (local.get $lda) (i32.const 1) (local.get $rows) (local.get $kc) (local.get $scr)))
              (else (call $packA
                (i32.add (local.get $a) (i32.shl (i32.add (i32.mul (i32.mul (local.get $ip) (i32.const ${MR})) (local.get $lda)) (local.get $pc)) (i32.const 2)))
                (local.get $lda) (i32.const 0) (local.get $rows) (local.get $kc) (local.get $scr))))
            (local.set $ap (local.get $scr))
            (local.set $as (i32.const ${MR * 4}))))
        (local.set $jp (i32.const 0))
        (block $ejp (loop $ljp
          (br_if $ejp (i32.ge_u (local.get $jp) (local.get $np)))
          (local.set $cols (i32.sub (local.get $n) (i32.shl (local.get $jp) (i32.const 3))))
          (if (i32.gt_u (local.get $cols) (i32.const 8)) (then (local.set $cols (i32.const 8))))
          (local.set $bp (i32.add (local.get $b) (i32.add (i32.mul (local.get $jp) (local.get $bps)) (i32.mul (local.get $pc) (local.get $brs)))))
          (local.set $cp (i32.add (local.get $c) (i32.shl (i32.add (i32.mul (i32.mul (local.get $ip) (i32.const ${MR})) (local.get $ldc)) (i32.shl (local.get $jp) (i32.const 3))) (i32.const 2))))
          (if (i32.and (i32.eq (local.get $rows) (i32.const ${MR})) (i32.eq (local.get $cols) (i32.const 8)))
            (then
              (call $uk (local.get $ap) (local.get $as) (local.get $bp) (local.get $brs) (local.get $kc)
                (local.get $cp) (i32.shl (local.get $ldc) (i32.const 2)) (local.get $im) (i32.add (local.get $bias) (i32.shl (local.get $jp) (i32.const 5)))))
            (else
              (if (i32.eq (local.get $im) (i32.const 1))
                (then (call $tileIn (local.get $cp) (local.get $ldc) (local.get $rows) (local.get $cols) (local.get $tile))))
              (call $uk (local.get $ap) (local.get $as) (local.get $bp) (local.get $brs) (local.get $kc)
                (local.get $tile) (i32.const 32) (local.get $im) (i32.add (local.get $bias) (i32.shl (local.get $jp) (i32.const 5))))
              (call $tileOut (local.get $tile) (local.get $cp) (local.get $ldc) (local.get $rows) (local.get $cols))))
          (local.set $jp (i32.add (local.get $jp) (i32.const 1)))
          (br $ljp)))
        (local.set $ip (i32.add (local.get $ip) (i32.const 1)))
        (br $lip)))
      (local.set $pc (i32.add (local.get $pc) (local.get $kc)))
      (br_if $lpc (i32.lt_u (local.get $pc) (local.get $k)))))
`;
};
