// Pieces of WebAssembly text shared by the CPU engine's kernel families (each family's text lives
// beside its wrapper as `<family>.wat.ts`; module.ts joins them into one module): the SIMD variant,
// lane shuffles, the variant's multiply-add, and e^x on four lanes. Addresses in every kernel are
// byte offsets into the engine's one shared memory; strides are in floats unless named `...Bytes`.
// Parallel kernels end with (scratch, lo, hi): a per-thread scratch area and the half-open range of
// work items this call owns (row panels, rows or batch·heads).

export type SimdVariant = 'relaxed' | 'plain';

/** Rows of the micro-kernel's register tile (its columns are always 8). */
export const microRows = (variant: SimdVariant): number => (variant === 'relaxed' ? 6 : 4);

const splat4 = (v: string): string => `(v128.const f32x4 ${v} ${v} ${v} ${v})`;

/**
 * Statements that replace the v128 local \`x\` by e^x per lane, inlined (same arithmetic as $exp4):
 * clamp to [−87.3, 88.3] (pmin/pmax: cheap in V8; a NaN input stays NaN), n = round(x·log2 e) by adding
 * 1.5·2²³ (whose bits then hold n: no float→int conversion), r = x − n·ln 2 (two-part), degree-6 polynomial, ·2^n.
 * Every a·b + c is the variant's multiply-add (madd): fused in the relaxed variant (9 of its 24
 * vector operations fewer, and a shorter dependent chain), a multiply and an add in the plain one.
 * Uses the v128 locals \`n\` and \`r\` as scratch.
 */
/** 127 − bits(1.5·2²³): added to the bits of t = x·log2 e + 1.5·2²³ it gives n + 127 in the low bits, n = round(x·log2 e). */
const EXP_BIAS = 127 - 0x4b400000;

export const expInline = (variant: SimdVariant, x: string, n: string, r: string): string => {
  // p0·r⁵ + … + p5 by Estrin's scheme (pairs, then r²): half the dependent chain of Horner's rule,
  // which is what bounds this loop (V8's code is latency-bound on the long chain)
  const [p0, p1, p2, p3, p4, p5] = ['1.9875691500e-4', '1.3981999507e-3', '8.3334519073e-3', '4.1665795894e-2', '1.6666665459e-1', '5.0000001201e-1'];
  const ma = (a: string, b: string, c: string): string => madd(variant, a, b, c);
  const rr = `(f32x4.mul (local.get ${r}) (local.get ${r}))`;
  const pair = (hi: string, lo: string): string => ma(splat4(hi), `(local.get ${r})`, splat4(lo));
  const poly = ma(rr, ma(rr, pair(p0, p1), pair(p2, p3)), pair(p4, p5));
  return `(local.set ${x} (f32x4.pmax (f32x4.pmin (local.get ${x}) ${splat4('88.3')}) ${splat4('-87.3')}))
        (local.set ${n} ${ma(`(local.get ${x})`, splat4('1.44269504'), splat4('12582912'))})
        (local.set ${r} (f32x4.sub (local.get ${n}) ${splat4('12582912')}))
        (local.set ${r} ${ma(`(local.get ${r})`, splat4('2.12194440e-4'), ma(`(local.get ${r})`, splat4('-0.693359375'), `(local.get ${x})`))})
        (local.set ${x} ${ma(poly, rr, `(f32x4.add (local.get ${r}) ${splat4('1')})`)})
        (local.set ${x} (f32x4.mul (local.get ${x})
          (i32x4.shl (i32x4.add (local.get ${n}) (v128.const i32x4 ${EXP_BIAS} ${EXP_BIAS} ${EXP_BIAS} ${EXP_BIAS})) (i32.const 23))))`;
};

/** Two statement lists (one statement per line, as expInline writes them) merged line by line. */
export const interleave = (a: string, b: string): string => {
  const split = (t: string): string[] => t.split(/\n\s*(?=\(local\.set)/);
  const [x, y] = [split(a), split(b)];
  return x.flatMap((line, i) => [line, y[i] ?? '']).concat(y.slice(x.length)).join('\n        ');
};

export const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** i8x16.shuffle byte lanes picking f32 lanes (0–3 of the first operand, 4–7 of the second). */
const lanes = (...f32Lanes: number[]): string => f32Lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]).join(' ');
/** interleave the low halves [a0 b0 a1 b1], the high halves [a2 b2 a3 b3], and join the 64-bit halves [a0 a1 b0 b1], [a2 a3 b2 b3] */
export const SH_LO = lanes(0, 4, 1, 5);
export const SH_HI = lanes(2, 6, 3, 7);
export const SH_L64 = lanes(0, 1, 4, 5);
export const SH_H64 = lanes(2, 3, 6, 7);

/** acc ← a·b + acc in the variant's arithmetic. */
export const madd = (variant: SimdVariant, a: string, b: string, acc: string): string =>
  variant === 'relaxed'
    ? `(f32x4.relaxed_madd ${a} ${b} ${acc})`
    : `(f32x4.add (f32x4.mul ${a} ${b}) ${acc})`;

/** $exp4 (e^x on four lanes) and $expf (one float), called by the kernels that need e^x out of line. */
export const expFunctions = (variant: SimdVariant): string => `
  ;; exp4: e^x per lane (Cephes-style range reduction and degree-6 polynomial, ≈1 ulp; see expInline);
  ;; x is clamped to [−87.3, 88.3] (e^x underflows to ≈1e−38 instead of 0, never overflows)
  (func $exp4 (param $x v128) (result v128) (local $n v128) (local $r v128)
    ${expInline(variant, '$x', '$n', '$r')}
    (local.get $x))

  (func $expf (param $x f32) (result f32)
    (f32x4.extract_lane 0 (call $exp4 (f32x4.splat (local.get $x)))))
`;
