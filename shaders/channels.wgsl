// Between a GEMM's rows and NCHW (src/graph/ops_im2col.ts; compiled after act_fns.wgsl). A convolution
// computed as im2col · wᵀ yields one row per output position, [N·S, C] with S = H·W spatial positions;
// the layers around it read NCHW, as PyTorch stores it:
//
//   to_channels_first  dst[n, c, s] = activate(src[n·S + s, c])            (ACT: a fused activation)
//   to_channels_last   dst[n·S + s, c] = src[n, c, s] · activate'(v[n, c, s])  (ACT_GRAD: a fused derivative)
//
// Each is the other's gradient. One invocation per element, indexed by the destination, so stores are
// coalesced and the loads C (or S) apart; a pure copy with its epilogue, the same bits as the unfused ops.
// Bindings: 0 src (read), 1 v (read; a dummy unless ACT_GRAD), 2 dst (read_write), 3 params.

struct Params {
  count: u32,     // N·C·S
  channels: u32,  // C
  spatial: u32,   // S = H·W
  alpha: f32,     // the activation's alpha (ACT / ACT_GRAD)
}

override WG: u32 = 256u;
override ACT: u32 = 0u;
override ACT_GRAD: u32 = 0u;

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read> v: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn to_channels_first(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WG;
  if (i >= params.count) { return; }
  let s = i % params.spatial;
  let c = (i / params.spatial) % params.channels;
  let n = i / (params.spatial * params.channels);
  var value = src[(n * params.spatial + s) * params.channels + c];
  if (ACT != 0u) { value = activate(value, ACT, params.alpha); }
  dst[i] = value;
}

@compute @workgroup_size(WG)
fn to_channels_last(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WG;
  if (i >= params.count) { return; }
  let c = i % params.channels;
  let m = i / params.channels;
  let n = m / params.spatial;
  let j = (n * params.channels + c) * params.spatial + m % params.spatial;
  var value = src[j];
  if (ACT_GRAD != 0u) { value *= activate_grad(v[j], ACT_GRAD, params.alpha); }
  dst[i] = value;
}
