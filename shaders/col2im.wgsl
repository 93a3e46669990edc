// The gradient of im2col (im2col.wgsl; src/graph/ops_im2col.ts), compiled after act_fns.wgsl and
// conv_params.wgsl. With K = Ci·KH·KW taps and M = N·OH·OW output positions:
//
//   col2im  dx[n, ci, ih, iw] = Σ_{kh, kw} dcols[m(n, oh, ow), k(ci, kh, kw)] over the (oh, ow) with
//           oh·sh + kh − ph = ih and ow·sw + kw − pw = iw, in (oh, ow) order: a gather, no atomics, so
//           the same inputs give the same bits; epilogue · activate'(v[n, ci, ih, iw]) (ACT_GRAD).
//
// An invocation sums the ≤ KH·KW terms of 4 channels of one input position; only the (oh, ow) that saw
// it are visited. The channel block is the fastest index, so neighbouring invocations visit the same (oh, ow)
// range: the loops do not diverge within a SIMD group. On SwiftShader (bench/conv.mjs, MNIST conv2's dx
// at batch 128) this took col2im from 49–58 ms (one element an invocation, iw fastest) to 20–21 ms.
// Bindings: 0 dcols (read) [M, K], 1 v (read; a dummy unless ACT_GRAD) [N,Ci,H,W], 2 dx (read_write),
//           3 params (conv_params.wgsl)

override WG: u32 = 256u;
override ACT_GRAD: u32 = 0u;

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read> v: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

// The output positions o with o·stride + tap − pad = at, as [first, end) and the tap of the first: taps
// run down by `stride` as o runs up by one. Returns (first o, end o, tap of first o) with end ≤ first when none.
fn positions(at: u32, pad: u32, kernel: u32, stride: u32, extent: u32) -> vec3i {
  // o·stride = at + pad − tap, tap in [0, kernel): o in [ceil((at + pad − kernel + 1) / stride), (at + pad) / stride]
  let top = i32(at + pad);
  let low = max(top - i32(kernel) + 1, 0);
  let first = (low + i32(stride) - 1) / i32(stride);
  let end = min(top / i32(stride) + 1, i32(extent));
  return vec3i(first, end, top - first * i32(stride));
}

@compute @workgroup_size(WG)
fn col2im(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WG; // (n, ih, iw, ci block of 4), the channel block fastest
  let channels = params.in_channels;
  let blocks = (channels + 3u) / 4u;
  if (i >= params.batch * blocks * params.in_h * params.in_w) { return; }
  let ci0 = (i % blocks) * 4u;
  let iw = (i / blocks) % params.in_w;
  let ih = (i / (blocks * params.in_w)) % params.in_h;
  let n = i / (params.in_w * params.in_h * blocks);
  let khw = i32(params.kernel_h * params.kernel_w);
  let ci = vec4i(channels4(ci0, channels)) * khw;
  let taps = i32(channels) * khw;
  let rows = positions(ih, params.pad_h, params.kernel_h, params.stride_h, params.out_h);
  let cols = positions(iw, params.pad_w, params.kernel_w, params.stride_w, params.out_w);
  var sum = vec4f(0.0);
  // oh up, kh down (kh = rows.z − (oh − rows.x)·sh); likewise ow, kw: each step of ow moves the address
  // one row of dcols on and sw taps back.
  let step = taps - i32(params.stride_w);
  for (var oh = rows.x; oh < rows.y; oh++) {
    let kh = rows.z - (oh - rows.x) * i32(params.stride_h);
    let row = (i32(n * params.out_h) + oh) * i32(params.out_w) + cols.x;
    var at = row * taps + kh * i32(params.kernel_w) + cols.z;
    for (var ow = cols.x; ow < cols.y; ow++) {
      sum += vec4f(src[u32(at + ci.x)], src[u32(at + ci.y)], src[u32(at + ci.z)], src[u32(at + ci.w)]);
      at += step;
    }
  }
  let plane = params.in_h * params.in_w;
  let o = (n * channels + ci0) * plane + ih * params.in_w + iw;
  for (var c = 0u; c < 4u; c++) {
    if (ci0 + c >= channels) { break; }
    var value = sum[c];
    if (ACT_GRAD != 0u) { value *= activate_grad(v[o + c * plane], ACT_GRAD, params.alpha); }
    dst[o + c * plane] = value;
  }
}

// Four channel indices c0..c0+3, clamped to the last one (clamped lanes compute a copy and are not stored).
fn channels4(c0: u32, count: u32) -> vec4u {
  let last = count - 1u;
  return vec4u(c0, min(c0 + 1u, last), min(c0 + 2u, last), min(c0 + 3u, last));
}
