// Group normalisation (Wu & He 2018) as PyTorch's GroupNorm(G, C) computes it on x [N, C, *] with
// S = the product of the spatial dims: the statistics are per (sample n, group g) over the (C/G)·S
// elements of channels g·C/G … (g+1)·C/G − 1, which are contiguous in memory. So x is a matrix of
// rows = N·G rows of K = (C/G)·S elements, normalised row by row, with a per-channel affine transform:
//   mean_r, var_r = Σ (x − mean_r)² / K (biased), rstd_r = 1/√(var_r + eps)
//   y[r, k] = (x[r, k] − mean_r)·rstd_r·γ_a + β_a,   a = ((r mod G)·K + k) / S   (the channel)
// mean and rstd ([N, G]) are saved for the backward pass. With g = γ_a·dy (dy without affine) and
// x̂ = (x − mean)·rstd:
//   dx[r, k] = rstd_r·(g − Σ_k g/K − x̂·Σ_k g·x̂/K)
//   dγ_c = Σ_{n,s} dy·x̂,  dβ_c = Σ_{n,s} dy         (partials from shaders/channel_sums.wgsl)
// The same kernels are:
//   InstanceNorm2d (affine False, no running statistics): G = C.
//   LayerNorm(normalized_shape) on x [rows, F], F = the product of normalized_shape: G = 1, C = F, S = 1
//   (one row per sample, one affine channel per feature). PyTorch's layer norm and a one-group group norm
//   differ only in the shape of γ, which is the same flattened.
//
// Workgroups of 256 threads hold 256 / ROW_THREADS rows, ROW_THREADS threads cooperating on each row:
// strided, coalesced reads, Welford per thread (shifted by its first element) and Chan's pairwise combination in a fixed tree (sound for
// means far from 0, deterministic). The backward dispatch also holds ceil(C/256) more workgroups that add
// the channel partials into dγ and dβ (a thread per channel, P partials in a fixed order). AFFINE = false:
// no γ/β (bound to the dummy) and no dγ/dβ (bound to scratch, never written).
// Each entry point declares its own variables (a binding belongs to the entry points that use it).
//
// Bindings, forward:  0 x, 1 γ, 2 β (read), 3 y, 4 mean, 5 rstd (read_write), 6 Params.
// Bindings, backward: 0 dy, 1 x, 2 mean, 3 rstd, 4 γ, 5 partials (read), 6 dx, 7 dγ, 8 dβ (read_write),
//                     9 Params.

struct Params {
  rows: u32,
  row_len: u32,
  groups: u32,
  spatial: u32,
  channels: u32,
  chunks: u32,
  eps: f32,
}

const WG: u32 = 256u;
/** Threads per row: a power of two from 1 to 256. */
override ROW_THREADS: u32 = 256u;
override AFFINE: bool = true;

var<workgroup> wg_n: array<f32, 256>;
var<workgroup> wg_a: array<f32, 256>;
var<workgroup> wg_b: array<f32, 256>;

/** Chan et al.'s combination of two (count, mean, M2) summaries. */
fn chan(a: vec3f, b: vec3f) -> vec3f {
  if (b.x == 0.0) { return a; }
  let n = a.x + b.x;
  let d = b.y - a.y;
  let f = b.x / n;
  return vec3f(n, a.y + d * f, a.z + b.z + d * d * a.x * f);
}

/** The affine channel of element k of row r. */
fn channel_of(p: Params, r: u32, k: u32) -> u32 {
  return ((r % p.groups) * p.row_len + k) / p.spatial;
}

/** The workgroup's index in a grid folded into 2-D past 65,535 workgroups. */
fn linear_group(wid: vec3u, groups: vec3u) -> u32 {
  return wid.x + wid.y * groups.x;
}

// forward
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> gamma: array<f32>;
@group(0) @binding(2) var<storage, read> beta: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<storage, read_write> mean_out: array<f32>;
@group(0) @binding(5) var<storage, read_write> rstd_out: array<f32>;
@group(0) @binding(6) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn forward(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let p = params;
  let lane = t % ROW_THREADS;
  let base = t - lane;
  let r = linear_group(wid, groups) * (WG / ROW_THREADS) + t / ROW_THREADS;
  let k_len = p.row_len;
  let row = r * k_len;
  var acc = vec3f(0.0);
  // Welford on x − shift, shift = the thread's first element (see shaders/batch_norm.wgsl `stats`).
  var shift = 0.0;
  if (r < p.rows && lane < k_len) {
    shift = x[row + lane];
    for (var k = lane; k < k_len; k += ROW_THREADS) {
      let v = x[row + k] - shift;
      acc.x += 1.0;
      let d = v - acc.y;
      acc.y += d / acc.x;
      acc.z += d * (v - acc.y);
    }
  }
  wg_n[t] = acc.x;
  wg_a[t] = acc.y + shift;
  wg_b[t] = acc.z;
  // One thread per row: its summary is already in its own slot, and no barrier (CPU implementations of
  // WebGPU pay for every one).
  if (ROW_THREADS > 1u) {
    for (var stride = ROW_THREADS / 2u; stride > 0u; stride /= 2u) {
      workgroupBarrier();
      if (lane < stride) {
        let s = chan(vec3f(wg_n[t], wg_a[t], wg_b[t]), vec3f(wg_n[t + stride], wg_a[t + stride], wg_b[t + stride]));
        wg_n[t] = s.x;
        wg_a[t] = s.y;
        wg_b[t] = s.z;
      }
    }
    workgroupBarrier();
  }
  if (r >= p.rows) { return; }
  let mean = wg_a[base];
  let rstd = 1.0 / sqrt(wg_b[base] / f32(k_len) + p.eps);
  if (lane == 0u) {
    mean_out[r] = mean;
    rstd_out[r] = rstd;
  }
  for (var k = lane; k < k_len; k += ROW_THREADS) {
    let xhat = (x[row + k] - mean) * rstd;
    if (AFFINE) {
      let a = channel_of(p, r, k);
      y[row + k] = xhat * gamma[a] + beta[a];
    } else {
      y[row + k] = xhat;
    }
  }
}

// backward
@group(0) @binding(0) var<storage, read> grad_y: array<f32>;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read> saved_mean: array<f32>;
@group(0) @binding(3) var<storage, read> saved_rstd: array<f32>;
@group(0) @binding(4) var<storage, read> weight: array<f32>;
@group(0) @binding(5) var<storage, read> partials: array<vec2f>;
@group(0) @binding(6) var<storage, read_write> grad_x: array<f32>;
@group(0) @binding(7) var<storage, read_write> grad_gamma: array<f32>;
@group(0) @binding(8) var<storage, read_write> grad_beta: array<f32>;
@group(0) @binding(9) var<uniform> grad_params: Params;

@compute @workgroup_size(WG)
fn backward(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let p = grad_params;
  let rows_per_group = WG / ROW_THREADS;
  let row_groups = (p.rows + rows_per_group - 1u) / rows_per_group;
  let g = linear_group(wid, groups);
  if (g >= row_groups) {
    // dγ and dβ: one thread per channel adds its P partials (uniform branch: g is the workgroup's).
    let c = (g - row_groups) * WG + t;
    if (AFFINE && c < p.channels) {
      var sums = vec2f(0.0);
      for (var q = 0u; q < p.chunks; q++) { sums += partials[q * p.channels + c]; }
      grad_beta[c] = sums.x;
      grad_gamma[c] = sums.y;
    }
    return;
  }
  let lane = t % ROW_THREADS;
  let base = t - lane;
  let r = g * rows_per_group + t / ROW_THREADS;
  let k_len = p.row_len;
  let row = r * k_len;
  var mean = 0.0;
  var rstd = 0.0;
  var sum_g = 0.0;
  var sum_gx = 0.0;
  if (r < p.rows) {
    mean = saved_mean[r];
    rstd = saved_rstd[r];
    for (var k = lane; k < k_len; k += ROW_THREADS) {
      var dg = grad_y[row + k];
      if (AFFINE) { dg *= weight[channel_of(p, r, k)]; }
      sum_g += dg;
      sum_gx += dg * (input[row + k] - mean) * rstd;
    }
  }
  wg_a[t] = sum_g;
  wg_b[t] = sum_gx;
  if (ROW_THREADS > 1u) {
    for (var stride = ROW_THREADS / 2u; stride > 0u; stride /= 2u) {
      workgroupBarrier();
      if (lane < stride) {
        wg_a[t] += wg_a[t + stride];
        wg_b[t] += wg_b[t + stride];
      }
    }
    workgroupBarrier();
  }
  if (r >= p.rows) { return; }
  let mean_g = wg_a[base] / f32(k_len);
  let mean_gx = wg_b[base] / f32(k_len);
  for (var k = lane; k < k_len; k += ROW_THREADS) {
    var dg = grad_y[row + k];
    if (AFFINE) { dg *= weight[channel_of(p, r, k)]; }
    let xhat = (input[row + k] - mean) * rstd;
    grad_x[row + k] = rstd * (dg - mean_g - xhat * mean_gx);
  }
}
