/**
 * The tolerance of every numeric test, in one table, each justified by the float32 error expected of the
 * computation it checks. Tests compare with test/helpers/compare.ts: |gpu − ref| ≤ atol + rtol·|ref| on
 * every element, ref computed in float64 from the same (float32) inputs.
 *
 * Conventions of the derivations:
 *  - u = 2⁻²⁴, float32's unit roundoff: every float32 operation returns x·(1 + δ), |δ| ≤ u.
 *  - Rounding errors of long sums are treated as independent, uniform in [−u, u] (variance u²/3), and the
 *    bounds sit at about 8 standard deviations: a test never fails by chance, yet stays far below the
 *    worst case n·u·Σ|x| that would let a visibly wrong element through.
 *  - Builtins (exp, log, tanh, inverseSqrt, sin, cos) are taken at the accuracy the WGSL spec requires
 *    where that spec is tight enough to test anything (exp: 3 + 2|x| ulp, log: 3 ulp or 2⁻²¹ absolute,
 *    division 2.5 ulp, inverseSqrt 2 ulp), and at the accuracy of real implementations where the spec is
 *    loose (sin and cos are only required to 2⁻¹¹ absolute; SwiftShader, NVIDIA, AMD and Apple are ≤ 2⁻²⁰).
 *  - "scale" arguments are the largest magnitude of the named input in the test (inputs are uniform in
 *    [−scale, scale] unless a test says otherwise); composite results are stated against maxAbs(ref).
 *
 * TOLERANCE_LOG=1 prints each comparison's worst ratio |a − b| / bound; the figures quoted below are the
 * worst seen on SwiftShader.
 *
 * Keep one exported constant or function per kernel family, each with its justification.
 */
import type { Tolerance } from './helpers/compare';

export const U = 2 ** -24;

/** Tolerances add: errors of composed steps add to first order. */
export function plus(...tolerances: Tolerance[]): Tolerance {
  return { atol: tolerances.reduce((s, t) => s + t.atol, 0), rtol: tolerances.reduce((s, t) => s + t.rtol, 0) };
}

/**
 * A float32 sum of n random-signed terms whose root mean square is `rms` (uniform in [−s, s]: rms = s/√3,
 * see uniformRms) — column sums, bias gradients, the loss sum's terms, reductions in any order. Each
 * addition rounds by δₖ·Sₖ (Sₖ the partial sum), so the error is Σ δₖ·Sₖ: given the partial sums, nearly
 * Gaussian with variance c·u²·Σ Sₖ², where c ≈ 0.18 (measured: round-to-nearest errors are uniform within
 * half an ulp, i.e. between u/2 and u of |Sₖ|). Σ Sₖ² of a random walk is not concentrated: it is n²·rms²·Q
 * with P(Q > q) ≈ (4/π)·e^{−π²q/8} (the integral of a squared Brownian path), and mixing the two gives
 * P(|error| > t·u·n·rms) ≈ e^{−3.7·t}. atol = 7.5·u·n·rms puts the odds of a chance failure at ~10⁻¹² per
 * element (dotTolerance's measurement: the worst of 128,000 elements used 37% of it, which a Gaussian
 * model alone would have called a 9σ event).
 * One-signed terms (|S| ≈ n·mean, e.g. the loss sum, a squared norm): Sₖ grows linearly, Σ Sₖ² ≈ n·S²/3,
 * and the error is Gaussian with standard deviation 0.25·u·|S|·√n: rtol = 2u·√n is 8 of them.
 * Tree reductions (workgroup sums) have a shorter dependency chain and a smaller error; the bound covers them.
 */
export function sumTolerance(n: number, rms: number): Tolerance {
  return { atol: 7.5 * U * n * rms, rtol: 2 * U * Math.sqrt(n) + 2 * U };
}

/** The root mean square of a value uniform in [−s, s]. */
export const uniformRms = (s: number) => s / Math.sqrt(3);

/**
 * Matmul: K products of inputs uniform in [−s, s], summed in float32 — sumTolerance with terms of rms s²/3,
 * i.e. atol = 2.5·u·K·s² (the rounding of each product adds only u·s²·√K/3). Measured on SwiftShader, whose
 * matmuls are bitwise the sequential float32 sum: the error's standard deviation is 0.10·u·K, the worst of
 * 128,000 outputs at 1000 × 128 × 784 is 0.93·u·K (37% of atol). rtol 4u covers the final roundings (store,
 * bias add) and K = 1, where the one product is the result. A 1% error on a typical element (≈ √K·s²/3) is
 * 800× this bound at K = 784 and 8,000× at K = 7.
 */
export function dotTolerance(K: number, scale = 1): Tolerance {
  return { atol: 2.5 * U * K * scale * scale, rtol: 4 * U };
}

/**
 * Activation forward (activate() in act_fns.wgsl) on inputs with |x| ≤ 4, plus saturated extremes.
 * relu and leaky_relu round once (α·x). sigmoid, elu and selu go through exp, whose spec error is
 * (3 + 2|x|) ulp = (6 + 4|x|)·u relative, ≤ 22u at |x| ≤ 4; 1/(1 + e) or e/(1 + e) adds an addition and a
 * 2.5-ulp division, ≤ 28u in all: rtol 32u. Absolute errors: elu and selu compute α·(eˣ − 1), which cancels
 * as x → 0⁻: eˣ ∈ [0.5, 1) has ulp u, so exp's (3 + 2|x|) ulp is ≤ 4.4u absolute for |x| ≤ 0.7, times
 * λα = 1.76 for selu: 7.7u (SwiftShader uses ~half: selu's worst ratio is 0.47). tanh (specified as
 * sinh/cosh) leaves a few u near 0 as well; sigmoid's and elu's tails at |x| ≤ 30 are ≤ e⁻⁹ with a relative
 * error ≤ 126u, far below the same bound. Hence atol 8u.
 */
export const ACTIVATION: Tolerance = { atol: 8 * U, rtol: 32 * U };

/**
 * Activation backward (activate_grad() through the f32 forward output y, times dy), compared with the
 * float64 derivative at x. y carries ACTIVATION's error Δy ≤ 8u + 32u·|y|; the derivative formulas turn
 * it into an absolute error of the derivative: y(1 − y) and y + α by ≤ |Δy|, 1 − y² by ≤ 2|Δy|, with |y| ≤ 1
 * where these apply (sigmoid, tanh) and |y| ≤ λα = 1.76 for selu: ≤ 2·(8u + 32u·1.76) < 128u. Times |dy|
 * ≤ dyScale, plus the roundings of the formula and the product (4u relative).
 */
export function activationGradTolerance(dyScale: number): Tolerance {
  return { atol: 128 * U * dyScale, rtol: 4 * U };
}

/**
 * Matmul with the bias + activation epilogue: z = dot + bias carries dotTolerance's error (plus u·|z|),
 * the activation passes it on scaled by |f′| ≤ λ_selu = 1.0507, and adds ACTIVATION's own error.
 */
export function matmulEpilogueTolerance(K: number, scale = 1): Tolerance {
  const dot = dotTolerance(K, scale);
  return plus({ atol: 1.06 * dot.atol, rtol: 1.06 * dot.rtol }, ACTIVATION);
}

/**
 * Matmul with the activation-gradient epilogue: g = dY·W carries dotTolerance's error, scaled by
 * |f′| ≤ 1.06, and the derivative's own error is activationGradTolerance with dy = g (gScale = max |g|).
 */
export function matmulActGradTolerance(K: number, scale: number, gScale: number): Tolerance {
  const dot = dotTolerance(K, scale);
  return plus({ atol: 1.06 * dot.atol, rtol: 1.06 * dot.rtol }, activationGradTolerance(gScale));
}

/**
 * Fused softmax cross-entropy, the gradient (p − onehot)·grad_scale over C classes. Each exp(z − max) has
 * |z − max| ≥ 0 and value e^{−|z−max|}, so its spec error (6 + 4|x|)·u·e^{−|x|} is ≤ 6u in absolute terms
 * whatever the logits' range. The sum (≥ 1, the max term) then has an absolute error ≤ 6u·C + C·u, which
 * is its relative error too; 1/sum adds 5u (2.5 ulp) and the product u. So p has relative error
 * ≤ (12 + 7C)·u; the label entry (p − 1, which cancels when p → 1) needs it as an absolute error of p ≤ 1,
 * and the small p of other classes as a relative one. Both times grad_scale.
 */
export function softmaxGradTolerance(classes: number, gradScale: number): Tolerance {
  const rel = (12 + 7 * classes) * U;
  return { atol: (rel + 2 * U) * gradScale, rtol: rel };
}

/**
 * The loss sum that softmax_xent adds into the metrics: per row log(sum) + max − z_label. log(sum) with
 * sum ∈ [1, C] has the sum's relative error (≤ 7C·u, see above) as an absolute error, plus log's own
 * (3 ulp, or 2⁻²¹ absolute in [0.5, 2]); the two additions round by ≤ 2u·(2L + ln C) with L = max |logit|.
 * The rows' losses are positive, summed per invocation and then in a tree: sumTolerance's one-signed rtol.
 */
export function lossSumTolerance(rows: number, classes: number, maxLogit: number): Tolerance {
  const perRow = 7 * classes * U + 2 ** -21 + 6 * U * Math.log(classes + 1) + 2 * U * (2 * maxLogit + Math.log(classes + 1));
  return { atol: rows * perRow, rtol: 2 * U * Math.sqrt(rows) + 2 * U };
}

/**
 * gather: x = f32(byte)·scale + shift. scale and shift reach the kernel rounded to f32 (u each, relative),
 * the product and the sum round once more: ≤ u·(2·255·|scale| + 2|shift|) + u·|x|, and the absolute part
 * matters where byte·scale + shift cancels to ~0. Standardised inputs cancel, so this is an absolute bound.
 */
export function gatherTolerance(scale: number, shift: number): Tolerance {
  return { atol: 2 * U * (255 * Math.abs(scale) + Math.abs(shift)), rtol: 2 * U };
}

/**
 * Dropout: kept elements are x·f32(1/(1 − p)) (the scale's rounding and the product's, 2u relative),
 * dropped ones exactly 0 (atol 0: a dropped element must be exactly 0, a kept one never 0).
 */
export const DROPOUT: Tolerance = { atol: 0, rtol: 2 * U };

/**
 * mixup_inputs: λ·x + (1 − λ)·x_partner with λ rounded to f32 (1 − λ is then exact, Sterbenz). The error is
 * ≤ u·λ·|x − x_p| (λ's rounding) + u·(|λx| + |(1 − λ)x_p|) (products) + u·|result|, and the result can
 * cancel to ~0: atol 4u·max|x|, rtol 2u.
 */
export function mixupTolerance(xScale: number): Tolerance {
  return { atol: 4 * U * xScale, rtol: 2 * U };
}

/**
 * mixup_targets' gradient: dlogits + (1 − λ)·(onehot(y) − onehot(y_p))·grad_scale, with (1 − λ) from the f32
 * λ (its rounding ≤ u) and grad_scale = f32(1/rows): ≤ 3u·grad_scale absolute, plus u·|result|. The
 * label entry cancels ((p − λ)·grad_scale), so the bound is absolute in units of grad_scale.
 */
export function mixupTargetsTolerance(gradScale: number): Tolerance {
  return { atol: 4 * U * gradScale, rtol: 2 * U };
}

/**
 * mixup_targets' loss correction Σ_r (1 − λ)·(z_r[y_r] − z_r[y_p]) added to the f32 loss sum: each term
 * ≤ 2L(1 − λ) ≤ L (L = max |logit|) rounds 3 times, and the random-signed terms are summed (sumTolerance's
 * atol, 2u·rows·L): 6u·rows·L in all; rtol 3u for the stored loss sum and the final addition.
 */
export function mixupLossTolerance(rows: number, maxLogit: number): Tolerance {
  return { atol: 6 * U * rows * maxLogit, rtol: 3 * U };
}

/**
 * Batch and layer norm, forward, over groups of n values (a column for batch norm, a row for layer norm),
 * on the tests' inputs: |x|/σ ≤ 4, |μ|/σ ≤ 0.6 within a group, |γ| ≤ 2, |β| ≤ 1 (test/kernels/norm.test.ts).
 *  - μ = Σx/n: sumTolerance over n terms of rms ≤ 1.3σ, divided by n: 10u·σ, plus 2u·√n·|μ| (one-signed part).
 *    The mean output is compared in units of its group's σ: atol 10u, rtol 2u·√n + 2u.
 *  - rstd = 1/√(var + ε): the two-pass variance is a one-signed sum (2u·√n relative), the square root halves
 *    it, and the division and the square root add 2.5 + 2 ulp: rtol u·√n + 5u.
 *  - x̂ = (x − μ)·rstd: u·|x|/σ ≤ 4u for the difference, Δμ/σ ≤ (10 + 1.2√n)·u, |x̂| ≤ 4 times rstd's error,
 *    u for the product: |Δx̂| ≤ (35 + 5.2√n)·u.
 *  - y = x̂·γ + β: |γ|·|Δx̂| plus 2u·(|γx̂| + |β|) ≤ 18u.
 */
/** |Δx̂| of normForwardTolerance, for groups of n. */
const normXhatError = (n: number) => (35 + 5.2 * Math.sqrt(n)) * U;

export function normForwardTolerance(n: number): { y: Tolerance; mean: Tolerance; rstd: Tolerance } {
  return {
    y: { atol: 2 * normXhatError(n) + 18 * U, rtol: 2 * U },
    mean: { atol: 10 * U, rtol: 2 * U * Math.sqrt(n) + 2 * U },
    rstd: { atol: 0, rtol: (Math.sqrt(n) + 5) * U },
  };
}

/**
 * Batch and layer norm, backward, with groups of n (as above) over a batch of `rows`, |dy| ≤ 1 uniform.
 * x̂ has rms 1, so g = γ·dy has rms ≤ 1.2 and g·x̂ too; means of n such random-signed terms are ≤ 10/√n (8σ).
 *  - dβ = Σ_rows dy: sumTolerance(rows, 1/√3).
 *  - dγ = Σ_rows dy·x̂: sumTolerance(rows, 1/√3); x̂'s per-element error (4u, the difference) and its
 *    per-group part Δμ/σ ≤ (10 + 1.2√n)·u multiply Σ dy ≲ 8·0.58·√rows; rstd's relative error (u·√n + 5u)
 *    multiplies the whole.
 *  - dx/rstd = g − mean(g) − x̂·mean(g·x̂), compared in units of its group's rstd (both sides divided by
 *    it, so one tolerance serves groups of any scale): 4 roundings of terms ≤ 2 (12u); mean(g) and
 *    mean(g·x̂) carry sumTolerance's error over n divided by n (7.5u·1.2 = 9u each, the second times |x̂| ≤ 4);
 *    Δx̂ (normForwardTolerance) enters through x̂·mean(g·x̂) and through mean(g·x̂) itself, both ≤ 10/√n times
 *    it, 18·Δx̂/√n in all; rstd's relative error multiplies the whole (rtol).
 */
export function normBackwardTolerance(n: number, rows: number): { dx: Tolerance; dgamma: Tolerance; dbeta: Tolerance } {
  const rstd = (Math.sqrt(n) + 5) * U;
  return {
    dx: { atol: (12 + 9 + 36) * U + (18 * normXhatError(n)) / Math.sqrt(n), rtol: rstd + 2 * U },
    dgamma: { atol: sumTolerance(rows, uniformRms(1)).atol + 8 * 0.58 * Math.sqrt(rows) * (14 + 1.2 * Math.sqrt(n)) * U, rtol: 2 * U * Math.sqrt(rows) + rstd },
    dbeta: sumTolerance(rows, uniformRms(1)),
  };
}

/**
 * Batch norm's running statistics: (1 − m)·r + m·s with s the batch mean or the unbiased variance, r the
 * previous value (|r| ≤ 1 here).
 *  - mean, compared in units of σ like the mean itself: m times the mean's error (10u + 2u·√n·|μ|/σ, with
 *    |μ|/σ ≤ 0.6), and three roundings of terms ≤ |r|/σ + m·|μ|/σ ≤ 2 that may cancel: 6u absolute.
 *  - variance: m·s dominates where s ≫ r, so the result carries s's whole relative error (2u·√n + 5u, see
 *    normForwardTolerance's rstd), plus 4u for the unbiasing factor and the three roundings.
 */
export function runningStatsTolerance(n: number, momentum: number): { mean: Tolerance; variance: Tolerance } {
  return {
    mean: { atol: 6 * U + momentum * (10 + 1.2 * Math.sqrt(n)) * U, rtol: 2 * U },
    variance: { atol: 0, rtol: (2 * Math.sqrt(n) + 9) * U },
  };
}

/**
 * Batch norm in evaluation mode: the statistics are given, nothing is reduced. rstd = 1/√(v + ε): the
 * addition (u), the square root and the division (2 + 2.5 ulp): ≤ 7u; x − μ rounds once, the products twice:
 * ≤ 10u of |x̂·γ|; with |β| ≤ 1 the sum can cancel, so the same 10u (plus the sum's u·|β|) absolute.
 */
export const EVAL_NORM: Tolerance = { atol: 12 * U, rtol: 10 * U };

/**
 * A float64 reference against central finite differences (f(x + h) − f(x − h))/2h: the two evaluations of
 * a loss whose terms add up to `lossScale` in magnitude round by ~16 float64 ulps of it (2⁻⁵³ each), which the
 * division by 2h amplifies: atol = 16·2⁻⁵³·lossScale/h. The truncation error h²·f‴/6 is ~10⁻¹² relative at
 * h = 10⁻⁶: rtol 10⁻⁹.
 */
export function finiteDifferenceTolerance(lossScale: number, h = 1e-6): Tolerance {
  return { atol: (16 * 2 ** -53 * lossScale) / h, rtol: 1e-9 };
}

/**
 * moments (Welford per invocation over n/64 strided values, then Chan's pairwise merge in 6 levels).
 * mean: each Welford step rounds the running mean by u·|μ| and adds d/k rounded: a random walk of n/64
 * steps gives u·(|μ| + σ)·√(n/64)/√3 per invocation, averaged over 64 invocations by the merge (÷ 8),
 * each merge level adding u·(|μ| + σ): 8σ of that is ≤ 8u·(|μ| + σ)·(√(n/64)/14 + 2).
 * std: each invocation's M2 is a one-signed sum of n/64 terms (2u·√(n/64) relative, sumTolerance), the
 * merges' δ² terms add 6·4u, and the square root halves both: u·√(n/64) + 15u; and where |μ| ≫ σ the running mean's random walk (error ≈ u·|μ|·√(k/3) after k
 * steps) shifts every d = x − mean_k: Σ 2·d·Δmean has a standard deviation 0.8u·(|μ|/σ)·M2 per invocation,
 * ÷ 8 over the 64 invocations, halved by the square root: 8σ = 0.4u·|μ|/σ relative (the 300 ± 0.01 test
 * uses 6% of its bound, 4.7·10⁻⁵ relative).
 * The saturated fraction counts exactly up to 2²⁴ and divides once (u).
 */
export function momentsTolerance(n: number, mean: number, std: number): { mean: Tolerance; std: Tolerance; saturated: Tolerance } {
  return {
    mean: { atol: 8 * U * (Math.abs(mean) + std) * (Math.sqrt(n / 64) / 14 + 2), rtol: 2 * U },
    std: { atol: 0, rtol: (Math.sqrt(n / 64) + 15) * U + (0.4 * U * Math.abs(mean)) / Math.max(std, 1e-30) },
    saturated: { atol: 0, rtol: 2 * U },
  };
}

/**
 * The SGD family (plain, momentum, Nesterov, with weight decay) over `steps` chained steps, gradients
 * |g| ≤ gScale, weights |w| ≤ wScale, compared with a float64 run from the same start. |v| ≤ V = gScale·(1 + wd·wScale)/(1 − μ).
 * Per step v = μ·v + g rounds by ≤ 2u·V, and the error of v carries over (× μ), so after t steps |Δv| ≤ 2u·V·t;
 * w −= lr·(v or g + μ·v) adds lr·(1 + μ)·|Δv| plus the roundings u·|w| and u·lr·(1 + μ)·V; coupled decay
 * (g += λ·w or λ·sign(w)) adds λ·|Δw| to the gradient, decoupled decay (w −= lr·λ·w₀) u·lr·λ·|w|. Summed over
 * the steps, worst case (the errors of 4 steps are too few to average out).
 */
export function sgdTolerance(steps: number, lr: number, momentum: number, gScale: number, wScale: number, weightDecay = 0): { w: Tolerance; v: Tolerance } {
  const v = (gScale * (1 + weightDecay * wScale)) / (1 - momentum);
  let dv = 0;
  let dw = 0;
  for (let t = 1; t <= steps; t++) {
    dv = momentum * dv + 2 * U * v + weightDecay * dw;
    dw += lr * (1 + momentum) * (dv + U * v) + lr * weightDecay * U * wScale + U * wScale;
  }
  return { w: { atol: dw, rtol: 0 }, v: { atol: dv, rtol: 0 } };
}

/**
 * The optimizer's gradient-norm statistics (stats[n..n+3] of optimizer.wgsl) when the squared norms are given:
 * ‖g‖ = √(Σ squared slot norms): the f32 rounding of the given squares (u/2 after the root), the spec's
 * sqrt (inherited from 1/inverseSqrt: 2 + 2.5 ulp = 9u), a few additions (u each, all positive) and the
 * per-epoch sum over `steps` steps (one-signed: u per addition): rtol (10 + steps)·u.
 */
export function normStatsTolerance(steps: number): Tolerance {
  return { atol: 0, rtol: (10 + steps) * U };
}

/**
 * grad_norm.wgsl: Σ g² over a chunk of n floats, by W invocations each summing ⌈n/4W⌉ vec4 dot products
 * (4 products, 3 additions: 4u relative) sequentially, then a log₂W-level tree: a one-signed sum, so
 * relative errors only: 2u·√(n/4W) (sumTolerance's one-signed part over each invocation's terms) + 4u +
 * log₂W·u. The per-layer norm statistic adds a square root (9u spec, halving the rest) and one addition.
 */
export function gradNormTolerance(n: number, invocations: number): { squared: Tolerance; norm: Tolerance } {
  const squared = (2 * Math.sqrt(Math.ceil(n / (4 * invocations))) + 4 + Math.log2(invocations)) * U;
  return { squared: { atol: 0, rtol: squared }, norm: { atol: 0, rtol: squared / 2 + 10 * U } };
}

/**
 * One adaptive optimizer step (Adagrad, RMSProp, Adam, AdamW) from a given float32 state, against the
 * float64 step from the same state, at step t. States:
 *  - Adagrad s + g², RMSProp ρ·s + (1 − ρ)·g², Adam v = β₂·v + (1 − β₂)·g²: positive terms, ≤ 4 roundings (4u).
 *    (1 − ρ) and (1 − β) from f32 β in [0.5, 1) are exact (Sterbenz).
 *  - Adam m = β₁·m + (1 − β₁)·g: signs differ, so the error is absolute, u·(β₁·|m| + (1 − β₁)·|g|) + u·|m′|.
 * Weights: w −= lr·d. The direction d = g/(√s + ε) (|d| ≤ 1 for Adagrad, ≤ 1/√(1 − ρ) for RMSProp) or
 * m̂/(√v̂ + ε) has a relative error from: the new state's (4u, halved by √), the spec's sqrt (9u), ε's addition
 * (u), the division (5u), lr's product (u): 18u; for Adam also 1 − βᵗ (one_minus_pow: the Taylor branch's
 * truncation x⁴/120 ≤ 14u at |x| ≤ 0.1, the exp branch's spec 3 + 2|x| ulp of eˣ ≈ 1 − |x| relative to |x|:
 * up to 32u for β₁ at t = 1, ~19u for β₂ past the switch; halved by √ for β₂) and m̂'s division (5u): 65u
 * in all, of |d| ≤ dScale (the test's largest). Adam's m error above reaches d divided by (1 − β₁ᵗ)·√v̂,
 * where √v̂ ≥ |g|·√((1 − β₂)/(1 − β₂ᵗ)): ≤ u·(2·dScale + (1 − β₁)·√t/(1 − β₁ᵗ)).
 * Weight decay: decoupled w −= lr·λ·w₀ rounds w a second time (rtol 2u instead of u) and adds u·lr·λ·|w|.
 * (Coupled L2/L1 decay, g + λ·w, can cancel: its error is then relative to λ·|w|, not to g; not covered.)
 */
export function adaptiveStepTolerance(
  name: 'adagrad' | 'rmsprop' | 'adam' | 'adamw',
  { lr, t, dScale, mScale = 0, gScale = 0, beta1 = 0.9, weightDecay = 0 }: { lr: number; t: number; dScale: number; mScale?: number; gScale?: number; beta1?: number; weightDecay?: number },
): { w: Tolerance; s1: Tolerance; s2: Tolerance } {
  const adam = name === 'adam' || name === 'adamw';
  const direction = adam ? 65 * U * dScale + U * (2 * dScale + ((1 - beta1) * Math.sqrt(t)) / (1 - beta1 ** t)) : 18 * U * dScale;
  const positive: Tolerance = { atol: 0, rtol: 4 * U };
  return {
    w: { atol: lr * direction, rtol: (weightDecay ? 2 : 1) * U + lr * weightDecay * U },
    s1: adam ? { atol: U * (beta1 * mScale + (1 - beta1) * gScale), rtol: U } : positive,
    s2: positive,
  };
}

/**
 * A composite float32 computation (a whole training step, a loss, a gradient) against float64 from the
 * same float32 inputs, stated through the sums it chains: sumLengths lists the length of every float32 sum
 * an output depends on (see mlpForwardSums, mlpStepSums). Each n-term random-signed sum has a relative error
 * ≤ 7.5u·√n of its typical size (sumTolerance with rms = |S|/√n); to first order the relative errors of a
 * chain add. This assumes no amplification between the sums: activations are 1-Lipschitz (selu 1.06) and the
 * tests' models are initialised to preserve scale (xavier, he), so a relative error passes through a layer
 * unchanged. Builtins (exp, log, the activations) and softmax add ≤ 100u (see ACTIVATION,
 * softmaxGradTolerance). Elements far below the tensor's largest are sums of terms as large as the largest
 * (a small gradient is a cancellation of big ones), so the absolute part is stated against scale = max |ref|.
 */
export function chainTolerance(sumLengths: number[], scale: number): Tolerance {
  const rel = 7.5 * U * sumLengths.reduce((s, n) => s + Math.sqrt(n), 0) + 100 * U;
  return { atol: rel * scale, rtol: 8 * U };
}

/** The float32 sums behind an MLP's logits and loss: each layer's K (the width below), then softmax's C. */
export const mlpForwardSums = (widths: readonly number[]) => [...widths.slice(0, -1), widths[widths.length - 1]];

/**
 * The float32 sums behind an MLP's parameter gradients over a batch of `rows`: the forward pass, the
 * backward matmuls dX = dZ·W (K = each hidden layer's output width) and the weight and bias gradients'
 * sums over the batch.
 */
export const mlpStepSums = (widths: readonly number[], rows: number) => [...mlpForwardSums(widths), ...widths.slice(2), rows];

/**
 * Weights after SGD steps w − lr·g with g carrying gradTol: lr·(atol + rtol·gScale) absolute per step, and
 * w's own rounding (u relative) each step.
 */
export function sgdUpdateTolerance(steps: number, lr: number, gradTol: Tolerance, gScale: number): Tolerance {
  return { atol: steps * lr * (gradTol.atol + gradTol.rtol * gScale), rtol: steps * U };
}

/**
 * gather_augment.wgsl against the float64 reference of the same transform (test/helpers/augment_reference.ts),
 * for images of width × height bytes. The sampling position (sx, sy) = R(−θ)·(o − c − d) + c carries the
 * error of sin θ and cos θ times |o| ≤ extent = cx + cy + 2·maxShift. The spec only requires sin and cos to
 * 2⁻¹¹ absolute, and SwiftShader uses most of that (measured: 1.9·10⁻⁴ ≈ 2⁻¹²·⁴ per pixel of radius), so
 * the bound is the spec's: 2⁻¹¹·extent per axis, plus θ's and d's roundings and ≤ 4 roundings of terms
 * ≤ extent (8u·extent). Bilinear interpolation is continuous with slope ≤ 255 per pixel along each axis,
 * and its three mix() each round 3 terms ≤ 255 (9·255u). In output units that is times scale, then
 * gatherTolerance's rounding of value·scale + shift. Noise adds noiseStd·√(−2 ln u₁)·cos(2πu₂) with
 * √(−2 ln u₁) ≤ 5.7 (u₁ ≥ 10⁻⁷): cos's 2⁻¹¹ dominates (log to 4 ulp, sqrt 9u and 2π's rounding are
 * below 2⁻¹⁸): ≤ 5.7·2⁻¹⁰·noiseStd. This is loose for a smooth image (a few grey levels of random bytes
 * at 28×28), but a wrong direction, unit, centre, range or interpolation is off by tens to hundreds of grey
 * levels; the blob test in test/kernels/gather_augment.test.ts pins the geometry to 0.05 px. Shift-only
 * warps (θ = 0) keep only the roundings: a few hundred u of a grey level.
 */
export function augmentTolerance(s: { width: number; height: number; maxShift: number; maxRotate: number; scale: number; shift: number; noiseStd: number }): Tolerance {
  const extent = (s.width - 1) / 2 + (s.height - 1) / 2 + 2 * s.maxShift;
  // Without rotation θ = 0 exactly, and sin 0 = 0, cos 0 = 1 exactly: only the roundings remain.
  const position = (s.maxRotate > 0 ? 2 ** -11 * extent : 0) + 8 * U * extent;
  const value = 255 * 2 * position + 9 * 255 * U;
  const gather = gatherTolerance(s.scale, s.shift);
  return { atol: Math.abs(s.scale) * value + gather.atol + 5.7 * 2 ** -10 * s.noiseStd, rtol: gather.rtol + U };
}

/**
 * Weights after `steps` full-batch steps of any optimizer through the trainer, against an independent
 * float64 run, given the gradients' tolerance (chainTolerance) and largest magnitude gScale.
 *  - SGD family: each step's gradient error enters the velocity and stays there with total weight
 *    1/(1 − μ) (× (1 + μ) for Nesterov's look-ahead): lr·(atol + rtol·gScale)/(1 − μ) per step, plus w's
 *    rounding (u·wScale) per step.
 *  - Adagrad, RMSProp, Adam: the direction d is invariant to a common scale of the gradients, so only their
 *    relative errors move it: ∂ln d/∂ln g ≤ 2 (through m and √v), with the gradient's relative error
 *    rel = atol/gScale (elements are taken as not far below gScale, true of these small dense models),
 *    plus the kernel's own 65u (adaptiveStepTolerance): lr·dScale·(2·rel + 65u) per step.
 * First order: the runs' weights drift apart by these amounts, too little (≲ 10⁻⁵) for the gradients'
 * feedback on each other to matter in 4 steps.
 */
export function optimizerRunTolerance(
  o: { name: string; lr: number; momentum?: number; weightDecay?: number },
  steps: number,
  gradTol: Tolerance,
  gScale: number,
  { wScale, dScale = 3 }: { wScale: number; dScale?: number },
): Tolerance {
  const adaptive = ['adagrad', 'rmsprop', 'adam', 'adamw'].includes(o.name);
  const gradError = gradTol.atol + gradTol.rtol * gScale;
  const mu = o.momentum ?? (o.name === 'momentum' || o.name === 'nesterov' ? 0.9 : 0);
  const perStep = adaptive ? o.lr * dScale * (2 * (gradError / gScale) + 65 * U) : (o.lr * gradError * (o.name === 'nesterov' ? 1 + mu : 1)) / (1 - mu);
  return { atol: steps * (perStep + 2 * U * wScale), rtol: 0 };
}

/**
 * Host computations in float64 (schedules, preprocessing statistics, the demo's CPU predictor) against
 * float64 formulas: a few dozen operations, each rounding by 2⁻⁵³: rtol 2⁻⁴⁸ (32 ulps); atol 2⁻⁵⁰ for
 * results that are a rounding of 0 (cos(π/2), x − mean where both sides are equal).
 */
export const FLOAT64: Tolerance = { atol: 2 ** -50, rtol: 2 ** -48 };

/**
 * The engine's gradientCheck (src/train/gradcheck.ts): central differences of the float32 GPU loss with
 * step ε against the analytic GPU gradient. The two losses each carry the forward pass's float32 error
 * (lossTol, absolute), which the division by 2ε turns into lossTol/ε; the truncation error ε²·f‴/6 is, for
 * these smooth (tanh) models with |f‴/f′| ≲ 10 per unit of parameter, ≤ 2ε² relative.
 */
export function float32FiniteDifferenceTolerance(epsilon: number, lossTol: number): Tolerance {
  return { atol: lossTol / epsilon, rtol: 2 * epsilon * epsilon };
}

/**
 * A dot product of length K followed by an elementwise epilogue: activate(sum) (relu, tanh, GELU, SiLU)
 * or sum·activate'(v). Those activations have slopes ≤ 1.13 (GELU's maximum) and their derivatives are
 * at most 1.13 too, so the sum's error grows by at most that factor: 1.2 × dotTolerance's atol. The
 * epilogue's own float32 error is one ACTIVATION term on top (the WGSL functions), in atol and rtol;
 * for sum·activate'(v) the derivative's absolute error (≤ 1e-7) is multiplied by |sum| ≤ K·scale², which
 * the 1.2 × 2.5u·K·scale² ≥ 1.8e-7·K·scale² already covers.
 */
export function dotEpilogueTolerance(K: number, scale = 1): Tolerance {
  const dot = dotTolerance(K, scale);
  return { atol: 1.2 * dot.atol + ACTIVATION.atol, rtol: dot.rtol + ACTIVATION.rtol };
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
 * reference. Each reduction contributes ≤ 2.5u·K (dotTolerance, scale 1), the chain doubles it, and the
 * finite differences add their own 1e-7 (FINITE_DIFFERENCE); rtol 32u covers the softmax's exp and the
 * elementwise epilogues on the way.
 */
export function graphGradientTolerance(K: number): Tolerance {
  return { atol: 5 * U * K + FINITE_DIFFERENCE.atol, rtol: 32 * U };
}

/**
 * A matmul with its fused epilogue, against float64, for the variant and tiled/split-K tests. Bias +
 * activation: every activation's Lipschitz constant is at most λ·α ≈ 1.76 (SELU just below 0; 1.13 for
 * GELU, 1 or less for the others), so the dot product's error grows by less than 2, plus the activation's
 * own rounding (ACTIVATION). Activation gradient: the kernel evaluates f′ at the float32 output y (or x for
 * GELU/SiLU), which moves f′ by at most 2u for every kind, so the product g·f′ moves by ≤ 2u·|g| ≤ 2u·K·s²:
 * added to atol. Split-K (K in ranges, then the ranges' totals) rounds no more than one sum over K, so it
 * meets the same bound.
 */
export function epilogueTolerance(K: number, scale = 1): Tolerance {
  const dot = dotTolerance(K, scale);
  return { atol: 2 * dot.atol + 2 * U * K * scale * scale + ACTIVATION.atol, rtol: 2 * dot.rtol + ACTIVATION.rtol };
}

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
export function normOutputTolerance(length: number, meanOverStd: number, gammaMax = 1, sequential = 8): Tolerance {
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
export function normInputGradTolerance(length: number, meanOverStd: number, scale: number, sequential = 8): Tolerance {
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

/**
 * A whole training step of a small network (≤ 12 layers, reductions of ≤ 800 terms, batch and group
 * statistics) in float32 on the GPU against PyTorch in float64 (test/fixtures/torch_steps.json). Each
 * layer adds its own float32 rounding (≈ 2.5u·n of its largest reduction's terms for sums of random sign,
 * dotTolerance, ≤ 1.2·10⁻⁴ of a term at n = 800, but ≈ 10⁻⁶ of the result's scale for the ~√n-sized sums
 * here) and passes the error on, amplified by its Lipschitz constant (norm layers divide by σ): ten such
 * layers stay well under 10⁻⁵ of the largest gradient, which is atol; rtol 10⁻⁴ covers elements near
 * their own scale. Measured: the worst element uses under 5% of this bound. A wrong layout (a transposed
 * kernel, a wrong stride or pooling window) moves gradients by O(1) of their scale.
 */
export function torchStepTolerance(scale: number): Tolerance {
  return { atol: 1e-5 * scale, rtol: 1e-4 };
}

// ---- Losses beyond softmax cross-entropy (shaders/loss.wgsl + loss_reduce.wgsl) ----
// The metrics are summed per workgroup in a tree and the workgroups' partials in a strided run and a tree:
// no longer a chain than one sequential sum, so sumTolerance's one-signed bound (rtol 2u·√n) covers every
// sum of positive terms (loss sums, weights, squared and absolute errors).

/**
 * Cross-entropy with class weights w ≤ wMax and label smoothing ε: the gradient
 * (p_k·coef − (1 − ε)·w_y·[k = y] − (ε/C)·w_k)/W. p carries softmaxGradTolerance's relative (12 + 7C)·u;
 * coef = (1 − ε)·w_y + (ε/C)·S_w ≤ (1 + ε)·wMax rounds 4 times; the label entry cancels, so that is an
 * absolute error of (rel + 6u)·coef/W. 1/W: W is a one-signed sum of `rows` weights (2u·√rows, exact for
 * unit weights), then a 2.5-ulp division: in rtol with p's own relative error.
 */
export function lossCeGradTolerance(classes: number, rows: number, wMax: number, eps: number, scale: number): Tolerance {
  const rel = (12 + 7 * classes) * U;
  return { atol: (rel + 6 * U) * (1 + eps) * wMax * scale, rtol: rel + 2 * U * Math.sqrt(rows) + 8 * U };
}

/**
 * Cross-entropy's loss sum with weights ≤ wMax and smoothing: each row's lse carries lossSumTolerance's
 * per-row error, which every term w·(lse − z_j) inherits (their weights add up to ≤ wMax·(1 − ε + ε) per
 * row), plus 4 roundings of terms ≤ wMax·(2L + ln C) each; rows summed one-signed.
 */
export function lossCeSumTolerance(rows: number, classes: number, maxLogit: number, wMax: number): Tolerance {
  const base = lossSumTolerance(1, classes, maxLogit).atol;
  return { atol: rows * wMax * (base + 4 * U * (2 * maxLogit + Math.log(classes + 1))), rtol: 2 * U * Math.sqrt(rows) + 4 * U };
}

/**
 * BCE with logits, per element: sigmoid(x) = 1/(1 + e) or e/(1 + e) with e = exp(−|x|), whose absolute
 * error (6 + 4|x|)·u·e^{−|x|} is ≤ 6u; 1 + e and the 2.5-ulp division add ≤ 6u; − t one rounding: 13u
 * absolute in all, times grad_scale (itself f32(1/n): u relative).
 */
export function bceGradTolerance(scale: number): Tolerance {
  return { atol: 14 * U * scale, rtol: 2 * U };
}

/**
 * BCE's loss sum: max(x, 0) − x·t + log(1 + e): log's argument is in [1, 2], where WGSL allows 2⁻²¹
 * absolute, plus e's ≤ 6u and 1 + e's u; the product and the two additions round by ≤ 2u·(2L + 1)
 * (L = max |x|). Terms are ≥ 0: one-signed sum of n elements.
 */
export function bceSumTolerance(n: number, maxLogit: number): Tolerance {
  return { atol: n * (2 ** -21 + 8 * U + 2 * U * (2 * maxLogit + 1)), rtol: 2 * U * Math.sqrt(n) + 2 * U };
}

/**
 * MSE, L1, Huber / smooth L1 gradients: d = x − t rounds once (relative u; its sign is exact), then 2d,
 * sign(d) or clamp(d, ±δ) (exact), times f32(1/β) for smooth L1 (u) and f32(1/n) (u) and the product (u).
 * Purely relative: 5u.
 */
export const REGRESSION_GRAD: Tolerance = { atol: 0, rtol: 5 * U };

/**
 * Their loss sums and the squared / absolute error sums: each term is d², |d|, d²/2 or δ·(|d| − δ/2)
 * (|d| ≥ δ, so no cancellation beyond a factor 2) times f32(1/β): ≤ 8u relative per term, all ≥ 0, summed
 * one-signed.
 */
export function regressionSumTolerance(n: number): Tolerance {
  return { atol: 0, rtol: 2 * U * Math.sqrt(n) + 8 * U };
}

/**
 * A small regression fit (test/train/regression_fit.test.ts: 3-16-2 tanh, 64 SGD steps at lr 0.5) in
 * float32 on the GPU against the same fit in float64 from the same weights and batches. Each step's
 * gradient carries chainTolerance's ≈ 10⁻⁶ relative error (sums of ≤ 32 terms), SGD adds lr times it to
 * the weights, and the weights' difference feeds back into later steps at most by the (small, ≲ 1 per step
 * at this learning rate) Lipschitz constant of a tanh net's gradient: ≲ 64·10⁻⁶ relative after 64
 * steps. The reported losses and test errors inherit it, plus their own sums' 2u·√n: rtol 2·10⁻⁴ is
 * three times that (measured on SwiftShader: the worst step loss uses 0.3% of it, i.e. float32 and
 * float64 agree to ~6·10⁻⁷); atol 10⁻⁶ for losses near 0. A wrong gradient scale (2× or 1/T) or a wrong
 * mean moves the trajectory by ≥ 10⁻² within a few steps.
 */
export const REGRESSION_FIT: Tolerance = { atol: 1e-6, rtol: 2e-4 };

/**
 * The fused classifier head (shaders/linear_softmax_xent.wgsl), inputs in [−1, 1) and F features: each
 * logit is a dot product of F terms plus the bias, off by δz ≤ dotTolerance(F).atol + u·|z|. A softmax
 * probability moves by at most 2·max δz when the logits do (|∂p/∂z| summed over a row ≤ 2), so dlogits get
 * softmaxGradTolerance plus 2·δz/rows, and each row's loss moves by at most 2·δz. dh = dlogits·W sums C
 * products of |W| ≤ 1: the C dlogits' errors plus the dot's own rounding (dotTolerance(C) at dlogits' scale
 * 1/rows), then times activate'(v) (|f′| ≤ 1.13, GELU's largest) and activationGradTolerance's own error.
 */
export function headTolerances(rows: number, classes: number, features: number, maxLogit: number): { dlogits: Tolerance; lossSum: Tolerance; dh: Tolerance } {
  const dz = dotTolerance(features).atol + U * maxLogit;
  const grad = softmaxGradTolerance(classes, 1 / rows);
  const dlogits = { atol: grad.atol + (2 * dz) / rows, rtol: grad.rtol };
  const loss = lossSumTolerance(rows, classes, maxLogit);
  const perDlogit = dlogits.atol + dlogits.rtol / rows;
  const dhAtol = 1.13 * (classes * perDlogit + dotTolerance(classes, 1 / Math.sqrt(rows)).atol) + activationGradTolerance(classes / rows).atol;
  return { dlogits, lossSum: { atol: loss.atol + rows * 2 * dz, rtol: loss.rtol }, dh: { atol: dhAtol, rtol: 8 * U } };
}
