// 2-D convolution on NCHW float32 tensors (PyTorch's layout), forward and both gradients, as implicit
// GEMMs (compiled after act_fns.wgsl and conv_params.wgsl; one implementation file follows). With K = Ci·KH·KW taps and zero padding:
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
// one per computation, src/kernels/lower_conv.ts; a tuner may swap them), each in its own file:
//   forward, grad_input, grad_weight (conv2d_blocked.wgsl)    register-blocked: an invocation owns 4 channels × 4 columns (taps
//       for grad_weight) of the output in registers, reads operands straight from storage, no workgroup
//       memory, no barrier. Index math is hoisted out of the inner loop (over input or output channels),
//       whose body is 8 loads and 16 multiply-adds. Made for CPU Vulkan (SwiftShader pays per barrier and
//       per workgroup), any stride and padding.
//   forward_window, grad_input_window, grad_weight_window (conv2d_window.wgsl)   the same at stride_w = 1 with a sliding
//       window along the row: 4 channels × 8 columns (or × one kernel row of ≤ 8 taps), one new row
//       element loaded per tap instead of four.
//   tiled (MODE 0 forward, 1 grad_input, 2 grad_weight; conv2d_tiled.wgsl)   a workgroup of 8×8 invocations computes a 32×32
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

// The epilogues every implementation shares.
fn forward_epilogue(sum: f32, co: u32) -> f32 {
  var v = sum;
  if (BIAS) { v += epi[co]; }
  if (ACT != 0u) { v = activate(v, ACT, params.alpha); }
  return v;
}

fn grad_input_epilogue(sum: f32, index: u32) -> f32 {
  if (ACT_GRAD != 0u) { return sum * activate_grad(epi[index], ACT_GRAD, params.alpha); }
  return sum;
}
