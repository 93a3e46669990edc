// Builds one batch from a dataset that lives on the GPU: no host-to-device copy per step.
//   x[r, f]       = raw(sample perm[start + r], feature f) · scale + shift
//   rows_out[r, t] = side[rows_offset + perm[start + r]·row_width + t]   (the batch's labels or targets)
// raw is a byte (four packed in a u32) or a float32 (FLOAT; its bits in a u32); scale and shift are one pair
// for every feature (Params) or one per feature (PER_FEATURE: side[0 .. 2F) = [scale_0 .. scale_F−1,
// shift_0 ..], as f32 bits). `side` holds a dataset's small tables (that affine map, then its labels as u32
// or targets as f32 bits), so inputs and labels come out of one dispatch with eight storage bindings. A
// dataset larger than one storage binding is split by samples over up to four buffers (CHUNKS), each
// holding `samples_per_chunk` samples. `start` comes from the per-step uniform, so one static plan serves
// every batch of the epoch.
//
// Bindings: 0–3 chunk0..chunk3 (read; unused ones are dummies), 4 perm (read), 5 side (read), 6 x
//           (read_write), 7 rows_out (read_write), 8 Step, 9 Params.

struct Params {
  rows: u32,
  features: u32,
  scale: f32,
  shift: f32,
  samples_per_chunk: u32,
  rows_offset: u32,
  row_width: u32,
}

struct Step {
  step: u32,
  batch_start: u32,
  seed: u32,
  mix_lambda: f32,
  lr: f32,
}

override WORKGROUP_SIZE: u32 = 256u;
override FLOAT: bool = false;
override PER_FEATURE: bool = false;
override CHUNKS: u32 = 1u;
// Bytes with a feature count that is a multiple of 4 (784 is): every sample starts on a word boundary and
// each invocation unpacks one whole u32 word into four outputs, a quarter of the invocations.
override WORDS: bool = false;

@group(0) @binding(0) var<storage, read> chunk0: array<u32>;
@group(0) @binding(1) var<storage, read> chunk1: array<u32>;
@group(0) @binding(2) var<storage, read> chunk2: array<u32>;
@group(0) @binding(3) var<storage, read> chunk3: array<u32>;
@group(0) @binding(4) var<storage, read> perm: array<u32>;
@group(0) @binding(5) var<storage, read> side: array<u32>;
@group(0) @binding(6) var<storage, read_write> x: array<f32>;
@group(0) @binding(7) var<storage, read_write> rows_out: array<u32>;
@group(0) @binding(8) var<uniform> step: Step;
@group(0) @binding(9) var<uniform> params: Params;

// Word i of chunk c (only the first CHUNKS are ever asked for).
fn word(c: u32, i: u32) -> u32 {
  if (CHUNKS == 1u || c == 0u) { return chunk0[i]; }
  if (c == 1u) { return chunk1[i]; }
  if (c == 2u) { return chunk2[i]; }
  return chunk3[i];
}

// The raw value of feature f of a sample, as f32.
fn raw(sample: u32, f: u32) -> f32 {
  let c = sample / params.samples_per_chunk;
  let index = (sample % params.samples_per_chunk) * params.features + f;
  if (FLOAT) { return bitcast<f32>(word(c, index)); }
  return f32((word(c, index / 4u) >> (8u * (index % 4u))) & 0xffu);
}

fn affine_of(v: f32, f: u32) -> f32 {
  if (PER_FEATURE) { return v * bitcast<f32>(side[f]) + bitcast<f32>(side[params.features + f]); }
  return v * params.scale + params.shift;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  // The dispatch covers max(inputs, rows) invocations: the first rows·row_width also copy a label or target.
  if (i < params.rows * params.row_width) {
    let w = params.row_width;
    rows_out[i] = side[params.rows_offset + perm[step.batch_start + i / w] * w + i % w];
  }
  if (WORDS && !FLOAT) {
    let words_per_row = params.features / 4u;
    if (i >= params.rows * words_per_row) { return; }
    let r = i / words_per_row;
    let w = i % words_per_row;
    let sample = perm[step.batch_start + r];
    let packed = word(sample / params.samples_per_chunk, (sample % params.samples_per_chunk) * words_per_row + w);
    let out = r * params.features + 4u * w;
    x[out] = affine_of(f32(packed & 0xffu), 4u * w);
    x[out + 1u] = affine_of(f32((packed >> 8u) & 0xffu), 4u * w + 1u);
    x[out + 2u] = affine_of(f32((packed >> 16u) & 0xffu), 4u * w + 2u);
    x[out + 3u] = affine_of(f32(packed >> 24u), 4u * w + 3u);
    return;
  }
  if (i >= params.rows * params.features) { return; }
  let r = i / params.features;
  let f = i % params.features;
  x[i] = affine_of(raw(perm[step.batch_start + r], f), f);
}
