// Row-wise softmax of logits [rows, classes] (inference: predicted probabilities), max-subtracted so exp
// never overflows. One invocation per row: rows are independent and classes few.
// Bindings: 0 logits (read), 1 probabilities (read_write), 2 Params.

struct Params {
  rows: u32,
  classes: u32,
}

override WORKGROUP_SIZE: u32 = 64u;

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read_write> probabilities: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let row = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (row >= params.rows) { return; }
  let base = row * params.classes;
  var largest = logits[base];
  for (var j = 1u; j < params.classes; j++) { largest = max(largest, logits[base + j]); }
  var sum = 0.0;
  for (var j = 0u; j < params.classes; j++) { sum += exp(logits[base + j] - largest); }
  for (var j = 0u; j < params.classes; j++) { probabilities[base + j] = exp(logits[base + j] - largest) / sum; }
}
