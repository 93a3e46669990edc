// Fused softmax + cross-entropy over a batch of logits [rows, classes], with accuracy (compiled after
// xent_metrics.wgsl).
//
//   loss_r   = logsumexp(z_r) - z_r[label_r]           (max-subtracted, so exp never overflows)
//   dlogit_r = (softmax(z_r) - onehot(label_r)) * grad_scale   (only when WRITE_GRAD)
//
// The batch's loss sum, correct count (argmax == label), row count and a non-finite flag are *added* to
// `metrics` (xent_metrics.wgsl), so one buffer accumulates a whole epoch on the GPU and is read back once, asynchronously.
// Workgroup g strides over rows [g·rows_per_group, (g+1)·rows_per_group); with several workgroups `metrics`
// is their partials buffer (xent_metrics.wgsl), so no addition needs atomics.
//
// Bindings: 0 logits (read), 1 labels u32 (read), 2 dlogits (read_write), 3 metrics (read_write), 4 Params.
// metrics layout: [loss_sum, correct, rows, non_finite]; with PARTIALS, [groups, 8] partials (xent_metrics.wgsl).

struct Params {
  rows: u32,
  classes: u32,
  grad_scale: f32,
  rows_per_group: u32,
}

override WRITE_GRAD: bool = true;

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> labels: array<u32>;
@group(0) @binding(2) var<storage, read_write> dlogits: array<f32>;
@group(0) @binding(3) var<storage, read_write> metrics: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

@compute @workgroup_size(XENT_WORKGROUP)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u) {
  var loss_sum = 0.0;
  var correct = 0.0;
  var bad = 0.0;
  let span = xent_rows(wid.x, params.rows_per_group, params.rows);
  for (var r = span.x + lid; r < span.y; r += XENT_WORKGROUP) {
    let base = r * params.classes;
    var zmax = logits[base];
    var best = 0u;
    for (var j = 1u; j < params.classes; j++) {
      let z = logits[base + j];
      if (z > zmax) { zmax = z; best = j; }
    }
    var sum = 0.0;
    for (var j = 0u; j < params.classes; j++) {
      sum += exp(logits[base + j] - zmax);
    }
    let label = labels[r];
    let loss = log(sum) + zmax - logits[base + label];
    if (is_non_finite(loss) || is_non_finite(zmax)) { bad = 1.0; }
    loss_sum += loss;
    correct += select(0.0, 1.0, best == label);
    if (WRITE_GRAD) {
      let inv_sum = 1.0 / sum;
      for (var j = 0u; j < params.classes; j++) {
        let p = exp(logits[base + j] - zmax) * inv_sum;
        dlogits[base + j] = (p - select(0.0, 1.0, j == label)) * params.grad_scale;
      }
    }
  }
  add_metrics(lid, wid.x, loss_sum, correct, bad, params.rows);
}
