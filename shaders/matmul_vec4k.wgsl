// C[M,N] = A[M,K] · Bᵀ (B stored [N,K]): a variant of the reference matmul (compiled after act_fns.wgsl and
// matmul_common.wgsl) for the forward product X·Wᵀ, where both operands are contiguous along K: A and B are
// read as vec4 along K, four k at a time. The autotuner (src/kernels/matmul_policy.ts) offers it only when
//   TRANS_A = false, TRANS_B = true, K % 4 == 0
// (so every row of A and B starts on a vec4 and the bindings are whole vec4s), and no all-vec4 kernel fits.
//
// Each invocation owns a 4×4 block of C (4×8 with WIDE). Every element is accumulated in k order, one
// multiply-add at a time, exactly as the reference does, so on a backend that neither fuses nor
// reorders (SwiftShader) the result is bitwise identical to matmul.wgsl's.

/** 4×8 blocks (two groups of four columns) instead of 4×4. */
override WIDE: bool = false;

@group(0) @binding(0) var<storage, read> a: array<vec4f>;
@group(0) @binding(1) var<storage, read> b: array<vec4f>;
@group(0) @binding(2) var<storage, read> e: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

// The stored A[k, m] under TRANS_A: the interface's, though this kernel never runs Aᵀ (nor BIAS_GRAD).
fn a_at(k: u32, m: u32) -> f32 {
  let i = k * params.M + m;
  return a[i / 4u][i % 4u];
}

// acc[j] += Σ_t av[t] · bj[t], the four k steps t applied one after the other.
fn mac4(acc: vec4f, av: vec4f, b0: vec4f, b1: vec4f, b2: vec4f, b3: vec4f) -> vec4f {
  var r = acc;
  r += av.x * vec4f(b0.x, b1.x, b2.x, b3.x);
  r += av.y * vec4f(b0.y, b1.y, b2.y, b3.y);
  r += av.z * vec4f(b0.z, b1.z, b2.z, b3.z);
  r += av.w * vec4f(b0.w, b1.w, b2.w, b3.w);
  return r;
}

fn store(row: u32, col: u32, value: f32) {
  if (row >= params.M || col >= params.N) { return; }
  var e_value = 0.0;
  if (epilogue_reads_e()) { e_value = e[e_index(row, col)]; }
  c[row * params.N + col] = epilogue(value, e_value);
}

fn store_block(row0: u32, col0: u32, acc0: vec4f, acc1: vec4f, acc2: vec4f, acc3: vec4f) {
  // var, not let: indexing a let array with a loop variable is rejected by older naga (Firefox) releases.
  var acc = array<vec4f, 4>(acc0, acc1, acc2, acc3);
  for (var i = 0u; i < 4u; i++) {
    for (var j = 0u; j < 4u; j++) {
      store(row0 + i, col0 + j, acc[i][j]);
    }
  }
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  // Selected only for A·Bᵀ; anything else is a selection bug, and the poisoned output shows it.
  if (TRANS_A || !TRANS_B) { return; }
  let width = select(4u, 8u, WIDE);
  let row0 = gid.y * 4u;
  let col0 = gid.x * width;
  if (row0 >= params.M || col0 >= params.N) { return; }

  let k4 = params.K / 4u;
  let last_row = params.M - 1u;
  let last_col = params.N - 1u;
  // Out-of-range rows and columns read clamped indices and are never stored: no branch in the loop.
  let ra = vec4u(row0, min(row0 + 1u, last_row), min(row0 + 2u, last_row), min(row0 + 3u, last_row)) * k4;
  let cb = vec4u(col0, min(col0 + 1u, last_col), min(col0 + 2u, last_col), min(col0 + 3u, last_col)) * k4;
  let cw = vec4u(min(col0 + 4u, last_col), min(col0 + 5u, last_col), min(col0 + 6u, last_col), min(col0 + 7u, last_col)) * k4;

  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  var wacc0 = vec4f(0.0);
  var wacc1 = vec4f(0.0);
  var wacc2 = vec4f(0.0);
  var wacc3 = vec4f(0.0);
  for (var k = 0u; k < k4; k++) {
    let a0 = a[ra.x + k];
    let a1 = a[ra.y + k];
    let a2 = a[ra.z + k];
    let a3 = a[ra.w + k];
    let b0 = b[cb.x + k];
    let b1 = b[cb.y + k];
    let b2 = b[cb.z + k];
    let b3 = b[cb.w + k];
    acc0 = mac4(acc0, a0, b0, b1, b2, b3);
    acc1 = mac4(acc1, a1, b0, b1, b2, b3);
    acc2 = mac4(acc2, a2, b0, b1, b2, b3);
    acc3 = mac4(acc3, a3, b0, b1, b2, b3);
    if (WIDE) {
      let b4 = b[cw.x + k];
      let b5 = b[cw.y + k];
      let b6 = b[cw.z + k];
      let b7 = b[cw.w + k];
      wacc0 = mac4(wacc0, a0, b4, b5, b6, b7);
      wacc1 = mac4(wacc1, a1, b4, b5, b6, b7);
      wacc2 = mac4(wacc2, a2, b4, b5, b6, b7);
      wacc3 = mac4(wacc3, a3, b4, b5, b6, b7);
    }
  }

  store_block(row0, col0, acc0, acc1, acc2, acc3);
  if (WIDE) { store_block(row0, col0 + 4u, wacc0, wacc1, wacc2, wacc3); }
}
