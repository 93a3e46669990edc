// Batch normalisation (Ioffe & Szegedy 2015) as PyTorch's BatchNorm1d / BatchNorm2d / BatchNorm3d compute
// it, on x viewed as [outer, C, inner]: [B, F] is outer = B, inner = 1; [N, C, H, W] is outer = N,
// inner = H·W. Statistics are per channel c over its M = outer·inner elements, indexed here by
// m = n·inner + s (element address (n·C + c)·inner + s).
//   training:   mean_c, var_c = Σ (x − mean_c)² / M (biased, for normalising), rstd_c = 1/√(var_c + eps)
//               y = (x − mean_c)·rstd_c·γ_c + β_c
//               running_mean_c = (1 − m)·running_mean_c + m·mean_c
//               running_var_c  = (1 − m)·running_var_c  + m·var_c·M/(M − 1)   (unbiased, as PyTorch)
//               mean and rstd are saved for the backward pass
//   evaluation: y = (x − running_mean_c)/√(running_var_c + eps)·γ_c + β_c (mean, rstd outputs: what normalised)
//   backward:   x̂ = (x − mean)·rstd, dβ_c = Σ dy, dγ_c = Σ dy·x̂ (partial sums: shaders/channel_sums.wgsl),
//               dx = γ_c·rstd_c·(dy − dβ_c/M − x̂·dγ_c/M)
//
// Training forward is two dispatches, backward two (the first is channel_sums.wgsl), so the reductions
// fill a GPU instead of one thread per channel:
//   1. `stats`: workgroup (tile, p) reduces chunk p (m in [p·chunk_len, (p+1)·chunk_len)) of the
//      TILE_CHANNELS channels of its tile to (mean, M2) with Welford's update per thread (on x minus the
//      thread's first element, so long runs do not accumulate roundings of size u·|μ|) and Chan's
//      pairwise combination across threads (no E[x²] − E[x]² cancellation, sound for means far from 0),
//      written to partials[p·C + c]. Counts are not stored: they follow from the chunk geometry.
//   2. `forward` / `backward`: workgroup (tile, p) first combines the P partials of its channels (every
//      workgroup of a tile does this small redundant combination, which saves a third dispatch), then
//      writes chunk p of y (or dx). Workgroups with p = 0 write mean, rstd and the running statistics
//      (or dγ, dβ).
// Threads of a workgroup: TILE_CHANNELS adjacent channels × LANES lanes (LANES = 256 / TILE_CHANNELS). With
// inner = 1 the tile is up to 64 channels, so neighbouring threads read neighbouring features of a row;
// with inner > 1 it is one channel, and neighbouring lanes read neighbouring elements of its H·W planes.
// Either way reads are coalesced. Fixed reduction trees and no atomics: bitwise deterministic.
//
// γ and β are slices of the parameter arena and only read; the running statistics live in the state
// buffer (apart from the parameters, like PyTorch's buffers), so no binding here is a writable parameter.
// Each entry point declares its own variables (a binding belongs to the entry points that use it).
//
// Bindings, stats:        0 x (read), 1 partials (read_write), 2 Params.
// Bindings, forward:      0 x, 1 γ, 2 β, 3 partials (read), 4 running_mean, 5 running_var, 6 y, 7 mean,
//                         8 rstd (read_write), 9 Params.
// Bindings, forward_eval: 0 x, 1 γ, 2 β, 3 running_mean, 4 running_var (read), 5 y, 6 mean, 7 rstd
//                         (read_write), 8 Params. One invocation per element.
// Bindings, backward:     0 dy, 1 x, 2 mean, 3 rstd, 4 γ, 5 partials (Σdy, Σdy·x̂ from channel_sums)
//                         (read), 6 dx, 7 dγ, 8 dβ (read_write), 9 Params.

struct Params {
  outer: u32,
  channels: u32,
  inner: u32,
  chunk_len: u32,
  chunks: u32,
  eps: f32,
  momentum: f32,
}

const WG: u32 = 256u;
/** Channels per workgroup: a power of two; 1 when inner > 1, up to 64 when inner = 1. */
override TILE_CHANNELS: u32 = 1u;

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

/** Address of element m = n·inner + s of channel c. */
fn element(p: Params, c: u32, m: u32) -> u32 {
  let n = m / p.inner;
  return (n * p.channels + c) * p.inner + (m - n * p.inner);
}

/** Elements of chunk q (the last chunk may be short). */
fn chunk_count(p: Params, q: u32) -> f32 {
  return f32(min(p.chunk_len, p.outer * p.inner - q * p.chunk_len));
}

/**
 * Combines the (count, mean, M2) in wg_n/wg_a/wg_b across the lanes of each channel of the tile; the
 * result lands in slot c_local (lane 0). Called in uniform control flow by every thread.
 */
fn reduce_welford(t: u32) {
  // One lane per channel (TILE_CHANNELS = 256): nothing to combine, and no barrier in the pipeline at all
  // (CPU implementations of WebGPU pay for every barrier).
  if (TILE_CHANNELS == WG) { return; }
  let lanes = WG / TILE_CHANNELS;
  for (var stride = lanes / 2u; stride > 0u; stride /= 2u) {
    workgroupBarrier();
    if (t / TILE_CHANNELS < stride) {
      let o = t + stride * TILE_CHANNELS;
      let r = chan(vec3f(wg_n[t], wg_a[t], wg_b[t]), vec3f(wg_n[o], wg_a[o], wg_b[o]));
      wg_n[t] = r.x;
      wg_a[t] = r.y;
      wg_b[t] = r.z;
    }
  }
  workgroupBarrier();
}

/** Sums wg_a and wg_b across the lanes of each channel of the tile, into slot c_local. */
fn reduce_sums(t: u32) {
  // One lane per channel (TILE_CHANNELS = 256): nothing to combine, and no barrier in the pipeline at all
  // (CPU implementations of WebGPU pay for every barrier).
  if (TILE_CHANNELS == WG) { return; }
  let lanes = WG / TILE_CHANNELS;
  for (var stride = lanes / 2u; stride > 0u; stride /= 2u) {
    workgroupBarrier();
    if (t / TILE_CHANNELS < stride) {
      let o = t + stride * TILE_CHANNELS;
      wg_a[t] += wg_a[o];
      wg_b[t] += wg_b[o];
    }
  }
  workgroupBarrier();
}

// stats
@group(0) @binding(0) var<storage, read> stats_x: array<f32>;
@group(0) @binding(1) var<storage, read_write> stats_partials: array<vec2f>;
@group(0) @binding(2) var<uniform> stats_params: Params;

@compute @workgroup_size(WG)
fn stats(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wid: vec3u) {
  let p = stats_params;
  let c = wid.x * TILE_CHANNELS + t % TILE_CHANNELS;
  let lanes = WG / TILE_CHANNELS;
  let start = wid.y * p.chunk_len;
  let end = min(start + p.chunk_len, p.outer * p.inner);
  var acc = vec3f(0.0);
  // Welford on x − shift, shift = the thread's first element: its running mean then rounds at the scale
  // of the spread, not of |μ| (a mean far from zero costs one rounding, when the shift is added back).
  var shift = 0.0;
  let first = start + t / TILE_CHANNELS;
  if (c < p.channels && first < end) {
    shift = stats_x[element(p, c, first)];
    for (var m = first; m < end; m += lanes) {
      let v = stats_x[element(p, c, m)] - shift;
      acc.x += 1.0;
      let d = v - acc.y;
      acc.y += d / acc.x;
      acc.z += d * (v - acc.y);
    }
  }
  wg_n[t] = acc.x;
  wg_a[t] = acc.y + shift;
  wg_b[t] = acc.z;
  reduce_welford(t);
  if (t < TILE_CHANNELS && c < p.channels) {
    stats_partials[wid.y * p.channels + c] = vec2f(wg_a[t], wg_b[t]);
  }
}

// forward (training)
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> gamma: array<f32>;
@group(0) @binding(2) var<storage, read> beta: array<f32>;
@group(0) @binding(3) var<storage, read> partials: array<vec2f>;
@group(0) @binding(4) var<storage, read_write> running_mean: array<f32>;
@group(0) @binding(5) var<storage, read_write> running_var: array<f32>;
@group(0) @binding(6) var<storage, read_write> y: array<f32>;
@group(0) @binding(7) var<storage, read_write> mean_out: array<f32>;
@group(0) @binding(8) var<storage, read_write> rstd_out: array<f32>;
@group(0) @binding(9) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn forward(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wid: vec3u) {
  let p = params;
  let c_local = t % TILE_CHANNELS;
  let c = wid.x * TILE_CHANNELS + c_local;
  let lane = t / TILE_CHANNELS;
  let lanes = WG / TILE_CHANNELS;
  var acc = vec3f(0.0);
  if (c < p.channels) {
    for (var q = lane; q < p.chunks; q += lanes) {
      let s = partials[q * p.channels + c];
      acc = chan(acc, vec3f(chunk_count(p, q), s.x, s.y));
    }
  }
  wg_n[t] = acc.x;
  wg_a[t] = acc.y;
  wg_b[t] = acc.z;
  reduce_welford(t);
  if (c >= p.channels) { return; }
  let count = wg_n[c_local];
  let mean = wg_a[c_local];
  let m2 = wg_b[c_local];
  let rstd = 1.0 / sqrt(m2 / count + p.eps);
  if (wid.y == 0u && lane == 0u) {
    mean_out[c] = mean;
    rstd_out[c] = rstd;
    let k = p.momentum;
    // The graph refuses training batches of one element per channel (no unbiased variance); max() only
    // keeps a misuse from writing Inf into the state.
    running_mean[c] = (1.0 - k) * running_mean[c] + k * mean;
    running_var[c] = (1.0 - k) * running_var[c] + k * m2 / max(count - 1.0, 1.0);
  }
  let scale = rstd * gamma[c];
  let shift = beta[c];
  let start = wid.y * p.chunk_len;
  let end = min(start + p.chunk_len, p.outer * p.inner);
  for (var m = start + lane; m < end; m += lanes) {
    let i = element(p, c, m);
    // (x − mean) first: exact-ish for x near a large mean, where x·scale − mean·scale would cancel.
    y[i] = (x[i] - mean) * scale + shift;
  }
}

// forward_eval
@group(0) @binding(0) var<storage, read> eval_x: array<f32>;
@group(0) @binding(1) var<storage, read> eval_gamma: array<f32>;
@group(0) @binding(2) var<storage, read> eval_beta: array<f32>;
@group(0) @binding(3) var<storage, read> eval_running_mean: array<f32>;
@group(0) @binding(4) var<storage, read> eval_running_var: array<f32>;
@group(0) @binding(5) var<storage, read_write> eval_y: array<f32>;
@group(0) @binding(6) var<storage, read_write> eval_mean_out: array<f32>;
@group(0) @binding(7) var<storage, read_write> eval_rstd_out: array<f32>;
@group(0) @binding(8) var<uniform> eval_params: Params;

@compute @workgroup_size(WG)
fn forward_eval(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let p = eval_params;
  let i = gid.x + gid.y * groups.x * WG;
  if (i < p.channels) {
    eval_mean_out[i] = eval_running_mean[i];
    eval_rstd_out[i] = 1.0 / sqrt(eval_running_var[i] + p.eps);
  }
  if (i >= p.outer * p.channels * p.inner) { return; }
  let c = (i / p.inner) % p.channels;
  let rstd = 1.0 / sqrt(eval_running_var[c] + p.eps);
  eval_y[i] = (eval_x[i] - eval_running_mean[c]) * rstd * eval_gamma[c] + eval_beta[c];
}

// backward
@group(0) @binding(0) var<storage, read> grad_y: array<f32>;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read> saved_mean: array<f32>;
@group(0) @binding(3) var<storage, read> saved_rstd: array<f32>;
@group(0) @binding(4) var<storage, read> weight: array<f32>;
@group(0) @binding(5) var<storage, read> grad_partials: array<vec2f>;
@group(0) @binding(6) var<storage, read_write> grad_x: array<f32>;
@group(0) @binding(7) var<storage, read_write> grad_gamma: array<f32>;
@group(0) @binding(8) var<storage, read_write> grad_beta: array<f32>;
@group(0) @binding(9) var<uniform> grad_params: Params;

@compute @workgroup_size(WG)
fn backward(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wid: vec3u) {
  let p = grad_params;
  let c_local = t % TILE_CHANNELS;
  let c = wid.x * TILE_CHANNELS + c_local;
  let lane = t / TILE_CHANNELS;
  let lanes = WG / TILE_CHANNELS;
  var sums = vec2f(0.0);
  if (c < p.channels) {
    for (var q = lane; q < p.chunks; q += lanes) { sums += grad_partials[q * p.channels + c]; }
  }
  wg_a[t] = sums.x;
  wg_b[t] = sums.y;
  reduce_sums(t);
  if (c >= p.channels) { return; }
  let dbeta = wg_a[c_local];
  let dgamma = wg_b[c_local];
  if (wid.y == 0u && lane == 0u) {
    grad_gamma[c] = dgamma;
    grad_beta[c] = dbeta;
  }
  let mean = saved_mean[c];
  let rstd = saved_rstd[c];
  let count = f32(p.outer * p.inner);
  let k = weight[c] * rstd;
  let mean_dy = dbeta / count;
  let mean_dyx = dgamma / count;
  let start = wid.y * p.chunk_len;
  let end = min(start + p.chunk_len, p.outer * p.inner);
  for (var m = start + lane; m < end; m += lanes) {
    let i = element(p, c, m);
    let xhat = (input[i] - mean) * rstd;
    grad_x[i] = k * (grad_y[i] - mean_dy - xhat * mean_dyx);
  }
}
