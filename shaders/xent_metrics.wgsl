// The batch metrics the cross-entropy kernels (softmax_xent.wgsl, linear_softmax_xent.wgsl) add to the
// epoch's accumulator, compiled before either: each invocation's loss sum, correct count and non-finite
// flag, combined by a tree in one workgroup of XENT_WORKGROUP invocations, then added by invocation 0, so
// the additions need no atomics. The including kernel declares `metrics` (read_write, [loss_sum, correct,
// rows, non_finite]) and runs one workgroup of XENT_WORKGROUP invocations.

// 64 invocations: a batch is small, and each barrier round costs CPU implementations dearly.
const XENT_WORKGROUP: u32 = 64u;

var<workgroup> partial_loss: array<f32, XENT_WORKGROUP>;
var<workgroup> partial_correct: array<f32, XENT_WORKGROUP>;
var<workgroup> partial_bad: array<f32, XENT_WORKGROUP>;

// NaN/Inf test on the bits: WGSL lets compilers assume floats are finite, so `x != x` may be folded away.
fn is_non_finite(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7f800000u) == 0x7f800000u;
}

// Called by every invocation of the workgroup, in uniform control flow (it has barriers).
fn add_metrics(lid: u32, loss_sum: f32, correct: f32, bad: f32, rows: u32) {
  partial_loss[lid] = loss_sum;
  partial_correct[lid] = correct;
  partial_bad[lid] = bad;
  for (var stride = XENT_WORKGROUP / 2u; stride > 0u; stride /= 2u) {
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
    metrics[2] += f32(rows);
    metrics[3] = max(metrics[3], partial_bad[0]);
  }
}
