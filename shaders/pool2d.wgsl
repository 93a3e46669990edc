// 2-D max and average pooling on NCHW planes, as PyTorch's MaxPool2d / AvgPool2d with dilation 1,
// ceil_mode False (floor) and, for the average, count_include_pad True (its defaults):
//   out_h = ⌊(in_h + 2·pad_h − kernel_h) / stride_h⌋ + 1 (likewise w); window (oh, ow) covers rows
//   oh·stride_h − pad_h … + kernel_h − 1 of the input plane, and the padding is −∞ for max, 0 for average.
//   max:     y = the window's maximum; indices = its position ih·in_w + iw in the input plane (u32), the
//            first maximum in row-major order (PyTorch's choice), kept for the backward pass.
//   average: y = Σ window / (kernel_h·kernel_w). In floor mode with pad ≤ kernel/2 (the graph checks it)
//            every window lies inside the padded input, so PyTorch's divisor is always kernel_h·kernel_w.
// Backward without atomics: one invocation per input element gathers from every window that contains it
// (overlapping windows, stride < kernel, included), in a fixed order, so results are deterministic:
//   max:     dx[ih, iw] = Σ dy[oh, ow] over windows whose saved index is (ih, iw)
//   average: dx[ih, iw] = Σ dy[oh, ow] / (kernel_h·kernel_w) over windows containing (ih, iw)
// Window (oh, ow) contains ih when oh·s − p ≤ ih ≤ oh·s − p + k − 1, i.e. ⌈(ih + p − k + 1)/s⌉ ≤ oh ≤ ⌊(ih + p)/s⌋.
// One invocation per output (forward) or input (backward) element, in a 1-D grid folded into 2-D.
// Each entry point declares its own variables (a binding belongs to the entry points that use it).
//
// Bindings, max_forward:  0 x (read), 1 y, 2 indices (u32) (read_write), 3 Params.
// Bindings, max_backward: 0 dy, 1 indices (read), 2 dx (read_write), 3 Params.
// Bindings, avg_forward:  0 x (read), 1 y (read_write), 2 Params.
// Bindings, avg_backward: 0 dy (read), 1 dx (read_write), 2 Params.

struct Params {
  planes: u32,
  in_h: u32,
  in_w: u32,
  out_h: u32,
  out_w: u32,
  kernel_h: u32,
  kernel_w: u32,
  stride_h: u32,
  stride_w: u32,
  pad_h: u32,
  pad_w: u32,
}

const WG: u32 = 256u;

fn flat_index(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * WG;
}

/** The first output index along one axis whose window contains input index i (may exceed the last). */
fn first_window(i: u32, kernel: u32, stride: u32, pad: u32) -> u32 {
  let reach = i32(i + pad) - i32(kernel) + 1;
  if (reach <= 0) { return 0u; }
  return (u32(reach) + stride - 1u) / stride;
}

/** The last output index along one axis whose window contains input index i, clamped to the output. */
fn last_window(i: u32, stride: u32, pad: u32, out: u32) -> u32 {
  return min((i + pad) / stride, out - 1u);
}

// max_forward
@group(0) @binding(0) var<storage, read> max_x: array<f32>;
@group(0) @binding(1) var<storage, read_write> max_y: array<f32>;
@group(0) @binding(2) var<storage, read_write> max_indices: array<u32>;
@group(0) @binding(3) var<uniform> max_params: Params;

@compute @workgroup_size(WG)
fn max_forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let p = max_params;
  let o = flat_index(gid, groups);
  let plane_out = p.out_h * p.out_w;
  if (o >= p.planes * plane_out) { return; }
  let plane = o / plane_out;
  let oh = (o % plane_out) / p.out_w;
  let ow = o % p.out_w;
  let base = plane * p.in_h * p.in_w;
  // Window bounds clipped to the plane: the padding (−∞) never wins, and every window holds at least one
  // input element (pad ≤ kernel/2).
  let h0 = i32(oh * p.stride_h) - i32(p.pad_h);
  let w0 = i32(ow * p.stride_w) - i32(p.pad_w);
  let h_lo = u32(max(h0, 0));
  let w_lo = u32(max(w0, 0));
  let h_hi = u32(min(h0 + i32(p.kernel_h), i32(p.in_h)));
  let w_hi = u32(min(w0 + i32(p.kernel_w), i32(p.in_w)));
  var best_index = h_lo * p.in_w + w_lo;
  var best = max_x[base + best_index];
  for (var ih = h_lo; ih < h_hi; ih++) {
    for (var iw = w_lo; iw < w_hi; iw++) {
      let v = max_x[base + ih * p.in_w + iw];
      if (v > best) {
        best = v;
        best_index = ih * p.in_w + iw;
      }
    }
  }
  max_y[o] = best;
  max_indices[o] = best_index;
}

// max_backward
@group(0) @binding(0) var<storage, read> max_grad_y: array<f32>;
@group(0) @binding(1) var<storage, read> max_saved_indices: array<u32>;
@group(0) @binding(2) var<storage, read_write> max_grad_x: array<f32>;
@group(0) @binding(3) var<uniform> max_grad_params: Params;

@compute @workgroup_size(WG)
fn max_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let p = max_grad_params;
  let i = flat_index(gid, groups);
  let plane_in = p.in_h * p.in_w;
  if (i >= p.planes * plane_in) { return; }
  let plane = i / plane_in;
  let within = i % plane_in;
  let ih = within / p.in_w;
  let iw = within % p.in_w;
  let base = plane * p.out_h * p.out_w;
  var sum = 0.0;
  let oh_hi = last_window(ih, p.stride_h, p.pad_h, p.out_h);
  let ow_lo = first_window(iw, p.kernel_w, p.stride_w, p.pad_w);
  let ow_hi = last_window(iw, p.stride_w, p.pad_w, p.out_w);
  for (var oh = first_window(ih, p.kernel_h, p.stride_h, p.pad_h); oh <= oh_hi; oh++) {
    for (var ow = ow_lo; ow <= ow_hi; ow++) {
      let o = base + oh * p.out_w + ow;
      if (max_saved_indices[o] == within) { sum += max_grad_y[o]; }
    }
  }
  max_grad_x[i] = sum;
}

// avg_forward
@group(0) @binding(0) var<storage, read> avg_x: array<f32>;
@group(0) @binding(1) var<storage, read_write> avg_y: array<f32>;
@group(0) @binding(2) var<uniform> avg_params: Params;

@compute @workgroup_size(WG)
fn avg_forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let p = avg_params;
  let o = flat_index(gid, groups);
  let plane_out = p.out_h * p.out_w;
  if (o >= p.planes * plane_out) { return; }
  let plane = o / plane_out;
  let oh = (o % plane_out) / p.out_w;
  let ow = o % p.out_w;
  let base = plane * p.in_h * p.in_w;
  let h0 = i32(oh * p.stride_h) - i32(p.pad_h);
  let w0 = i32(ow * p.stride_w) - i32(p.pad_w);
  let h_hi = u32(min(h0 + i32(p.kernel_h), i32(p.in_h)));
  let w_hi = u32(min(w0 + i32(p.kernel_w), i32(p.in_w)));
  var sum = 0.0;
  for (var ih = u32(max(h0, 0)); ih < h_hi; ih++) {
    for (var iw = u32(max(w0, 0)); iw < w_hi; iw++) { sum += avg_x[base + ih * p.in_w + iw]; }
  }
  avg_y[o] = sum / f32(p.kernel_h * p.kernel_w);
}

// avg_backward
@group(0) @binding(0) var<storage, read> avg_grad_y: array<f32>;
@group(0) @binding(1) var<storage, read_write> avg_grad_x: array<f32>;
@group(0) @binding(2) var<uniform> avg_grad_params: Params;

@compute @workgroup_size(WG)
fn avg_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let p = avg_grad_params;
  let i = flat_index(gid, groups);
  let plane_in = p.in_h * p.in_w;
  if (i >= p.planes * plane_in) { return; }
  let plane = i / plane_in;
  let ih = (i % plane_in) / p.in_w;
  let iw = i % p.in_w;
  let base = plane * p.out_h * p.out_w;
  var sum = 0.0;
  let oh_hi = last_window(ih, p.stride_h, p.pad_h, p.out_h);
  let ow_lo = first_window(iw, p.kernel_w, p.stride_w, p.pad_w);
  let ow_hi = last_window(iw, p.stride_w, p.pad_w, p.out_w);
  for (var oh = first_window(ih, p.kernel_h, p.stride_h, p.pad_h); oh <= oh_hi; oh++) {
    for (var ow = ow_lo; ow <= ow_hi; ow++) { sum += avg_grad_y[base + oh * p.out_w + ow]; }
  }
  avg_grad_x[i] = sum / f32(p.kernel_h * p.kernel_w);
}
