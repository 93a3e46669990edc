import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng';
import { runKernel } from '../helpers/gpu';

const [width, height] = [9, 7];
const features = width * height;

function dataset(count: number, seed: number) {
  const rng = new Rng(seed);
  const bytes = Uint8Array.from({ length: Math.ceil((count * features) / 4) * 4 }, () => rng.nextBelow(256));
  const labels = Uint8Array.from({ length: Math.ceil(count / 4) * 4 }, (_, i) => i % 10);
  return { bytes, images: new Uint32Array(bytes.buffer), labels: new Uint32Array(labels.buffer) };
}

async function augment(count: number, rows: number, settings: { max_shift?: number; max_rotate?: number; noise_std?: number }, step = 0, seed = 1) {
  const { images, labels } = dataset(count, 3);
  const perm = Uint32Array.from({ length: count }, (_, i) => count - 1 - i);
  const [x, y] = await runKernel(
    'gatherAugment',
    {},
    [{ data: images }, { data: labels }, { data: perm }, { output: rows * features }, { output: rows, dtype: 'u32' }, { data: new Uint32Array([step, 0, seed, 0]), uniform: true }],
    { rows, features, scale: 1 / 255, shift: 0, width, height, max_shift: 0, max_rotate: 0, noise_std: 0, ...settings },
    [Math.ceil((rows * features) / 256), 1, 1],
  );
  return { x, y, perm };
}

describe('gather with augmentation', () => {
  it('is the plain gather when every setting is zero (identity warp)', async () => {
    const count = 11;
    const { bytes } = dataset(count, 3);
    const { x, y, perm } = await augment(count, 5, {});
    for (let r = 0; r < 5; r++) {
      expect(y[r]).toBe(perm[r] % 10);
      for (let f = 0; f < features; f++) expect(x[r * features + f]).toBeCloseTo(bytes[perm[r] * features + f] / 255, 6);
    }
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
