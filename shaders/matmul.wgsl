// The reference matmul (compiled after act_fns.wgsl and matmul_common.wgsl, which define C = op(A)·op(B),
// the epilogue, the bindings and the constants): every other variant of the family is verified against it.
//
// Register-blocked: each invocation owns a 4×4 block of C in registers and reads A and B directly, with
// no workgroup memory and no barriers (barriers are very costly on CPU Vulkan such as SwiftShader).
// Any M, N, K and every transpose combination. Out-of-range rows and columns read clamped indices and are
// never stored, so the inner loop has no branch. Each element is summed in k order, one multiply-add at a time.

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read> e: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

fn load_a(row: u32, k: u32) -> f32 {
  if (TRANS_A) { return a[k * params.M + row]; }
  return a[row * params.K + k];
}

// The stored A[k, m] under TRANS_A (for BIAS_GRAD's sums).
fn a_at(k: u32, m: u32) -> f32 {
  return a[k * params.M + m];
}

fn load_b(k: u32, col: u32) -> f32 {
  if (TRANS_B) { return b[col * params.K + k]; }
  return b[k * params.N + col];
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(
  @builtin(global_invocation_id) gid: vec3u,
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) groups: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  if (is_bias_grad_group(wid, groups)) {
    bias_grad_rows(wid.y * 4u * WG_Y, 4u * WG_Y, lid, WG_X * WG_Y);
    return;
  }
  let row0 = gid.y * 4u;
  let col0 = gid.x * 4u;
  if (row0 >= params.M || col0 >= params.N) { return; }

  let last_row = params.M - 1u;
  let last_col = params.N - 1u;
  let rows = vec4u(row0, min(row0 + 1u, last_row), min(row0 + 2u, last_row), min(row0 + 3u, last_row));
  let cols = vec4u(col0, min(col0 + 1u, last_col), min(col0 + 2u, last_col), min(col0 + 3u, last_col));

  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  for (var k = 0u; k < params.K; k++) {
    let bk = vec4f(load_b(k, cols.x), load_b(k, cols.y), load_b(k, cols.z), load_b(k, cols.w));
    acc0 += load_a(rows.x, k) * bk;
    acc1 += load_a(rows.y, k) * bk;
    acc2 += load_a(rows.z, k) * bk;
    acc3 += load_a(rows.w, k) * bk;
  }

  // var, not let: indexing a let array with a loop variable is rejected by older naga (Firefox) releases.
  var acc = array<vec4f, 4>(acc0, acc1, acc2, acc3);
  for (var i = 0u; i < 4u; i++) {
    let row = row0 + i;
    if (row >= params.M) { break; }
    for (var j = 0u; j < 4u; j++) {
      let col = col0 + j;
      if (col >= params.N) { break; }
      var e_value = 0.0;
      if (epilogue_reads_e()) { e_value = e[e_index(row, col)]; }
      c[row * params.N + col] = epilogue(acc[i][j], e_value);
    }
  }
}
