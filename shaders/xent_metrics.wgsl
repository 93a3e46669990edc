// The batch metrics the cross-entropy kernels (softmax_xent.wgsl, linear_softmax_xent.wgsl) add to the
// epoch's accumulator, compiled before either: each invocation's loss sum, correct count and non-finite
// flag, combined by a tree in its workgroup of XENT_WORKGROUP invocations, then written by invocation 0, so
// the additions need no atomics. The including kernel declares `metrics` (read_write).
//
// Workgroup g takes rows [g·rows_per_group, (g+1)·rows_per_group), its invocations striding over them:
//   one workgroup (rows_per_group ≥ rows, PARTIALS false): `metrics` is the accumulator [loss_sum, correct,
//     rows, non_finite] and the batch's values are added to it (CPU adapters, and small batches);
//   many workgroups (PARTIALS true): `metrics` is a scratch buffer [groups, 8] in loss.wgsl's layout, each
//     workgroup writes its own row, and loss_reduce.wgsl adds the rows into the accumulator in a fixed
//     order, so a large batch fills a GPU and the result is still deterministic.

// 64 invocations: a batch is small, and each barrier round costs CPU implementations dearly.
const XENT_WORKGROUP: u32 = 64u;

var<workgroup> partial_loss: array<f32, XENT_WORKGROUP>;
var<workgroup> partial_correct: array<f32, XENT_WORKGROUP>;
var<workgroup> partial_bad: array<f32, XENT_WORKGROUP>;

// NaN/Inf test on the bits: WGSL lets compilers assume floats are finite, so `x != x` may be folded away.
fn is_non_finite(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7f800000u) == 0x7f800000u;
}

override PARTIALS: bool = false;

/** Workgroup `group`'s rows [start, end). */
fn xent_rows(group: u32, rows_per_group: u32, rows: u32) -> vec2u {
  let start = min(group * rows_per_group, rows);
  return vec2u(start, min(start + rows_per_group, rows));
}

// Called by every invocation of the workgroup, in uniform control flow (it has barriers).
fn add_metrics(lid: u32, group: u32, loss_sum: f32, correct: f32, bad: f32, rows: u32) {
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
  if (lid == 0u && PARTIALS) {
    // loss.wgsl's partial layout [loss_sum, correct, rows (added by loss_reduce), non_finite, 0, 0, 0, 0].
    let base = group * 8u;
    metrics[base] = partial_loss[0];
    metrics[base + 1u] = partial_correct[0];
    metrics[base + 2u] = 0.0;
    metrics[base + 3u] = partial_bad[0];
    for (var i = 4u; i < 8u; i++) { metrics[base + i] = 0.0; }
  } else if (lid == 0u) {
    metrics[0] += partial_loss[0];
    metrics[1] += partial_correct[0];
    metrics[2] += f32(rows);
    metrics[3] = max(metrics[3], partial_bad[0]);
  }
}
