// 2-D convolution on NCHW float32 tensors (PyTorch's layout), forward and both gradients, as implicit
// GEMMs (compiled after act_fns.wgsl). With K = Ci·KH·KW taps and zero padding:
//
//   forward      y[n,co,oh,ow]  = Σ_{ci,kh,kw} x[n,ci,oh·sh+kh−ph, ow·sw+kw−pw] · w[co,ci,kh,kw]  (+ b[co])
//                               per sample the GEMM [Co × K]·[K × OH·OW]; epilogue: bias, activate (ACT)
//   grad_input   dx[n,ci,ih,iw] = Σ_{co,kh,kw} dy[n,co,oh,ow] · w[co,ci,kh,kw], over the (oh, ow) with
//                               oh·sh+kh−ph = ih and ow·sw+kw−pw = iw (a gather: no atomics);
//                               epilogue: · activate'(v[n,ci,ih,iw]) (ACT_GRAD, the previous layer's act)
//   grad_weight  partials[s, co·K + tap] = Σ_{(n,oh) in split s, ow} dy[n,co,oh,ow] · x[n,ci,ih,iw]
//                partials[s, Co·K + co]  = Σ_{(n,oh) in split s, ow} dy[n,co,oh,ow]       (BIAS: db)
//                the reduction over N·OH·OW is split into `splits` ranges of whole output rows (n, oh);
//                partial_sum.wgsl adds the splits in a fixed order (deterministic, no atomics).
//
// Three implementations, all with the same bindings, Params and override constants (the lowering picks
// one per computation, src/kernels/lower_conv.ts; a tuner may swap them):
//   forward, grad_input, grad_weight     register-blocked: an invocation owns 4 channels × 4 columns (taps
//       for grad_weight) of the output in registers, reads operands straight from storage, no workgroup
//       memory, no barrier. Index math is hoisted out of the inner loop (over input or output channels),
//       whose body is 8 loads and 16 multiply-adds. Made for CPU Vulkan (SwiftShader pays per barrier and
//       per workgroup), any stride and padding.
//   forward_window, grad_input_window, grad_weight_window   the same at stride_w = 1 with a sliding
//       window along the row: 4 channels × 8 columns (or × one kernel row of ≤ 8 taps), one new row
//       element loaded per tap instead of four.
//   tiled (MODE 0 forward, 1 grad_input, 2 grad_weight)   a workgroup of 8×8 invocations computes a 32×32
//       output tile; 32×16 tiles of both operands are staged in workgroup memory, loaded coalesced by
//       all 64 invocations, double-buffered so each 16-deep K step costs one barrier. For GPUs.
// Every output element is a plain float32 sum in a fixed order: the same inputs give the same bits.
//
// Bindings (one set for all entry points; partial_sum.wgsl does the second pass of grad_weight):
//   0 in0 (read)   forward: x [N,Ci,H,W]    grad_input: dy [N,Co,OH,OW]   grad_weight: dy
//   1 in1 (read)   forward: w [Co,Ci,KH,KW] grad_input: w                 grad_weight: x
//   2 epi (read)   forward: bias [Co]       grad_input: v [N,Ci,H,W]      grad_weight: unused (dummy)
//                  (a dummy unless BIAS / ACT_GRAD)
//   3 out (read_write) forward: y           grad_input: dx                grad_weight: partials [S, Co·K (+Co)]
//   4 params

// struct Params: shaders/conv_params.wgsl (compiled before this file).

override BIAS: bool = false;
override ACT: u32 = 0u;
override ACT_GRAD: u32 = 0u;
override WG: u32 = 64u;        // register-blocked kernels: 1-D workgroups
override MODE: u32 = 0u;       // tiled: 0 forward, 1 grad_input, 2 grad_weight

@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read> in1: array<f32>;
@group(0) @binding(2) var<storage, read> epi: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

// Large launches are a 2-D grid of 1-D workgroups (at most 65,535 workgroups a dimension).
fn flat_index(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * WG;
}

fn taps() -> u32 {
  return params.in_channels * params.kernel_h * params.kernel_w;
}

// Four channel indices c0..c0+3, clamped to the last one (clamped lanes compute a copy and are not stored).
fn channels4(c0: u32, count: u32) -> vec4u {
  let last = count - 1u;
  return vec4u(c0, min(c0 + 1u, last), min(c0 + 2u, last), min(c0 + 3u, last));
}

// ---- forward, register-blocked: channels co0..co0+3 × columns ow0..ow0+3 of output row (n, oh) ----------

@compute @workgroup_size(WG)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let p = params;
  let col_blocks = (p.out_w + 3u) / 4u;
  let rows = p.batch * p.out_h;
  let i = flat_index(gid, groups);
  if (i >= col_blocks * rows * ((p.out_channels + 3u) / 4u)) { return; }
  let ow0 = (i % col_blocks) * 4u;
  let row = (i / col_blocks) % rows;
  let co0 = (i / (col_blocks * rows)) * 4u;
  let n = row / p.out_h;
  let oh = row % p.out_h;

  let hw = p.in_h * p.in_w;
  let khw = p.kernel_h * p.kernel_w;
  let w_rows = channels4(co0, p.out_channels) * taps();
  let ih0 = i32(oh * p.stride_h) - i32(p.pad_h);
  let iw0 = vec4i(vec4u(ow0) + vec4u(0u, 1u, 2u, 3u)) * i32(p.stride_w) - i32(p.pad_w);
  let x_n = n * p.in_channels * hw;

  var acc0 = vec4f(0.0); // acc{c}[j]: channel co0 + c, column ow0 + j
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  for (var kh = 0u; kh < p.kernel_h; kh++) {
    let ih = ih0 + i32(kh);
    if (ih < 0 || ih >= i32(p.in_h)) { continue; }
    for (var kw = 0u; kw < p.kernel_w; kw++) {
      let iw = iw0 + i32(kw);
      let valid = (iw >= vec4i(0)) & (iw < vec4i(i32(p.in_w)));
      var xi = vec4u(select(vec4i(0), iw, valid)) + (x_n + u32(ih) * p.in_w);
      var wi = w_rows + (kh * p.kernel_w + kw);
      for (var ci = 0u; ci < p.in_channels; ci++) {
        let xv = select(vec4f(0.0), vec4f(in0[xi.x], in0[xi.y], in0[xi.z], in0[xi.w]), valid);
        acc0 += in1[wi.x] * xv;
        acc1 += in1[wi.y] * xv;
        acc2 += in1[wi.z] * xv;
        acc3 += in1[wi.w] * xv;
        xi += hw;
        wi += khw;
      }
    }
  }

  var acc = array<vec4f, 4>(acc0, acc1, acc2, acc3);
  let ohw = p.out_h * p.out_w;
  for (var c = 0u; c < 4u; c++) {
    let co = co0 + c;
    if (co >= p.out_channels) { break; }
    let base = (n * p.out_channels + co) * ohw + oh * p.out_w;
    for (var j = 0u; j < 4u; j++) {
      if (ow0 + j >= p.out_w) { break; }
      out[base + ow0 + j] = forward_epilogue(acc[c][j], co);
    }
  }
}

fn forward_epilogue(sum: f32, co: u32) -> f32 {
  var v = sum;
  if (BIAS) { v += epi[co]; }
  if (ACT != 0u) { v = activate(v, ACT, params.alpha); }
  return v;
}

// ---- grad_input, register-blocked: channels ci0..ci0+3 × four columns of input row (n, ih) ---------------
// The columns of one invocation are iw_j = phase + sw·(4·b + j): all in the same phase modulo the stride,
// so they share the taps that reach them (kh ≡ ih + ph, kw ≡ phase + pw mod the strides) and read four
// consecutive dy columns. A strided convolution thus skips the taps that touch nothing.

@compute @workgroup_size(WG)
fn grad_input(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let p = params;
  let col_blocks = ((p.in_w + p.stride_w - 1u) / p.stride_w + 3u) / 4u; // blocks per phase
  let blocks_per_row = p.stride_w * col_blocks;
  let rows = p.batch * p.in_h;
  let i = flat_index(gid, groups);
  if (i >= blocks_per_row * rows * ((p.in_channels + 3u) / 4u)) { return; }
  let phase = (i % blocks_per_row) / col_blocks;
  let b = i % col_blocks;
  let row = (i / blocks_per_row) % rows;
  let ci0 = (i / (blocks_per_row * rows)) * 4u;
  let n = row / p.in_h;
  let ih = row % p.in_h;

  let ohw = p.out_h * p.out_w;
  let khw = p.kernel_h * p.kernel_w;
  let w_step = p.in_channels * khw; // from one output channel to the next
  let w_cols = channels4(ci0, p.in_channels) * khw;
  let dy_n = n * p.out_channels * ohw;

  var acc0 = vec4f(0.0); // acc{c}[j]: channel ci0 + c, column j
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  // oh = (ih + ph − kh) / sh for the kh ≡ ih + ph (mod sh); kh grows, so oh falls.
  for (var kh = (ih + p.pad_h) % p.stride_h; kh < p.kernel_h && kh <= ih + p.pad_h; kh += p.stride_h) {
    let oh = (ih + p.pad_h - kh) / p.stride_h;
    if (oh >= p.out_h) { continue; }
    for (var kw = (phase + p.pad_w) % p.stride_w; kw < p.kernel_w; kw += p.stride_w) {
      // ow_j = (iw_j + pw − kw) / sw = q + 4b + j, q exact (phase + pw − kw is a multiple of sw).
      let q = (i32(phase + p.pad_w) - i32(kw)) / i32(p.stride_w);
      let ow = vec4i(q + i32(4u * b)) + vec4i(0, 1, 2, 3);
      let valid = (ow >= vec4i(0)) & (ow < vec4i(i32(p.out_w)));
      var di = select(vec4u(0u), vec4u(ow), valid) + (dy_n + oh * p.out_w);
      var wi = w_cols + (kh * p.kernel_w + kw);
      for (var co = 0u; co < p.out_channels; co++) {
        let dv = select(vec4f(0.0), vec4f(in0[di.x], in0[di.y], in0[di.z], in0[di.w]), valid);
        acc0 += in1[wi.x] * dv;
        acc1 += in1[wi.y] * dv;
        acc2 += in1[wi.z] * dv;
        acc3 += in1[wi.w] * dv;
        di += ohw;
        wi += w_step;
      }
    }
  }

  var acc = array<vec4f, 4>(acc0, acc1, acc2, acc3);
  let hw = p.in_h * p.in_w;
  for (var c = 0u; c < 4u; c++) {
    let ci = ci0 + c;
    if (ci >= p.in_channels) { break; }
    let base = (n * p.in_channels + ci) * hw + ih * p.in_w;
    for (var j = 0u; j < 4u; j++) {
      let iw = phase + p.stride_w * (4u * b + j);
      if (iw >= p.in_w) { break; }
      out[base + iw] = grad_input_epilogue(acc[c][j], base + iw);
    }
  }
}

fn grad_input_epilogue(sum: f32, index: u32) -> f32 {
  if (ACT_GRAD != 0u) { return sum * activate_grad(epi[index], ACT_GRAD, params.alpha); }
  return sum;
}

// ---- grad_weight, register-blocked: channels co0..co0+3 × taps t0..t0+3, over the rows of one split ------
// With BIAS, one more tap block per channel block sums dy alone (db). Partials: [splits, Co·K (+ Co)].

@compute @workgroup_size(WG)
fn grad_weight(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let p = params;
  let k = taps();
  let tap_blocks = (k + 3u) / 4u + select(0u, 1u, BIAS);
  let co_blocks = (p.out_channels + 3u) / 4u;
  let i = flat_index(gid, groups);
  if (i >= tap_blocks * co_blocks * p.splits) { return; }
  let tb = i % tap_blocks;
  let co0 = ((i / tap_blocks) % co_blocks) * 4u;
  let s = i / (tap_blocks * co_blocks);
  let rows = p.batch * p.out_h;
  let r0 = min(s * p.rows_per_split, rows);
  let r1 = min(r0 + p.rows_per_split, rows);
  let ohw = p.out_h * p.out_w;
  let co = channels4(co0, p.out_channels);
  let partials = p.out_channels * k + select(0u, p.out_channels, BIAS);
  let s_base = s * partials;

  if (BIAS && tb == tap_blocks - 1u) {
    var sum = vec4f(0.0);
    for (var r = r0; r < r1; r++) {
      let n = r / p.out_h;
      var di = (n * p.out_channels + co) * ohw + (r % p.out_h) * p.out_w;
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

  // Tap t = (ci, kh, kw), clamped to the last one like the channels.
  let khw = p.kernel_h * p.kernel_w;
  let t = min(vec4u(4u * tb) + vec4u(0u, 1u, 2u, 3u), vec4u(k - 1u));
  let kh = (t % khw) / p.kernel_w;
  let kw = t % p.kernel_w;
  let hw = p.in_h * p.in_w;
  // x index of tap j at output (oh, ow) of sample n: n·Ci·HW + ci·HW + ih·W + iw, ih = oh·sh + kh − ph.
  let tap_offset = vec4i((t / khw) * hw) + vec4i(kh) * i32(p.in_w) + vec4i(kw) - i32(p.pad_h * p.in_w + p.pad_w);
  let sw = p.stride_w;
  let iw0 = vec4i(kw) - i32(p.pad_w);
  let w_in = vec4i(i32(p.in_w));

  var acc0 = vec4f(0.0); // acc{c}[j]: channel co0 + c, tap t0 + j
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  for (var r = r0; r < r1; r++) {
    let n = r / p.out_h;
    let oh = r % p.out_h;
    let ih = vec4i(i32(oh * p.stride_h) - i32(p.pad_h)) + vec4i(kh);
    let row_valid = (ih >= vec4i(0)) & (ih < vec4i(i32(p.in_h)));
    var xi = vec4i(i32(n * p.in_channels * hw + oh * p.stride_h * p.in_w)) + tap_offset;
    var iw = iw0; // iw = ow·sw + kw − pw
    var di = (n * p.out_channels + co) * ohw + oh * p.out_w;
    for (var ow = 0u; ow < p.out_w; ow++) {
      let valid = row_valid & (iw >= vec4i(0)) & (iw < w_in);
      let safe = select(vec4u(0u), vec4u(xi), valid);
      let xv = select(vec4f(0.0), vec4f(in1[safe.x], in1[safe.y], in1[safe.z], in1[safe.w]), valid);
      acc0 += in0[di.x] * xv;
      acc1 += in0[di.y] * xv;
      acc2 += in0[di.z] * xv;
      acc3 += in0[di.w] * xv;
      xi += i32(sw);
      iw += i32(sw);
      di += 1u;
    }
  }

  var acc = array<vec4f, 4>(acc0, acc1, acc2, acc3);
  for (var c = 0u; c < 4u; c++) {
    if (co0 + c >= p.out_channels) { break; }
    for (var j = 0u; j < 4u; j++) {
      let tap = 4u * tb + j;
      if (tap >= k) { break; }
      out[s_base + (co0 + c) * k + tap] = acc[c][j];
    }
  }
}

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
// taps of it in eight lanes. Tap kw at output column ow reads x[ow + kw − pw], so along ow the eight taps
// read a run that moves by one element: per output column 1 row load and 4 dy loads feed 4·KW
// multiply-adds. With BIAS one more row index per channel block sums dy (db), as in grad_weight.

@compute @workgroup_size(WG)
fn grad_weight_window(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let p = params;
  let k = taps();
  let kernel_rows = p.in_channels * p.kernel_h + select(0u, 1u, BIAS);
  let co_blocks = (p.out_channels + 3u) / 4u;
  let i = flat_index(gid, groups);
  if (i >= kernel_rows * co_blocks * p.splits) { return; }
  let kr = i % kernel_rows;
  let co0 = ((i / kernel_rows) % co_blocks) * 4u;
  let s = i / (kernel_rows * co_blocks);
  let rows = p.batch * p.out_h;
  let r0 = min(s * p.rows_per_split, rows);
  let r1 = min(r0 + p.rows_per_split, rows);
  let ohw = p.out_h * p.out_w;
  let co = channels4(co0, p.out_channels);
  let s_base = s * (p.out_channels * k + select(0u, p.out_channels, BIAS));

  if (BIAS && kr == kernel_rows - 1u) {
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
  let wide = p.kernel_w > 4u;
  let col0 = -i32(p.pad_w); // the run at ow = 0 starts at iw = −pw

  var a0l = vec4f(0.0); // a{c}{l,h}: channel co0 + c, taps kw 0–3 (l) and 4–7 (h)
  var a0h = vec4f(0.0);
  var a1l = vec4f(0.0);
  var a1h = vec4f(0.0);
  var a2l = vec4f(0.0);
  var a2h = vec4f(0.0);
  var a3l = vec4f(0.0);
  var a3h = vec4f(0.0);
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
    for (var ow = 0u; ow < p.out_w; ow++) {
      let d = vec4f(in0[di.x], in0[di.y], in0[di.z], in0[di.w]);
      a0l += d.x * lo;
      a1l += d.y * lo;
      a2l += d.z * lo;
      a3l += d.w * lo;
      if (wide) {
        a0h += d.x * hi;
        a1h += d.y * hi;
        a2h += d.z * hi;
        a3h += d.w * hi;
      }
      lo = vec4f(lo.yzw, hi.x);
      hi = vec4f(hi.yzw, row_at1(base, next, width));
      next += 1;
      di += 1u;
    }
  }

  var acc = array<vec4f, 8>(a0l, a0h, a1l, a1h, a2l, a2h, a3l, a3h);
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
