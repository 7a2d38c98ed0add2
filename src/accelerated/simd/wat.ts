// The WebAssembly text of the CPU engine's heavy kernels, generated for one SIMD variant:
// 'relaxed' (6×8 micro-kernel with f32x4.relaxed_madd) or 'plain' (4×8, mul + add). Assembled at
// start with `wabt` (see module.ts); nothing binary is committed. Every kernel reads and writes the
// one shared memory the engine's tensors live in; addresses are byte offsets, strides are in floats
// unless named `...Bytes`. Parallel kernels end with (scratch, lo, hi): a per-thread scratch area
// and the half-open range of work items this call owns (row panels, rows or batch·heads).
// What is not here: the small elementwise kernels (plain JS over Float32Array views, kernels.ts).

export type SimdVariant = 'relaxed' | 'plain';

/** Rows of the micro-kernel's register tile (its columns are always 8). */
export const microRows = (variant: SimdVariant): number => (variant === 'relaxed' ? 6 : 4);

/** Depth of one block of the contraction axis (packed A panels hold MR × KC floats). */
export const KC = 512;

/** Bytes of per-thread scratch the GEMM driver needs (packed A block + one edge tile). */
export const gemmScratchBytes = (variant: SimdVariant): number => microRows(variant) * KC * 4 + 64 * 4;

/** Bytes of per-thread scratch attention (forward or backward) needs at sequence length S, head dim hd. */
export const attentionScratchBytes = (variant: SimdVariant, S: number, hd: number): number => {
  const Sp = (S + 7) & ~7;
  // K/V transposes [hd, Sp] ×2, probabilities and dP [S + MR, Sp] ×2, then the GEMM scratch
  return (2 * hd * Sp + 2 * (S + 8) * Sp) * 4 + gemmScratchBytes(variant) + 256;
};

const splat4 = (v: string): string => `(v128.const f32x4 ${v} ${v} ${v} ${v})`;

/**
 * Statements that replace the v128 local \`x\` by e^x per lane, inlined (same arithmetic as $exp4):
 * clamp to [−87.3, 88.3] (pmin/pmax: cheap in V8; a NaN input stays NaN), n = round(x·log2 e) by adding
 * 1.5·2²³ (whose bits then hold n: no float→int conversion), r = x − n·ln 2 (two-part), degree-6 polynomial, ·2^n.
 * Uses the v128 locals \`n\` and \`r\` as scratch.
 */
/** 127 − bits(1.5·2²³): added to the bits of t = x·log2 e + 1.5·2²³ it gives n + 127 in the low bits, n = round(x·log2 e). */
const EXP_BIAS = 127 - 0x4b400000;

export const expInline = (x: string, n: string, r: string): string => {
  // p0·r⁵ + … + p5 by Estrin's scheme (pairs, then r²): half the dependent chain of Horner's rule,
  // which is what bounds this loop (V8's code is latency-bound on the long chain)
  const [p0, p1, p2, p3, p4, p5] = ['1.9875691500e-4', '1.3981999507e-3', '8.3334519073e-3', '4.1665795894e-2', '1.6666665459e-1', '5.0000001201e-1'];
  const rr = `(f32x4.mul (local.get ${r}) (local.get ${r}))`;
  const pair = (hi: string, lo: string): string => `(f32x4.add (f32x4.mul ${splat4(hi)} (local.get ${r})) ${splat4(lo)})`;
  const poly = `(f32x4.add ${pair(p4, p5)} (f32x4.mul ${rr} (f32x4.add ${pair(p2, p3)} (f32x4.mul ${rr} ${pair(p0, p1)}))))`;
  return `(local.set ${x} (f32x4.pmax (f32x4.pmin (local.get ${x}) ${splat4('88.3')}) ${splat4('-87.3')}))
        (local.set ${n} (f32x4.add (f32x4.mul (local.get ${x}) ${splat4('1.44269504')}) ${splat4('12582912')}))
        (local.set ${r} (f32x4.sub (local.get ${n}) ${splat4('12582912')}))
        (local.set ${r} (f32x4.sub (f32x4.sub (local.get ${x}) (f32x4.mul (local.get ${r}) ${splat4('0.693359375')}))
          (f32x4.mul (local.get ${r}) ${splat4('-2.12194440e-4')})))
        (local.set ${x} (f32x4.add (f32x4.mul ${poly} ${rr}) (f32x4.add (local.get ${r}) ${splat4('1')})))
        (local.set ${x} (f32x4.mul (local.get ${x})
          (i32x4.shl (i32x4.add (local.get ${n}) (v128.const i32x4 ${EXP_BIAS} ${EXP_BIAS} ${EXP_BIAS} ${EXP_BIAS})) (i32.const 23))))`;
};

/** Two statement lists (one statement per line, as expInline writes them) merged line by line. */
const interleave = (a: string, b: string): string => {
  const split = (t: string): string[] => t.split(/\n\s*(?=\(local\.set)/);
  const [x, y] = [split(a), split(b)];
  return x.flatMap((line, i) => [line, y[i] ?? '']).concat(y.slice(x.length)).join('\n        ');
};

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** i8x16.shuffle byte lanes picking f32 lanes (0–3 of the first operand, 4–7 of the second). */
const lanes = (...f32Lanes: number[]): string => f32Lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]).join(' ');
/** interleave the low halves [a0 b0 a1 b1], the high halves [a2 b2 a3 b3], and join the 64-bit halves [a0 a1 b0 b1], [a2 a3 b2 b3] */
const SH_LO = lanes(0, 4, 1, 5);
const SH_HI = lanes(2, 6, 3, 7);
const SH_L64 = lanes(0, 1, 4, 5);
const SH_H64 = lanes(2, 3, 6, 7);

/** acc ← a·b + acc in the variant's arithmetic. */
const madd = (variant: SimdVariant, a: string, b: string, acc: string): string =>
  variant === 'relaxed'
    ? `(f32x4.relaxed_madd ${a} ${b} ${acc})`
    : `(f32x4.add (f32x4.mul ${a} ${b}) ${acc})`;

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
const adamKernel = (): string => `
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

/**
 * Statements of SwiGLU's backward on four lanes, given s = e^(−g) in \`s\`: s ← σ(g) = 1/(1 + s), then
 * \`u\` ← dg = d·u·s·(1 + g·(1 − s)) and \`g\` ← du = d·g·s.
 */
const swigluBwdLanes = (g: string, u: string, s: string, d: string): string =>
  `(local.set ${s} (f32x4.div (v128.const f32x4 1 1 1 1) (f32x4.add (v128.const f32x4 1 1 1 1) (local.get ${s}))))
        (local.set ${u} (f32x4.mul (f32x4.mul (f32x4.mul (local.get ${d}) (local.get ${u})) (local.get ${s}))
                                 (f32x4.add (v128.const f32x4 1 1 1 1) (f32x4.mul (local.get ${g}) (f32x4.sub (v128.const f32x4 1 1 1 1) (local.get ${s}))))))
        (local.set ${g} (f32x4.mul (f32x4.mul (local.get ${d}) (local.get ${g})) (local.get ${s})))`;

/** The whole module text for one variant. */
export const engineWat = (variant: SimdVariant): string => {
  const MR = microRows(variant);
  return `(module
  (import "env" "memory" (memory 1 65536 shared))
${microKernel(variant)}

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

  ;; exp4: e^x per lane (Cephes-style range reduction and degree-6 polynomial, ≈1 ulp; see expInline);
  ;; x is clamped to [−87.3, 88.3] (e^x underflows to ≈1e−38 instead of 0, never overflows)
  (func $exp4 (param $x v128) (result v128) (local $n v128) (local $r v128)
    ${expInline('$x', '$n', '$r')}
    (local.get $x))

  (func $expf (param $x f32) (result f32)
    (f32x4.extract_lane 0 (call $exp4 (f32x4.splat (local.get $x)))))

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
        ${interleave(expInline('$e', '$en', '$er'), expInline('$e2', '$en2', '$er2'))}
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
        ${expInline('$e', '$en', '$er')}
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
${rowKernels()}
${elementwiseKernels}
${adamKernel()}
)`;
};

/** Row-parallel fused elementwise kernels: residual + RMSNorm (forward, backward), SwiGLU (forward, backward). */
const rowKernels = (): string => `
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
  ;; The two sums run in float64 (Σ dy·x cancels when dy is nearly orthogonal to x).
  (func (export "addRmsBwd") (param $dy i32) (param $a i32) (param $b i32) (param $dx i32) (param $D i32) (param $eps f32)
      (param $scr i32) (param $lo i32) (param $hi i32)
    (local $r i32) (local $o i32) (local $j i32) (local $D4 i32) (local $acc v128) (local $dot v128) (local $x v128) (local $g v128)
    (local $xs f32) (local $gs f32) (local $ss f64) (local $ds f64) (local $rs f32) (local $c f32) (local $vr v128) (local $vc v128) (local $rd f64)
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
      (local.set $rs (f32.demote_f64 (local.get $rd)))
      (local.set $c (f32.demote_f64 (f64.div (f64.mul (f64.mul (f64.mul (local.get $rd) (local.get $rd)) (local.get $rd)) (local.get $ds)) (f64.convert_i32_u (local.get $D)))))
      (local.set $vr (f32x4.splat (local.get $rs)))
      (local.set $vc (f32x4.splat (local.get $c)))
      (local.set $j (i32.const 0))
      (block $e3 (loop $l3
        (br_if $e3 (i32.ge_u (local.get $j) (local.get $D4)))
        (local.set $x (v128.load (i32.add (local.get $a) (i32.add (local.get $o) (i32.shl (local.get $j) (i32.const 2))))))
        (if (local.get $b) (then (local.set $x (f32x4.add (local.get $x) (v128.load (i32.add (local.get $b) (i32.add (local.get $o) (i32.shl (local.get $j) (i32.const 2)))))))))
        (local.set $g (v128.load (i32.add (local.get $dy) (i32.add (local.get $o) (i32.shl (local.get $j) (i32.const 2))))))
        (v128.store (i32.add (local.get $dx) (i32.add (local.get $o) (i32.shl (local.get $j) (i32.const 2))))
          (f32x4.sub (f32x4.mul (local.get $g) (local.get $vr)) (f32x4.mul (local.get $x) (local.get $vc))))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $l3)))
      (block $e4 (loop $l4
        (br_if $e4 (i32.ge_u (local.get $j) (local.get $D)))
        (local.set $xs (f32.load (i32.add (local.get $a) (i32.add (local.get $o) (i32.shl (local.get $j) (i32.const 2))))))
        (if (local.get $b) (then (local.set $xs (f32.add (local.get $xs) (f32.load (i32.add (local.get $b) (i32.add (local.get $o) (i32.shl (local.get $j) (i32.const 2)))))))))
        (local.set $gs (f32.load (i32.add (local.get $dy) (i32.add (local.get $o) (i32.shl (local.get $j) (i32.const 2))))))
        (f32.store (i32.add (local.get $dx) (i32.add (local.get $o) (i32.shl (local.get $j) (i32.const 2))))
          (f32.sub (f32.mul (local.get $gs) (local.get $rs)) (f32.mul (local.get $xs) (local.get $c))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $l4)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $lr))))

  ;; swiglu: y[r,j] = g·σ(g)·u with g = gu[r, j], u = gu[r, I + j]; rows [lo, hi)
  (func (export "swiglu") (param $gu i32) (param $y i32) (param $I i32) (param $scr i32) (param $lo i32) (param $hi i32)
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
        ${interleave(expInline('$e', '$n', '$q'), expInline('$e2', '$n2', '$q2'))}
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
        ${expInline('$e', '$n', '$q')}
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
  (func (export "swigluBwd") (param $dy i32) (param $gu i32) (param $dgu i32) (param $I i32) (param $scr i32) (param $lo i32) (param $hi i32)
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
        ${interleave(expInline('$s', '$n', '$q'), expInline('$s2', '$n2', '$q2'))}
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
        ${expInline('$s', '$n', '$q')}
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

/** Elementwise kernels: a + b or s·a in blocks of 4096 floats, and RoPE (forward and transpose) by rows. */
const elementwiseKernels = `
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

  ;; rope: rows r = b·S + s in [lo, hi) of x[B,S,W]: rotated heads j < nh get, for i < h = hd/2,
  ;; dir 1: y[i] = x[i]·cos[i] − x[i+h]·sin[i], y[i+h] = x[i+h]·cos[i+h] + x[i]·sin[i+h];
  ;; dir 0 (the transpose): y[i] = x[i]·cos[i] + x[i+h]·sin[i+h], y[i+h] = x[i+h]·cos[i+h] − x[i]·sin[i];
  ;; the other channels are copied (four at a time, then one by one). cos, sin [S, hd].
  (func (export "rope") (param $x i32) (param $cos i32) (param $sin i32) (param $y i32) (param $S i32) (param $W i32)
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

/** The names and parameter counts (before scratch, lo, hi) of the kernels the worker pool dispatches. */
export const PARALLEL_KERNELS = {
  packBT: 4,
  packB: 4,
  linear: 7,
  linearDx: 6,
  linearDw: 6,
  attnFwd: 6,
  attnBwd: 7,
  addRms: 5,
  addRmsBwd: 6,
  swiglu: 3,
  swigluBwd: 4,
  ewAxpb: 5,
  adam: 13,
  rope: 9,
} as const;

export type ParallelKernel = keyof typeof PARALLEL_KERNELS;
