// Fused softmax + cross-entropy over a batch of logits [rows, classes], with accuracy.
//
//   loss_r   = logsumexp(z_r) - z_r[label_r]           (max-subtracted, so exp never overflows)
//   dlogit_r = (softmax(z_r) - onehot(label_r)) * grad_scale   (only when WRITE_GRAD)
//
// The batch's loss sum, correct count (argmax == label), row count and a non-finite flag are *added* to
// `metrics`, so one buffer accumulates a whole epoch on the GPU and is read back once, asynchronously.
// A single workgroup strides over the rows, so those additions need no atomics.
//
// Bindings: 0 logits (read), 1 labels u32 (read), 2 dlogits (read_write), 3 metrics (read_write), 4 Params.
// metrics layout: [loss_sum, correct, rows, non_finite].

struct Params {
  rows: u32,
  classes: u32,
  grad_scale: f32,
}

override WRITE_GRAD: bool = true;
// 64 invocations: a batch is small, and each barrier round costs CPU implementations dearly.
const WORKGROUP_SIZE: u32 = 64u;

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> labels: array<u32>;
@group(0) @binding(2) var<storage, read_write> dlogits: array<f32>;
@group(0) @binding(3) var<storage, read_write> metrics: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

var<workgroup> partial_loss: array<f32, WORKGROUP_SIZE>;
var<workgroup> partial_correct: array<f32, WORKGROUP_SIZE>;
var<workgroup> partial_bad: array<f32, WORKGROUP_SIZE>;

// NaN/Inf test on the bits: WGSL lets compilers assume floats are finite, so `x != x` may be folded away.
fn is_non_finite(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7f800000u) == 0x7f800000u;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) lid: u32) {
  var loss_sum = 0.0;
  var correct = 0.0;
  var bad = 0.0;
  for (var r = lid; r < params.rows; r += WORKGROUP_SIZE) {
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
  partial_loss[lid] = loss_sum;
  partial_correct[lid] = correct;
  partial_bad[lid] = bad;
  for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride /= 2u) {
    workgroupBarrier();
    if (lid < stride) {
      partial_loss[lid] += partial_loss[lid + stride];
      partial_correct[lid] += partial_correct[lid + stride];
      partial_bad[lid] = max(partial_bad[lid], partial_bad[lid + stride]);
    }
  }
  if (lid == 0u) {
    metrics[0] += partial_loss[0];
    metrics[1] += partial_correct[0];
    metrics[2] += f32(params.rows);
    metrics[3] = max(metrics[3], partial_bad[0]);
  }
}
