// The sliding-window conv2d entry points (stride_w = 1) (compiled after act_fns.wgsl, conv_params.wgsl and conv2d.wgsl, whose header
// describes all three implementations, the bindings and the constants).

// ---- sliding-window variants for stride_w = 1: 4 channels × 8 consecutive columns ------------------------
// At stride 1 the eight columns of one tap read eight consecutive elements of one row, and the next tap
// (kw + 1) reads the same run shifted by one. So an invocation keeps the run in registers (lo, hi) and
// shifts in one new element per tap: per (channel, kernel row) 8 + KW loads of the row and 4·KW weight
// loads feed 32·KW multiply-adds, against 8 loads per 16 in the 4×4 kernels above.

fn row_at(base: i32, col: i32, width: i32) -> f32 {
  let valid = col >= 0 && col < width;
  return select(0.0, in0[u32(select(0, base + col, valid))], valid);
}

@compute @workgroup_size(WG)
fn forward_window(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let p = params;
  let col_blocks = (p.out_w + 7u) / 8u;
  let rows = p.batch * p.out_h;
  let i = flat_index(gid, groups);
  if (i >= col_blocks * rows * ((p.out_channels + 3u) / 4u)) { return; }
  let ow0 = (i % col_blocks) * 8u;
  let row = (i / col_blocks) % rows;
  let co0 = (i / (col_blocks * rows)) * 4u;
  let n = row / p.out_h;
  let oh = row % p.out_h;

  let hw = p.in_h * p.in_w;
  let khw = p.kernel_h * p.kernel_w;
  let w_rows = channels4(co0, p.out_channels) * taps();
  let ih0 = i32(oh * p.stride_h) - i32(p.pad_h);
  let iw0 = i32(ow0) - i32(p.pad_w); // column j at tap kw reads iw0 + j + kw
  let width = i32(p.in_w);

  var a0l = vec4f(0.0); // a{c}{l,h}: channel co0 + c, columns 0–3 (l) and 4–7 (h)
  var a0h = vec4f(0.0);
  var a1l = vec4f(0.0);
  var a1h = vec4f(0.0);
  var a2l = vec4f(0.0);
  var a2h = vec4f(0.0);
  var a3l = vec4f(0.0);
  var a3h = vec4f(0.0);
  for (var kh = 0u; kh < p.kernel_h; kh++) {
    let ih = ih0 + i32(kh);
    if (ih < 0 || ih >= i32(p.in_h)) { continue; }
    var base = i32(n * p.in_channels * hw) + ih * width;
    var wi = w_rows + kh * p.kernel_w;
    for (var ci = 0u; ci < p.in_channels; ci++) {
      var lo = vec4f(row_at(base, iw0, width), row_at(base, iw0 + 1, width), row_at(base, iw0 + 2, width), row_at(base, iw0 + 3, width));
      var hi = vec4f(row_at(base, iw0 + 4, width), row_at(base, iw0 + 5, width), row_at(base, iw0 + 6, width), row_at(base, iw0 + 7, width));
      var next = iw0 + 8;
      for (var kw = 0u; kw < p.kernel_w; kw++) {
        let w0 = in1[wi.x + kw];
        let w1 = in1[wi.y + kw];
        let w2 = in1[wi.z + kw];
        let w3 = in1[wi.w + kw];
        a0l += w0 * lo;
        a0h += w0 * hi;
        a1l += w1 * lo;
        a1h += w1 * hi;
        a2l += w2 * lo;
        a2h += w2 * hi;
        a3l += w3 * lo;
        a3h += w3 * hi;
        lo = vec4f(lo.yzw, hi.x);
        hi = vec4f(hi.yzw, row_at(base, next, width));
        next += 1;
      }
      base += i32(hw);
      wi += khw;
    }
  }

  var acc = array<vec4f, 8>(a0l, a0h, a1l, a1h, a2l, a2h, a3l, a3h);
  let ohw = p.out_h * p.out_w;
  for (var c = 0u; c < 4u; c++) {
    let co = co0 + c;
    if (co >= p.out_channels) { break; }
    let out_base = (n * p.out_channels + co) * ohw + oh * p.out_w;
    for (var j = 0u; j < 8u; j++) {
      if (ow0 + j >= p.out_w) { break; }
      out[out_base + ow0 + j] = forward_epilogue(acc[2u * c + j / 4u][j % 4u], co);
    }
  }
}

// dx at stride_w = 1: column j of input row ih gets dy[ow = iw0 + j + pw − kw]; walking kw from KW − 1
// down to 0 moves that run of dy forward by one element per tap, the same window as the forward pass.
@compute @workgroup_size(WG)
fn grad_input_window(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let p = params;
  let col_blocks = (p.in_w + 7u) / 8u;
  let rows = p.batch * p.in_h;
  let i = flat_index(gid, groups);
  if (i >= col_blocks * rows * ((p.in_channels + 3u) / 4u)) { return; }
  let iw0 = (i % col_blocks) * 8u;
  let row = (i / col_blocks) % rows;
  let ci0 = (i / (col_blocks * rows)) * 4u;
  let n = row / p.in_h;
  let ih = row % p.in_h;

  let ohw = p.out_h * p.out_w;
  let khw = p.kernel_h * p.kernel_w;
  let w_step = p.in_channels * khw;
  let w_cols = channels4(ci0, p.in_channels) * khw;
  let width = i32(p.out_w);
  let ow_start = i32(iw0 + p.pad_w) - i32(p.kernel_w - 1u); // the run at kw = KW − 1

  var a0l = vec4f(0.0); // a{c}{l,h}: channel ci0 + c, columns 0–3 (l) and 4–7 (h)
  var a0h = vec4f(0.0);
  var a1l = vec4f(0.0);
  var a1h = vec4f(0.0);
  var a2l = vec4f(0.0);
  var a2h = vec4f(0.0);
  var a3l = vec4f(0.0);
  var a3h = vec4f(0.0);
  for (var kh = (ih + p.pad_h) % p.stride_h; kh < p.kernel_h && kh <= ih + p.pad_h; kh += p.stride_h) {
    let oh = (ih + p.pad_h - kh) / p.stride_h;
    if (oh >= p.out_h) { continue; }
    var base = i32(n * p.out_channels * ohw + oh * p.out_w);
    var wi = w_cols + kh * p.kernel_w + (p.kernel_w - 1u);
    for (var co = 0u; co < p.out_channels; co++) {
      var lo = vec4f(row_at(base, ow_start, width), row_at(base, ow_start + 1, width), row_at(base, ow_start + 2, width), row_at(base, ow_start + 3, width));
      var hi = vec4f(row_at(base, ow_start + 4, width), row_at(base, ow_start + 5, width), row_at(base, ow_start + 6, width), row_at(base, ow_start + 7, width));
      var next = ow_start + 8;
      for (var s = 0u; s < p.kernel_w; s++) { // kw = KW − 1 − s
        let w0 = in1[wi.x - s];
        let w1 = in1[wi.y - s];
        let w2 = in1[wi.z - s];
        let w3 = in1[wi.w - s];
        a0l += w0 * lo;
        a0h += w0 * hi;
        a1l += w1 * lo;
        a1h += w1 * hi;
        a2l += w2 * lo;
        a2h += w2 * hi;
        a3l += w3 * lo;
        a3h += w3 * hi;
        lo = vec4f(lo.yzw, hi.x);
        hi = vec4f(hi.yzw, row_at(base, next, width));
        next += 1;
      }
      base += i32(ohw);
      wi += w_step;
    }
  }

  var acc = array<vec4f, 8>(a0l, a0h, a1l, a1h, a2l, a2h, a3l, a3h);
  let hw = p.in_h * p.in_w;
  for (var c = 0u; c < 4u; c++) {
    let ci = ci0 + c;
    if (ci >= p.in_channels) { break; }
    let out_base = (n * p.in_channels + ci) * hw + ih * p.in_w;
    for (var j = 0u; j < 8u; j++) {
      if (iw0 + j >= p.in_w) { break; }
      out[out_base + iw0 + j] = grad_input_epilogue(acc[2u * c + j / 4u][j % 4u], out_base + iw0 + j);
    }
  }
}

// dw at stride_w = 1 and KW ≤ 8: an invocation owns 4 output channels × one kernel row (ci, kh), all KW
// taps of it in eight lanes (only the first WINDOW_KW multiplied). Tap kw at output column ow reads
// x[ow + kw − pw], so along ow the eight taps read a run that moves by one element: per output column
// 1 row load and 4 dy loads feed 4·KW multiply-adds. With BIAS, one invocation per channel block and
// split sums dy (db), as in grad_weight; these come after all the weight invocations.
// On SwiftShader (bench/conv.mjs, MNIST conv1's dw at batch 128, 2026-12-04) the kernel-width constant, the
// bias invocations at the end and two columns per loop step took it from 72.7 to 38–39 ms.

@compute @workgroup_size(WG)
fn grad_weight_window(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let p = params;
  let k = taps();
  let kernel_rows = p.in_channels * p.kernel_h;
  let co_blocks = (p.out_channels + 3u) / 4u;
  let weight_invocations = kernel_rows * co_blocks * p.splits;
  let i = flat_index(gid, groups);
  // The bias invocations come last, so few SIMD groups hold both kinds: a mixed group runs both loops
  // on a CPU adapter, and a runtime-uniform branch inside the loop costs as much there.
  let is_bias = i >= weight_invocations;
  if (i >= weight_invocations + select(0u, co_blocks * p.splits, BIAS)) { return; }
  let j = select(i, i - weight_invocations, is_bias);
  let kr = select(j % kernel_rows, 0u, is_bias);
  let co0 = select((j / kernel_rows) % co_blocks, j % co_blocks, is_bias) * 4u;
  let s = select(j / (kernel_rows * co_blocks), j / co_blocks, is_bias);
  let rows = p.batch * p.out_h;
  let r0 = min(s * p.rows_per_split, rows);
  let r1 = min(r0 + p.rows_per_split, rows);
  let ohw = p.out_h * p.out_w;
  let co = channels4(co0, p.out_channels);
  let s_base = s * (p.out_channels * k + select(0u, p.out_channels, BIAS));

  if (is_bias) {
    var sum = vec4f(0.0);
    for (var r = r0; r < r1; r++) {
      var di = ((r / p.out_h) * p.out_channels + co) * ohw + (r % p.out_h) * p.out_w;
      for (var ow = 0u; ow < p.out_w; ow++) {
        sum += vec4f(in0[di.x], in0[di.y], in0[di.z], in0[di.w]);
        di += 1u;
      }
    }
    for (var c = 0u; c < 4u; c++) {
      if (co0 + c >= p.out_channels) { break; }
      out[s_base + p.out_channels * k + co0 + c] = sum[c];
    }
    return;
  }

  let ci = kr / p.kernel_h;
  let kh = kr % p.kernel_h;
  let hw = p.in_h * p.in_w;
  let width = i32(p.in_w);
  let col0 = -i32(p.pad_w); // the run at ow = 0 starts at iw = −pw

  var t = WeightTaps(vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0));
  for (var r = r0; r < r1; r++) {
    let n = r / p.out_h;
    let oh = r % p.out_h;
    let ih = i32(oh * p.stride_h + kh) - i32(p.pad_h);
    if (ih < 0 || ih >= i32(p.in_h)) { continue; }
    let base = i32((n * p.in_channels + ci) * hw) + ih * width;
    var lo = vec4f(row_at1(base, col0, width), row_at1(base, col0 + 1, width), row_at1(base, col0 + 2, width), row_at1(base, col0 + 3, width));
    var hi = vec4f(row_at1(base, col0 + 4, width), row_at1(base, col0 + 5, width), row_at1(base, col0 + 6, width), row_at1(base, col0 + 7, width));
    var next = col0 + 8;
    var di = (n * p.out_channels + co) * ohw + oh * p.out_w;
    var ow = 0u;
    // Two output columns a step: the loop's own cost (a CPU adapter merges every loop-carried value
    // under the lane mask at the back edge) is paid once per 2·4·KW multiply-adds.
    for (; ow + 1u < p.out_w; ow += 2u) {
      let d = vec4f(in0[di.x], in0[di.y], in0[di.z], in0[di.w]);
      let e = vec4f(in0[di.x + 1u], in0[di.y + 1u], in0[di.z + 1u], in0[di.w + 1u]);
      t = add_column(t, d, lo, hi);
      let lo1 = vec4f(lo.yzw, hi.x);
      let hi1 = vec4f(hi.yzw, row_at1(base, next, width));
      t = add_column(t, e, lo1, hi1);
      lo = vec4f(lo1.yzw, hi1.x);
      hi = vec4f(hi1.yzw, row_at1(base, next + 1, width));
      next += 2;
      di += 2u;
    }
    if (ow < p.out_w) {
      t = add_column(t, vec4f(in0[di.x], in0[di.y], in0[di.z], in0[di.w]), lo, hi);
    }
  }

  var acc = array<vec4f, 8>(t.a0l, t.a0h, t.a1l, t.a1h, t.a2l, t.a2h, t.a3l, t.a3h);
  for (var c = 0u; c < 4u; c++) {
    if (co0 + c >= p.out_channels) { break; }
    let base = s_base + (co0 + c) * k + (ci * p.kernel_h + kh) * p.kernel_w;
    for (var j = 0u; j < p.kernel_w; j++) {
      out[base + j] = acc[2u * c + j / 4u][j % 4u];
    }
  }
}

// row_at for binding 1 (x in the weight gradient).
fn row_at1(base: i32, col: i32, width: i32) -> f32 {
  let valid = col >= 0 && col < width;
  return select(0.0, in1[u32(select(0, base + col, valid))], valid);
}

// The kernel width of grad_weight_window as a constant (the lowering sets it to KW ≤ 8): taps past KW
// are never multiplied, so KW = 5 costs 20 multiply-adds per output column instead of 32.
override WINDOW_KW: u32 = 8u;

fn taps_lo(acc: vec4f, d: f32, v: vec4f) -> vec4f {
  if (WINDOW_KW >= 4u) { return acc + d * v; }
  var a = acc;
  a.x += d * v.x;
  if (WINDOW_KW > 1u) { a.y += d * v.y; }
  if (WINDOW_KW > 2u) { a.z += d * v.z; }
  return a;
}

fn taps_hi(acc: vec4f, d: f32, v: vec4f) -> vec4f {
  if (WINDOW_KW >= 8u) { return acc + d * v; }
  var a = acc;
  a.x += d * v.x;
  if (WINDOW_KW > 5u) { a.y += d * v.y; }
  if (WINDOW_KW > 6u) { a.z += d * v.z; }
  return a;
}

// grad_weight_window's accumulators: a{c}{l,h} for channel co0 + c, taps kw 0–3 (l) and 4–7 (h).
struct WeightTaps { a0l: vec4f, a0h: vec4f, a1l: vec4f, a1h: vec4f, a2l: vec4f, a2h: vec4f, a3l: vec4f, a3h: vec4f }

// One output column: dy of the 4 channels (d) times the KW row elements under the taps (lo, hi).
fn add_column(t: WeightTaps, d: vec4f, lo: vec4f, hi: vec4f) -> WeightTaps {
  var u = t;
  u.a0l = taps_lo(u.a0l, d.x, lo);
  u.a1l = taps_lo(u.a1l, d.y, lo);
  u.a2l = taps_lo(u.a2l, d.z, lo);
  u.a3l = taps_lo(u.a3l, d.w, lo);
  if (WINDOW_KW > 4u) {
    u.a0h = taps_hi(u.a0h, d.x, hi);
    u.a1h = taps_hi(u.a1h, d.y, hi);
    u.a2h = taps_hi(u.a2h, d.z, hi);
    u.a3h = taps_hi(u.a3h, d.w, hi);
  }
  return u;
}
