// The gradient of im2col (im2col.wgsl; src/graph/ops_im2col.ts), compiled after act_fns.wgsl and
// conv_params.wgsl. With K = Ci·KH·KW taps and M = N·OH·OW output positions:
//
//   col2im  dx[n, ci, ih, iw] = Σ_{kh, kw} dcols[m(n, oh, ow), k(ci, kh, kw)] over the (oh, ow) with
//           oh·sh + kh − ph = ih and ow·sw + kw − pw = iw, in (oh, ow) order: a gather, no atomics, so
//           the same inputs give the same bits; epilogue · activate'(v[n, ci, ih, iw]) (ACT_GRAD).
//
// An invocation sums the ≤ KH·KW terms of one input element; only the (oh, ow) that saw it are visited.
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
  let i = gid.x + gid.y * groups.x * WG; // (n, ci, ih, iw)
  let channels = params.in_channels;
  if (i >= params.batch * channels * params.in_h * params.in_w) { return; }
  let iw = i % params.in_w;
  let ih = (i / params.in_w) % params.in_h;
  let ci = (i / (params.in_w * params.in_h)) % channels;
  let n = i / (params.in_w * params.in_h * channels);
  let taps = channels * params.kernel_h * params.kernel_w;
  let rows = positions(ih, params.pad_h, params.kernel_h, params.stride_h, params.out_h);
  let cols = positions(iw, params.pad_w, params.kernel_w, params.stride_w, params.out_w);
  var sum = 0.0;
  // oh up, kh down (kh = rows.z − (oh − rows.x)·sh); likewise ow, kw: each step of ow moves the address
  // one row of dcols on and sw taps back.
  let step = i32(taps) - i32(params.stride_w);
  for (var oh = rows.x; oh < rows.y; oh++) {
    let kh = rows.z - (oh - rows.x) * i32(params.stride_h);
    let row = (i32(n * params.out_h) + oh) * i32(params.out_w) + cols.x;
    var at = row * i32(taps) + (i32(ci * params.kernel_h) + kh) * i32(params.kernel_w) + cols.z;
    for (var ow = cols.x; ow < cols.y; ow++) {
      sum += src[u32(at)];
      at += step;
    }
  }
  if (ACT_GRAD != 0u) { sum *= activate_grad(v[i], ACT_GRAD, params.alpha); }
  dst[i] = sum;
}
