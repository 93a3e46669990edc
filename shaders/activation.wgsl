// Elementwise activation, forward and backward (compiled after act_fns.wgsl).
//   forward:  y[i]  = activate(x[i])
//   backward: dx[i] = dy[i] * activate'(v[i]), v = y, or x for GELU/SiLU (see act_fns.wgsl)
// Used where an activation cannot be fused into a matmul epilogue (e.g. after a norm layer).
// Bindings: 0 x or dy (read), 1 v (read; backward only), 2 out (read_write), 3 Params.

struct Params {
  count: u32,
  alpha: f32,
}

override ACT: u32 = 1u;
override WORKGROUP_SIZE: u32 = 256u;

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read> act_out: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

// Large tensors are dispatched as a 2-D grid (at most 65,535 workgroups a dimension).
fn flat_index(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * WORKGROUP_SIZE;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat_index(gid, groups);
  if (i >= params.count) { return; }
  dst[i] = activate(src[i], ACT, params.alpha);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat_index(gid, groups);
  if (i >= params.count) { return; }
  dst[i] = src[i] * activate_grad(act_out[i], ACT, params.alpha);
}
