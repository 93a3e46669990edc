// A register- and workgroup-tiled matmul for GPUs (compiled after act_fns.wgsl and matmul_common.wgsl,
// which define C = op(A)·op(B), the epilogue, the bindings and the constants).
//
// A workgroup of 16×16 invocations computes a TILE_M×64 tile of C (TILE_M = 64 or 128); each invocation
// owns TILE_M/16 rows × 4 columns of it in registers: rows (TILE_M/16)·ly + r, columns 4·lx .. 4·lx+3.
// K is walked in tiles of TILE_K = 8. The A and B tiles sit in workgroup memory, double buffered: while
// the invocations multiply out tile t from one buffer, their global loads of tile t+1 are in flight, and
// they deposit them into the other buffer afterwards, so each K tile costs one barrier.
//
// Loads are vec4 along each operand's contiguous dimension (K for A and Bᵀ, M for Aᵀ, N for B), so
//   A: TRANS_A ? M % 4 == 0 : K % 4 == 0     B: TRANS_B ? K % 4 == 0 : N % 4 == 0     C, E: N % 4 == 0
// and every transpose combination works. Elements past M, N or K load as zero and are never stored.
//
// Workgroup memory, k-major (a tile row holds one k): reads are conflict-free (a warp reads 16 consecutive
// vec4 of B and broadcasts 1 or 2 of A). The loads that run along K (A, Bᵀ) are deposited transposed, one
// float per k; a k row is padded to 132 (A) or 68 (B) floats, both ≡ 4 mod 32, so the 32 invocations of a
// warp (16 rows × two vec4 along K) write 32 distinct banks. Sized for TILE_M = 128 (12.8 KB in all, within
// WebGPU's 16 KB default); TILE_M = 64 uses half of the A tile.
//
// SPLIT_K > 1 (split-K): workgroup z takes its share of the K tiles and writes its raw partial sums
// to c[z·M·N + row·N + col] (c is then the scratch buffer) with no epilogue; matmul_split_k.wgsl adds
// the SPLIT_K partials in order and applies the epilogue. With SPLIT_K = 1 every element is summed in
// k order, one multiply-add at a time, as the reference sums it (the zero padding adds nothing).

override TILE_M: u32 = 64u;
override SPLIT_K: u32 = 1u;

const TILE_N: u32 = 64u;
const TILE_K: u32 = 8u;
const THREADS: u32 = 256u;
// vec4 per k row of each tile, padding included.
const A_ROW: u32 = 33u;
const B_ROW: u32 = 17u;
const A_BUFFER: u32 = TILE_K * A_ROW;
const B_BUFFER: u32 = TILE_K * B_ROW;

@group(0) @binding(0) var<storage, read> a: array<vec4f>;
@group(0) @binding(1) var<storage, read> b: array<vec4f>;
@group(0) @binding(2) var<storage, read> e: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> c: array<vec4f>;

var<workgroup> tile_a: array<vec4f, 2u * A_BUFFER>;
var<workgroup> tile_b: array<vec4f, 2u * B_BUFFER>;

// The stored A[k, m] under TRANS_A (for BIAS_GRAD's sums).
fn a_at(k: u32, m: u32) -> f32 {
  let i = k * params.M + m;
  return a[i / 4u][i % 4u];
}

// vec4 loads of one K tile: the A tile's first, then the B tile's.
fn a_loads() -> u32 { return TILE_M * TILE_K / 4u; }
fn tile_loads() -> u32 { return a_loads() + TILE_K * TILE_N / 4u; }

// The i-th vec4 of the tiles at k0 (zero where it lies past M, N or K).
fn fetch(i: u32, k0: u32, row0: u32, col0: u32) -> vec4f {
  if (i < a_loads()) {
    if (TRANS_A) {
      // A stored [K,M]: a k row of the tile is TILE_M/4 vec4 along M.
      let per_row = TILE_M / 4u;
      let row = row0 + 4u * (i % per_row);
      let k = k0 + i / per_row;
      if (row >= params.M || k >= params.K) { return vec4f(0.0); }
      return a[k * (params.M / 4u) + row / 4u];
    }
    // A stored [M,K]: a row of A holds TILE_K / 4 = 2 vec4 of the tile.
    let row = row0 + i / 2u;
    let k = k0 + 4u * (i % 2u);
    if (row >= params.M || k >= params.K) { return vec4f(0.0); }
    return a[row * (params.K / 4u) + k / 4u];
  }
  let j = i - a_loads();
  if (TRANS_B) {
    // B stored [N,K]: a column of op(B) holds 2 vec4 of the tile.
    let col = col0 + j / 2u;
    let k = k0 + 4u * (j % 2u);
    if (col >= params.N || k >= params.K) { return vec4f(0.0); }
    return b[col * (params.K / 4u) + k / 4u];
  }
  // B stored [K,N]: a k row of the tile is 16 vec4 along N.
  let col = col0 + 4u * (j % 16u);
  let k = k0 + j / 16u;
  if (col >= params.N || k >= params.K) { return vec4f(0.0); }
  return b[k * (params.N / 4u) + col / 4u];
}

// Stores the i-th vec4 fetched into tile buffer `buffer` (0 or 1).
fn deposit(i: u32, buffer: u32, v: vec4f) {
  if (i < a_loads()) {
    let base = buffer * A_BUFFER;
    if (TRANS_A) {
      let per_row = TILE_M / 4u;
      tile_a[base + (i / per_row) * A_ROW + i % per_row] = v;
      return;
    }
    // Four k of one row: one float into each of four k rows.
    let m = i / 2u;
    let k = 4u * (i % 2u);
    for (var t = 0u; t < 4u; t++) {
      tile_a[base + (k + t) * A_ROW + m / 4u][m % 4u] = v[t];
    }
    return;
  }
  let j = i - a_loads();
  let base = buffer * B_BUFFER;
  if (TRANS_B) {
    let n = j / 2u;
    let k = 4u * (j % 2u);
    for (var t = 0u; t < 4u; t++) {
      tile_b[base + (k + t) * B_ROW + n / 4u][n % 4u] = v[t];
    }
    return;
  }
  tile_b[base + (j / 16u) * B_ROW + j % 16u] = v;
}

@compute @workgroup_size(16, 16)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) groups: vec3u,
  @builtin(local_invocation_id) lid: vec3u,
  @builtin(local_invocation_index) flat: u32,
) {
  // Uniform per workgroup, so the barriers below stay in uniform control flow.
  if (is_bias_grad_group(wid, groups)) {
    bias_grad_rows(wid.y * TILE_M, TILE_M, flat, THREADS);
    return;
  }
  let rows = TILE_M / 16u;
  let row0 = wid.y * TILE_M;
  let col0 = wid.x * TILE_N;

  // This workgroup's K tiles: all of them, or split z's share.
  let tiles = (params.K + TILE_K - 1u) / TILE_K;
  let share = (tiles + SPLIT_K - 1u) / SPLIT_K;
  let first = min(tiles, wid.z * share);
  let last = min(tiles, first + share);

  // Each invocation fetches at most two vec4 per K tile (256 or 384 of them for 256 invocations).
  let i0 = flat;
  let i1 = flat + THREADS;
  let loads = tile_loads();

  var acc: array<vec4f, 8>;
  if (first < last) {
    deposit(i0, 0u, fetch(i0, first * TILE_K, row0, col0));
    if (i1 < loads) { deposit(i1, 0u, fetch(i1, first * TILE_K, row0, col0)); }
    workgroupBarrier();
    var buffer = 0u;
    for (var t = first; t < last; t++) {
      let more = t + 1u < last;
      var next0 = vec4f(0.0);
      var next1 = vec4f(0.0);
      if (more) {
        next0 = fetch(i0, (t + 1u) * TILE_K, row0, col0);
        if (i1 < loads) { next1 = fetch(i1, (t + 1u) * TILE_K, row0, col0); }
      }
      let a_base = buffer * A_BUFFER + lid.y * (rows / 4u);
      let b_base = buffer * B_BUFFER + lid.x;
      for (var kk = 0u; kk < TILE_K; kk++) {
        let bv = tile_b[b_base + kk * B_ROW];
        for (var q = 0u; q < rows / 4u; q++) {
          let av = tile_a[a_base + kk * A_ROW + q];
          acc[4u * q] += av.x * bv;
          acc[4u * q + 1u] += av.y * bv;
          acc[4u * q + 2u] += av.z * bv;
          acc[4u * q + 3u] += av.w * bv;
        }
      }
      if (more) {
        // The other buffer was last read before the previous barrier.
        deposit(i0, 1u - buffer, next0);
        if (i1 < loads) { deposit(i1, 1u - buffer, next1); }
      }
      workgroupBarrier();
      buffer = 1u - buffer;
    }
  }

  let n4 = params.N / 4u;
  let cv = col0 / 4u + lid.x;
  if (cv >= n4) { return; }
  for (var r = 0u; r < rows; r++) {
    let row = row0 + lid.y * rows + r;
    if (row >= params.M) { return; }
    if (SPLIT_K > 1u) {
      c[(wid.z * params.M + row) * n4 + cv] = acc[r];
    } else {
      var e_value = vec4f(0.0);
      if (epilogue_reads_e()) { e_value = e[e_index4(row, cv)]; }
      c[row * n4 + cv] = epilogue4(acc[r], e_value);
    }
  }
}
