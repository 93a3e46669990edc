// The register-blocked conv2d entry points forward, grad_input and grad_weight (compiled after act_fns.wgsl, conv_params.wgsl and conv2d.wgsl, whose header
// describes all three implementations, the bindings and the constants).

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
