// sum[i] += weight · x[i]: an ensemble's mean of its members' probabilities, built member by member on the
// GPU (src/train/ensemble.ts), each member's predictions added with weight 1/K as they are computed.
// Bindings: 0 x (read), 1 sum (read_write), 2 Params.

struct Params {
  count: u32,
  weight: f32,
  offset: u32,        // where x's first value goes in sum (storage bindings can start only every 256 bytes)
}

override WORKGROUP_SIZE: u32 = 256u;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> sum: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

// Large arrays are dispatched as a 2-D grid (at most 65,535 workgroups a dimension).
@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (i >= params.count) { return; }
  sum[params.offset + i] += params.weight * x[i];
}
