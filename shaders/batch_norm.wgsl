// Batch normalisation over the features of a [rows, features] batch (Ioffe & Szegedy 2015), computed as
// PyTorch's BatchNorm1d does:
//   training:   mean_f = Σ_r x[r,f] / B,   var_f = Σ_r (x[r,f] − mean_f)² / B   (biased, for normalising)
//               rstd_f = 1 / √(var_f + eps)
//               y[r,f] = (x[r,f] − mean_f) · rstd_f · γ_f + β_f
//               running_mean_f = (1 − m)·running_mean_f + m·mean_f
//               running_var_f  = (1 − m)·running_var_f  + m·var_f·B/(B − 1)     (unbiased)
//               mean and rstd are saved for the backward pass (as llm.c does)
//   evaluation: y[r,f] = (x[r,f] − running_mean_f) / √(running_var_f + eps) · γ_f + β_f
//               (mean and rstd outputs: the running mean and 1/√(running_var + eps) that normalised)
//   backward:   x̂ = (x − mean)·rstd,   dβ_f = Σ_r dy[r,f],   dγ_f = Σ_r dy[r,f]·x̂[r,f],
//               dx[r,f] = γ_f·rstd_f/B · (B·dy[r,f] − dβ_f − x̂[r,f]·dγ_f)
//
// One invocation per feature column, looping down the rows: neighbouring invocations read neighbouring
// addresses, there are no atomics and no barriers (barriers are costly on CPU Vulkan such as SwiftShader),
// and any batch size works. The variance takes a second pass over the column (no E[x²] − E[x]²
// cancellation).
//
// γ, β and the running statistics are slices of the parameter arena, and WebGPU forbids binding one
// buffer both read-only and writable in a dispatch. The training forward pass writes the running
// statistics, so every arena binding of `forward` is read_write (γ and β are only read).
// Each entry point declares its own variables (a binding belongs to the entry points that use it).
//
// Bindings, forward:  0 x (read), 1 γ, 2 β, 3 running_mean, 4 running_var (arena, read_write),
//                     5 y, 6 mean, 7 rstd (read_write), 8 Params.
// Bindings, backward: 0 dy, 1 x, 2 mean, 3 rstd, 4 γ (read), 5 dx, 6 dγ, 7 dβ (read_write), 8 Params.

struct Params {
  rows: u32,
  features: u32,
  eps: f32,
  momentum: f32,
}

override TRAINING: bool = true;
override WORKGROUP_SIZE: u32 = 64u;

@group(0) @binding(8) var<uniform> params: Params;

// forward
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> gamma: array<f32>;
@group(0) @binding(2) var<storage, read_write> beta: array<f32>;
@group(0) @binding(3) var<storage, read_write> running_mean: array<f32>;
@group(0) @binding(4) var<storage, read_write> running_var: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;
@group(0) @binding(6) var<storage, read_write> mean_out: array<f32>;
@group(0) @binding(7) var<storage, read_write> rstd_out: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward(@builtin(global_invocation_id) gid: vec3u) {
  let f = gid.x;
  let n = params.features;
  if (f >= n) { return; }
  let rows = params.rows;
  var mean: f32;
  var rstd: f32;
  if (TRAINING) {
    var sum = 0.0;
    for (var r = 0u; r < rows; r++) { sum += x[r * n + f]; }
    mean = sum / f32(rows);
    var sq = 0.0;
    for (var r = 0u; r < rows; r++) {
      let d = x[r * n + f] - mean;
      sq += d * d;
    }
    rstd = 1.0 / sqrt(sq / f32(rows) + params.eps);
    mean_out[f] = mean;
    rstd_out[f] = rstd;
    let m = params.momentum;
    // The graph refuses one-row training batches (the unbiased variance needs B ≥ 2); max() only keeps
    // a misuse from writing Inf into the arena.
    running_mean[f] = (1.0 - m) * running_mean[f] + m * mean;
    running_var[f] = (1.0 - m) * running_var[f] + m * sq / f32(max(rows, 2u) - 1u);
  } else {
    mean = running_mean[f];
    rstd = 1.0 / sqrt(running_var[f] + params.eps);
    mean_out[f] = mean;
    rstd_out[f] = rstd;
  }
  let scale = rstd * gamma[f];
  let shift = beta[f];
  for (var r = 0u; r < rows; r++) {
    y[r * n + f] = (x[r * n + f] - mean) * scale + shift;
  }
}

// backward
@group(0) @binding(0) var<storage, read> grad_y: array<f32>;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read> saved_mean: array<f32>;
@group(0) @binding(3) var<storage, read> saved_rstd: array<f32>;
@group(0) @binding(4) var<storage, read> weight: array<f32>;
@group(0) @binding(5) var<storage, read_write> grad_x: array<f32>;
@group(0) @binding(6) var<storage, read_write> grad_gamma: array<f32>;
@group(0) @binding(7) var<storage, read_write> grad_beta: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn backward(@builtin(global_invocation_id) gid: vec3u) {
  let f = gid.x;
  let n = params.features;
  if (f >= n) { return; }
  let rows = params.rows;
  let mean = saved_mean[f];
  let rstd = saved_rstd[f];
  var dbeta = 0.0;
  var dgamma = 0.0;
  for (var r = 0u; r < rows; r++) {
    let i = r * n + f;
    let dy = grad_y[i];
    dbeta += dy;
    dgamma += dy * (input[i] - mean) * rstd;
  }
  grad_gamma[f] = dgamma;
  grad_beta[f] = dbeta;
  let b = f32(rows);
  let k = weight[f] * rstd / b;
  for (var r = 0u; r < rows; r++) {
    let i = r * n + f;
    let xhat = (input[i] - mean) * rstd;
    grad_x[i] = k * (b * grad_y[i] - dbeta - xhat * dgamma);
  }
}
