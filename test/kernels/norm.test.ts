// Batch norm and layer norm kernels, forward and backward: the float64 references against central finite
// differences, then the GPU against the references, at row and feature counts off the workgroup size.
// Tolerances: forward 1e-5 (elementwise work after two f32 reductions); backward 1e-4 (dx is a difference
// of sums, B·dy − Σdy − x̂·Σdy·x̂, that cancels); running statistics 1e-5.
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng';
import { grid1d } from '../../src/kernels/kernel';
import { expectClose, randomArray, runKernel } from '../helpers/gpu';
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
        expectClose(ref.dx, numericGrad((v) => loss(v, g64, b64), x64), 1e-6);
        expectClose(ref.dgamma, numericGrad((v) => loss(x64, v, b64), g64), 1e-6);
        expectClose(ref.dbeta, numericGrad((v) => loss(x64, g64, v), b64), 1e-6);
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
      expectClose(y, ref.y, 1e-5);
      expectClose(mean, ref.mean, 1e-5);
      expectClose(rstd, ref.rstd, 1e-5);
      // PyTorch's update: the running variance takes the unbiased batch variance.
      expectClose(rm, Float64Array.from(runningMean, (v, f) => (1 - momentum) * v + momentum * ref.mean[f]), 1e-5);
      expectClose(rv, Float64Array.from(runningVar, (v, f) => (1 - momentum) * v + (momentum * ref.variance[f] * rows) / (rows - 1)), 1e-5);

      const [dx, dgamma, dbeta] = await runKernel(
        'batchNormBackward',
        {},
        [{ data: dy }, { data: x }, { data: mean }, { data: rstd }, { data: gamma }, { output: rows * features }, { output: features }, { output: features }],
        { rows, features, eps: EPS, momentum: 0 },
        [Math.ceil(features / 64), 1, 1],
      );
      const grads = batchNormBackwardRef(dy, x, gamma, rows, features, EPS);
      expectClose(dx, grads.dx, 1e-4);
      expectClose(dgamma, grads.dgamma, 1e-4);
      expectClose(dbeta, grads.dbeta, 1e-5);
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
      expectClose(y, batchNormEvalRef(x, gamma, beta, runningMean, runningVar, rows, features, EPS), 1e-5);
      expectClose(mean, runningMean, 1e-7);
      expectClose(rstd, Float64Array.from(runningVar, (v) => 1 / Math.sqrt(v + EPS)), 1e-6);
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
      expectClose(y, ref.y, 1e-5);
      expectClose(mean, ref.mean, 1e-5);
      expectClose(rstd, ref.rstd, 1e-5);

      const [dx, dgamma, dbeta] = await runKernel(
        'layerNormBackward',
        {},
        [{ data: dy }, { data: x }, { data: mean }, { data: rstd }, { data: gamma }, { output: rows * features }, { output: features }, { output: features }],
        { rows, features, eps: EPS },
        grid1d(rows + features, 64),
      );
      const grads = layerNormBackwardRef(dy, x, gamma, rows, features, EPS);
      expectClose(dx, grads.dx, 1e-4);
      expectClose(dgamma, grads.dgamma, 1e-4);
      expectClose(dbeta, grads.dbeta, 1e-5);
    });
  }
});
