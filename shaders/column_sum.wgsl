// out[n] = sum over rows m of x[m, n]: the bias gradient, db = column sums of dY.
// One invocation a column, looping down the rows: neighbouring invocations read neighbouring addresses
// (coalesced), and no barrier is needed. A tall matrix is summed in chunks so it fills a GPU: workgroup
// (column tile, chunk z) sums rows [z·chunk_rows, (z+1)·chunk_rows) of its columns into out[z, n], and
// partial_sum.wgsl adds the chunks in order (deterministic, no atomics). One chunk (chunk_rows ≥ rows)
// writes the sums themselves.
// Bindings: 0 x [rows, cols] (read), 1 out [chunks, cols] (read_write), 2 Params.

struct Params {
  rows: u32,
  cols: u32,
  chunk_rows: u32,
}

override WORKGROUP_SIZE: u32 = 64u;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  // Past 65,535 workgroups the columns fold into 2-D rows of them (grid1d); chunks are the z dimension.
  let col = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (col >= params.cols) { return; }
  let start = min(gid.z * params.chunk_rows, params.rows);
  let end = min(start + params.chunk_rows, params.rows);
  var sum = 0.0;
  for (var m = start; m < end; m++) {
    sum += x[m * params.cols + col];
  }
  out[gid.z * params.cols + col] = sum;
}
