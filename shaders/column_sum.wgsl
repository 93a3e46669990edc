// out[n] = sum over rows m of x[m, n]: the bias gradient, db = column sums of dY.
// One invocation a column, looping down the rows: neighbouring invocations read neighbouring addresses
// (coalesced), and no barrier is needed.
// Bindings: 0 x [rows, cols] (read), 1 out [cols] (read_write), 2 Params.

struct Params {
  rows: u32,
  cols: u32,
}

override WORKGROUP_SIZE: u32 = 64u;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  // Past 65,535 workgroups the dispatch folds into 2-D rows of them (grid1d).
  let col = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (col >= params.cols) { return; }
  var sum = 0.0;
  for (var m = 0u; m < params.rows; m++) {
    sum += x[m * params.cols + col];
  }
  out[col] = sum;
}
