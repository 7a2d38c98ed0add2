// Scalar formulas every engine computes the same way: the overflow-free logistic sigmoid (one σ for
// the sigmoid, BCE and SwiGLU kernels, so σ(x) − σ(x) is exactly 0 wherever a target is itself a
// sigmoid of the same value) and stablemax's s(x) with its derivative (spec §4.1). Pure numbers.

/** σ(x) = 1/(1 + e^−x), evaluated without overflow on either side. */
export const sigmoidScalar = (x: number): number => {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
};

/** Stablemax's s(x) = x + 1 for x ≥ 0, 1/(1 − x + 1e−30) for x < 0 (continuous, with s′ continuous at 0). */
export const stablemaxS = (x: number): number => (x < 0 ? 1 / (1 - x + 1e-30) : x + 1);

/** s′(x) = 1 for x ≥ 0, 1/(1 − x + 1e−30)² = s(x)² for x < 0. */
export const stablemaxSPrime = (x: number): number => {
  if (x >= 0) return 1;
  const s = 1 / (1 - x + 1e-30);
  return s * s;
};
