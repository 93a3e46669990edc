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

// ---- Normalisation (batch, group, instance, layer norm) and pooling ----
// R = |μ|/σ below is the data's offset from zero in standard deviations: what makes a mean "far from zero"
// hard, since every rounding of a value near μ is u·|μ|, not u·σ. The kernels reduce with Welford's update
// per thread and Chan's pairwise combination in trees (no E[x²] − E[x]² cancellation), so the statistics
// keep all their accuracy but this unavoidable u·|μ| term (each thread's Welford runs on x minus its first
// element, so only the combinations round at u·|μ|). Measured on SwiftShader under both reduction splits
// (src/kernels/norm.ts), the worst elements of test/kernels/{batch_norm,group_norm,norm}.test.ts and
// test/graph/norm_pool_gradcheck.test.ts sit at 0.01–0.5 of these bounds.

/**
 * Roundings on the path from an input to a statistic of `length` elements: the tree levels, plus the
 * longest sequential run of one thread (`sequential`: Welford's steps or a partial sum's additions, from
 * the lowering's split; at least 8, which also covers the final divisions and square root).
 */
const reductionPath = (length: number, sequential: number) => Math.ceil(Math.log2(Math.max(2, length))) + Math.max(8, sequential);

/**
 * The error of x̂ = (x − μ)·rstd from float32 statistics of `length` elements. The mean carries roundings
 * of u·|μ| along the reduction path, random in sign: about u·R·√path in units of σ (doubled here); the
 * variance's relative error is about u·√path (the roundings of M2's sums), rstd's half that, which moves
 * x̂ by |x̂|·u·√path/2 ≤ 2u·√path with |x̂| ≤ 4 in the tests (doubled); the products (x − μ)·rstd·γ are
 * rounded at that size too: 8u.
 */
export function normalisedError(length: number, meanOverStd: number, sequential = 8): number {
  return U * (2 * (meanOverStd + 2) * Math.sqrt(reductionPath(length, sequential)) + 8);
}

/** y = x̂·γ + β (forward of every norm): |δy| ≤ max|γ|·|δx̂| plus the final roundings (4u relative). Also the mean output, with `gammaMax` = the largest σ. */
export function normForwardTolerance(length: number, meanOverStd: number, gammaMax = 1, sequential = 8): Tolerance {
  return { atol: gammaMax * normalisedError(length, meanOverStd, sequential), rtol: 4 * U };
}

/**
 * rstd = 1/√(M2/n + eps): relative. M2's sums carry ~u·√path relatively, and each Welford product
 * (x − mean_k)·(x − mean_{k+1}) the running mean's rounding, a relative u·R averaging over the path:
 * u·(R/2 + 1)·√path; plus the division, the square root and the reciprocal (WGSL allows a few ulp each): 32u.
 */
export function rstdTolerance(length: number, meanOverStd: number, sequential = 8): Tolerance {
  return { atol: 0, rtol: U * (32 + (meanOverStd / 2 + 1) * Math.sqrt(reductionPath(length, sequential))) };
}

/**
 * dx = γ·rstd·(dy − mean(dy) − x̂·mean(dy·x̂)) (the norm backward passes, per channel or per row): the terms
 * are O(max|dy|) and may cancel, so the error is absolute in `scale` = max|γ·rstd·dy|: twice the x̂ error
 * (x̂ itself, and rstd's relative error, which scales every term) plus the roundings of the two means.
 */
export function normBackwardTolerance(length: number, meanOverStd: number, scale: number, sequential = 8): Tolerance {
  return { atol: scale * (2 * normalisedError(length, meanOverStd, sequential) + U * reductionPath(length, sequential)), rtol: 4 * U };
}

/**
 * dγ = Σ dy·x̂ and dβ = Σ dy over `length` elements (`scale` = max|dy|): per-thread sums, then trees, of
 * terms of random sign, so partial sums stay near √length·scale and each of the ~path roundings on an
 * element's way is u times that (4u·√path·√length·scale bounds their random sum); and the x̂ error of
 * every term, systematic through the mean's error: Σ dy·δx̂ ≈ δx̂·Σ dy ≈ δx̂·√length·scale.
 */
export function normParamGradTolerance(length: number, meanOverStd: number, scale: number, sequential = 8): Tolerance {
  const path = reductionPath(length, sequential);
  return { atol: Math.sqrt(length) * scale * (4 * U * Math.sqrt(path) + normalisedError(length, meanOverStd, sequential)), rtol: 16 * U };
}

/**
 * Running statistics (1 − m)·r + m·stat: the statistic's error times m ≤ 1 (the mean's u·|μ|·√path, the
 * variance's u·R·√path relative, a quarter of each kept since m = 0.1 in the tests, with room), plus two
 * roundings of values of size `scale`.
 */
export function runningStatTolerance(length: number, meanOverStd: number, scale: number, sequential = 8): Tolerance {
  return { atol: scale * U * (8 + ((meanOverStd + 1) * Math.sqrt(reductionPath(length, sequential))) / 4), rtol: 8 * U };
}

/**
 * Pooling. Max pooling's forward copies values (exact: compared for equality). Its backward adds at most
 * ⌈k/s⌉² gradients of size ≤ scale per input, and average pooling adds k_h·k_w values and divides: at most
 * k_h·k_w + 1 roundings of partial sums ≤ k_h·k_w·scale, so atol 2u·(k_h·k_w + 1)·scale.
 */
export function poolTolerance(kernelH: number, kernelW: number, scale = 1): Tolerance {
  return { atol: 2 * U * (kernelH * kernelW + 1) * scale, rtol: 4 * U };
}
