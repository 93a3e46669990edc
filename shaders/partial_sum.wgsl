// The second pass of a split reduction: adds `splits` partial sums in a fixed order (deterministic, no
// atomics) and scatters the result into two outputs, so one pass finishes e.g. a weight gradient and its
// bias gradient together.
//   partials [splits, count_a + count_b]
//   out_a[i] = Σ_s partials[s, i]            (i < count_a)
//   out_b[j] = Σ_s partials[s, count_a + j]  (j < count_b; out_b is a dummy when count_b = 0)
// One invocation an output element; neighbouring invocations read neighbouring addresses of each split.
// Bindings: 0 partials (read), 1 out_a (read_write), 2 out_b (read_write), 3 Params.

struct Params {
  splits: u32,
  count_a: u32,
  count_b: u32,
}

override WORKGROUP_SIZE: u32 = 64u;

@group(0) @binding(0) var<storage, read> partials: array<f32>;
@group(0) @binding(1) var<storage, read_write> out_a: array<f32>;
@group(0) @binding(2) var<storage, read_write> out_b: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  let width = params.count_a + params.count_b;
  if (i >= width) { return; }
  var sum = 0.0;
  for (var s = 0u; s < params.splits; s++) {
    sum += partials[s * width + i];
  }
  if (i < params.count_a) {
    out_a[i] = sum;
  } else {
    out_b[i - params.count_a] = sum;
  }
}
