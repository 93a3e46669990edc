// Layer normalisation over the features of each row (Ba, Kiros & Hinton 2016), as PyTorch's LayerNorm:
//   mean_r = Σ_f x[r,f] / F,   var_r = Σ_f (x[r,f] − mean_r)² / F,   rstd_r = 1 / √(var_r + eps)
//   y[r,f] = (x[r,f] − mean_r) · rstd_r · γ_f + β_f                   (mean and rstd saved for backward)
// Backward, with x̂ = (x − mean)·rstd and g = γ·dy:
//   dx[r,f] = rstd_r · (g[r,f] − Σ_f g[r,·]/F − x̂[r,f] · Σ_f (g·x̂)[r,·]/F)
//   dγ_f = Σ_r dy[r,f]·x̂[r,f],   dβ_f = Σ_r dy[r,f]
// Rows do not interact, so training and evaluation are the same computation.
//
// forward: one invocation per row. backward: ONE dispatch of rows + features invocations: the first
// `rows` each compute one row of dx, the rest each sum one column for dγ and dβ. No atomics, no barriers.
// Each entry point declares its own variables (a binding belongs to the entry points that use it).
//
// Bindings, forward:  0 x, 1 γ, 2 β (read), 3 y, 4 mean, 5 rstd (read_write), 6 Params.
// Bindings, backward: 0 dy, 1 x, 2 mean, 3 rstd, 4 γ (read), 5 dx, 6 dγ, 7 dβ (read_write), 8 Params.

struct Params {
  rows: u32,
  features: u32,
  eps: f32,
}

override WORKGROUP_SIZE: u32 = 64u;

// forward
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> gamma: array<f32>;
@group(0) @binding(2) var<storage, read> beta: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<storage, read_write> mean_out: array<f32>;
@group(0) @binding(5) var<storage, read_write> rstd_out: array<f32>;
@group(0) @binding(6) var<uniform> params: Params;

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let r = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (r >= params.rows) { return; }
  let n = params.features;
  let base = r * n;
  var sum = 0.0;
  for (var f = 0u; f < n; f++) { sum += x[base + f]; }
  let mean = sum / f32(n);
  var sq = 0.0;
  for (var f = 0u; f < n; f++) {
    let d = x[base + f] - mean;
    sq += d * d;
  }
  let rstd = 1.0 / sqrt(sq / f32(n) + params.eps);
  mean_out[r] = mean;
  rstd_out[r] = rstd;
  for (var f = 0u; f < n; f++) {
    y[base + f] = (x[base + f] - mean) * rstd * gamma[f] + beta[f];
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
@group(0) @binding(8) var<uniform> grad_params: Params;

@compute @workgroup_size(WORKGROUP_SIZE)
fn backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  let rows = grad_params.rows;
  let n = grad_params.features;
  if (i < rows) {
    let base = i * n;
    let mean = saved_mean[i];
    let rstd = saved_rstd[i];
    var sum_g = 0.0;
    var sum_gx = 0.0;
    for (var f = 0u; f < n; f++) {
      let g = weight[f] * grad_y[base + f];
      sum_g += g;
      sum_gx += g * (input[base + f] - mean) * rstd;
    }
    let mean_g = sum_g / f32(n);
    let mean_gx = sum_gx / f32(n);
    for (var f = 0u; f < n; f++) {
      let xhat = (input[base + f] - mean) * rstd;
      grad_x[base + f] = rstd * (weight[f] * grad_y[base + f] - mean_g - xhat * mean_gx);
    }
    return;
  }
  let f = i - rows;
  if (f >= n) { return; }
  var dgamma = 0.0;
  var dbeta = 0.0;
  for (var r = 0u; r < rows; r++) {
    let dy = grad_y[r * n + f];
    dbeta += dy;
    dgamma += dy * (input[r * n + f] - saved_mean[r]) * saved_rstd[r];
  }
  grad_gamma[f] = dgamma;
  grad_beta[f] = dbeta;
}
