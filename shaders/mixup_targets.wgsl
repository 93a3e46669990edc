// Mixup, targets half: turns softmax_xent's one-hot results into those of the blended target
// t_r = λ·onehot(y_r) + (1 − λ)·onehot(y_p), p = rows − 1 − r (the partner of mixup_inputs.wgsl):
//   dlogits'[r] = dlogits[r] + (1 − λ)·(onehot(y_r) − onehot(y_p))·grad_scale
//   loss'_r     = loss_r + (1 − λ)·(z_r[y_r] − z_r[y_p])      (cross-entropy is linear in the target)
// The loss correction is added to the metrics accumulator, so the reported loss is the mixup loss.
// Workgroup g strides over rows [g·rows_per_group, (g+1)·rows_per_group), as softmax_xent does. One
// workgroup adds its correction to the accumulator; several (PARTIALS) each write theirs to their row of a
// [groups, 8] partials buffer bound as `metrics` (loss.wgsl's layout, the correction as the loss sum), which
// loss_reduce.wgsl adds in a fixed order. Either way the addition needs no atomics.
// Bindings: 0 logits (read), 1 labels (read), 2 dlogits (read), 3 mixed dlogits (read_write),
//           4 metrics (read_write), 5 Step, 6 Params.

struct Step {
  step: u32,
  batch_start: u32,
  seed: u32,
  mix_lambda: f32,
  lr: f32,
}

struct Params {
  rows: u32,
  classes: u32,
  grad_scale: f32,
  rows_per_group: u32,
}

// 64 invocations: a batch is small, and each barrier round costs CPU implementations dearly.
const WORKGROUP_SIZE: u32 = 64u;
override PARTIALS: bool = false;

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> labels: array<u32>;
@group(0) @binding(2) var<storage, read> dlogits: array<f32>;
@group(0) @binding(3) var<storage, read_write> mixed: array<f32>;
@group(0) @binding(4) var<storage, read_write> metrics: array<f32>;
@group(0) @binding(5) var<uniform> step: Step;
@group(0) @binding(6) var<uniform> params: Params;

var<workgroup> partial: array<f32, WORKGROUP_SIZE>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u) {
  let other = 1.0 - step.mix_lambda;
  var correction = 0.0;
  let start = min(wid.x * params.rows_per_group, params.rows);
  let end = min(start + params.rows_per_group, params.rows);
  for (var r = start + lid; r < end; r += WORKGROUP_SIZE) {
    let own = labels[r];
    let partner = labels[params.rows - 1u - r];
    let base = r * params.classes;
    for (var j = 0u; j < params.classes; j++) {
      let shift = select(0.0, 1.0, j == own) - select(0.0, 1.0, j == partner);
      mixed[base + j] = dlogits[base + j] + other * shift * params.grad_scale;
    }
    correction += other * (logits[base + own] - logits[base + partner]);
  }
  partial[lid] = correction;
  for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride /= 2u) {
    workgroupBarrier();
    if (lid < stride) { partial[lid] += partial[lid + stride]; }
  }
  if (lid == 0u && PARTIALS) {
    let base = wid.x * 8u;
    metrics[base] = partial[0];
    for (var i = 1u; i < 8u; i++) { metrics[base + i] = 0.0; }
  } else if (lid == 0u) {
    metrics[0] += partial[0];
  }
}
