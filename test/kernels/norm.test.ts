// Batch norm and layer norm kernels, forward and backward: the float64 references against central finite
// differences, then the GPU against the references, at row and feature counts off the workgroup size.
// Tolerances: normForwardTolerance, normBackwardTolerance and runningStatsTolerance (test/tolerances.ts);
// the mean is compared in units of its group's σ and dx in units of its group's rstd, so one tolerance
// serves columns whose scales differ by 130×.
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng';
import { grid1d } from '../../src/kernels/kernel';
import { expectAllClose } from '../helpers/compare';
import { randomArray, runKernel } from '../helpers/gpu';
import { EVAL_NORM, finiteDifferenceTolerance, normBackwardTolerance, normForwardTolerance, runningStatsTolerance } from '../tolerances';
import {
  batchNormBackwardRef,
  batchNormEvalRef,
  batchNormRef,
  layerNormBackwardRef,
  layerNormRef,
  numericGrad,
  type Vec,
} from '../helpers/reference';

const EPS = 1e-5;
const dot = (a: Vec, b: Vec) => Array.from({ length: a.length }, (_, i) => a[i] * b[i]).reduce((s, v) => s + v, 0);

/** x divided by the scale of its group: group(i) is the column (batch norm) or the row (layer norm) of element i. */
const inUnits = (x: Vec, scales: Vec, group: (i: number) => number) => Float64Array.from({ length: x.length }, (_, i) => x[i] / scales[group(i)]);

/** x with a per-column offset and scale, so the statistics are not trivially 0 and 1. */
function inputs(rows: number, features: number, seed: number) {
  const rng = new Rng(seed);
  const x = Float32Array.from({ length: rows * features }, (_, i) => (rng.nextFloat() * 2 - 1) * (1 + (i % features)) + 0.5 * (i % 3));
  return { x, gamma: randomArray(features, rng, 2), beta: randomArray(features, rng), dy: randomArray(rows * features, rng) };
}

describe('float64 references vs finite differences', () => {
  for (const [kind, forward, backward] of [
    ['batch norm', batchNormRef, batchNormBackwardRef],
    ['layer norm', layerNormRef, layerNormBackwardRef],
  ] as const) {
    for (const [rows, features] of [[3, 5], [7, 4], [5, 3]] as const) {
      it(`${kind} rows=${rows} features=${features}: dx, dγ, dβ`, () => {
        const { x, gamma, beta, dy } = inputs(rows, features, rows * 10 + features);
        const ref = backward(dy, x, gamma, rows, features, EPS);
        // The scalar L = Σ dy·y, differentiated numerically with respect to each input in turn.
        const loss = (xs: Vec, g: Vec, b: Vec) => dot(dy, forward(xs, g, b, rows, features, EPS).y);
        const x64 = Float64Array.from(x);
        const g64 = Float64Array.from(gamma);
        const b64 = Float64Array.from(beta);
        const fd = finiteDifferenceTolerance(Array.from(forward(x64, g64, b64, rows, features, EPS).y, (v, i) => Math.abs(v * dy[i])).reduce((a, b) => a + b));
        expectAllClose(ref.dx, numericGrad((v) => loss(v, g64, b64), x64), fd, 'dx vs finite differences');
        expectAllClose(ref.dgamma, numericGrad((v) => loss(x64, v, b64), g64), fd, 'dγ vs finite differences');
        expectAllClose(ref.dbeta, numericGrad((v) => loss(x64, g64, v), b64), fd, 'dβ vs finite differences');
      });
    }
  }
});

const bnShapes: [number, number][] = [[4, 5], [3, 10], [7, 130], [129, 5], [257, 10], [257, 130], [64, 64]];

describe('batch norm kernel', () => {
  for (const [rows, features] of bnShapes) {
    it(`training forward and backward, rows=${rows} features=${features}`, async () => {
      const { x, gamma, beta, dy } = inputs(rows, features, rows * 1000 + features);
      const rng = new Rng(features);
      const runningMean = randomArray(features, rng);
      const runningVar = Float32Array.from(randomArray(features, rng), (v) => 1 + v * 0.5);
      const momentum = 0.1;
      const [, , rm, rv, y, mean, rstd] = await runKernel(
        'batchNormForward',
        { TRAINING: true },
        [
          { data: x },
          { output: features, initial: gamma },
          { output: features, initial: beta },
          { output: features, initial: runningMean },
          { output: features, initial: runningVar },
          { output: rows * features },
          { output: features },
          { output: features },
        ],
        { rows, features, eps: EPS, momentum },
        [Math.ceil(features / 64), 1, 1],
      );
      const ref = batchNormRef(x, gamma, beta, rows, features, EPS);
      const tol = normForwardTolerance(rows);
      const sigma = ref.variance.map(Math.sqrt);
      const column = (i: number) => i % features;
      expectAllClose(y, ref.y, tol.y, 'y');
      expectAllClose(inUnits(mean, sigma, (f) => f), inUnits(ref.mean, sigma, (f) => f), tol.mean, 'mean / σ');
      expectAllClose(rstd, ref.rstd, tol.rstd, 'rstd');
      // PyTorch's update: the running variance takes the unbiased batch variance.
      const running = runningStatsTolerance(rows, momentum);
      const expectedMean = Float64Array.from(runningMean, (v, f) => (1 - momentum) * v + momentum * ref.mean[f]);
      expectAllClose(inUnits(rm, sigma, (f) => f), inUnits(expectedMean, sigma, (f) => f), running.mean, 'running mean / σ');
      expectAllClose(rv, Float64Array.from(runningVar, (v, f) => (1 - momentum) * v + (momentum * ref.variance[f] * rows) / (rows - 1)), running.variance, 'running variance');

      const [dx, dgamma, dbeta] = await runKernel(
        'batchNormBackward',
        {},
        [{ data: dy }, { data: x }, { data: mean }, { data: rstd }, { data: gamma }, { output: rows * features }, { output: features }, { output: features }],
        { rows, features, eps: EPS, momentum: 0 },
        [Math.ceil(features / 64), 1, 1],
      );
      const grads = batchNormBackwardRef(dy, x, gamma, rows, features, EPS);
      const back = normBackwardTolerance(rows, rows);
      expectAllClose(inUnits(dx, ref.rstd, column), inUnits(grads.dx, ref.rstd, column), back.dx, 'dx / rstd');
      expectAllClose(dgamma, grads.dgamma, back.dgamma, 'dγ');
      expectAllClose(dbeta, grads.dbeta, back.dbeta, 'dβ');
    });
  }

  for (const [rows, features] of [[1, 5], [3, 10], [257, 130]] as const) {
    it(`evaluation uses the running statistics and changes no parameter, rows=${rows} features=${features}`, async () => {
      const { x, gamma, beta } = inputs(rows, features, rows + features);
      const rng = new Rng(rows);
      const runningMean = randomArray(features, rng);
      const runningVar = Float32Array.from(randomArray(features, rng), (v) => 1 + v * 0.5);
      const [g, b, rm, rv, y, mean, rstd] = await runKernel(
        'batchNormForward',
        { TRAINING: false },
        [
          { data: x },
          { output: features, initial: gamma },
          { output: features, initial: beta },
          { output: features, initial: runningMean },
          { output: features, initial: runningVar },
          { output: rows * features },
          { output: features },
          { output: features },
        ],
        { rows, features, eps: EPS, momentum: 0.1 },
        [Math.ceil(features / 64), 1, 1],
      );
      // Statistics given (no reduction): rstd is 1/√(v + ε) (2.5 + 2 ulp and the addition's u), x̂ inherits
      // it (|x̂| ≤ ~4·130 here: inputs are not normalised by these statistics), y adds 2 roundings.
      const rstdRef = Float64Array.from(runningVar, (v) => 1 / Math.sqrt(v + EPS));
      expectAllClose(y, batchNormEvalRef(x, gamma, beta, runningMean, runningVar, rows, features, EPS), EVAL_NORM, 'y');
      expect([...mean]).toEqual([...runningMean]);
      expectAllClose(rstd, rstdRef, EVAL_NORM, 'rstd');
      expect([...rm]).toEqual([...runningMean]);
      expect([...rv]).toEqual([...runningVar]);
      expect([...g]).toEqual([...gamma]);
      expect([...b]).toEqual([...beta]);
    });
  }
});

const lnShapes: [number, number][] = [[1, 5], [1, 130], [3, 10], [7, 5], [129, 130], [257, 10], [65, 64]];

describe('layer norm kernel', () => {
  for (const [rows, features] of lnShapes) {
    it(`forward and backward, rows=${rows} features=${features}`, async () => {
      const { x, gamma, beta, dy } = inputs(rows, features, rows * 7 + features);
      const [y, mean, rstd] = await runKernel(
        'layerNormForward',
        {},
        [{ data: x }, { data: gamma }, { data: beta }, { output: rows * features }, { output: rows }, { output: rows }],
        { rows, features, eps: EPS },
        grid1d(rows, 64),
      );
      const ref = layerNormRef(x, gamma, beta, rows, features, EPS);
      const tol = normForwardTolerance(features);
      const sigma = ref.variance.map(Math.sqrt);
      const row = (i: number) => Math.floor(i / features);
      expectAllClose(y, ref.y, tol.y, 'y');
      expectAllClose(inUnits(mean, sigma, (r) => r), inUnits(ref.mean, sigma, (r) => r), tol.mean, 'mean / σ');
      expectAllClose(rstd, ref.rstd, tol.rstd, 'rstd');

      const [dx, dgamma, dbeta] = await runKernel(
        'layerNormBackward',
        {},
        [{ data: dy }, { data: x }, { data: mean }, { data: rstd }, { data: gamma }, { output: rows * features }, { output: features }, { output: features }],
        { rows, features, eps: EPS },
        grid1d(rows + features, 64),
      );
      const grads = layerNormBackwardRef(dy, x, gamma, rows, features, EPS);
      const back = normBackwardTolerance(features, rows);
      expectAllClose(inUnits(dx, ref.rstd, row), inUnits(grads.dx, ref.rstd, row), back.dx, 'dx / rstd');
      expectAllClose(dgamma, grads.dgamma, back.dgamma, 'dγ');
      expectAllClose(dbeta, grads.dbeta, back.dbeta, 'dβ');
    });
  }
});
