// Activation functions shared by the elementwise activation kernels and the matmul epilogue.
// Functions only, no bindings: kernels that use them are compiled with this file prepended.
//
// Every derivative is written in terms of the activation's *output* y, so the backward pass needs only
// the tensor the forward pass already wrote (no pre-activation buffer kept alive).

const ACT_IDENTITY: u32 = 0u;
const ACT_RELU: u32 = 1u;
const ACT_SIGMOID: u32 = 2u;
const ACT_TANH: u32 = 3u;
const ACT_LEAKY_RELU: u32 = 4u; // alpha = negative slope (> 0)
const ACT_ELU: u32 = 5u;        // alpha = saturation value
const ACT_SELU: u32 = 6u;       // fixed constants from Klambauer et al. 2017

const SELU_LAMBDA: f32 = 1.0507009873554805;
const SELU_ALPHA: f32 = 1.6732632423543772;

fn activate(x: f32, kind: u32, alpha: f32) -> f32 {
  switch kind {
    case 1u: { return max(x, 0.0); }
    case 2u: {
      // Split by sign so exp never overflows.
      if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
      let e = exp(x);
      return e / (1.0 + e);
    }
    // tanh(±15) rounds to ±1 in f32; clamping keeps exp-based tanh implementations from overflowing.
    case 3u: { return tanh(clamp(x, -15.0, 15.0)); }
    case 4u: { return select(alpha * x, x, x > 0.0); }
    case 5u: { return select(alpha * (exp(min(x, 0.0)) - 1.0), x, x > 0.0); }
    case 6u: { return SELU_LAMBDA * select(SELU_ALPHA * (exp(min(x, 0.0)) - 1.0), x, x > 0.0); }
    default: { return x; }
  }
}

// d activate(x) / dx expressed through y = activate(x).
fn activate_grad(y: f32, kind: u32, alpha: f32) -> f32 {
  switch kind {
    case 1u: { return select(0.0, 1.0, y > 0.0); }
    case 2u: { return y * (1.0 - y); }
    case 3u: { return 1.0 - y * y; }
    case 4u: { return select(alpha, 1.0, y > 0.0); }
    case 5u: { return select(y + alpha, 1.0, y > 0.0); }
    case 6u: { return select(y + SELU_LAMBDA * SELU_ALPHA, SELU_LAMBDA, y > 0.0); }
    default: { return 1.0; }
  }
}
