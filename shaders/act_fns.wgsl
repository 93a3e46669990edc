// Activation functions shared by the elementwise activation kernels and the matmul and conv epilogues.
// Functions only, no bindings: kernels that use them are compiled with this file prepended.
//
// The derivative `activate_grad(v, kind, alpha)` reads one saved tensor v. For every kind that can, v is
// the activation's *output* y, so the backward pass needs only the tensor the forward pass already wrote
// (no pre-activation buffer kept alive). GELU and SiLU are not invertible from y (both dip below zero
// and come back), so for them v is the activation's *input* x. The TypeScript side says which with
// `derivativeFromInput(kind)` (src/graph/ops.ts); the graph passes x or y accordingly.

const ACT_IDENTITY: u32 = 0u;
const ACT_RELU: u32 = 1u;
const ACT_SIGMOID: u32 = 2u;
const ACT_TANH: u32 = 3u;
const ACT_LEAKY_RELU: u32 = 4u; // alpha = negative slope (> 0)
const ACT_ELU: u32 = 5u;        // alpha = saturation value
const ACT_SELU: u32 = 6u;       // fixed constants from Klambauer et al. 2017
const ACT_GELU: u32 = 7u;       // exact erf form (PyTorch's default), derivative from x
const ACT_SILU: u32 = 8u;       // x·σ(x) (a.k.a. swish), derivative from x

const SELU_LAMBDA: f32 = 1.0507009873554805;
const SELU_ALPHA: f32 = 1.6732632423543772;
const FRAC_1_SQRT_2: f32 = 0.70710678118654752;
const FRAC_1_SQRT_2PI: f32 = 0.39894228040143268;

fn sigmoid(x: f32) -> f32 {
  // Split by sign so exp never overflows.
  if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
  let e = exp(x);
  return e / (1.0 + e);
}

// Φ(x) = P(N(0, 1) ≤ x) = ½·(1 + erf(x/√2)); WGSL has no erf. With z = |x|/√2:
//   z < 0.7:      erf(z) = z·P(z²), P a degree-5 least-squares fit of erf(z)/z (relative error 4e-9);
//   0.7 ≤ z < 4:  the tail ½·erfc(z) = ½·exp(−z²)·Q(t), t = 1/(1 + z/2), Q a degree-7 fit of
//                 exp(z²)·erfc(z) (relative error 2e-10; the variable is Numerical Recipes' erfcc one);
//   z ≥ 4:        the tail is below 8e-9 and taken as 0.
// For x < 0 the tail itself is returned, so small probabilities keep their relative accuracy instead of
// cancelling in 1 + erf. Simulated in float32 over [−8, 8] the absolute error is ≤ 7.1e-8 (about one ulp
// of values near 1); test/kernels/activation.test.ts checks the GPU against a float64 erf.
fn normal_cdf(x: f32) -> f32 {
  let z = abs(x) * FRAC_1_SQRT_2;
  if (z < 0.7) {
    let s = z * z;
    let p = 1.128379226 + s * (-0.3761262894 + s * (0.1128354520 + s * (-0.02684474923 + s * (0.005138834938 + s * -0.0006954983110))));
    return 0.5 + 0.5 * sign(x) * (z * p);
  }
  var tail = 0.0;
  if (z < 4.0) {
    let t = 1.0 / (1.0 + 0.5 * z);
    let q = -0.0001490054856 + t * (0.2848362923 + t * (0.2601642907 + t * (0.3461634219 + t * (-0.1002617478
      + t * (0.5592030287 + t * (-0.4684871137 + t * 0.1185812131))))));
    tail = 0.5 * exp(-z * z) * q;
  }
  return select(1.0 - tail, tail, x < 0.0);
}

fn activate(x: f32, kind: u32, alpha: f32) -> f32 {
  switch kind {
    case 1u: { return max(x, 0.0); }
    case 2u: { return sigmoid(x); }
    // tanh(±15) rounds to ±1 in f32; clamping keeps exp-based tanh implementations from overflowing.
    case 3u: { return tanh(clamp(x, -15.0, 15.0)); }
    case 4u: { return select(alpha * x, x, x > 0.0); }
    case 5u: { return select(alpha * (exp(min(x, 0.0)) - 1.0), x, x > 0.0); }
    case 6u: { return SELU_LAMBDA * select(SELU_ALPHA * (exp(min(x, 0.0)) - 1.0), x, x > 0.0); }
    case 7u: { return x * normal_cdf(x); }
    case 8u: { return x * sigmoid(x); }
    default: { return x; }
  }
}

// d activate(x) / dx, from v = y = activate(x) for kinds 1–6 and from v = x for GELU and SiLU.
fn activate_grad(v: f32, kind: u32, alpha: f32) -> f32 {
  switch kind {
    case 1u: { return select(0.0, 1.0, v > 0.0); }
    case 2u: { return v * (1.0 - v); }
    case 3u: { return 1.0 - v * v; }
    case 4u: { return select(alpha, 1.0, v > 0.0); }
    case 5u: { return select(v + alpha, 1.0, v > 0.0); }
    case 6u: { return select(v + SELU_LAMBDA * SELU_ALPHA, SELU_LAMBDA, v > 0.0); }
    // GELU: Φ(x) + x·φ(x). The clamp keeps x² finite; beyond |x| = 30 the x·φ(x) term is 0 in f32 anyway.
    case 7u: {
      let x = clamp(v, -30.0, 30.0);
      return normal_cdf(x) + x * FRAC_1_SQRT_2PI * exp(-0.5 * x * x);
    }
    // SiLU: σ(x)·(1 + x·(1 − σ(x))).
    case 8u: {
      let s = sigmoid(v);
      return s * (1.0 + v * (1.0 - s));
    }
    default: { return 1.0; }
  }
}
