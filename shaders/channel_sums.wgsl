// Per-channel partial sums for the backward pass of batch norm and group norm (and so of layer norm and
// instance norm, which are group norms): on x and dy viewed as [outer, C, inner],
//   partials[p·C + c] = (Σ dy, Σ dy·x̂) over chunk p of channel c's elements m = n·inner + s,
//   x̂ = (x − mean[r])·rstd[r],  r = n·stat_stride + c / stat_group
// Batch norm has one statistic per channel (stat_stride 0, stat_group 1); group norm one per (sample,
// group) (stat_stride G, stat_group C/G). The consumer adds the P partials of a channel in a fixed order:
// dβ_c = Σ_p partials.x, dγ_c = Σ_p partials.y (and batch norm's dx needs both).
//
// Workgroup (tile, p): TILE_CHANNELS adjacent channels × LANES lanes, like shaders/batch_norm.wgsl's
// `stats`, so reads are coalesced both for inner = 1 (neighbouring threads, neighbouring features) and for
// inner > 1 (neighbouring lanes, neighbouring elements of a plane). Fixed tree, no atomics: deterministic.
//
// Bindings: 0 dy, 1 x, 2 mean, 3 rstd (read), 4 partials (read_write, vec2 per (chunk, channel)), 5 Params.

struct Params {
  outer: u32,
  channels: u32,
  inner: u32,
  chunk_len: u32,
  stat_stride: u32,
  stat_group: u32,
}

const WG: u32 = 256u;
/** Channels per workgroup: a power of two; 1 when inner > 1, up to 64 when inner = 1. */
override TILE_CHANNELS: u32 = 1u;

@group(0) @binding(0) var<storage, read> grad_y: array<f32>;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read> saved_mean: array<f32>;
@group(0) @binding(3) var<storage, read> saved_rstd: array<f32>;
@group(0) @binding(4) var<storage, read_write> partials: array<vec2f>;
@group(0) @binding(5) var<uniform> params: Params;

var<workgroup> wg_a: array<f32, 256>;
var<workgroup> wg_b: array<f32, 256>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wid: vec3u) {
  let p = params;
  let c = wid.x * TILE_CHANNELS + t % TILE_CHANNELS;
  let lanes = WG / TILE_CHANNELS;
  let start = wid.y * p.chunk_len;
  let end = min(start + p.chunk_len, p.outer * p.inner);
  var sum_dy = 0.0;
  var sum_dyx = 0.0;
  if (c < p.channels) {
    let group = c / p.stat_group;
    for (var m = start + t / TILE_CHANNELS; m < end; m += lanes) {
      let n = m / p.inner;
      let i = (n * p.channels + c) * p.inner + (m - n * p.inner);
      let r = n * p.stat_stride + group;
      let dy = grad_y[i];
      sum_dy += dy;
      sum_dyx += dy * (input[i] - saved_mean[r]) * saved_rstd[r];
    }
  }
  wg_a[t] = sum_dy;
  wg_b[t] = sum_dyx;
  // One lane per channel (TILE_CHANNELS = 256): nothing to combine, and no barrier in the pipeline at all
  // (CPU implementations of WebGPU pay for every barrier).
  if (TILE_CHANNELS < WG) {
    for (var stride = lanes / 2u; stride > 0u; stride /= 2u) {
      workgroupBarrier();
      if (t / TILE_CHANNELS < stride) {
        let o = t + stride * TILE_CHANNELS;
        wg_a[t] += wg_a[o];
        wg_b[t] += wg_b[o];
      }
    }
  }
  if (t < TILE_CHANNELS && c < p.channels) {
    partials[wid.y * p.channels + c] = vec2f(wg_a[t], wg_b[t]);
  }
}
