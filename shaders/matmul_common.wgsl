// The interface every matmul kernel shares; compiled after act_fns.wgsl and before the kernel's own file.
//
// C[M,N] = op(A)[M,K] · op(B)[K,N]. op(A) = A stored [M,K], or A stored [K,M] when TRANS_A; op(B) = B
// stored [K,N], or [N,K] when TRANS_B. The flags let one kernel compute the forward product (X·Wᵀ) and both
// backward products (dY·W and dYᵀ·X) straight from the stored layouts, with no transposed copies.
//
// Epilogue, chosen by override constants, applied to each element of C after its sum:
//   BIAS:     C += E[col]                       (E = bias [N])
//   ACT:      C  = activate(C)                  (after the bias)
//   ACT_GRAD: C *= activate'(E[row, col])       (E = the activation's output [M,N]; backward of ACT)
// and, for the weight-gradient product Aᵀ·B of a Linear layer (dW = dYᵀ·X, A = dY stored [K = batch, M]):
//   BIAS_GRAD: D[m] = Σ_k A[k, m]              (the bias gradient, dY's column sums, in k order)
// computed by one extra column of workgroups (the last; `is_bias_grad_group`) that computes no tile of C,
// so the bias gradient costs no dispatch of its own. Each kernel file defines `a_at(k, m)`, the stored
// A[k, m] under TRANS_A, for `bias_grad_rows`. BIAS_GRAD goes with no other epilogue and no split K.
//
// Bindings, the same for every kernel of the family: 0 A (read), 1 B (read), 2 E (read; a dummy when the
// epilogue does not read it), 3 C (read_write), 4 D (read_write; a dummy without BIAS_GRAD), 5 Params.
// D and the Params are declared here; each kernel declares bindings 0–3 itself, as array<f32> or
// array<vec4f> (the autotuner checks that vec4 bindings are 16-byte aligned).
// WG_X and WG_Y are the workgroup size of the kernels that take it from the constants.

struct Params {
  M: u32,
  N: u32,
  K: u32,
  alpha: f32,
}

override TRANS_A: bool = false;
override TRANS_B: bool = false;
override BIAS: bool = false;
override ACT: u32 = 0u;
override ACT_GRAD: u32 = 0u;
override BIAS_GRAD: bool = false;
override WG_X: u32 = 8u;
override WG_Y: u32 = 8u;

@group(0) @binding(4) var<storage, read_write> d: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;

// Whether the epilogue reads E (when it does not, binding 2 is a 16-byte dummy).
fn epilogue_reads_e() -> bool {
  return BIAS || ACT_GRAD != 0u;
}

// The element of E that C[row, col] reads: the bias by column, or the activation output by element.
fn e_index(row: u32, col: u32) -> u32 {
  if (BIAS) { return col; }
  return row * params.N + col;
}

// The same for the vec4 of columns 4·cv .. 4·cv+3 (N % 4 == 0).
fn e_index4(row: u32, cv: u32) -> u32 {
  if (BIAS) { return cv; }
  return row * (params.N / 4u) + cv;
}

// One element's epilogue; `e_value` is E[e_index(row, col)] (anything when the epilogue reads no E).
fn epilogue(sum: f32, e_value: f32) -> f32 {
  var v = sum;
  if (BIAS) { v += e_value; }
  if (ACT != 0u) { v = activate(v, ACT, params.alpha); }
  if (ACT_GRAD != 0u) { v *= activate_grad(e_value, ACT_GRAD, params.alpha); }
  return v;
}

// Four columns' epilogue, component by component (the same arithmetic as `epilogue`).
fn epilogue4(sum: vec4f, e_value: vec4f) -> vec4f {
  return vec4f(epilogue(sum.x, e_value.x), epilogue(sum.y, e_value.y), epilogue(sum.z, e_value.z), epilogue(sum.w, e_value.w));
}

// Whether this workgroup is BIAS_GRAD's extra column, which computes D for its rows instead of a tile of C.
fn is_bias_grad_group(wid: vec3u, groups: vec3u) -> bool {
  return BIAS_GRAD && wid.x == groups.x - 1u;
}

// D[m] for the workgroup's rows row0 .. row0 + rows − 1, one row per invocation at a time, each summed in
// k order (as column_sum.wgsl sums a column).
fn bias_grad_rows(row0: u32, rows: u32, lid: u32, invocations: u32) {
  for (var r = lid; r < rows; r += invocations) {
    let m = row0 + r;
    if (m >= params.M) { return; }
    var sum = 0.0;
    for (var k = 0u; k < params.K; k++) { sum += a_at(k, m); }
    d[m] = sum;
  }
}
