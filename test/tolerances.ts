/**
 * The tolerance of every numeric test, in one table, each justified by the float32 error expected of the
 * computation it checks. Tests compare with test/helpers/compare.ts: |gpu − ref| ≤ atol + rtol·|ref| on
 * every element, ref computed in float64.
 *
 * u = 2⁻²⁴ is float32's unit roundoff (half an ulp at 1). Inputs of the kernel tests are uniform in
 * [−s, s] unless a test says otherwise.
 */
import type { Tolerance } from './helpers/compare';

export const U = 2 ** -24;

/**
 * A float32 sum of K products of magnitude ≤ s²: each of the K additions rounds by ≤ u·|partial sum|; the
 * partial sums of random-signed terms grow like √k·s²/3, so the accumulated error has a standard
 * deviation near u·s²·K/√18 ≈ 0.24·u·K·s². atol = 2·u·K·s² is over 8 of those standard deviations, yet
 * far below the worst case K·u·Σ|aᵢbᵢ| that would let a wrong element through. rtol 8u covers the final
 * roundings (product, epilogue) of large outputs.
 */
export function dotTolerance(K: number, scale = 1): Tolerance {
  return { atol: 2 * U * K * scale * scale, rtol: 8 * U };
}

/**
 * One elementwise float32 function (activation, scaling): the WGSL builtins exp, tanh, log are accurate to
 * a few ulp on every implementation the spec allows, so 16u relative plus a tiny absolute floor for
 * results near zero (where the relative error of exp(x) − 1 style expressions blows up).
 */
export const ELEMENTWISE: Tolerance = { atol: 1e-7, rtol: 16 * U };

/**
 * A dot product of length K followed by an elementwise epilogue: activate(sum) (relu, tanh, GELU, SiLU)
 * or sum·activate'(v). Those activations have slopes ≤ 1.13 (GELU's maximum) and their derivatives are
 * at most 1.13 too, so the sum's error grows by at most that factor: 1.2 × dotTolerance's atol. The
 * epilogue's own float32 error is one ELEMENTWISE term on top (the WGSL functions), in atol and rtol;
 * for sum·activate'(v) the derivative's absolute error (≤ 1e-7) is multiplied by |sum| ≤ K·scale², which
 * the 1.2 × 2u·K·scale² ≥ 1.4e-7·K·scale² already covers.
 */
export function dotEpilogueTolerance(K: number, scale = 1): Tolerance {
  const dot = dotTolerance(K, scale);
  return { atol: 1.2 * dot.atol + ELEMENTWISE.atol, rtol: dot.rtol + ELEMENTWISE.rtol };
}

/**
 * Central finite differences (h = 1e-6, test/helpers/reference.ts numericGrad) of smooth float64 losses of
 * magnitude ≤ 10: truncation h²·|f‴|/6 ≈ 1e-12, rounding 2ε·|L|/h ≈ 4e-9. atol 1e-7 is 25× the rounding
 * term; rtol 1e-6 covers large derivatives, whose differences round in proportion.
 */
export const FINITE_DIFFERENCE: Tolerance = { atol: 1e-7, rtol: 1e-6 };

/**
 * A parameter gradient of a small graph run on the GPU (softmax_xent, then at most two chained backward
 * ops, each a reduction of ≤ K products of magnitude ≤ 1) against finite differences of its float64
 * reference. Each reduction contributes ≤ 2u·K (dotTolerance, scale 1), the chain doubles it, and the
 * finite differences add their own 1e-7 (FINITE_DIFFERENCE); rtol 32u covers the softmax's exp and the
 * elementwise epilogues on the way.
 */
export function graphGradientTolerance(K: number): Tolerance {
  return { atol: 4 * U * K + FINITE_DIFFERENCE.atol, rtol: 32 * U };
}
