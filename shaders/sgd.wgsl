// SGD with momentum over the whole parameter arena in one dispatch:
//   g = grad + weight_decay * w   (L2, only for the first `decay_count` elements: weights come first in
//                                  the arena, biases after, so biases are excluded without a mask)
//   v = momentum * v + g
//   w = w - lr * v               (nesterov: w = w - lr * (g + momentum * v))
// Bindings: 0 grads (read), 1 params (read_write), 2 velocity (read_write), 3 Hyper, 4 Params.
// Hyper is a small uniform the trainer rewrites when the learning rate changes; Params is static.

struct Hyper {
  lr: f32,
  momentum: f32,
  weight_decay: f32,
  nesterov: u32,
}

struct Params {
  count: u32,
  decay_count: u32,
}

override WORKGROUP_SIZE: u32 = 256u;

@group(0) @binding(0) var<storage, read> grads: array<f32>;
@group(0) @binding(1) var<storage, read_write> weights: array<f32>;
@group(0) @binding(2) var<storage, read_write> velocity: array<f32>;
@group(0) @binding(3) var<uniform> hyper: Hyper;
@group(0) @binding(4) var<uniform> params: Params;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (i >= params.count) { return; }
  var g = grads[i];
  if (i < params.decay_count) { g += hyper.weight_decay * weights[i]; }
  let v = hyper.momentum * velocity[i] + g;
  velocity[i] = v;
  let update = select(v, g + hyper.momentum * v, hyper.nesterov != 0u);
  weights[i] -= hyper.lr * update;
}
