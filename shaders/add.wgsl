// out[i] = a[i] + b[i]: residual connections, and the sum of a tensor's gradients when it feeds several ops.
// Bindings: 0 a (read), 1 b (read), 2 out (read_write), 3 Params.

struct Params {
  count: u32,
}

override WORKGROUP_SIZE: u32 = 256u;

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

// Large tensors are dispatched as a 2-D grid (at most 65,535 workgroups a dimension).
@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (i >= params.count) { return; }
  out[i] = a[i] + b[i];
}
