// Batch norm on [B, F] and layer norm, forward and backward: the float64 references against central finite
// differences, then the GPU, run exactly as the planner lowers each op (test/helpers/run_node.ts: batch
// norm in two dispatches each way; layer norm as a one-group group norm, one dispatch forward and two
// backward), against the references, at row and feature counts off the workgroup sizes, one row, means
// far from zero, and the large layer norm the old one-thread-per-row kernel was slow on. N-d batch norm:
// batch_norm.test.ts; group and instance norm: group_norm.test.ts. Tolerances: test/tolerances.ts.
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng';
import { Graph, type Tensor } from '../../src/graph/graph';
import { expectAllClose } from '../helpers/compare';
import { randomArray, type HostArray } from '../helpers/gpu';
import { batchNormBackwardRef, batchNormEvalRef, batchNormRef, layerNormBackwardRef, layerNormRef, numericGrad, type Vec } from '../helpers/reference';
import { longestRun, runNode, SPLITS } from '../helpers/run_node';
import { normInputGradTolerance, normOutputTolerance, normParamGradTolerance, rstdTolerance, runningStatTolerance, U } from '../tolerances';

const EPS = 1e-5;
const dot = (a: Vec, b: Vec) => Array.from({ length: a.length }, (_, i) => a[i] * b[i]).reduce((s, v) => s + v, 0);
const maxAbs = (a: Vec) => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const conditioning = (ref: { mean: Vec; rstd: Vec }) => maxAbs(Array.from(ref.mean, (m, i) => m * ref.rstd[i]));

/** x with a per-column offset and scale (or a common offset far from zero), so the statistics are not trivially 0 and 1. */
function inputs(rows: number, features: number, seed: number, offset = 0) {
  const rng = new Rng(seed);
  const x = Float32Array.from({ length: rows * features }, (_, i) => offset + (rng.nextFloat() * 2 - 1) * (1 + (i % features) % 4) + (offset ? 0 : 0.5 * (i % 3)));
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
        const [x64, g64, b64] = [Float64Array.from(x), Float64Array.from(gamma), Float64Array.from(beta)];
        // Central differences, h = 1e-6, of an O(1) float64 function: truncation and rounding ~1e-9.
        const fd = { atol: 1e-7, rtol: 1e-6 };
        expectAllClose(ref.dx, numericGrad((v) => loss(v, g64, b64), x64), fd, 'dx');
        expectAllClose(ref.dgamma, numericGrad((v) => loss(x64, v, b64), g64), fd, 'dγ');
        expectAllClose(ref.dbeta, numericGrad((v) => loss(x64, g64, v), b64), fd, 'dβ');
      });
    }
  }
});

const bnShapes: [number, number][] = [[4, 5], [3, 10], [7, 130], [129, 5], [257, 10], [257, 130], [64, 64], [128, 128]];

function batchNorm(rows: number, features: number, training: boolean) {
  const g = new Graph();
  const x = g.tensor([rows, features], 'activation', 'x');
  const [gamma, beta] = ['bn.weight', 'bn.bias'].map((name) => g.tensor([features], 'param', name));
  const [runningMean, runningVar] = ['bn.running_mean', 'bn.running_var'].map((name) => g.tensor([features], 'state', name));
  const [y, mean, rstd] = g.add('batch_norm', [x, gamma, beta, runningMean, runningVar], { training, eps: EPS, momentum: 0.1 });
  return { g, x, gamma, beta, runningMean, runningVar, y, mean, rstd };
}

describe('batch norm kernels on [B, F]', () => {
  for (const [splitName, split] of SPLITS) {
    for (const [rows, features] of bnShapes) {
      it(`${splitName} split: training forward and backward, rows=${rows} features=${features}`, async () => {
        const { x, gamma, beta, dy } = inputs(rows, features, rows * 1000 + features);
        const rng = new Rng(features);
        const runningMean = randomArray(features, rng);
        const runningVar = Float32Array.from(randomArray(features, rng), (v) => 1 + v * 0.5);
        const momentum = 0.1;
        const bn = batchNorm(rows, features, true);
        const values = new Map<Tensor, HostArray>([[bn.x, x], [bn.gamma, gamma], [bn.beta, beta], [bn.runningMean, runningMean], [bn.runningVar, runningVar]]);
        const { written } = await runNode(bn.g.nodes[0], values, split);
        const fwdRun = longestRun(bn.g.nodes[0], split);
        const ref = batchNormRef(x, gamma, beta, rows, features, EPS);
        const R = conditioning(ref);
        expectAllClose(written.get(bn.y)!, ref.y, normOutputTolerance(rows, R, 2, fwdRun), 'y');
        expectAllClose(written.get(bn.mean)!, ref.mean, normOutputTolerance(rows, R, 4, fwdRun), 'mean');
        expectAllClose(written.get(bn.rstd)!, ref.rstd, rstdTolerance(rows, R, fwdRun), 'rstd');
        // PyTorch's update: the running variance takes the unbiased batch variance.
        const rm = Float64Array.from(runningMean, (v, f) => (1 - momentum) * v + momentum * ref.mean[f]);
        const rv = Float64Array.from(runningVar, (v, f) => (1 - momentum) * v + (momentum * ref.variance[f] * rows) / (rows - 1));
        expectAllClose(written.get(bn.runningMean)!, rm, runningStatTolerance(rows, R, 2, fwdRun), 'running_mean');
        expectAllClose(written.get(bn.runningVar)!, rv, runningStatTolerance(rows, R, 4, fwdRun), 'running_var');

        const [dx, dgamma, dbeta] = bn.g.add('batch_norm_grad', [bn.y, bn.x, bn.mean, bn.rstd, bn.gamma]);
        const grad = await runNode(bn.g.nodes[1], new Map<Tensor, HostArray>([[bn.y, dy], [bn.x, x], [bn.mean, written.get(bn.mean)!], [bn.rstd, written.get(bn.rstd)!], [bn.gamma, gamma]]), split);
        const bwdRun = longestRun(bn.g.nodes[1], split);
        const grads = batchNormBackwardRef(dy, x, gamma, rows, features, EPS);
        const scale = maxAbs(gamma) * maxAbs(ref.rstd) * maxAbs(dy);
        expectAllClose(grad.written.get(dx)!, grads.dx, normInputGradTolerance(rows, R, scale, bwdRun), 'dx');
        expectAllClose(grad.written.get(dgamma)!, grads.dgamma, normParamGradTolerance(rows, R, maxAbs(dy), bwdRun), 'dγ');
        expectAllClose(grad.written.get(dbeta)!, grads.dbeta, normParamGradTolerance(rows, 0, maxAbs(dy), bwdRun), 'dβ');
      });
    }
  }

  for (const [rows, features] of [[1, 5], [3, 10], [257, 130]] as const) {
    it(`evaluation uses the running statistics and writes nothing else, rows=${rows} features=${features}`, async () => {
      const { x, gamma, beta } = inputs(rows, features, rows + features);
      const rng = new Rng(rows);
      const runningMean = randomArray(features, rng);
      const runningVar = Float32Array.from(randomArray(features, rng), (v) => 1 + v * 0.5);
      const bn = batchNorm(rows, features, false);
      const { written } = await runNode(bn.g.nodes[0], new Map<Tensor, HostArray>([[bn.x, x], [bn.gamma, gamma], [bn.beta, beta], [bn.runningMean, runningMean], [bn.runningVar, runningVar]]));
      // γ, β and the running statistics are read-only bindings: only y, mean and rstd come back.
      expect([...written.keys()]).toEqual([bn.y, bn.mean, bn.rstd]);
      // One normalisation of each element: a few roundings of values up to |x − μ|·rstd·γ ≤ 16.
      expectAllClose(written.get(bn.y)!, batchNormEvalRef(x, gamma, beta, runningMean, runningVar, rows, features, EPS), { atol: 16 * U * 16, rtol: 8 * U }, 'y');
      expect([...written.get(bn.mean)!]).toEqual([...runningMean]);
      expectAllClose(written.get(bn.rstd)!, Float64Array.from(runningVar, (v) => 1 / Math.sqrt(v + EPS)), { atol: 0, rtol: 8 * U }, 'rstd');
    });
  }
});

interface LnCase {
  shape: number[];
  normalizedDims?: number;
  affine?: boolean;
  offset?: number;
}

const lnCases: LnCase[] = [
  { shape: [1, 5] },
  { shape: [1, 130] },
  { shape: [3, 10] },
  { shape: [7, 5] },
  { shape: [129, 130] },
  { shape: [257, 10] },
  { shape: [65, 64] },
  { shape: [4096, 3] },
  { shape: [33, 17], affine: false },
  { shape: [2, 3, 4, 5], normalizedDims: 2 },
  { shape: [9, 300], offset: 300 },
  { shape: [64, 3000] },
];

describe('layer norm kernels (group norm with one group)', () => {
  for (const [splitName, split] of SPLITS) {
    for (const { shape, normalizedDims = 1, affine = true, offset = 0 } of lnCases) {
      const features = shape.slice(shape.length - normalizedDims).reduce((a, b) => a * b, 1);
      const rows = shape.reduce((a, b) => a * b, 1) / features;
      it(`${splitName} split [${shape}] over the last ${normalizedDims} dim(s)${affine ? '' : ', no affine'}${offset ? `, offset ${offset}` : ''}: forward and backward`, async () => {
        const { x, gamma, beta, dy } = inputs(rows, features, rows * 7 + features, offset);
        const g = new Graph();
        const xt = g.tensor(shape, 'activation', 'x');
        // γ and β with normalized_shape (the trailing dims), as PyTorch's LayerNorm.weight has.
        const paramShape = shape.slice(shape.length - normalizedDims);
        const params = affine ? [g.tensor(paramShape, 'param', 'ln.weight'), g.tensor(paramShape, 'param', 'ln.bias')] : [];
        const [y, mean, rstd] = g.add('layer_norm', [xt, ...params], { eps: EPS, normalizedDims });
        const values = new Map<Tensor, HostArray>([[xt, x]]);
        if (affine) values.set(params[0], gamma).set(params[1], beta);
        const forward = await runNode(g.nodes[0], values, split);
        const fwdRun = longestRun(g.nodes[0], split);
        expect(forward.dispatches).toBe(1);
        const ones = new Float32Array(features).fill(1);
        const [g64, b64] = affine ? [gamma, beta] : [ones, new Float32Array(features)];
        const ref = layerNormRef(x, g64, b64, rows, features, EPS);
        // R = max |μ|/σ over the statistics: how far from zero the data sit, in standard deviations.
        const R = conditioning(ref);
        expectAllClose(forward.written.get(y)!, ref.y, normOutputTolerance(features, R, 2, fwdRun), 'y');
        expectAllClose(forward.written.get(mean)!, ref.mean, normOutputTolerance(features, R, 4, fwdRun), 'mean');
        expectAllClose(forward.written.get(rstd)!, ref.rstd, rstdTolerance(features, R, fwdRun), 'rstd');

        const dyt = g.tensor(shape, 'activation', 'dy');
        const grads = g.add('layer_norm_grad', [dyt, xt, mean, rstd, ...params.slice(0, 1)], { normalizedDims });
        expect(grads).toHaveLength(affine ? 3 : 1);
        const backward = await runNode(
          g.nodes[1],
          new Map<Tensor, HostArray>([[dyt, dy], [xt, x], [mean, forward.written.get(mean)!], [rstd, forward.written.get(rstd)!], ...(affine ? [[params[0], gamma] as [Tensor, HostArray]] : [])]),
          split,
        );
        const bwdRun = longestRun(g.nodes[1], split);
        expect(backward.dispatches).toBe(affine ? 2 : 1);
        const refGrads = layerNormBackwardRef(dy, x, g64, rows, features, EPS);
        const scale = maxAbs(g64) * maxAbs(ref.rstd) * maxAbs(dy);
        expectAllClose(backward.written.get(grads[0])!, refGrads.dx, normInputGradTolerance(features, R, scale, bwdRun), 'dx');
        if (affine) {
          expectAllClose(backward.written.get(grads[1])!, refGrads.dgamma, normParamGradTolerance(rows, R, maxAbs(dy), bwdRun), 'dγ');
          expectAllClose(backward.written.get(grads[2])!, refGrads.dbeta, normParamGradTolerance(rows, 0, maxAbs(dy), bwdRun), 'dβ');
        }
      });
    }
  }
});
