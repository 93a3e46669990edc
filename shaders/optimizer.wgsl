// Every optimizer, as one dispatch over the whole parameter arena (chosen by the OPTIMIZER constant;
// compiled after grad_chunks.wgsl).
// Each invocation updates VEC4_RUN runs of four consecutive floats, each as one vec4 (arena slots are
// 64-float aligned, so neither a vec4 nor a run straddles two parameters): vector memory access, which
// CPU Vulkan implementations such as SwiftShader need and GPUs do not mind. GPUs take one vec4 an
// invocation (neighbours read neighbours); CPU adapters four, which spreads the per-invocation work (the
// slot search, the norm) over four updates.
//
// Per element, with g the gradient:
//   1. global-norm clipping: g *= min(1, clip_norm / ‖grad‖)   (‖grad‖² the sum of grad_norm.wgsl's partials)
//   2. clipping by value:    g = clamp(g, -clip_value, clip_value)
//   3. coupled weight decay, on weights only (the first decay_count elements; biases and norm
//      parameters sit after them in the arena): L2 g += λ·w, L1 g += λ·sign(w)
//   4. the update rule, with lr the step's learning rate times the slot's scale (t = step + 1 − the
//      slot's first step):
//      SGD        v = μ·v + g;  w -= lr·v                 (μ = 0: plain SGD; nesterov: w -= lr·(g + μ·v))
//      Adagrad    s += g²;      w -= lr·g / (√s + ε)
//      RMSProp    s = ρ·s + (1−ρ)·g²;  w -= lr·g / (√s + ε)
//      Adam       m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²;  w -= lr·m̂ / (√v̂ + ε),
//                 m̂ = m / (1−β1ᵗ), v̂ = v / (1−β2ᵗ)
//   5. decoupled weight decay (AdamW, Loshchilov & Hutter): w -= lr·λ·w, weights only.
//
// A slot whose learning-rate scale is 0 is frozen (src/train/transfer.ts): nothing of it changes, neither
// weights nor state nor decay, as PyTorch's optimizers pass over a parameter without a gradient.
//
// This kernel is grad_norm.wgsl's second pass. Invocation s < slot_count adds slot s's partials, in chunk
// order, and its norm to the per-slot statistics; the global norm is the square root of all the partials'
// sum, in chunk order, which invocation 0 records (its sum and maximum, the first non-finite step) and,
// with clipping, every invocation computes before its update (a few loads: a chunk holds 4,096 floats on
// a GPU, a whole slot on a CPU). No barrier, and no store inside a loop: on SwiftShader either makes
// this kernel several times slower (measured: a loop storing the per-slot sums took it from 7 to 38–54 ms).
//
// Bindings: 0 grads (read), 1 partials (read; grad_norm.wgsl's, per chunk), 2 weights, 3 state1 (v, s or m), 4 state2 (Adam's v),
//           5 stats (read_write), 6 slots vec4u(offset, size, lr scale bits, first step) (read),
//           7 Hyper, 8 Step, 9 Params.
// stats layout: [per-slot norm sums..., global norm sum, steps, first non-finite step (1-based), max norm].

struct Hyper {
  beta1: f32,         // momentum μ, or Adam's β1
  beta2: f32,         // RMSProp's ρ, or Adam's β2
  eps: f32,
  weight_decay: f32,
  decay_mode: u32,    // 0 none, 1 L2, 2 L1, 3 decoupled
  clip_norm: f32,     // 0 = off
  clip_value: f32,    // 0 = off
  nesterov: u32,
  log_beta1: f32,     // ln β1 and ln β2, computed in float64 on the host (see one_minus_pow)
  log_beta2: f32,
}

struct Step {
  step: u32,
  batch_start: u32,
  seed: u32,
  mix_lambda: f32,
  lr: f32,
}

struct Params {
  count: u32,         // vec4s in the arena
  decay_count: u32,   // vec4s that belong to decayed parameters (weights)
  slot_count: u32,
  chunk_count: u32,   // grad_norm.wgsl's partials
  chunk_vec4: u32,    // and the vec4s of each chunk
}

const SGD: u32 = 0u;
const ADAGRAD: u32 = 1u;
const RMSPROP: u32 = 2u;
const ADAM: u32 = 3u;

override OPTIMIZER: u32 = 0u;
/** vec4s an invocation updates, a contiguous run: 1, 2 or 4 (src/optim/optimizer.ts GradNormSplit.optimizerRun). */
override VEC4_RUN: u32 = 1u;
const WORKGROUP_SIZE: u32 = 256u;

@group(0) @binding(0) var<storage, read> grads: array<vec4f>;
@group(0) @binding(1) var<storage, read> partials: array<f32>;
@group(0) @binding(2) var<storage, read_write> weights: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> state1: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> state2: array<vec4f>;
@group(0) @binding(5) var<storage, read_write> stats: array<f32>;
@group(0) @binding(6) var<storage, read> slots: array<vec4u>;
@group(0) @binding(7) var<uniform> hyper: Hyper;
@group(0) @binding(8) var<uniform> step: Step;
@group(0) @binding(9) var<uniform> params: Params;

fn is_non_finite(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7f800000u) == 0x7f800000u;
}

// 1 − βᵗ without cancellation: for β2 = 0.999 and small t, computing βᵗ in f32 and subtracting from 1
// loses half the digits, and pow() near 1 is only accurate to 2⁻²¹ absolute. With x = t·ln β this is
// −expm1(x), from a Taylor series while |x| is small (error ≲ x⁵/120) and from exp beyond.
fn one_minus_pow(log_beta: f32, t: f32) -> f32 {
  let x = t * log_beta;
  if (x > -0.1) { return -x * (1.0 + x * (0.5 + x * (1.0 / 6.0 + x * (1.0 / 24.0)))); }
  return 1.0 - exp(x);
}

// The slot holding vec4 i: the last whose offset is at or below it (slots are in offset order, and the
// padding after a slot belongs to it; its gradient is 0). A binary search: a model has tens of slots.
fn slot_of(i: u32) -> vec4u {
  var lo = 0u;
  var hi = params.slot_count;
  while (hi - lo > 1u) {
    let mid = (lo + hi) / 2u;
    if (slots[mid].x / 4u <= i) { lo = mid; } else { hi = mid; }
  }
  return slots[lo];
}

// The squared norm of slot s: its partials, in chunk order.
fn slot_norm_squared(s: u32) -> f32 {
  var first = 0u;
  for (var t = 0u; t < s; t++) { first += chunks_of(t); }
  var sq = 0.0;
  for (var k = 0u; k < chunks_of(s); k++) { sq += partials[first + k]; }
  return sq;
}

// The squared global norm: every partial, in chunk order.
fn global_norm_squared() -> f32 {
  var sq = 0.0;
  for (var c = 0u; c < params.chunk_count; c++) { sq += partials[c]; }
  return sq;
}

// Updates vec4 i of slot `slot` (the step's learning rate times the slot's scale: lr; global norm: norm).
fn update(i: u32, slot: vec4u, lr: f32, norm: f32) {
  var g = grads[i];
  if (hyper.clip_norm > 0.0 && norm > hyper.clip_norm) { g *= hyper.clip_norm / norm; }
  if (hyper.clip_value > 0.0) { g = clamp(g, vec4f(-hyper.clip_value), vec4f(hyper.clip_value)); }
  let w0 = weights[i];
  var w = w0;
  let decays = i < params.decay_count;
  if (decays && hyper.decay_mode == 1u) { g += hyper.weight_decay * w0; }
  if (decays && hyper.decay_mode == 2u) { g += hyper.weight_decay * sign(w0); }

  switch OPTIMIZER {
    case 1u: {
      let s = state1[i] + g * g;
      state1[i] = s;
      w -= lr * g / (sqrt(s) + hyper.eps);
    }
    case 2u: {
      let s = hyper.beta2 * state1[i] + (1.0 - hyper.beta2) * g * g;
      state1[i] = s;
      w -= lr * g / (sqrt(s) + hyper.eps);
    }
    case 3u: {
      let t = f32(step.step + 1u - slot.w);
      let m = hyper.beta1 * state1[i] + (1.0 - hyper.beta1) * g;
      let v = hyper.beta2 * state2[i] + (1.0 - hyper.beta2) * g * g;
      state1[i] = m;
      state2[i] = v;
      let m_hat = m / one_minus_pow(hyper.log_beta1, t);
      let v_hat = v / one_minus_pow(hyper.log_beta2, t);
      w -= lr * m_hat / (sqrt(v_hat) + hyper.eps);
    }
    default: {
      let v = hyper.beta1 * state1[i] + g;
      state1[i] = v;
      w -= lr * select(v, g + hyper.beta1 * v, hyper.nesterov != 0u);
    }
  }
  if (decays && hyper.decay_mode == 3u) { w -= lr * hyper.weight_decay * w0; }
  weights[i] = w;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let inv = gid.x + gid.y * groups.x * WORKGROUP_SIZE;

  // The global norm: clipping needs it in every invocation; otherwise only the one that records it.
  var norm = 0.0;
  if (hyper.clip_norm > 0.0 || inv == 0u) { norm = sqrt(global_norm_squared()); }
  if (inv < params.slot_count) { stats[inv] += sqrt(slot_norm_squared(inv)); }
  if (inv == 0u) {
    let n = params.slot_count;
    stats[n] += norm;
    stats[n + 1u] += 1.0;
    if (is_non_finite(norm) && stats[n + 2u] == 0.0) { stats[n + 2u] = f32(step.step + 1u); }
    stats[n + 3u] = max(stats[n + 3u], norm);
  }
  // This invocation's run of VEC4_RUN vec4s: inside one slot, since slots are 16-vec4 aligned and
  // VEC4_RUN divides 16.
  let i = inv * VEC4_RUN;
  if (i >= params.count || params.slot_count == 0u) { return; }
  let slot = slot_of(i);
  let lr_scale = bitcast<f32>(slot.z);
  if (lr_scale == 0.0) { return; }
  let lr = step.lr * lr_scale;
  // Unrolled, not a loop: SwiftShader makes a loop that stores several times slower (see above).
  update(i, slot, lr, norm);
  if (VEC4_RUN > 1u && i + 1u < params.count) { update(i + 1u, slot, lr, norm); }
  if (VEC4_RUN > 2u && i + 2u < params.count) { update(i + 2u, slot, lr, norm); }
  if (VEC4_RUN > 3u && i + 3u < params.count) { update(i + 3u, slot, lr, norm); }
}
