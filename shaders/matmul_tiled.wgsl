// C[M,N] = op(A)[M,K] · op(B)[K,N], with the fused epilogue of matmul.wgsl (compiled after act_fns.wgsl).
//
// A variant of the `matmul` kernel for discrete and integrated GPUs: a workgroup stages a (4·WG_Y)×16 tile
// of op(A) and a 16×(4·WG_X) tile of op(B) in workgroup memory, loaded cooperatively and coalesced for
// every transpose combination, then each invocation accumulates a 4×4 block of C from the tiles.
// Workgroup barriers make it slow on CPU Vulkan (SwiftShader); the autotuner decides per adapter.
// Any M, N, K and all TRANS_A / TRANS_B combinations: out-of-range tile elements are loaded as zero.
// Every element is accumulated in k order (adding the zero padding changes nothing).
//
// An invocation's block is strided: rows ly + WG_Y·i and columns lx + WG_X·j (i, j < 4), so neighbouring
// invocations read neighbouring tile words and store neighbouring columns.
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

const TILE_K: u32 = 16u;
// Workgroup arrays are sized by constants, never by overrides (WebKit rejects override-sized arrays), so
// they are sized for the largest workgroup the variants use: WG_X and WG_Y must be at most MAX_WG
// (test/kernels/wgsl_portability.test.ts checks the variant list). 2 × 4 KiB of workgroup memory.
const MAX_WG: u32 = 16u;

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read> e: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

// k-major tiles: tile_a[kk * TM + r], tile_b[kk * TN + col], TM = 4·WG_Y, TN = 4·WG_X.
var<workgroup> tile_a: array<f32, 4u * MAX_WG * TILE_K>;
var<workgroup> tile_b: array<f32, 4u * MAX_WG * TILE_K>;

fn load_a(row: u32, k: u32) -> f32 {
  if (row >= params.M || k >= params.K) { return 0.0; }
  if (TRANS_A) { return a[k * params.M + row]; }
  return a[row * params.K + k];
}

fn load_b(k: u32, col: u32) -> f32 {
  if (col >= params.N || k >= params.K) { return 0.0; }
  if (TRANS_B) { return b[col * params.K + k]; }
  return b[k * params.N + col];
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let tm = 4u * WG_Y;
  let tn = 4u * WG_X;
  let threads = WG_X * WG_Y;
  let flat = lid.y * WG_X + lid.x;
  let row0 = wid.y * tm;
  let col0 = wid.x * tn;

  var acc: array<vec4f, 4>;
  for (var k0 = 0u; k0 < params.K; k0 += TILE_K) {
    // Cooperative loads; the index order keeps consecutive invocations on consecutive addresses.
    for (var i = flat; i < tm * TILE_K; i += threads) {
      var r: u32;
      var kk: u32;
      if (TRANS_A) { r = i % tm; kk = i / tm; } else { kk = i % TILE_K; r = i / TILE_K; }
      tile_a[kk * tm + r] = load_a(row0 + r, k0 + kk);
    }
    for (var i = flat; i < tn * TILE_K; i += threads) {
      var col: u32;
      var kk: u32;
      if (TRANS_B) { kk = i % TILE_K; col = i / TILE_K; } else { col = i % tn; kk = i / tn; }
      tile_b[kk * tn + col] = load_b(k0 + kk, col0 + col);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TILE_K; kk++) {
      let bk = vec4f(
        tile_b[kk * tn + lid.x],
        tile_b[kk * tn + lid.x + WG_X],
        tile_b[kk * tn + lid.x + 2u * WG_X],
        tile_b[kk * tn + lid.x + 3u * WG_X],
      );
      for (var i = 0u; i < 4u; i++) {
        acc[i] += tile_a[kk * tm + lid.y + i * WG_Y] * bk;
      }
    }
    workgroupBarrier();
  }

  for (var i = 0u; i < 4u; i++) {
    let row = row0 + lid.y + i * WG_Y;
    if (row >= params.M) { continue; }
    for (var j = 0u; j < 4u; j++) {
      let col = col0 + lid.x + j * WG_X;
      if (col >= params.N) { continue; }
      var v = acc[i][j];
      if (BIAS) { v += e[col]; }
      if (ACT != 0u) { v = activate(v, ACT, params.alpha); }
      if (ACT_GRAD != 0u) { v *= activate_grad(e[row * params.N + col], ACT_GRAD, params.alpha); }
      c[row * params.N + col] = v;
    }
  }
}
