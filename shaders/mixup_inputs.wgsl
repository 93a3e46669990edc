// Mixup (Zhang et al. 2018), inputs half: each sample is blended with its partner in the batch,
//   x'[r] = λ·x[r] + (1 − λ)·x[rows − 1 − r]
// The batch order is already a fresh random permutation, so the mirrored row is a random partner.
// λ ~ Beta(α, α) is drawn on the host per step and arrives in the Step uniform; λ ≥ 1/2, so each row's
// own label dominates (and accuracy still counts it). mixup_targets.wgsl blends the labels the same way.
// Bindings: 0 x (read), 1 mixed (read_write), 2 Step, 3 Params.

struct Step {
  step: u32,
  batch_start: u32,
  seed: u32,
  mix_lambda: f32,
  lr: f32,
}

struct Params {
  rows: u32,
  features: u32,
}

override WORKGROUP_SIZE: u32 = 256u;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> mixed: array<f32>;
@group(0) @binding(2) var<uniform> step: Step;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (i >= params.rows * params.features) { return; }
  let r = i / params.features;
  let partner = (params.rows - 1u - r) * params.features + i % params.features;
  mixed[i] = step.mix_lambda * x[i] + (1.0 - step.mix_lambda) * x[partner];
}
