// The workgroup-tiled conv2d entry point (MODE 0, 1, 2) (compiled after act_fns.wgsl, conv_params.wgsl and conv2d.wgsl, whose header
// describes all three implementations, the bindings and the constants).

// ---- tiled implicit GEMM for GPUs: C[M × cols] = A[M × Kr] · B[Kr × cols], MODE picks the operands ------
//   MODE 0 forward:     M = Co, cols = N·OH·OW, Kr = K;       A = w,  B = im2col(x)
//   MODE 1 grad_input:  M = Ci, cols = N·H·W,   Kr = Co·KH·KW; A = wᵀ, B = the dy each tap gathers
//   MODE 2 grad_weight: M = Co, cols = K (+1),  Kr = the split's rows·OW; A = dy, B = im2col(x)ᵀ (a column
//                       of ones for the bias), split s = workgroup_id.z
// Out-of-range rows, columns and reduction indices load as zero.

const TILE: u32 = 32u;   // output tile: TILE × TILE, 8×8 invocations each owning a strided 4×4 block
const TILE_K: u32 = 16u;
const TILE_WG: u32 = 8u;

var<workgroup> tile_a: array<f32, 2u * TILE_K * TILE>; // [buffer][kk][row]
var<workgroup> tile_b: array<f32, 2u * TILE_K * TILE>; // [buffer][kk][col]

fn gemm_rows() -> u32 {
  if (MODE == 1u) { return params.in_channels; }
  return params.out_channels;
}

fn gemm_cols() -> u32 {
  if (MODE == 0u) { return params.batch * params.out_h * params.out_w; }
  if (MODE == 1u) { return params.batch * params.in_h * params.in_w; }
  return taps() + select(0u, 1u, BIAS);
}

fn gemm_depth() -> u32 {
  if (MODE == 0u) { return taps(); }
  if (MODE == 1u) { return params.out_channels * params.kernel_h * params.kernel_w; }
  return params.rows_per_split * params.out_w;
}

// x[n, ci, oh·sh + kh − ph, ow·sw + kw − pw] for tap t = (ci, kh, kw), or 0 in the padding.
fn im2col(t: u32, n: u32, oh: u32, ow: u32) -> f32 {
  let p = params;
  let khw = p.kernel_h * p.kernel_w;
  let ci = t / khw;
  let kh = (t % khw) / p.kernel_w;
  let kw = t % p.kernel_w;
  let ih = i32(oh * p.stride_h + kh) - i32(p.pad_h);
  let iw = i32(ow * p.stride_w + kw) - i32(p.pad_w);
  if (ih < 0 || iw < 0 || ih >= i32(p.in_h) || iw >= i32(p.in_w)) { return 0.0; }
  let index = ((n * p.in_channels + ci) * p.in_h + u32(ih)) * p.in_w + u32(iw);
  if (MODE == 0u) { return in0[index]; }
  return in1[index];
}

// The (n, oh, ow) of reduction index kr in split s (MODE 2), or n = batch when past the split's rows.
fn split_position(s: u32, kr: u32) -> vec3u {
  let p = params;
  let r = s * p.rows_per_split + kr / p.out_w;
  if (kr >= p.rows_per_split * p.out_w || r >= p.batch * p.out_h) { return vec3u(p.batch, 0u, 0u); }
  return vec3u(r / p.out_h, r % p.out_h, kr % p.out_w);
}

fn load_a(row: u32, kr: u32, s: u32) -> f32 {
  let p = params;
  if (row >= gemm_rows() || kr >= gemm_depth()) { return 0.0; }
  if (MODE == 0u) { return in1[row * taps() + kr]; }
  if (MODE == 1u) {
    // kr = (co, kh, kw); w[co, ci = row, kh, kw]
    let khw = p.kernel_h * p.kernel_w;
    return in1[((kr / khw) * p.in_channels + row) * khw + kr % khw];
  }
  let pos = split_position(s, kr);
  if (pos.x >= p.batch) { return 0.0; }
  return in0[((pos.x * p.out_channels + row) * p.out_h + pos.y) * p.out_w + pos.z];
}

fn load_b(kr: u32, col: u32, s: u32) -> f32 {
  let p = params;
  if (col >= gemm_cols() || kr >= gemm_depth()) { return 0.0; }
  if (MODE == 0u) {
    let ohw = p.out_h * p.out_w;
    let pix = col % ohw;
    return im2col(kr, col / ohw, pix / p.out_w, pix % p.out_w);
  }
  if (MODE == 1u) {
    // kr = (co, kh, kw), col = (n, ih, iw): dy[n, co, oh, ow] where oh·sh + kh − ph = ih, likewise ow.
    let khw = p.kernel_h * p.kernel_w;
    let co = kr / khw;
    let kh = (kr % khw) / p.kernel_w;
    let kw = kr % p.kernel_w;
    let hw = p.in_h * p.in_w;
    let n = col / hw;
    let pix = col % hw;
    let th = pix / p.in_w + p.pad_h;
    let tw = pix % p.in_w + p.pad_w;
    if (th < kh || tw < kw || (th - kh) % p.stride_h != 0u || (tw - kw) % p.stride_w != 0u) { return 0.0; }
    let oh = (th - kh) / p.stride_h;
    let ow = (tw - kw) / p.stride_w;
    if (oh >= p.out_h || ow >= p.out_w) { return 0.0; }
    return in0[((n * p.out_channels + co) * p.out_h + oh) * p.out_w + ow];
  }
  let pos = split_position(s, kr);
  if (pos.x >= p.batch) { return 0.0; }
  if (col == taps()) { return 1.0; } // the bias column
  return im2col(col, pos.x, pos.y, pos.z);
}

fn store_tiled(row: u32, col: u32, s: u32, sum: f32) {
  let p = params;
  if (MODE == 0u) {
    let ohw = p.out_h * p.out_w;
    out[((col / ohw) * p.out_channels + row) * ohw + col % ohw] = forward_epilogue(sum, row);
  } else if (MODE == 1u) {
    let hw = p.in_h * p.in_w;
    let index = ((col / hw) * p.in_channels + row) * hw + col % hw;
    out[index] = grad_input_epilogue(sum, index);
  } else {
    let k = taps();
    let base = s * (p.out_channels * k + select(0u, p.out_channels, BIAS));
    out[base + select(row * k + col, p.out_channels * k + row, col == k)] = sum;
  }
}

@compute @workgroup_size(TILE_WG, TILE_WG)
fn tiled(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let flat = lid.y * TILE_WG + lid.x;
  // MODE 2: z is the split. Otherwise z folds column tiles past 65,535.
  let s = select(0u, wid.z, MODE == 2u);
  let col_tile = select(wid.x + wid.z * groups.x, wid.x, MODE == 2u);
  let row0 = wid.y * TILE;
  let col0 = col_tile * TILE;
  let steps = (gemm_depth() + TILE_K - 1u) / TILE_K;

  var acc: array<vec4f, 4>;
  // Stage step 0 into buffer 0; then each step loads the next one into the other buffer while computing
  // on this one, and one barrier both publishes the next tile and retires this one.
  load_tiles(0u, 0u, row0, col0, s, flat);
  workgroupBarrier();
  for (var step = 0u; step < steps; step++) {
    let buf = step % 2u;
    if (step + 1u < steps) { load_tiles((step + 1u) * TILE_K, 1u - buf, row0, col0, s, flat); }
    let a_base = buf * TILE_K * TILE;
    for (var kk = 0u; kk < TILE_K; kk++) {
      let b_row = a_base + kk * TILE + lid.x;
      let bk = vec4f(tile_b[b_row], tile_b[b_row + TILE_WG], tile_b[b_row + 2u * TILE_WG], tile_b[b_row + 3u * TILE_WG]);
      let a_row = a_base + kk * TILE + lid.y;
      for (var i = 0u; i < 4u; i++) {
        acc[i] += tile_a[a_row + i * TILE_WG] * bk;
      }
    }
    workgroupBarrier();
  }

  let rows = gemm_rows();
  let cols = gemm_cols();
  for (var i = 0u; i < 4u; i++) {
    let row = row0 + lid.y + i * TILE_WG;
    if (row >= rows) { continue; }
    for (var j = 0u; j < 4u; j++) {
      let col = col0 + lid.x + j * TILE_WG;
      if (col >= cols) { continue; }
      store_tiled(row, col, s, acc[i][j]);
    }
  }
}

// Cooperative loads of one K step: 512 elements of each tile by 64 invocations. Neighbouring invocations
// take neighbouring addresses: along the reduction for A (w rows, dy rows) and for MODE 2's B (x rows),
// along the columns for B otherwise (output or input pixels).
fn load_tiles(k0: u32, buf: u32, row0: u32, col0: u32, s: u32, flat: u32) {
  let base = buf * TILE_K * TILE;
  for (var e = flat; e < TILE_K * TILE; e += TILE_WG * TILE_WG) {
    let kk = e % TILE_K;
    let r = e / TILE_K;
    tile_a[base + kk * TILE + r] = load_a(row0 + r, k0 + kk, s);
    if (MODE == 2u) {
      tile_b[base + kk * TILE + r] = load_b(k0 + kk, col0 + r, s);
    } else {
      let col = e % TILE;
      let kb = e / TILE;
      tile_b[base + kb * TILE + col] = load_b(k0 + kb, col0 + col, s);
    }
  }
}
