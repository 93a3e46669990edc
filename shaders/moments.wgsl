// Statistics of a whole tensor, for diagnostics (the initialisation experiment):
//   out = [mean, std (population, as numpy's std), fraction of |x| > 0.99 (saturated tanh units), 0]
// One workgroup. Each invocation runs Welford's update over a strided share of the elements, then the
// partial (count, mean, M2) triples are merged pairwise in a tree (Chan et al.'s parallel formula), so
// neither a huge mean nor exploding values cancel the variance away.
// Bindings: 0 x (read), 1 out [4] (read_write), 2 Params.

struct Params {
  count: u32,
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

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) lid: u32) {
  var n = 0.0;
  var mean = 0.0;
  var m2 = 0.0;
  var saturated = 0.0;
  for (var i = lid; i < params.count; i += WORKGROUP_SIZE) {
    let v = x[i];
    n += 1.0;
    let d = v - mean;
    mean += d / n;
    m2 += d * (v - mean);
    saturated += select(0.0, 1.0, abs(v) > 0.99);
  }
  part_n[lid] = n;
  part_mean[lid] = mean;
  part_m2[lid] = m2;
  part_sat[lid] = saturated;
  for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride /= 2u) {
    workgroupBarrier();
    if (lid < stride) {
      let na = part_n[lid];
      let nb = part_n[lid + stride];
      let total = na + nb;
      if (total > 0.0) {
        let delta = part_mean[lid + stride] - part_mean[lid];
        part_mean[lid] += delta * nb / total;
        part_m2[lid] += part_m2[lid + stride] + (na * nb / total) * delta * delta;
        part_n[lid] = total;
      }
      part_sat[lid] += part_sat[lid + stride];
    }
  }
  if (lid == 0u) {
    let total = max(part_n[0], 1.0);
    out[0] = part_mean[0];
    out[1] = sqrt(part_m2[0] / total);
    out[2] = part_sat[0] / total;
    out[3] = 0.0;
  }
}
