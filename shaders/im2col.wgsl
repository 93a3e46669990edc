// A convolution as a matrix product (src/graph/ops_im2col.ts): im2col unfolds an NCHW input into the rows
// of a GEMM operand (compiled after conv_params.wgsl). With K = Ci·KH·KW taps, M = N·OH·OW output positions and zero padding:
//
//   im2col  cols[m, k] = x[n, ci, oh·sh + kh − ph, ow·sw + kw − pw]   (0 in the padding)
//           m = (n·OH + oh)·OW + ow,  k = (ci·KH + kh)·KW + kw: the tap order of a weight row [Ci, KH, KW],
//           so conv(x, w) = cols · w[Co, K]ᵀ, one row of outputs per position.
//   (col2im.wgsl folds the gradient back.)
//
// An invocation writes the KH·KW taps of one (position, channel) pair: consecutive addresses, the
// neighbouring channel's run right after; the padding's zeros are stored without a load or a test per tap.
// (One vec4 of 4 taps an invocation measured 30% slower on SwiftShader: 4 tested loads for one store.)
//
// Bindings: 0 x (read) [N,Ci,H,W], 1 cols (read_write) [M, K], 2 params (conv_params.wgsl)

override WG: u32 = 256u;

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn im2col(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WG; // (m, ci block of 4), the channel block fastest
  let channels = params.in_channels;
  let blocks = (channels + 3u) / 4u;
  if (i >= params.batch * params.out_h * params.out_w * blocks) { return; }
  let m = i / blocks;
  let ci = channels4((i % blocks) * 4u, channels); // clamped lanes copy the last channel onto itself
  let ow = m % params.out_w;
  let oh = (m / params.out_w) % params.out_h;
  let n = m / (params.out_w * params.out_h);
  let ih0 = i32(oh * params.stride_h) - i32(params.pad_h);
  let iw0 = i32(ow * params.stride_w) - i32(params.pad_w);
  // The taps kw in [first, end) fall inside the row; the rest read the zero padding.
  let first = u32(clamp(-iw0, 0, i32(params.kernel_w)));
  let end = u32(clamp(i32(params.in_w) - iw0, i32(first), i32(params.kernel_w)));
  let plane = params.in_h * params.in_w;
  let planes = (n * channels + ci) * plane;
  let khw = params.kernel_h * params.kernel_w;
  var o = m * channels * khw + ci * khw; // the runs of the 4 channels in row m
  for (var kh = 0u; kh < params.kernel_h; kh++) {
    let ih = ih0 + i32(kh);
    if (ih < 0 || ih >= i32(params.in_h)) {
      for (var kw = 0u; kw < params.kernel_w; kw++) { store4(o + kw, vec4f(0.0)); }
    } else {
      let row = vec4i(planes + u32(ih) * params.in_w) + iw0;
      for (var kw = 0u; kw < first; kw++) { store4(o + kw, vec4f(0.0)); }
      for (var kw = first; kw < end; kw++) {
        let at = vec4u(row + i32(kw));
        store4(o + kw, vec4f(src[at.x], src[at.y], src[at.z], src[at.w]));
      }
      for (var kw = end; kw < params.kernel_w; kw++) { store4(o + kw, vec4f(0.0)); }
    }
    o += params.kernel_w;
  }
}

fn store4(at: vec4u, value: vec4f) {
  dst[at.x] = value.x;
  dst[at.y] = value.y;
  dst[at.z] = value.z;
  dst[at.w] = value.w;
}

// Four channel indices c0..c0+3, clamped to the last one.
fn channels4(c0: u32, count: u32) -> vec4u {
  let last = count - 1u;
  return vec4u(c0, min(c0 + 1u, last), min(c0 + 2u, last), min(c0 + 3u, last));
}
