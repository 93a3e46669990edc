// C[M,N] = op(A)[M,K] · B[K,N]: a variant of the reference matmul (compiled after act_fns.wgsl and
// matmul_common.wgsl) for the products whose B is stored [K,N] (no TRANS_B): the backward dY·W and dYᵀ·X.
// B, C and E are read and written as vec4 along N; A is read one element at a time, so any M and K work
// and TRANS_A is honoured. The autotuner (src/kernels/matmul_policy.ts) offers it only when
//   TRANS_B = false, N % 4 == 0
// (rows of B, C and E then start on a vec4, and every binding is whole vec4s), and no all-vec4 kernel fits.
//
// Each invocation owns 4 rows × 4 columns of C (4 × 8 with WIDE). Every element is accumulated in k order,
// one multiply-add at a time, exactly as the reference does.

/** 4×8 blocks (two vec4 of columns) instead of 4×4. */
override WIDE: bool = false;

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<vec4f>;
@group(0) @binding(2) var<storage, read> e: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> c: array<vec4f>;

// The stored A[k, m] under TRANS_A (for BIAS_GRAD's sums).
fn a_at(k: u32, m: u32) -> f32 {
  return a[k * params.M + m];
}

fn load_a(row: u32, k: u32) -> f32 {
  if (TRANS_A) { return a[k * params.M + row]; }
  return a[row * params.K + k];
}

// Columns 4·cv .. 4·cv+3 of one row.
fn store4(row: u32, cv: u32, value: vec4f) {
  if (row >= params.M) { return; }
  var e_value = vec4f(0.0);
  if (epilogue_reads_e()) { e_value = e[e_index4(row, cv)]; }
  c[row * (params.N / 4u) + cv] = epilogue4(value, e_value);
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(
  @builtin(global_invocation_id) gid: vec3u,
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) groups: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  // Selected only without TRANS_B; anything else is a selection bug, and the poisoned output shows it.
  if (TRANS_B) { return; }
  if (is_bias_grad_group(wid, groups)) {
    bias_grad_rows(wid.y * 4u * WG_Y, 4u * WG_Y, lid, WG_X * WG_Y);
    return;
  }
  let n4 = params.N / 4u;
  let cv0 = gid.x * select(1u, 2u, WIDE);
  let row0 = gid.y * 4u;
  if (row0 >= params.M || cv0 >= n4) { return; }
  let cv1 = min(cv0 + 1u, n4 - 1u);

  let last_row = params.M - 1u;
  let rows = vec4u(row0, min(row0 + 1u, last_row), min(row0 + 2u, last_row), min(row0 + 3u, last_row));

  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  var wacc0 = vec4f(0.0);
  var wacc1 = vec4f(0.0);
  var wacc2 = vec4f(0.0);
  var wacc3 = vec4f(0.0);
  for (var k = 0u; k < params.K; k++) {
    let a0 = load_a(rows.x, k);
    let a1 = load_a(rows.y, k);
    let a2 = load_a(rows.z, k);
    let a3 = load_a(rows.w, k);
    let b0 = b[k * n4 + cv0];
    acc0 += a0 * b0;
    acc1 += a1 * b0;
    acc2 += a2 * b0;
    acc3 += a3 * b0;
    if (WIDE) {
      let b1 = b[k * n4 + cv1];
      wacc0 += a0 * b1;
      wacc1 += a1 * b1;
      wacc2 += a2 * b1;
      wacc3 += a3 * b1;
    }
  }

  store4(row0, cv0, acc0);
  store4(row0 + 1u, cv0, acc1);
  store4(row0 + 2u, cv0, acc2);
  store4(row0 + 3u, cv0, acc3);
  if (WIDE && cv0 + 1u < n4) {
    store4(row0, cv0 + 1u, wacc0);
    store4(row0 + 1u, cv0 + 1u, wacc1);
    store4(row0 + 2u, cv0 + 1u, wacc2);
    store4(row0 + 3u, cv0 + 1u, wacc3);
  }
}
