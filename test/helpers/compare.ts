/**
 * The one comparison rule of the numeric tests: every element must satisfy |a − b| ≤ atol + rtol·|b|,
 * b being the (float64) reference. NaN or Inf in the output never passes, and a failure names the worst
 * element (index, both values, how far past its bound), so one wrong element of a large output cannot
 * hide behind a norm. Tolerances come from test/tolerances.ts, where each is justified.
 */
import { expect } from 'vitest';

export interface Tolerance {
  atol: number;
  rtol: number;
}

export interface Comparison {
  ok: boolean;
  /** The element that exceeds its bound by the largest factor (or the first non-finite one). */
  index: number;
  actual: number;
  expected: number;
  /** |a − b| / (atol + rtol·|b|): ≤ 1 passes. */
  ratio: number;
  count: number;
}

export function compareElementwise(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance): Comparison {
  const worst: Comparison = { ok: actual.length === expected.length, index: -1, actual: NaN, expected: NaN, ratio: 0, count: expected.length };
  if (!worst.ok) return { ...worst, ratio: Infinity };
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const b = expected[i];
    const bound = tol.atol + tol.rtol * Math.abs(b);
    const ratio = Number.isFinite(a) || a === b ? Math.abs(a - b) / bound : Infinity;
    // NaN ratios (a NaN reference) fail as well: a reference must be finite for a comparison to mean anything.
    if (!(ratio <= worst.ratio) || Number.isNaN(ratio)) {
      worst.index = i;
      worst.actual = a;
      worst.expected = b;
      worst.ratio = Number.isNaN(ratio) ? Infinity : ratio;
      if (worst.ratio === Infinity) break;
    }
  }
  worst.ok = worst.ratio <= 1;
  return worst;
}

export function describeComparison(c: Comparison, tol: Tolerance, what: string): string {
  if (c.index < 0 && !c.ok) return `${what}: ${c.count} reference elements but a different number of outputs`;
  return (
    `${what}: worst element [${c.index}] of ${c.count}: got ${c.actual}, expected ${c.expected} ` +
    `(|diff| ${Math.abs(c.actual - c.expected).toExponential(3)} is ${c.ratio.toPrecision(3)}× the bound atol ${tol.atol} + rtol ${tol.rtol}·|expected|)`
  );
}

/** Asserts the elementwise rule on every element. */
export function expectAllClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance, what = 'output'): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  const c = compareElementwise(actual, expected, tol);
  // TOLDEBUG=1 prints every comparison's worst ratio: how the tolerances in test/tolerances.ts were calibrated.
  if (process.env.TOLDEBUG) console.log(`TOL ${what} ratio ${c.ratio.toPrecision(3)}`);
  expect(c.ok, describeComparison(c, tol, what)).toBe(true);
}
