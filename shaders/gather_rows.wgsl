// The labels (u32) or targets (f32, copied as their bits) of one batch:
//   out[r, t] = source[perm[start + r], t]   for t < width (1 for labels)
// Bindings: 0 source (read), 1 perm (read), 2 out (read_write), 3 Step, 4 Params.

struct Params {
  rows: u32,
  width: u32,
}

struct Step {
  step: u32,
  batch_start: u32,
  seed: u32,
  mix_lambda: f32,
  lr: f32,
}

override WORKGROUP_SIZE: u32 = 256u;

@group(0) @binding(0) var<storage, read> source: array<u32>;
@group(0) @binding(1) var<storage, read> perm: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;
@group(0) @binding(3) var<uniform> step: Step;
@group(0) @binding(4) var<uniform> params: Params;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (i >= params.rows * params.width) { return; }
  let r = i / params.width;
  out[i] = source[perm[step.batch_start + r] * params.width + i % params.width];
}
