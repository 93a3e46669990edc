// Batch gather with on-GPU augmentation (training only): a random affine warp per sample, then noise.
// Byte images (one chunk, four pixels packed in a u32), single channel [1, H, W] or [H, W]; scale and
// shift as in gather.wgsl (PER_FEATURE: per output pixel, applied after the warp); the batch's labels or
// targets are copied from `side` as gather.wgsl copies them.
//
// Per sample r, from a counter-based hash of (seed, step, r): a rotation θ ∈ [−max_rotate, max_rotate]
// (radians) and a shift (dx, dy) ∈ [−max_shift, max_shift]² pixels. Each output pixel samples the source
// image at the inverse-warped position (bilinear, zero outside), so the warp never leaves holes.
// Gaussian noise N(0, noise_std²) (Box–Muller from the same hash) is added after scale and shift.
//
// Bindings: 0 images (read), 1 perm (read), 2 side (read), 3 x (read_write), 4 rows_out (read_write),
//           5 Step, 6 Params.

struct Params {
  rows: u32,
  features: u32,
  scale: f32,
  shift: f32,
  width: u32,
  height: u32,
  max_shift: f32,
  max_rotate: f32,
  noise_std: f32,
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
override PER_FEATURE: bool = false;

@group(0) @binding(0) var<storage, read> images: array<u32>;
@group(0) @binding(1) var<storage, read> perm: array<u32>;
@group(0) @binding(2) var<storage, read> side: array<u32>;
@group(0) @binding(3) var<storage, read_write> x: array<f32>;
@group(0) @binding(4) var<storage, read_write> rows_out: array<u32>;
@group(0) @binding(5) var<uniform> step: Step;
@group(0) @binding(6) var<uniform> params: Params;

// PCG hash (Jarzynski & Olano 2020): a good 32-bit mix, cheap on every GPU.
fn pcg(v: u32) -> u32 {
  let state = v * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}

// Uniform in [0, 1) from a key; successive `salt`s give independent draws.
fn uniform01(key: u32, salt: u32) -> f32 {
  return f32(pcg(key ^ pcg(salt)) >> 8u) / 16777216.0;
}

fn pixel(sample: u32, px: i32, py: i32) -> f32 {
  if (px < 0 || py < 0 || px >= i32(params.width) || py >= i32(params.height)) { return 0.0; }
  let byte_index = sample * params.features + u32(py) * params.width + u32(px);
  return f32((images[byte_index / 4u] >> (8u * (byte_index % 4u))) & 0xffu);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (i < params.rows * params.row_width) {
    let w = params.row_width;
    rows_out[i] = side[params.rows_offset + perm[step.batch_start + i / w] * w + i % w];
  }
  if (i >= params.rows * params.features) { return; }
  let r = i / params.features;
  let f = i % params.features;
  let sample = perm[step.batch_start + r];
  let key = pcg(step.seed ^ pcg(step.step ^ pcg(r)));

  let theta = (uniform01(key, 1u) * 2.0 - 1.0) * params.max_rotate;
  let dx = (uniform01(key, 2u) * 2.0 - 1.0) * params.max_shift;
  let dy = (uniform01(key, 3u) * 2.0 - 1.0) * params.max_shift;
  // Inverse warp about the image centre: where in the source does output pixel (ox, oy) come from?
  let cx = f32(params.width - 1u) * 0.5;
  let cy = f32(params.height - 1u) * 0.5;
  let ox = f32(f % params.width) - cx - dx;
  let oy = f32(f / params.width) - cy - dy;
  let c = cos(theta);
  let s = sin(theta);
  let sx = c * ox + s * oy + cx;
  let sy = -s * ox + c * oy + cy;
  let x0 = floor(sx);
  let y0 = floor(sy);
  let fx = sx - x0;
  let fy = sy - y0;
  let ix = i32(x0);
  let iy = i32(y0);
  let value = mix(mix(pixel(sample, ix, iy), pixel(sample, ix + 1, iy), fx), mix(pixel(sample, ix, iy + 1), pixel(sample, ix + 1, iy + 1), fx), fy);

  var noise = 0.0;
  if (params.noise_std > 0.0) {
    let pixel_key = pcg(key ^ pcg(f + 0x9e3779b9u));
    let u1 = max(uniform01(pixel_key, 4u), 1e-7);
    let u2 = uniform01(pixel_key, 5u);
    noise = params.noise_std * sqrt(-2.0 * log(u1)) * cos(6.2831853 * u2);
  }
  var scaled = value * params.scale + params.shift;
  if (PER_FEATURE) { scaled = value * bitcast<f32>(side[f]) + bitcast<f32>(side[params.features + f]); }
  x[i] = scaled + noise;
}
