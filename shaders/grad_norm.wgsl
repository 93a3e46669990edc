// Squared L2 norms of the gradient in chunks, one 256-invocation workgroup a chunk:
//   partials[c] = Σ grads[chunk c]²
// Every slot of the arena is cut into chunks of CHUNK_VEC4 vec4s (its last chunk shorter), in slot order:
// slot s's chunks follow slot s − 1's, ceil(vec4s_s / CHUNK_VEC4) of them (src/optim/optimizer.ts
// `gradChunkCount` counts them the same way). So a big slot spreads over many workgroups and the dispatch
// fills a GPU whatever the model's shapes. The consumer, optimizer.wgsl, adds the partials: in order per
// slot for the per-layer statistics, and into the global norm that gradient clipping needs. A frozen slot
// (learning-rate scale 0) has no gradient this step, so its chunks' partials are 0, as PyTorch's
// clip_grad_norm_ passes over a parameter without a gradient.
//
// Bindings: 0 grads (read), 1 slots vec4u(offset, size, lr scale bits, first step) (read), 2 partials
//           (read_write), 3 Params.

struct Params {
  slot_count: u32,
  chunk_count: u32,
}

const WORKGROUP_SIZE: u32 = 256u;
/** vec4s per chunk: four per invocation. */
const CHUNK_VEC4: u32 = 1024u;

@group(0) @binding(0) var<storage, read> grads: array<vec4f>;
@group(0) @binding(1) var<storage, read> slots: array<vec4u>;
@group(0) @binding(2) var<storage, read_write> partials: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

var<workgroup> tree: array<f32, WORKGROUP_SIZE>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u, @builtin(local_invocation_index) lid: u32) {
  // Past 65,535 workgroups the dispatch folds into 2-D rows of them (grid1d). Uniform per workgroup.
  let c = wid.x + wid.y * groups.x;
  if (c >= params.chunk_count) { return; }
  // The slot holding chunk c: walk the slots, counting their chunks (a model has tens of slots).
  var first = 0u;
  var s = 0u;
  var slot = slots[0];
  loop {
    slot = slots[s];
    let chunks = max(1u, ((slot.y + 3u) / 4u + CHUNK_VEC4 - 1u) / CHUNK_VEC4);
    if (c < first + chunks || s + 1u >= params.slot_count) { break; }
    first += chunks;
    s++;
  }
  // Slots start 64-float aligned and the arena's padding is zero, so whole vec4s cover each slot.
  let vec4s = (slot.y + 3u) / 4u;
  let start = (c - first) * CHUNK_VEC4;
  let count = select(min(CHUNK_VEC4, vec4s - min(start, vec4s)), 0u, bitcast<f32>(slot.z) == 0.0);
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
