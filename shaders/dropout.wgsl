// Inverted dropout (Srivastava et al. 2014, in the inverted form PyTorch and every framework use):
//   forward:  y[i]  = x[i]  · keep(i) / (1 − p)
//   backward: dx[i] = dy[i] · keep(i) / (1 − p)                 [· activate'(act_out[i]) when ACT_GRAD]
// Dividing by 1 − p during training keeps E[y] = x, so evaluation needs no scaling: the evaluation graph
// has no dropout node at all. (One of the lessons describes the older non-inverted form, which instead
// multiplies by 1 − p at inference; the two agree in expectation.)
//
// The mask is never stored. keep(i) is a counter-based hash of (seed, step, salt, i) — a PCG hash
// (Jarzynski & Olano 2020) chained over the four words — compared with threshold = round(p · 2³²), so
// each element is kept with probability 1 − p. The backward pass regenerates exactly the forward mask
// from the same Step uniform; `salt` (the layer index) makes every layer's mask different.
//
// With ACT_GRAD (the fuse pass folds a following activation_grad into the backward), the gradient of
// the activation before the dropout is applied in the same pass, from that activation's output.
// Compiled after act_fns.wgsl.
//
// Bindings: 0 x or dy (read), 1 act_out (read; a dummy unless ACT_GRAD), 2 out (read_write), 3 Step,
//           4 Params.

struct Step {
  step: u32,
  batch_start: u32,
  seed: u32,
  mix_lambda: f32,
  lr: f32,
}

struct Params {
  count: u32,
  threshold: u32,   // round(p · 2³²): drop when hash < threshold
  scale: f32,       // 1 / (1 − p)
  salt: u32,
  alpha: f32,       // the activation's alpha (ACT_GRAD only)
}

override WORKGROUP_SIZE: u32 = 256u;
override ACT_GRAD: u32 = 0u;

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read> act_out: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@group(0) @binding(3) var<uniform> step: Step;
@group(0) @binding(4) var<uniform> params: Params;

fn pcg(v: u32) -> u32 {
  let state = v * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}

// The multiplier of element i: 0 (dropped) or 1 / (1 − p) (kept).
fn mask(i: u32) -> f32 {
  let key = pcg(params.salt ^ pcg(step.step ^ pcg(step.seed)));
  return select(0.0, params.scale, pcg(key ^ pcg(i)) >= params.threshold);
}

fn flat_index(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * WORKGROUP_SIZE;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat_index(gid, groups);
  if (i >= params.count) { return; }
  dst[i] = src[i] * mask(i);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat_index(gid, groups);
  if (i >= params.count) { return; }
  var g = src[i] * mask(i);
  if (ACT_GRAD != 0u) { g *= activate_grad(act_out[i], ACT_GRAD, params.alpha); }
  dst[i] = g;
}
