/**
 * The one comparison rule of the numeric tests: every element must satisfy |a − b| ≤ atol + rtol·|b|,
 * b being the (float64) reference. NaN or Inf in the output never passes (unless the reference holds the
 * same non-finite value), and a failure names the worst element (index, both values, how far past its
 * bound) and how many elements failed, so one wrong element of a large output cannot hide behind a norm.
 * Tolerances come from test/tolerances.ts, where each is justified.
 *
 * TOLERANCE_LOG=1 prints every comparison's worst ratio (|a − b| / bound), to see how much of each
 * tolerance a run uses.
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
  /** Elements compared, and how many of them are outside their bound. */
  count: number;
  failures: number;
}

/** |a − b| / (atol + rtol·|b|) for one element; Infinity for a non-finite output or reference that differs. */
export function elementRatio(a: number, b: number, tol: Tolerance): number {
  if (a === b) return 0; // also covers equal infinities and a zero bound
  if (!Number.isFinite(a) || !Number.isFinite(b)) return Infinity;
  const bound = tol.atol + tol.rtol * Math.abs(b);
  return bound > 0 ? Math.abs(a - b) / bound : Infinity;
}

export function compareElementwise(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance): Comparison {
  if (actual.length !== expected.length) return { ok: false, index: -1, actual: NaN, expected: NaN, ratio: Infinity, count: expected.length, failures: expected.length };
  return compareWith(actual, (i) => expected[i], tol);
}

/** compareElementwise with the reference computed element by element (outputs too large to hold twice in float64). */
export function compareWith(actual: ArrayLike<number>, expected: (i: number) => number, tol: Tolerance): Comparison {
  const worst: Comparison = { ok: false, index: -1, actual: NaN, expected: NaN, ratio: 0, count: actual.length, failures: 0 };
  for (let i = 0; i < actual.length; i++) {
    const b = expected(i);
    const ratio = elementRatio(actual[i], b, tol);
    // `!(ratio <= 1)` counts NaN ratios (a NaN output) as failures too.
    if (!(ratio <= 1)) worst.failures++;
    if (worst.index < 0 || ratio > worst.ratio || Number.isNaN(ratio)) {
      worst.index = i;
      worst.actual = actual[i];
      worst.expected = b;
      worst.ratio = Number.isNaN(ratio) ? Infinity : ratio;
    }
  }
  worst.ok = worst.failures === 0;
  return worst;
}

export function describeComparison(c: Comparison, tol: Tolerance, what: string): string {
  if (c.index < 0 && c.count > 0) return `${what}: ${c.count} reference elements but a different number of outputs`;
  if (c.index < 0) return `${what}: nothing to compare`;
  return (
    `${what}: ${c.failures} of ${c.count} elements outside |a − b| ≤ atol + rtol·|b|; worst [${c.index}]: got ${c.actual}, expected ${c.expected} ` +
    `(|diff| ${Math.abs(c.actual - c.expected).toExponential(3)} is ${c.ratio.toPrecision(3)}× the bound atol ${tol.atol.toExponential(3)} + rtol ${tol.rtol.toExponential(3)}·|expected|)`
  );
}

const log = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.TOLERANCE_LOG;

/** Asserts the elementwise rule on every element; a comparison of nothing fails (it would check nothing). */
export function expectAllClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance, what = 'output'): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  expect(expected.length, `${what}: an empty comparison checks nothing`).toBeGreaterThan(0);
  const c = compareElementwise(actual, expected, tol);
  if (log) console.log(`[tolerance] ${what}: worst ratio ${c.ratio.toPrecision(3)} at [${c.index}] of ${c.count}`);
  expect(c.ok, describeComparison(c, tol, what)).toBe(true);
}

/** expectAllClose against a reference computed element by element. */
export function expectAllCloseWith(actual: ArrayLike<number>, expected: (i: number) => number, tol: Tolerance, what = 'output'): void {
  expect(actual.length, `${what}: an empty comparison checks nothing`).toBeGreaterThan(0);
  const c = compareWith(actual, expected, tol);
  if (log) console.log(`[tolerance] ${what}: worst ratio ${c.ratio.toPrecision(3)} at [${c.index}] of ${c.count}`);
  expect(c.ok, describeComparison(c, tol, what)).toBe(true);
}

/** The same rule for one number (a loss, a norm, a statistic). */
export function expectValueClose(actual: number, expected: number, tol: Tolerance, what = 'value'): void {
  expectAllClose([actual], [expected], tol, what);
}

/** max |x|: the scale that tolerances of composite computations are stated against. */
export function maxAbs(x: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]));
  return m;
}
