// gather with augmentation (shaders/gather_augment.wgsl): the identity warp, noise statistics and
// reproducibility; then the geometry against a float64 CPU reference of the same transform
// (test/helpers/augment_reference.ts: rotation about the centre, clockwise on screen for θ > 0, shift,
// bilinear sampling, zero outside), element by element; the direction, the angle and the shift bounds read
// from the GPU's output alone (the centroid of a blob); and the model's degrees reaching the kernel as radians.
import { describe, expect, it } from 'vitest';
import { Rng, shuffledIndices } from '../../src/data/rng';
import { lower } from '../../src/kernels/lower';
import { mnistLikeSource, modelGraph } from '../helpers/step_graph';
import { augmentBatchRef, warpOf, warpPoint, type AugmentSettings } from '../helpers/augment_reference';
import { expectAllClose, expectValueClose } from '../helpers/compare';
import { runKernel, stepArg } from '../helpers/gpu';
import { augmentTolerance, U } from '../tolerances';

const [width, height] = [9, 7];
const features = width * height;

function dataset(count: number, seed: number) {
  const rng = new Rng(seed);
  const bytes = Uint8Array.from({ length: Math.ceil((count * features) / 4) * 4 }, () => rng.nextBelow(256));
  return { bytes, images: new Uint32Array(bytes.buffer) };
}

async function augment(count: number, rows: number, settings: { max_shift?: number; max_rotate?: number; noise_std?: number }, step = 0, seed = 1) {
  const { images } = dataset(count, 3);
  const perm = Uint32Array.from({ length: count }, (_, i) => count - 1 - i);
  const labels = Uint32Array.from({ length: count }, (_, i) => i * 37 + 5);
  const [x, y] = await runKernel(
    'gatherAugment',
    {},
    [{ data: images }, { data: perm }, { data: labels }, { output: rows * features }, { output: rows, dtype: 'u32' }, stepArg({ step, seed, mix_lambda: 0 })],
    { rows, features, scale: 1 / 255, shift: 0, width, height, max_shift: 0, max_rotate: 0, noise_std: 0, rows_offset: 0, row_width: 1, ...settings },
    [Math.ceil((rows * features) / 256), 1, 1],
  );
  // The batch's labels come out of the same dispatch, whatever the warp.
  expect([...y]).toEqual(Array.from({ length: rows }, (_, r) => labels[perm[r]]));
  return { x, perm };
}

describe('gather with augmentation', () => {
  it('is the plain gather when every setting is zero (identity warp)', async () => {
    const count = 11;
    const { bytes } = dataset(count, 3);
    const { x, perm } = await augment(count, 5, {});
    // scale 1/255, shift 0: gather's rounding only (x = byte·f32(1/255)).
    const expected = Float64Array.from({ length: 5 * features }, (_, i) => bytes[perm[Math.floor(i / features)] * features + (i % features)] / 255);
    expectAllClose(x.subarray(0, 5 * features), expected, { atol: 0, rtol: 2 * U }, 'identity warp');
  });

  it('noise has the requested standard deviation and zero mean', async () => {
    const clean = await augment(40, 40, {});
    const noisy = await augment(40, 40, { noise_std: 0.5 });
    const diff = Array.from(noisy.x, (v, i) => v - clean.x[i]);
    const mean = diff.reduce((a, b) => a + b, 0) / diff.length;
    const std = Math.sqrt(diff.reduce((a, b) => a + (b - mean) ** 2, 0) / diff.length);
    // 2520 draws: the mean's standard error is 0.5/√2520 ≈ 0.01.
    expect(Math.abs(mean)).toBeLessThan(0.05);
    expect(std).toBeGreaterThan(0.45);
    expect(std).toBeLessThan(0.55);
  });

  it('warps are reproducible by seed and step, differ by step, and keep values in the pixel range', async () => {
    const settings = { max_shift: 2, max_rotate: 0.3 };
    const a = await augment(20, 20, settings, 5);
    const b = await augment(20, 20, settings, 5);
    const c = await augment(20, 20, settings, 6);
    const clean = await augment(20, 20, {});
    expect([...a.x]).toEqual([...b.x]);
    expect([...a.x]).not.toEqual([...c.x]);
    expect([...a.x]).not.toEqual([...clean.x]);
    expect(a.x.every((v) => v >= 0 && v <= 1 + 1e-6)).toBe(true);
  });
});

/** Runs gatherAugment on explicit images (bytes), a permutation and settings; returns the batch. */
async function augmentImages(images: Uint8Array, perm: Uint32Array, batchStart: number, rows: number, s: AugmentSettings, step: number, seed: number) {
  const features = s.width * s.height;
  const bytes = new Uint8Array(Math.ceil(images.length / 4) * 4);
  bytes.set(images);
  const [x] = await runKernel(
    'gatherAugment',
    {},
    [{ data: new Uint32Array(bytes.buffer) }, { data: perm }, { data: new Uint32Array(perm.length) }, { output: rows * features }, { output: rows, dtype: 'u32' }, stepArg({ step, batch_start: batchStart, seed, mix_lambda: 0 })],
    { rows, features, scale: s.scale, shift: s.shift, width: s.width, height: s.height, max_shift: s.maxShift, max_rotate: s.maxRotate, noise_std: s.noiseStd, rows_offset: 0, row_width: 1 },
    [Math.ceil((rows * features) / 256), 1, 1],
  );
  return x as Float32Array;
}

const f32 = Math.fround;

describe('augmentation geometry vs a float64 reference of the same transform', () => {
  // Non-square images (9×7: a swapped width and height shows), MNIST's 28×28; angles up to π, shifts up to
  // 3 px, standardising scale and shift, noise; a later batch of a shuffled order, non-zero step and seed.
  const cases: (Partial<AugmentSettings> & { name: string })[] = [
    { name: 'shift only', maxShift: 3 },
    { name: 'rotation only, ±0.6 rad', maxRotate: 0.6 },
    { name: 'rotation up to ±π and shift', maxRotate: f32(Math.PI), maxShift: 2 },
    { name: '28×28, ±15° and ±2 px, standardised', width: 28, height: 28, maxRotate: f32((15 * Math.PI) / 180), maxShift: 2, scale: f32(1 / (255 * 0.3081)), shift: f32(-0.1307 / 0.3081) },
    { name: 'warp and noise', maxRotate: 0.3, maxShift: 1.5, noiseStd: 0.25 },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const s: AugmentSettings = { width: 9, height: 7, maxShift: 0, maxRotate: 0, noiseStd: 0, scale: f32(1 / 255), shift: 0, ...c };
      const features = s.width * s.height;
      const count = 50;
      const rng = new Rng(features + c.name.length);
      const images = Uint8Array.from({ length: count * features }, () => rng.nextBelow(256));
      const perm = shuffledIndices(count, rng);
      const [rows, batchStart, step, seed] = [30, 17, 1234, 77];
      const x = await augmentImages(images, perm, batchStart, rows, s, step, seed);
      expectAllClose(x, augmentBatchRef(images, perm, batchStart, rows, seed, step, s), augmentTolerance(s), `augmented batch (${c.name})`);
    });
  }

  it('direction, angle and shift read from the output: a blob lands where the forward map puts it', async () => {
    // One smooth blob (Gaussian, σ 1.3 px) 6 px right of the centre of a 29×29 image, in 240 rows.
    const s: AugmentSettings = { width: 29, height: 29, maxShift: 2.5, maxRotate: 0.8, noiseStd: 0, scale: 1, shift: 0 };
    const [cx, cy] = [14, 14];
    const blob = Uint8Array.from({ length: 29 * 29 }, (_, i) => Math.round(250 * Math.exp(-(((i % 29) - cx - 6) ** 2 + (Math.floor(i / 29) - cy) ** 2) / (2 * 1.3 ** 2))));
    const rows = 240;
    const perm = new Uint32Array(rows); // every row takes sample 0
    const x = await augmentImages(blob, perm, 0, rows, s, 9, 5);
    const centroid = (r: number) => {
      let [m, mx, my] = [0, 0, 0];
      for (let i = 0; i < 29 * 29; i++) {
        const v = x[r * 29 * 29 + i];
        [m, mx, my] = [m + v, mx + v * (i % 29), my + v * Math.floor(i / 29)];
      }
      return [mx / m, my / m];
    };
    let [maxTheta, minTheta, maxDx, minDx] = [-Infinity, Infinity, -Infinity, Infinity];
    let mirrored = 0;
    for (let r = 0; r < rows; r++) {
      const warp = warpOf(5, 9, r, s);
      const [px, py] = warpPoint(cx + 6, cy, warp, s);
      const [gx, gy] = centroid(r);
      // Bilinear resampling of a smooth blob keeps its centroid to a few hundredths of a pixel.
      expectAllClose([gx, gy], [px, py], { atol: 0.05, rtol: 0 }, `row ${r}: blob centroid vs the forward map (θ ${warp.theta.toFixed(3)}, d ${warp.dx.toFixed(2)}, ${warp.dy.toFixed(2)})`);
      // The opposite rotation would put it 12·|sin θ| px away: the direction is really tested where that is large.
      const [qx, qy] = warpPoint(cx + 6, cy, { ...warp, theta: -warp.theta }, s);
      if (Math.hypot(qx - gx, qy - gy) > 1) mirrored++;
      // Angle and shift recovered from the GPU's output alone: atan2 about the shifted centre.
      const theta = Math.atan2(gy - cy - warp.dy, gx - cx - warp.dx);
      [maxTheta, minTheta, maxDx, minDx] = [Math.max(maxTheta, theta), Math.min(minTheta, theta), Math.max(maxDx, warp.dx), Math.min(minDx, warp.dx)];
    }
    expect(mirrored, 'rows whose rotation is large enough to tell clockwise from anticlockwise').toBeGreaterThan(rows / 2);
    // Angles span [−0.8, 0.8] rad and no more; shifts [−2.5, 2.5] px.
    expect(maxTheta).toBeLessThanOrEqual(0.8 + 0.01);
    expect(minTheta).toBeGreaterThanOrEqual(-0.8 - 0.01);
    expect(maxTheta).toBeGreaterThan(0.75);
    expect(minTheta).toBeLessThan(-0.75);
    expect(maxDx).toBeLessThanOrEqual(2.5);
    expect(minDx).toBeGreaterThanOrEqual(-2.5);
    expect(maxDx - minDx).toBeGreaterThan(4.5);
  });

  it('the model\'s maxRotate is in degrees: the gather dispatch receives radians, and maxShift unchanged', () => {
    const source = { ...mnistLikeSource(10), augment: { maxRotate: 15, maxShift: 2 } };
    const { graph } = modelGraph({ layers: [784, 10] }, 4, true, source);
    const gather = lower(graph.nodes[0])!;
    expect(gather.kernel).toBe('gatherAugment');
    expectValueClose(gather.params.max_rotate, (15 * Math.PI) / 180, { atol: 0, rtol: 2 ** -52 }, 'max_rotate (radians)');
    expect(gather.params.max_shift).toBe(2);
    // Evaluation graphs never augment.
    expect(lower(modelGraph({ layers: [784, 10] }, 4, false, source).graph.nodes[0])!.kernel).toBe('gather');
  });
});
