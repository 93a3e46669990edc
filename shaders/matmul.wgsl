// C[M,N] = op(A)[M,K] · op(B)[K,N], with a fused epilogue (compiled after act_fns.wgsl).
//
// op(A) = A stored [M,K], or A stored [K,M] when TRANS_A; op(B) = B stored [K,N], or [N,K] when TRANS_B.
// The flags let one kernel compute the forward product (X·Wᵀ) and both backward products
// (dY·W and dYᵀ·X) straight from the stored layouts, with no transposed copies.
//
// Epilogue, chosen by override constants:
//   BIAS:     C += E[col]                       (E = bias [N])
//   ACT:      C  = activate(C)                  (after the bias)
//   ACT_GRAD: C *= activate'(E[row, col])       (E = the activation's output [M,N]; backward of ACT)
//
// Register-blocked: each invocation owns a 4×4 block of C in registers and reads A and B directly, with
// no workgroup memory and no barriers (barriers are very costly on CPU Vulkan such as SwiftShader).
// Out-of-range rows and columns read clamped indices and are never stored, so the inner loop has no branch.
//
// Bindings: 0 A (read), 1 B (read), 2 E (read; a dummy when unused), 3 C (read_write), 4 Params.

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
override WG_X: u32 = 8u;
override WG_Y: u32 = 8u;

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read> e: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

fn load_a(row: u32, k: u32) -> f32 {
  if (TRANS_A) { return a[k * params.M + row]; }
  return a[row * params.K + k];
}

fn load_b(k: u32, col: u32) -> f32 {
  if (TRANS_B) { return b[col * params.K + k]; }
  return b[k * params.N + col];
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3u) {
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
      var v = acc[i][j];
      if (BIAS) { v += e[col]; }
      if (ACT != 0u) { v = activate(v, ACT, params.alpha); }
      if (ACT_GRAD != 0u) { v *= activate_grad(e[row * params.N + col], ACT_GRAD, params.alpha); }
      c[row * params.N + col] = v;
    }
  }
}
