/**
 * symmetricEigen against the definition, in float64: A·v = λ·v for every pair, orthonormal vectors,
 * eigenvalues largest first, on random symmetric matrices (odd and even sizes), a rank-deficient
 * covariance (zero eigenvalues, as MNIST's constant border pixels give), repeated eigenvalues and n = 1.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng';
import { symmetricEigen } from '../../src/util/symmetric_eigen';

function check(a: Float64Array, n: number, tol: number) {
  const { values, vectors } = symmetricEigen(a, n);
  const scale = Math.max(1, ...Array.from(values, Math.abs));
  for (let j = 0; j < n; j++) {
    if (j > 0) expect(values[j], `λ${j} ≤ λ${j - 1}`).toBeLessThanOrEqual(values[j - 1]);
    for (let i = 0; i < n; i++) {
      let av = 0;
      for (let k = 0; k < n; k++) av += a[i * n + k] * vectors[k * n + j];
      expect(Math.abs(av - values[j] * vectors[i * n + j]), `(A·v − λ·v)[${i}] of pair ${j}`).toBeLessThan(tol * scale);
    }
    for (let k = 0; k <= j; k++) {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += vectors[i * n + j] * vectors[i * n + k];
      expect(Math.abs(dot - (j === k ? 1 : 0)), `v${j}·v${k}`).toBeLessThan(tol);
    }
  }
  return values;
}

const randomSymmetric = (n: number, rng: Rng) => {
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = rng.nextFloat() * 2 - 1;
  return a;
};

describe('symmetric eigendecomposition (tred2 + tql2) in float64', () => {
  it.each([1, 2, 7, 64, 101])('a random symmetric matrix of order %i', (n) => {
    check(randomSymmetric(n, new Rng(n)), n, 1e-11);
  });

  it('a rank-3 covariance of 40 features: three positive eigenvalues, the rest 0', () => {
    const [n, rank, rows] = [40, 3, 30];
    const rng = new Rng(5);
    const basis = Array.from({ length: rank }, () => Float64Array.from({ length: n }, () => rng.nextFloat() - 0.5));
    const c = new Float64Array(n * n);
    for (let r = 0; r < rows; r++) {
      const x = new Float64Array(n);
      basis.forEach((b) => {
        const w = rng.nextFloat() - 0.5;
        for (let i = 0; i < n; i++) x[i] += w * b[i];
      });
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) c[i * n + j] += (x[i] * x[j]) / rows;
    }
    const values = check(c, n, 1e-12);
    expect(values[rank - 1]).toBeGreaterThan(1e-4);
    for (let j = rank; j < n; j++) expect(Math.abs(values[j])).toBeLessThan(1e-14);
  });

  it('repeated eigenvalues: 2·I plus a rank-one term', () => {
    const n = 9;
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = (i === j ? 2 : 0) + 0.5;
    const values = check(a, n, 1e-12);
    expect(values[0]).toBeCloseTo(2 + 0.5 * n, 12);
    for (let j = 1; j < n; j++) expect(values[j]).toBeCloseTo(2, 12);
  });
});
