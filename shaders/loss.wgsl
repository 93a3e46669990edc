// Fused losses other than plain softmax cross-entropy (which stays in softmax_xent.wgsl): each writes the
// gradient of the batch's mean loss (the op is its own backward) and one workgroup's partial metrics.
// KIND selects the loss; `outputs` are the model's outputs [rows, cols].
//
//   0 cross-entropy, labels y_r, optional class weights w (1 without), label smoothing ε (PyTorch
//     nn.CrossEntropyLoss(weight=w, label_smoothing=ε), reduction mean). With lse_r = logsumexp(z_r):
//       l_r = (1 − ε)·w_y·(lse_r − z_r[y]) + (ε/C)·Σ_j w_j·(lse_r − z_r[j])
//       L   = Σ_r l_r / W,   W = Σ_r w_{y_r}  (the batch's rows without weights)
//       dL/dz_rk = (p_k·((1 − ε)·w_y + (ε/C)·S_w) − (1 − ε)·w_y·[k = y] − (ε/C)·w_k) / W,   S_w = Σ_j w_j
//     One invocation a row, 64 rows a workgroup. With weights W is a batch-wide sum, so every workgroup
//     first reduces Σ_r w_{y_r} over the whole batch itself, in the same fixed order (identical bits in
//     every workgroup; B label reads per workgroup, cheap next to its 64·C logits).
//   1 binary cross-entropy with logits, targets t in [0, 1] (BCEWithLogitsLoss, mean over all elements):
//       l = max(x, 0) − x·t + log(1 + exp(−|x|)),  dl/dx = sigmoid(x) − t
//   2 mean squared error  l = d², dl/dx = 2d        (d = x − t)
//   3 L1                  l = |d|, dl/dx = sign(d)
//   4 Huber (HuberLoss(delta)): l = d²/2 if |d| < δ else δ·(|d| − δ/2), dl/dx = clamp(d, −δ, δ); both times
//     huber_scale, which is 1 for HuberLoss and 1/β for SmoothL1Loss(beta) (with δ = β).
//   Kinds 1-4: elementwise, 256 elements a workgroup (4 an invocation, neighbours reading neighbours),
//   gradient = dl/dx / (rows·cols) (grad_scale).
//
// Metrics: each workgroup reduces its invocations' values in a fixed tree and writes them to
// partials[group, 0..7]; loss_reduce.wgsl adds the groups' partials, in order, into the accumulator
// (no atomics, deterministic). The eight values (shared with softmax_xent's first four):
//   [loss_sum, correct, rows, non_finite, loss_weight, squared_error, absolute_error, predictions]
// loss_weight is the loss's denominator (W for cross-entropy, elements otherwise); predictions is the
// accuracy's and the error means' denominator (rows for cross-entropy, elements otherwise); rows is added
// by loss_reduce. BCE's `correct` counts elements with (x > 0) = (t ≥ 0.5): accuracy at threshold 0.5.
//
// Bindings: 0 outputs (read), 1 labels u32 / targets f32 bits (read), 2 class weights (read; a dummy when
// unweighted), 3 grad (read_write), 4 partials (read_write), 5 Params.

struct Params {
  rows: u32,
  cols: u32,
  smoothing: f32,
  weight_sum: f32,
  grad_scale: f32,
  delta: f32,
  huber_scale: f32,
}

override KIND: u32 = 0u;
override WRITE_GRAD: bool = true;
override WEIGHTED: bool = false;

const WORKGROUP_SIZE: u32 = 64u;
const PER_THREAD: u32 = 4u;
const METRICS: u32 = 8u;

@group(0) @binding(0) var<storage, read> outputs: array<f32>;
@group(0) @binding(1) var<storage, read> truth: array<u32>;
@group(0) @binding(2) var<storage, read> class_weights: array<f32>;
@group(0) @binding(3) var<storage, read_write> grad: array<f32>;
@group(0) @binding(4) var<storage, read_write> partials: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;

var<workgroup> tree: array<f32, 512>; // METRICS × WORKGROUP_SIZE, metric-major

// NaN/Inf test on the bits: WGSL lets compilers assume floats are finite, so `x != x` may be folded away.
fn is_non_finite(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7f800000u) == 0x7f800000u;
}

fn weight_of(c: u32) -> f32 {
  if (WEIGHTED) { return class_weights[c]; }
  return 1.0;
}

fn sigmoid(x: f32) -> f32 {
  let e = exp(-abs(x));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);
}

/** Σ_r w_{y_r} over the whole batch, the same fixed-order tree in every workgroup. */
fn batch_weight(lid: u32) -> f32 {
  var s = 0.0;
  for (var r = lid; r < params.rows; r += WORKGROUP_SIZE) { s += weight_of(truth[r]); }
  tree[lid] = s;
  for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride /= 2u) {
    workgroupBarrier();
    if (lid < stride) { tree[lid] += tree[lid + stride]; }
  }
  workgroupBarrier();
  let total = tree[0];
  workgroupBarrier();
  return total;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let group = wid.x + wid.y * groups.x;
  let per_group = select(WORKGROUP_SIZE * PER_THREAD, WORKGROUP_SIZE, KIND == 0u);
  let total = select(params.rows * params.cols, params.rows, KIND == 0u);
  if (group * per_group >= total) { return; } // the 2-D fold's spare workgroups (uniform: no barrier skipped unevenly)
  var m: array<f32, 8>;
  for (var i = 0u; i < METRICS; i++) { m[i] = 0.0; }

  if (KIND == 0u) {
    var scale = params.grad_scale;
    if (WEIGHTED && WRITE_GRAD) { scale = 1.0 / batch_weight(lid); } // only the gradient needs the batch total
    let r = group * WORKGROUP_SIZE + lid;
    if (r < params.rows) {
      let classes = params.cols;
      let base = r * classes;
      var zmax = outputs[base];
      var best = 0u;
      for (var j = 1u; j < classes; j++) {
        let z = outputs[base + j];
        if (z > zmax) { zmax = z; best = j; }
      }
      var sum = 0.0;
      for (var j = 0u; j < classes; j++) { sum += exp(outputs[base + j] - zmax); }
      let lse = log(sum) + zmax;
      let y = truth[r];
      let wy = weight_of(y);
      let eps = params.smoothing;
      var loss = (1.0 - eps) * wy * (lse - outputs[base + y]);
      if (eps > 0.0) {
        var spread = 0.0;
        for (var j = 0u; j < classes; j++) { spread += weight_of(j) * (lse - outputs[base + j]); }
        loss += eps / f32(classes) * spread;
      }
      m[0] = loss;
      m[1] = select(0.0, 1.0, best == y);
      m[3] = select(0.0, 1.0, is_non_finite(loss) || is_non_finite(zmax));
      m[4] = wy;
      m[7] = 1.0;
      if (WRITE_GRAD) {
        let inv_sum = 1.0 / sum;
        let coef = (1.0 - eps) * wy + eps / f32(classes) * params.weight_sum;
        for (var j = 0u; j < classes; j++) {
          let p = exp(outputs[base + j] - zmax) * inv_sum;
          let g = p * coef - select(0.0, (1.0 - eps) * wy, j == y) - eps / f32(classes) * weight_of(j);
          grad[base + j] = g * scale;
        }
      }
    }
  } else {
    for (var k = 0u; k < PER_THREAD; k++) {
      let i = group * per_group + k * WORKGROUP_SIZE + lid;
      if (i >= total) { break; }
      let x = outputs[i];
      let t = bitcast<f32>(truth[i]);
      var loss = 0.0;
      var g = 0.0;
      if (KIND == 1u) {
        loss = max(x, 0.0) - x * t + log(1.0 + exp(-abs(x)));
        g = sigmoid(x) - t;
        m[1] += select(0.0, 1.0, (x > 0.0) == (t >= 0.5));
      } else {
        let d = x - t;
        let a = abs(d);
        if (KIND == 2u) {
          loss = d * d;
          g = 2.0 * d;
        } else if (KIND == 3u) {
          loss = a;
          g = sign(d);
        } else {
          let delta = params.delta;
          loss = select(delta * (a - 0.5 * delta), 0.5 * d * d, a < delta) * params.huber_scale;
          g = clamp(d, -delta, delta) * params.huber_scale;
        }
        m[5] += d * d;
        m[6] += a;
      }
      m[0] += loss;
      if (is_non_finite(loss) || is_non_finite(x)) { m[3] = 1.0; }
      m[4] += 1.0;
      m[7] += 1.0;
      if (WRITE_GRAD) { grad[i] = g * params.grad_scale; }
    }
  }

  for (var i = 0u; i < METRICS; i++) { tree[i * WORKGROUP_SIZE + lid] = m[i]; }
  for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride /= 2u) {
    workgroupBarrier();
    if (lid < stride) {
      for (var i = 0u; i < METRICS; i++) {
        let a = i * WORKGROUP_SIZE + lid;
        if (i == 3u) {
          tree[a] = max(tree[a], tree[a + stride]);
        } else {
          tree[a] += tree[a + stride];
        }
      }
    }
  }
  workgroupBarrier();
  if (lid < METRICS) { partials[group * METRICS + lid] = tree[lid * WORKGROUP_SIZE]; }
}
