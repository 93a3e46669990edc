// Squared L2 norm of every parameter's gradient, one workgroup per parameter slot of the arena:
//   norms[s] = Σ grads[offset_s .. offset_s + size_s)²
// The optimizer sums these few values itself for the global norm (gradient clipping), so clipping needs
// no second pass and no CPU round trip. Each workgroup also adds its slot's norm to `stats[s]`, the
// per-epoch sums behind the per-layer gradient-norm diagnostics. A frozen slot (learning-rate scale 0)
// has no gradient this step, so its norm is 0, as PyTorch's clip_grad_norm_ passes over a parameter
// without a gradient.
//
// Bindings: 0 grads (read), 1 slots vec4u(offset, size, lr scale bits, first step) (read), 2 norms
//           (read_write), 3 stats (read_write), 4 Params.

struct Params {
  slot_count: u32,
}

// 64 invocations: fewer barrier rounds, which CPU implementations pay for dearly.
const WORKGROUP_SIZE: u32 = 64u;

@group(0) @binding(0) var<storage, read> grads: array<vec4f>;
@group(0) @binding(1) var<storage, read> slots: array<vec4u>;
@group(0) @binding(2) var<storage, read_write> norms: array<f32>;
@group(0) @binding(3) var<storage, read_write> stats: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

var<workgroup> partial: array<f32, WORKGROUP_SIZE>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let s = wid.x;
  let slot = slots[s];
  var sum = 0.0;
  // Slots start 64-float aligned and the arena's padding is zero, so whole vec4s cover each slot.
  let first = slot.x / 4u;
  let count = select((slot.y + 3u) / 4u, 0u, bitcast<f32>(slot.z) == 0.0);
  for (var i = lid; i < count; i += WORKGROUP_SIZE) {
    let g = grads[first + i];
    sum += dot(g, g);
  }
  partial[lid] = sum;
  for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride /= 2u) {
    workgroupBarrier();
    if (lid < stride) { partial[lid] += partial[lid + stride]; }
  }
  if (lid == 0u) {
    norms[s] = partial[0];
    stats[s] += sqrt(partial[0]);
  }
}
