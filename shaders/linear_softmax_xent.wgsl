// A classifier head's whole training step in one pass (compiled after act_fns.wgsl and xent_metrics.wgsl): the last Linear
// layer, softmax cross-entropy with accuracy, and the gradient of the layer's input. The scheduler fuses
// matmul(h·Wᵀ + b) → softmax_xent → matmul(dlogits·W){actGrad} into it (src/scheduler/fuse.ts) when the
// classes fit in registers, which removes two dispatches and the logits buffer from every step.
//
//   z_r      = h_r · Wᵀ + b                           (each logit summed in k order, then the bias: as matmul.wgsl)
//   loss_r   = logsumexp(z_r) − z_r[label_r]          (max-subtracted, as softmax_xent.wgsl)
//   dz_r     = (softmax(z_r) − onehot(label_r)) · grad_scale                  → dlogits (for dW and db)
//   dh_r     = (dz_r · W) ⊙ activate'(v_r)            (summed in class order; only when WRITE_DH)
//
// so the result is the unfused kernels', element for element. One invocation a row; workgroup g strides
// over rows [g·rows_per_group, (g+1)·rows_per_group) and adds the loss sum, correct count, row count and
// non-finite flag to `metrics` (or, with several workgroups, writes its partials there), as
// softmax_xent.wgsl does, so no addition needs atomics. W (classes × features) is read by every invocation
// at the same addresses at once, which caches serve.
//
// Bindings: 0 h [rows, features] (read), 1 W [classes, features] (read), 2 b [classes] (read), 3 labels
// u32 (read), 4 v [rows, features] (read; a dummy without ACT_GRAD), 5 dlogits (read_write), 6 dh
// (read_write; a dummy without WRITE_DH), 7 metrics (read_write), 8 Params.
// metrics layout: [loss_sum, correct, rows, non_finite]; with PARTIALS, [groups, 8] partials (xent_metrics.wgsl).

struct Params {
  rows: u32,
  classes: u32,
  features: u32,
  grad_scale: f32,
  alpha: f32,
  rows_per_group: u32,
}

/** The most classes the head holds in registers (HEAD_MAX_CLASSES, src/kernels/lower.ts: src/scheduler/fuse.ts fuses no more). */
const MAX_CLASSES: u32 = 32u;

override WRITE_DH: bool = true;
override ACT_GRAD: u32 = 0u;

@group(0) @binding(0) var<storage, read> h: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read> labels: array<u32>;
@group(0) @binding(4) var<storage, read> v: array<f32>;
@group(0) @binding(5) var<storage, read_write> dlogits: array<f32>;
@group(0) @binding(6) var<storage, read_write> dh: array<f32>;
@group(0) @binding(7) var<storage, read_write> metrics: array<f32>;
@group(0) @binding(8) var<uniform> params: Params;

@compute @workgroup_size(XENT_WORKGROUP)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u) {
  let classes = params.classes;
  let features = params.features;
  var loss_sum = 0.0;
  var correct = 0.0;
  var bad = 0.0;
  let span = xent_rows(wid.x, params.rows_per_group, params.rows);
  for (var r = span.x + lid; r < span.y; r += XENT_WORKGROUP) {
    let row = r * features;
    var z: array<f32, MAX_CLASSES>;
    var zmax = 0.0;
    var best = 0u;
    for (var j = 0u; j < classes; j++) {
      var sum = 0.0;
      for (var k = 0u; k < features; k++) { sum += h[row + k] * w[j * features + k]; }
      let zj = sum + bias[j];
      z[j] = zj;
      if (j == 0u || zj > zmax) { zmax = zj; best = j; }
    }
    var sum_exp = 0.0;
    for (var j = 0u; j < classes; j++) { sum_exp += exp(z[j] - zmax); }
    let label = labels[r];
    let loss = log(sum_exp) + zmax - z[min(label, classes - 1u)];
    if (is_non_finite(loss) || is_non_finite(zmax)) { bad = 1.0; }
    loss_sum += loss;
    correct += select(0.0, 1.0, best == label);

    let inv_sum = 1.0 / sum_exp;
    for (var j = 0u; j < classes; j++) {
      let p = exp(z[j] - zmax) * inv_sum;
      let dz = (p - select(0.0, 1.0, j == label)) * params.grad_scale;
      z[j] = dz;
      dlogits[r * classes + j] = dz;
    }
    if (WRITE_DH) {
      for (var k = 0u; k < features; k++) {
        var g = 0.0;
        for (var j = 0u; j < classes; j++) { g += z[j] * w[j * features + k]; }
        if (ACT_GRAD != 0u) { g *= activate_grad(v[row + k], ACT_GRAD, params.alpha); }
        dh[row + k] = g;
      }
    }
  }
  add_metrics(lid, wid.x, loss_sum, correct, bad, params.rows);
}
