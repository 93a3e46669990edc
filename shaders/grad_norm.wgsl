// Squared L2 norms of the gradient in chunks, one workgroup a chunk (compiled after grad_chunks.wgsl, which
// says how the arena is cut):
//   partials[c] = Σ grads[chunk c]²
// On a GPU (src/optim/optimizer.ts `gradNormSplit`: 256 invocations, 1,024-vec4 chunks) a big slot spreads
// over many workgroups and the dispatch fills the GPU whatever the model's shapes; on a CPU implementation
// (64 invocations, one chunk a slot) there are few workgroups, since each one's barriers cost a thread
// synchronisation there. The consumer, optimizer.wgsl, adds the partials: in order per slot for the
// per-layer statistics, and into the global norm that gradient clipping needs. A frozen slot
// (learning-rate scale 0) has no gradient this step, so its chunks' partials are 0, as PyTorch's
// clip_grad_norm_ passes over a parameter without a gradient.
//
// Bindings: 0 grads (read), 1 slots vec4u(offset, size, lr scale bits, first step) (read), 2 partials
//           (read_write), 3 Params.

struct Params {
  slot_count: u32,
  chunk_count: u32,
  chunk_vec4: u32,
}

/** At most 256 (the tree's size). */
override WORKGROUP_SIZE: u32 = 256u;

@group(0) @binding(0) var<storage, read> grads: array<vec4f>;
@group(0) @binding(1) var<storage, read> slots: array<vec4u>;
@group(0) @binding(2) var<storage, read_write> partials: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

var<workgroup> tree: array<f32, 256>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(local_invocation_index) lid: u32) {
  // Past 65,535 workgroups the dispatch folds into 2-D rows of them (grid1d). Uniform per workgroup.
  let c = wid.x + wid.y * groups.x;
  if (c >= params.chunk_count) { return; }
  // The slot holding chunk c, and its first chunk: walk the slots (a model has tens of them).
  var first = 0u;
  var s = 0u;
  loop {
    let chunks = chunks_of(s);
    if (c < first + chunks || s + 1u >= params.slot_count) { break; }
    first += chunks;
    s++;
  }
  let slot = slots[s];
  // Slots start 64-float aligned and the arena's padding is zero, so whole vec4s cover each slot.
  let vec4s = (slot.y + 3u) / 4u;
  let start = (c - first) * params.chunk_vec4;
  let count = select(min(params.chunk_vec4, vec4s - min(start, vec4s)), 0u, bitcast<f32>(slot.z) == 0.0);
  let base = slot.x / 4u + start;
  var sum = 0.0;
  for (var i = lid; i < count; i += WORKGROUP_SIZE) {
    let g = grads[base + i];
    sum += dot(g, g);
  }
  tree[lid] = sum;
  for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride /= 2u) {
    workgroupBarrier();
    if (lid < stride) { tree[lid] += tree[lid + stride]; }
  }
  if (lid == 0u) { partials[c] = tree[0]; }
}
