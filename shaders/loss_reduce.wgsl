// The second pass of loss.wgsl: adds the `groups` workgroups' partial metrics [groups, 8] into the
// metrics accumulator, in a fixed order (each invocation a strided run of groups, then a tree), so the
// result is deterministic without atomics. Adds the batch's row count; the non-finite flag is a max.
// One workgroup: a batch has a few dozen groups of partials, eight values each.
// Bindings: 0 partials (read), 1 metrics (read_write), 2 Params.

struct Params {
  groups: u32,
  rows: u32,
}

const WORKGROUP_SIZE: u32 = 64u;
const METRICS: u32 = 8u;

@group(0) @binding(0) var<storage, read> partials: array<f32>;
@group(0) @binding(1) var<storage, read_write> metrics: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

var<workgroup> tree: array<f32, 512>; // METRICS × WORKGROUP_SIZE, metric-major

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) lid: u32) {
  for (var i = 0u; i < METRICS; i++) {
    var s = 0.0;
    for (var g = lid; g < params.groups; g += WORKGROUP_SIZE) {
      let v = partials[g * METRICS + i];
      s = select(s + v, max(s, v), i == 3u);
    }
    tree[i * WORKGROUP_SIZE + lid] = s;
  }
  for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride /= 2u) {
    workgroupBarrier();
    if (lid < stride) {
      for (var i = 0u; i < METRICS; i++) {
        let a = i * WORKGROUP_SIZE + lid;
        tree[a] = select(tree[a] + tree[a + stride], max(tree[a], tree[a + stride]), i == 3u);
      }
    }
  }
  workgroupBarrier();
  if (lid < METRICS) {
    let v = tree[lid * WORKGROUP_SIZE];
    if (lid == 3u) {
      metrics[3] = max(metrics[3], v);
    } else if (lid == 2u) {
      metrics[2] += f32(params.rows);
    } else {
      metrics[lid] += v;
    }
  }
}
