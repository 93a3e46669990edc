// Property tests: every kernel on 200 seeded random shapes against its float64 reference.
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng';
import { activationKinds } from '../../src/graph/ops';
import { grid1d } from '../../src/kernels/kernel';
import { MATMUL_BLOCK, MATMUL_WG } from '../../src/kernels/lower';
import { compareElementwise, describeComparison, type Comparison, type Tolerance } from '../helpers/compare';
import { randomArray, runKernel, stepArg } from '../helpers/gpu';
import { runColumnSum, runSoftmaxXent } from '../helpers/reduction_runs';
import { SPLITS } from '../helpers/run_node';
import { ACTIVATION, dotTolerance, gatherTolerance, softmaxGradTolerance, sumTolerance, uniformRms } from '../tolerances';
import { activateRef, columnSumRef, matmulRef, softmaxXentRef } from '../helpers/reference';

const CASES = 200;
const kinds = Object.keys(activationKinds) as (keyof typeof activationKinds)[];

/** Runs `body` for CASES seeded cases and reports every failing case's description at once. */
async function property(name: string, body: (rng: Rng) => Promise<{ comparison: Comparison; tolerance: Tolerance; description: string }>) {
  const rng = new Rng(name.length * 7919);
  const failures: string[] = [];
  let worst = 0;
  for (let i = 0; i < CASES; i++) {
    const { comparison, tolerance, description } = await body(rng);
    worst = Math.max(worst, comparison.ratio);
    if (!comparison.ok) failures.push(describeComparison(comparison, tolerance, description));
  }
  if (process.env.TOLERANCE_LOG) console.log(`[tolerance] property ${name}: worst ratio ${worst.toPrecision(3)} over ${CASES} cases`);
  expect(failures).toEqual([]);
}

const check = (actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: Tolerance, description: string) => ({ comparison: compareElementwise(actual, expected, tolerance), tolerance, description });

/** Unused bindings of a kernel (gather's spare chunks, its affine map when there is none). */
const dummies = (n: number) => Array.from({ length: n }, () => ({ data: new Uint32Array(4) }));

describe(`kernels on ${CASES} random shapes`, () => {
  it('matmul', async () => {
    const tile = MATMUL_BLOCK * MATMUL_WG;
    await property('matmul', async (rng) => {
      const [m, n, k] = [1 + rng.nextBelow(70), 1 + rng.nextBelow(70), 1 + rng.nextBelow(70)];
      const [transA, transB] = [rng.nextBelow(2) === 1, rng.nextBelow(2) === 1];
      const a = randomArray(m * k, rng);
      const b = randomArray(k * n, rng);
      const [c] = await runKernel(
        'matmul',
        { TRANS_A: transA, TRANS_B: transB, WG_X: MATMUL_WG, WG_Y: MATMUL_WG },
        [{ data: a }, { data: b }, { data: new Float32Array(4) }, { output: m * n }, { output: 4 }],
        { M: m, N: n, K: k, alpha: 0 },
        [Math.ceil(n / tile), Math.ceil(m / tile), 1],
      );
      return check(c, matmulRef(a, b, m, n, k, transA, transB), dotTolerance(k), `M=${m} N=${n} K=${k} transA=${transA} transB=${transB}`);
    });
  });

  it('activation forward', async () => {
    await property('activation', async (rng) => {
      const n = 1 + rng.nextBelow(3000);
      const kind = kinds[rng.nextBelow(kinds.length)];
      const x = randomArray(n, rng, 5);
      const [y] = await runKernel('activationForward', { ACT: activationKinds[kind] }, [{ data: x }, { data: new Float32Array(4) }, { output: n }], { count: n, alpha: 0.2 }, grid1d(n, 256));
      // Inputs up to ±5: exp's spec error at |x| = 5 is 26u, inside ACTIVATION's 32u with the other roundings.
      return check(y, Float64Array.from(x, (v) => activateRef(v, kind, 0.2)), ACTIVATION, `${kind} n=${n}`);
    });
  });

  it('softmax cross-entropy', async () => {
    let partialsRuns = 0;
    await property('softmax', async (rng) => {
      // Up to 600 rows: past the GPU split's 256-row groups, so the partials and loss_reduce path runs too.
      const [rows, classes] = [1 + rng.nextBelow(600), 1 + rng.nextBelow(20)];
      const [splitName, split] = SPLITS[rng.nextBelow(SPLITS.length)];
      const logits = randomArray(rows * classes, rng, 8);
      const labels = Uint32Array.from({ length: rows }, () => rng.nextBelow(classes));
      const { dlogits, dispatches } = await runSoftmaxXent(logits, labels, rows, classes, split, true, new Float32Array(8));
      if (dispatches > 1) partialsRuns++;
      const ref = softmaxXentRef(logits, labels, rows, classes).dlogits;
      // With one class every gradient is exactly 0 (the rule then demands exactly 0).
      return check(dlogits, ref, softmaxGradTolerance(classes, 1 / rows), `${splitName} split rows=${rows} classes=${classes}`);
    });
    expect(partialsRuns, 'cases that ran the partials and loss_reduce path').toBeGreaterThan(0);
  });

  it('column sum', async () => {
    let chunkedRuns = 0;
    await property('colsum', async (rng) => {
      // Up to 600 rows: past the GPU split's 256-row chunks, so the chunked path and partial_sum run too.
      const [rows, cols] = [1 + rng.nextBelow(600), 1 + rng.nextBelow(300)];
      const [splitName, split] = SPLITS[rng.nextBelow(SPLITS.length)];
      const x = randomArray(rows * cols, rng);
      const { sums, dispatches } = await runColumnSum(x, rows, cols, split);
      if (dispatches > 1) chunkedRuns++;
      return check(sums, columnSumRef(x, rows, cols), sumTolerance(rows, uniformRms(1)), `${splitName} split rows=${rows} cols=${cols}`);
    });
    expect(chunkedRuns, 'cases that ran the chunked path and partial_sum').toBeGreaterThan(0);
  });

  it('gather', async () => {
    await property('gather', async (rng) => {
      const [count, features] = [1 + rng.nextBelow(60), 1 + rng.nextBelow(100)];
      const rows = 1 + rng.nextBelow(count);
      const start = rng.nextBelow(count - rows + 1);
      const bytes = Uint8Array.from({ length: Math.ceil((count * features) / 4) * 4 }, () => rng.nextBelow(256));
      const perm = Uint32Array.from({ length: count }, () => rng.nextBelow(count));
      const labels = Uint32Array.from({ length: count }, () => rng.nextBelow(1 << 20));
      const [x, y] = await runKernel(
        'gather',
        {},
        [{ data: new Uint32Array(bytes.buffer) }, ...dummies(3), { data: perm }, { data: labels }, { output: rows * features }, { output: rows, dtype: 'u32' }, stepArg({ batch_start: start, mix_lambda: 0 })],
        { rows, features, scale: 1 / 255, shift: 0, samples_per_chunk: count, rows_offset: 0, row_width: 1 },
        grid1d(rows * features, 256),
      );
      const ref = new Float64Array(rows * features);
      for (let r = 0; r < rows; r++) for (let f = 0; f < features; f++) ref[r * features + f] = bytes[perm[start + r] * features + f] / 255;
      expect([...y], `labels: count=${count} rows=${rows} start=${start}`).toEqual(Array.from({ length: rows }, (_, r) => labels[perm[start + r]]));
      return check(x, ref, gatherTolerance(1 / 255, 0), `count=${count} rows=${rows} features=${features} start=${start}`);
    });
  });
});
