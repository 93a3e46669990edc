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
 * A matmul with its fused epilogue, against float64. Bias + activation: every activation's Lipschitz
 * constant is at most λ·α ≈ 1.76 (SELU just below 0; 1 or less for the others), so the dot product's error
 * grows by less than 2, plus the activation's own rounding (ELEMENTWISE). Activation gradient: the kernel
 * evaluates f′ at the float32 output y (correctly rounded here, |Δy| ≤ u·|y|), which moves f′ by at most
 * 2u for every kind (|df′/dy| ≤ 2|y| for tanh, ≤ 1 for sigmoid, elu and selu have f′ = y + const), so the
 * product g·f′ moves by ≤ 2u·|g| ≤ 2u·K·s²: added to atol. Split-K (K in ranges, then the ranges' totals)
 * rounds no more than one sum over K, so it meets the same bound.
 */
export function epilogueTolerance(K: number, scale = 1): Tolerance {
  const dot = dotTolerance(K, scale);
  return { atol: 2 * dot.atol + 2 * U * K * scale * scale + ELEMENTWISE.atol, rtol: 2 * dot.rtol + ELEMENTWISE.rtol };
}
