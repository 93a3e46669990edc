// Statistics of a whole tensor, for diagnostics (the initialisation experiment):
//   out = [mean, std (population, as numpy's std), fraction of |x| > 0.99 (saturated tanh units), 0]
// Each invocation runs Welford's update over a strided share of its elements, then the partial
// (count, mean, M2, saturated) summaries are merged pairwise in a fixed tree (Chan et al.'s parallel
// formula), so neither a huge mean nor exploding values cancel the variance away.
//   main, one chunk (chunk_len ≥ count): one workgroup takes the whole tensor and writes the statistics
//     (CPU adapters: one dispatch, few barriers);
//   main, several chunks: workgroup g takes elements [g·chunk_len, (g+1)·chunk_len) and writes its summary
//     to out[4g .. 4g + 3], a partials buffer, so a large tensor fills a GPU; then
//   combine: one workgroup merges the `chunks` summaries (strided, then the same tree) into the statistics.
// Fixed trees and no atomics: deterministic for a given chunk_len.
// Bindings: 0 x (read; combine: the partials), 1 out (read_write: [4] statistics, or main's partials
// [chunks, 4]), 2 Params.

struct Params {
  count: u32,
  chunk_len: u32,
  chunks: u32,
}

// 64 invocations: six barrier rounds, which CPU implementations pay for dearly.
const WORKGROUP_SIZE: u32 = 64u;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

var<workgroup> part_n: array<f32, WORKGROUP_SIZE>;
var<workgroup> part_mean: array<f32, WORKGROUP_SIZE>;
var<workgroup> part_m2: array<f32, WORKGROUP_SIZE>;
var<workgroup> part_sat: array<f32, WORKGROUP_SIZE>;

/** Chan et al.'s combination of two (count, mean, M2, saturated) summaries. */
fn chan(a: vec4f, b: vec4f) -> vec4f {
  let total = a.x + b.x;
  if (total == 0.0) { return a; }
  let delta = b.y - a.y;
  return vec4f(total, a.y + delta * b.x / total, a.z + b.z + (a.x * b.x / total) * delta * delta, a.w + b.w);
}

/** Merges every invocation's summary into one, in a fixed tree. Called in uniform control flow. */
fn merge(lid: u32, s: vec4f) -> vec4f {
  part_n[lid] = s.x;
  part_mean[lid] = s.y;
  part_m2[lid] = s.z;
  part_sat[lid] = s.w;
  for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride /= 2u) {
    workgroupBarrier();
    if (lid < stride) {
      let o = lid + stride;
      let r = chan(vec4f(part_n[lid], part_mean[lid], part_m2[lid], part_sat[lid]), vec4f(part_n[o], part_mean[o], part_m2[o], part_sat[o]));
      part_n[lid] = r.x;
      part_mean[lid] = r.y;
      part_m2[lid] = r.z;
      part_sat[lid] = r.w;
    }
  }
  workgroupBarrier();
  return vec4f(part_n[0], part_mean[0], part_m2[0], part_sat[0]);
}

/** Invocation 0 writes [mean, std, saturated fraction, 0]. */
fn write_statistics(lid: u32, s: vec4f) {
  if (lid != 0u) { return; }
  let total = max(s.x, 1.0);
  out[0] = s.y;
  out[1] = sqrt(s.z / total);
  out[2] = s.w / total;
  out[3] = 0.0;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let g = wid.x + wid.y * groups.x;
  let start = min(g * params.chunk_len, params.count);
  let end = min(start + params.chunk_len, params.count);
  var s = vec4f(0.0);
  for (var i = start + lid; i < end; i += WORKGROUP_SIZE) {
    let v = x[i];
    s.x += 1.0;
    let d = v - s.y;
    s.y += d / s.x;
    s.z += d * (v - s.y);
    s.w += select(0.0, 1.0, abs(v) > 0.99);
  }
  let merged = merge(lid, s);
  if (params.chunks == 1u) {
    write_statistics(lid, merged);
  } else if (lid == 0u && g < params.chunks) {
    for (var i = 0u; i < 4u; i++) { out[4u * g + i] = merged[i]; }
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn combine(@builtin(local_invocation_index) lid: u32) {
  var s = vec4f(0.0);
  for (var g = lid; g < params.chunks; g += WORKGROUP_SIZE) {
    s = chan(s, vec4f(x[4u * g], x[4u * g + 1u], x[4u * g + 2u], x[4u * g + 3u]));
  }
  write_statistics(lid, merge(lid, s));
}
