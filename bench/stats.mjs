/**
 * Helpers shared by the benchmark suites (suite.mjs, suite_jaxjs.mjs): statistics and deterministic data,
 * so every library multiplies the same matrices and visits the training samples in the same order.
 */

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

export const round = (x, digits = 4) => (Number.isFinite(x) ? Number(x.toPrecision(digits)) : x);

/** Deterministic uniform [-1, 1) floats (mulberry32), so every library multiplies the same matrices. */
export function randomFloats(n, seed) {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

export function shuffled(n, seed) {
  const order = Uint32Array.from({ length: n }, (_, i) => i);
  const r = randomFloats(n, seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(((r[i] + 1) / 2) * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

export function summariseSteps(times, steps, batchSize, extra) {
  const ms = median(times);
  return {
    steps,
    batchSize,
    runsMs: times.map((t) => round(t, 5)),
    msPerStep: round(ms / steps, 5),
    samplesPerSecond: round((steps * batchSize) / (ms / 1000), 4),
    ...extra,
  };
}

/**
 * MNIST batches on the host: images scaled to [0, 1] float32 [rows, features], labels int32, in the fixed
 * shuffled order of `seed` (or in order when `shuffle` is false); the last batch is partial when the count
 * is not a multiple of the batch. Takes a webgrad Dataset (`x` bytes and `sampleShape`) or, from older
 * builds, `images` with `rows` × `cols`.
 */
export function hostBatches(ds, count, batchSize, seed, shuffle = true) {
  const pixelsOf = ds.x ?? ds.images;
  const features = ds.sampleShape ? ds.sampleShape.reduce((a, b) => a * b, 1) : ds.rows * ds.cols;
  const scale = pixelsOf instanceof Uint8Array ? 1 / 255 : 1;
  const order = shuffle ? shuffled(count, seed) : Uint32Array.from({ length: count }, (_, i) => i);
  const batches = [];
  for (let start = 0; start < count; start += batchSize) {
    const rows = Math.min(batchSize, count - start);
    const x = new Float32Array(rows * features);
    const labels = new Int32Array(rows);
    for (let r = 0; r < rows; r++) {
      const src = order[start + r];
      const pixels = pixelsOf.subarray(src * features, (src + 1) * features);
      for (let f = 0; f < features; f++) x[r * features + f] = scale === 1 ? pixels[f] : pixels[f] / 255;
      labels[r] = ds.labels[src];
    }
    batches.push({ x, labels, rows, features });
  }
  return batches;
}
