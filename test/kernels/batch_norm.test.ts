// Batch norm on x [outer, C, inner] (BatchNorm1d on [B, F] and [N, C, L], BatchNorm2d on [N, C, H, W]):
// the float64 references against central finite differences, then the GPU, run exactly as the planner
// lowers each op (two dispatches forward, two backward, scratch partials poisoned), against the
// references: y, mean, rstd, running statistics (momentum, unbiased variance), evaluation, dx, dγ, dβ.
// Shapes off every tile (3, 17, 129 channels; odd planes), batch 1 where valid, means far from zero
// (300 ± 1, where a one-pass E[x²] − E[x]² would lose every digit), and the large cases the old
// one-thread-per-feature kernel was slow on. Determinism: a rerun is bitwise identical.
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng';
import { Graph, type Tensor } from '../../src/graph/graph';
import { channelChunking } from '../../src/kernels/norm';
import { expectAllClose } from '../helpers/compare';
import { randomArray, type HostArray } from '../helpers/gpu';
import { batchNormNdBackwardRef, batchNormNdEvalRef, batchNormNdRef, runningStatsRef } from '../helpers/norm_pool_reference';
import { numericGrad, type Vec } from '../helpers/reference';
import { longestRun, runNode, SPLITS } from '../helpers/run_node';
import { normInputGradTolerance, normOutputTolerance, normParamGradTolerance, rstdTolerance, runningStatTolerance, U } from '../tolerances';

const EPS = 1e-5;
const MOMENTUM = 0.1;
const dot = (a: Vec, b: Vec) => Array.from({ length: a.length }, (_, i) => a[i] * b[i]).reduce((s, v) => s + v, 0);
const maxAbs = (a: Vec) => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const conditioning = (ref: { mean: Vec; rstd: Vec }) => maxAbs(Array.from(ref.mean, (m, i) => m * ref.rstd[i]));

/** x = offset + per-channel spread·U(−1, 1) + a per-channel shift; γ, β, dy random. */
function inputs(shape: number[], seed: number, offset = 0) {
  const rng = new Rng(seed);
  const [outer, channels] = shape;
  const inner = shape.slice(2).reduce((a, b) => a * b, 1);
  const x = new Float32Array(outer * channels * inner);
  for (let i = 0; i < x.length; i++) {
    const c = Math.floor(i / inner) % channels;
    x[i] = offset + (1 + (c % 5) * 0.5) * (rng.nextFloat() * 2 - 1) + (offset ? 0 : 0.3 * (c % 3));
  }
  return { outer, channels, inner, x, gamma: randomArray(channels, rng, 2), beta: randomArray(channels, rng), dy: randomArray(x.length, rng) };
}

function batchNormGraph(shape: number[], training: boolean) {
  const g = new Graph();
  const c = shape[1];
  const x = g.tensor(shape, 'activation', 'x');
  const gamma = g.tensor([c], 'param', 'bn.weight');
  const beta = g.tensor([c], 'param', 'bn.bias');
  const runningMean = g.tensor([c], 'state', 'bn.running_mean');
  const runningVar = g.tensor([c], 'state', 'bn.running_var');
  const [y, mean, rstd] = g.add('batch_norm', [x, gamma, beta, runningMean, runningVar], { training, eps: EPS, momentum: MOMENTUM });
  return { g, x, gamma, beta, runningMean, runningVar, y, mean, rstd };
}

describe('float64 reference vs finite differences', () => {
  for (const shape of [[3, 4], [2, 3, 5], [1, 2, 3, 2], [3, 2, 2, 2]]) {
    it(`batch norm [${shape}]: dx, dγ, dβ`, () => {
      const { outer, channels, inner, x, gamma, beta, dy } = inputs(shape, shape.length * 10 + shape[0]);
      const ref = batchNormNdBackwardRef(dy, x, gamma, outer, channels, inner, EPS);
      const loss = (xs: Vec, g: Vec, b: Vec) => dot(dy, batchNormNdRef(xs, g, b, outer, channels, inner, EPS).y);
      const [x64, g64, b64] = [Float64Array.from(x), Float64Array.from(gamma), Float64Array.from(beta)];
      // Central differences with h = 1e-6 of an O(1) float64 function: truncation and rounding ~1e-9.
      const fd = { atol: 1e-7, rtol: 1e-6 };
      expectAllClose(ref.dx, numericGrad((v) => loss(v, g64, b64), x64), fd, 'dx');
      expectAllClose(ref.dgamma, numericGrad((v) => loss(x64, v, b64), g64), fd, 'dγ');
      expectAllClose(ref.dbeta, numericGrad((v) => loss(x64, g64, v), b64), fd, 'dβ');
    });
  }
});

interface Case {
  shape: number[];
  offset?: number;
}

const cases: Case[] = [
  { shape: [4, 5] },
  { shape: [3, 17] },
  { shape: [129, 3] },
  { shape: [257, 130] },
  { shape: [1000, 7], offset: -300 },
  { shape: [2, 1] },
  { shape: [4, 6, 11] },
  { shape: [2, 3, 5, 7] },
  { shape: [1, 17, 9, 9] },
  { shape: [5, 3, 1, 1] },
  { shape: [3, 70, 3, 3] },
  { shape: [16, 16, 10, 10], offset: 300 },
  { shape: [128, 16, 28, 28] },
  { shape: [4096, 512] },
];

describe('batch norm kernels, as lowered (training: stats → forward; backward: channel_sums → backward)', () => {
  for (const [splitName, split] of SPLITS) {
    for (const { shape, offset = 0 } of cases) {
      it(`${splitName} split [${shape}]${offset ? ` offset ${offset}` : ''}: training forward, running statistics, backward`, async () => {
        const { outer, channels, inner, x, gamma, beta, dy } = inputs(shape, shape.reduce((a, b) => a * 31 + b, 7), offset);
        const count = outer * inner;
        const rng = new Rng(channels);
        const runningMean = randomArray(channels, rng);
        const runningVar = Float32Array.from(randomArray(channels, rng), (v) => 1 + v * 0.5);
        const bn = batchNormGraph(shape, true);
        const values = new Map<Tensor, HostArray>([
          [bn.x, x],
          [bn.gamma, gamma],
          [bn.beta, beta],
          [bn.runningMean, runningMean],
          [bn.runningVar, runningVar],
        ]);
        const forward = await runNode(bn.g.nodes[0], values, split);
        const fwdRun = longestRun(bn.g.nodes[0], split);
        expect(forward.dispatches).toBe(2);
        expect(forward.scratch.get(0)!.length).toBe(2 * channelChunking(outer, channels, inner, split).chunks * channels);
        const out = (t: Tensor) => forward.written.get(t)!;
        const ref = batchNormNdRef(x, gamma, beta, outer, channels, inner, EPS);
        // R = max |μ|/σ over the statistics: how far from zero the data sit, in standard deviations.
        const R = conditioning(ref);
        expectAllClose(out(bn.y), ref.y, normOutputTolerance(count, R, 2, fwdRun), 'y');
        expectAllClose(out(bn.mean), ref.mean, normOutputTolerance(count, R, 2, fwdRun), 'mean');
        expectAllClose(out(bn.rstd), ref.rstd, rstdTolerance(count, R, fwdRun), 'rstd');
        const running = runningStatsRef(runningMean, runningVar, ref, count, MOMENTUM);
        expectAllClose(out(bn.runningMean), running.mean, runningStatTolerance(count, R, 1, fwdRun), 'running_mean');
        expectAllClose(out(bn.runningVar), running.variance, runningStatTolerance(count, R, 2, fwdRun), 'running_var');

        const [dx, dgamma, dbeta] = bn.g.add('batch_norm_grad', [bn.y, bn.x, bn.mean, bn.rstd, bn.gamma]);
        const grad = bn.g.nodes[1];
        const backward = await runNode(
          grad,
          new Map<Tensor, HostArray>([
            [bn.y, dy], // dy: any tensor of x's shape
            [bn.x, x],
            [bn.mean, out(bn.mean)],
            [bn.rstd, out(bn.rstd)],
            [bn.gamma, gamma],
          ]),
          split,
        );
        expect(backward.dispatches).toBe(2);
        const bwdRun = longestRun(grad, split);
        const grads = batchNormNdBackwardRef(dy, x, gamma, outer, channels, inner, EPS);
        const scale = maxAbs(gamma) * maxAbs(ref.rstd) * maxAbs(dy);
        expectAllClose(backward.written.get(dx)!, grads.dx, normInputGradTolerance(count, R, scale, bwdRun), 'dx');
        expectAllClose(backward.written.get(dgamma)!, grads.dgamma, normParamGradTolerance(count, R, maxAbs(dy), bwdRun), 'dγ');
        expectAllClose(backward.written.get(dbeta)!, grads.dbeta, normParamGradTolerance(count, 0, maxAbs(dy), bwdRun), 'dβ');
      });
    }
  }

  for (const shape of [[1, 5], [3, 17], [2, 3, 5, 7], [1, 17, 9, 9]]) {
    it(`[${shape}] evaluation: the running statistics normalise and are only read`, async () => {
      const { outer, channels, inner, x, gamma, beta } = inputs(shape, shape[0] + shape[1]);
      const rng = new Rng(shape[1] + 1);
      const runningMean = randomArray(channels, rng);
      const runningVar = Float32Array.from(randomArray(channels, rng), (v) => 1 + v * 0.5);
      const bn = batchNormGraph(shape, false);
      const run = await runNode(
        bn.g.nodes[0],
        new Map<Tensor, HostArray>([
          [bn.x, x],
          [bn.gamma, gamma],
          [bn.beta, beta],
          [bn.runningMean, runningMean],
          [bn.runningVar, runningVar],
        ]),
      );
      expect(run.dispatches).toBe(1);
      // Nothing but y, mean and rstd is written: the running statistics are read-only bindings.
      expect([...run.written.keys()]).toEqual([bn.y, bn.mean, bn.rstd]);
      // One normalisation of each element: a few roundings of values up to |x − μ|·rstd·γ ≤ 8.
      const elementwise = { atol: 16 * U * 8, rtol: 8 * U };
      expectAllClose(run.written.get(bn.y)!, batchNormNdEvalRef(x, gamma, beta, runningMean, runningVar, outer, channels, inner, EPS), elementwise, 'y');
      expect([...run.written.get(bn.mean)!], 'mean').toEqual([...runningMean]);
      expectAllClose(run.written.get(bn.rstd)!, Float64Array.from(runningVar, (v) => 1 / Math.sqrt(v + EPS)), { atol: 0, rtol: 8 * U }, 'rstd'); // 1/√(v + eps): WGSL's sqrt and division, a few ulp each
    });
  }

  it('is deterministic: a rerun of forward and backward is bitwise identical', async () => {
    const shape = [64, 16, 10, 10];
    const { x, gamma, beta, dy, channels } = inputs(shape, 5, 300);
    const runOnce = async () => {
      const bn = batchNormGraph(shape, true);
      const f = await runNode(
        bn.g.nodes[0],
        new Map<Tensor, HostArray>([
          [bn.x, x],
          [bn.gamma, gamma],
          [bn.beta, beta],
          [bn.runningMean, new Float32Array(channels)],
          [bn.runningVar, new Float32Array(channels).fill(1)],
        ]),
      );
      const [dx] = bn.g.add('batch_norm_grad', [bn.y, bn.x, bn.mean, bn.rstd, bn.gamma]);
      const b = await runNode(
        bn.g.nodes[1],
        new Map<Tensor, HostArray>([
          [bn.y, dy],
          [bn.x, x],
          [bn.mean, f.written.get(bn.mean)!],
          [bn.rstd, f.written.get(bn.rstd)!],
          [bn.gamma, gamma],
        ]),
      );
      return [f.written.get(bn.y)!, f.written.get(bn.runningVar)!, b.written.get(dx)!].map((a) => [...new Uint32Array(a.buffer)]);
    };
    expect(await runOnce()).toEqual(await runOnce());
  });
});
