// Builds one batch from a dataset that lives on the GPU: no host-to-device copy per step.
//   x[r, f]    = f32(pixel byte of sample perm[start + r], feature f) * scale + shift
//   labels[r]  = label byte of sample perm[start + r]
// The dataset is raw bytes packed four to a u32; scale/shift turn them into [0,1] or standardised values.
// `start` comes from the per-step uniform, so one static plan serves every batch of the epoch.
//
// Bindings: 0 images (read), 1 all labels (read), 2 perm (read), 3 x (read_write), 4 labels (read_write),
//           5 Step, 6 Params.

struct Params {
  rows: u32,
  features: u32,
  scale: f32,
  shift: f32,
}

struct Step {
  step: u32,
  batch_start: u32,
  seed: u32,
  mix_lambda: f32,
  lr: f32,
}

override WORKGROUP_SIZE: u32 = 256u;
// When the feature count is a multiple of 4 (784 is), every sample starts on a word boundary, and each
// invocation unpacks one whole u32 word into four outputs: a quarter of the invocations and no
// per-byte index arithmetic.
override WORDS: bool = false;

@group(0) @binding(0) var<storage, read> images: array<u32>;
@group(0) @binding(1) var<storage, read> all_labels: array<u32>;
@group(0) @binding(2) var<storage, read> perm: array<u32>;
@group(0) @binding(3) var<storage, read_write> x: array<f32>;
@group(0) @binding(4) var<storage, read_write> labels: array<u32>;
@group(0) @binding(5) var<uniform> step: Step;
@group(0) @binding(6) var<uniform> params: Params;

fn pixel_byte(byte_index: u32) -> u32 {
  return (images[byte_index / 4u] >> (8u * (byte_index % 4u))) & 0xffu;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (WORDS) {
    let words_per_row = params.features / 4u;
    if (i >= params.rows * words_per_row) { return; }
    let r = i / words_per_row;
    let w = i % words_per_row;
    let sample = perm[step.batch_start + r];
    let word = images[sample * words_per_row + w];
    let bytes = vec4f(f32(word & 0xffu), f32((word >> 8u) & 0xffu), f32((word >> 16u) & 0xffu), f32(word >> 24u));
    let values = bytes * params.scale + params.shift;
    let out = r * params.features + 4u * w;
    x[out] = values.x;
    x[out + 1u] = values.y;
    x[out + 2u] = values.z;
    x[out + 3u] = values.w;
    if (w == 0u) { labels[r] = (all_labels[sample / 4u] >> (8u * (sample % 4u))) & 0xffu; }
    return;
  }
  if (i >= params.rows * params.features) { return; }
  let r = i / params.features;
  let f = i % params.features;
  let sample = perm[step.batch_start + r];
  x[i] = f32(pixel_byte(sample * params.features + f)) * params.scale + params.shift;
  if (f == 0u) {
    labels[r] = (all_labels[sample / 4u] >> (8u * (sample % 4u))) & 0xffu;
  }
}
