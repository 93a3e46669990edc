import { describe, expect, it } from 'vitest';
import { Rng, shuffledIndices } from '../../src/data/rng';

describe('Rng (xoshiro128**)', () => {
  it('matches the reference algorithm for a known state', () => {
    // With s = [1, 2, 3, 4]: rotl(2 * 5, 7) * 9 = 1280 * 9.
    expect(Rng.fromState([1, 2, 3, 4]).nextU32()).toBe(11520);
  });

  it('is reproducible by seed and differs across seeds', () => {
    const draw = (seed: number) => {
      const rng = new Rng(seed);
      return Array.from({ length: 8 }, () => rng.nextU32());
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
  });

  it('resumes exactly from a saved state', () => {
    const rng = new Rng(7);
    for (let i = 0; i < 100; i++) rng.nextU32();
    const saved = JSON.parse(JSON.stringify(rng.state()));
    const expected = [rng.nextU32(), rng.nextFloat(), rng.normal()];
    const resumed = Rng.fromState(saved);
    expect([resumed.nextU32(), resumed.nextFloat(), resumed.normal()]).toEqual(expected);
  });

  it('keeps nextFloat in [0, 1) and nextBelow in range', () => {
    const rng = new Rng(1);
    for (let i = 0; i < 10_000; i++) {
      const x = rng.nextFloat();
      expect(x >= 0 && x < 1).toBe(true);
      const k = rng.nextBelow(3);
      expect(k === 0 || k === 1 || k === 2).toBe(true);
    }
  });

  it('draws normals with mean ~0 and std ~1', () => {
    const rng = new Rng(123);
    const n = 100_000;
    let sum = 0;
    let sumSquares = 0;
    for (let i = 0; i < n; i++) {
      const x = rng.normal();
      sum += x;
      sumSquares += x * x;
    }
    const mean = sum / n;
    const std = Math.sqrt(sumSquares / n - mean * mean);
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(Math.abs(std - 1)).toBeLessThan(0.02);
  });

  it('rejects an all-zero state', () => {
    expect(() => Rng.fromState([0, 0, 0, 0])).toThrow(/all-zero/);
  });
});

describe('shuffledIndices', () => {
  it('returns a permutation of 0..n-1', () => {
    const order = shuffledIndices(1000, new Rng(5));
    expect(Array.from(order).sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(Array.from(order)).not.toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });

  it('is reproducible by seed and differs across seeds', () => {
    expect(shuffledIndices(100, new Rng(9))).toEqual(shuffledIndices(100, new Rng(9)));
    expect(shuffledIndices(100, new Rng(9))).not.toEqual(shuffledIndices(100, new Rng(10)));
  });

  it('handles n = 0 and n = 1', () => {
    expect(shuffledIndices(0, new Rng(1))).toEqual(new Uint32Array(0));
    expect(shuffledIndices(1, new Rng(1))).toEqual(Uint32Array.of(0));
  });
});
