import { describe, expect, it } from 'vitest';
import { Trainer } from '../../src/train/trainer';
import { expectAllClose, expectValueClose, maxAbs } from '../helpers/compare';
import { testGpu } from '../helpers/gpu';
import { chainTolerance, mlpStepSums, optimizerRunTolerance } from '../tolerances';
import { mlpLossAndGrads, type RefLayer } from '../helpers/mlp_reference';
import { globalNorm, newParam, optimizerStep, type RefOptimizer, type RefParam } from '../helpers/optim_reference';
import { syntheticDataset } from '../helpers/synthetic';

const widths = [12, 9, 10];

/** Runs `steps` full-batch steps on the GPU and the same steps in float64; returns both and the norms. */
async function compare(optimizer: RefOptimizer, steps: number) {
  const { gpu } = await testGpu();
  const data = syntheticDataset(20, 3, 4, 7);
  const trainer = await Trainer.create(gpu, data, undefined, {
    model: { layers: widths, activation: 'tanh', init: 'xavier_normal' },
    batchSize: data.count,
    optimizer,
    seed: 11,
  });
  const initial = await trainer.weights();
  const names = widths.slice(1).flatMap((_, i) => [`${2 * i + 1}.weight`, `${2 * i + 1}.bias`]);
  const params: RefParam[] = names.map((n) => newParam(initial.get(n)!, n.endsWith('weight')));
  const x = Float64Array.from(data.x, (v) => v / 255);
  const norms: number[] = [];
  let gScale = 0;
  for (let t = 1; t <= steps; t++) {
    const layers: RefLayer[] = widths.slice(1).map((out, i) => ({ weight: params[2 * i].w, bias: params[2 * i + 1].w, in: widths[i], out }));
    const { grads } = mlpLossAndGrads(layers, x, data.labels!, data.count, 'tanh');
    const flat = grads.flatMap((g) => [g.weight, g.bias]);
    norms.push(globalNorm(flat));
    gScale = Math.max(gScale, maxAbs(flat.flatMap((g) => [...g])));
    optimizerStep(params, flat, optimizer, t);
  }
  const reports = await trainer.fit({ epochs: steps, evaluate: false });
  const gpuWeights = await trainer.weights();
  trainer.destroy();
  // The gradients' float32 error (a 12-9-10 tanh MLP, batch 20), and the weights' after `steps` steps.
  const gradTol = chainTolerance(mlpStepSums(widths, data.count), gScale);
  const wScale = maxAbs(params.flatMap((p) => [...p.w]));
  const tol = optimizerRunTolerance(optimizer, steps, gradTol, gScale, { wScale });
  return { params, names, gpuWeights, reports, norms, tol, gradTol, gScale };
}

describe('optimizers match a float64 reference over several steps', () => {
  const cases: RefOptimizer[] = [
    { name: 'sgd', lr: 0.3 },
    { name: 'momentum', lr: 0.1, momentum: 0.9 },
    { name: 'nesterov', lr: 0.1, momentum: 0.8 },
    { name: 'adagrad', lr: 0.05 },
    { name: 'rmsprop', lr: 0.01, rho: 0.9 },
    { name: 'adam', lr: 0.01 },
    { name: 'adamw', lr: 0.01, weightDecay: 0.1 },
    { name: 'momentum', lr: 0.1, weightDecay: 0.05, decay: 'l2' },
    { name: 'sgd', lr: 0.1, weightDecay: 0.05, decay: 'l1' },
    { name: 'adam', lr: 0.01, weightDecay: 0.05, decay: 'decoupled' },
    { name: 'sgd', lr: 0.2, clipValue: 0.01 },
  ];
  for (const optimizer of cases) {
    it(`${optimizer.name}${optimizer.weightDecay ? ` + ${optimizer.decay ?? 'default'} decay` : ''}${optimizer.clipValue ? ' + value clipping' : ''}`, async () => {
      const { params, names, gpuWeights, tol } = await compare(optimizer, 4);
      names.forEach((name, k) => expectAllClose(gpuWeights.get(name)!, params[k].w, tol, `${name} after 4 steps`));
    });
  }
});

describe('global-norm clipping', () => {
  it('reports the global gradient norm and applies the clipped update, as the reference does', async () => {
    const optimizer: RefOptimizer = { name: 'momentum', lr: 0.5, momentum: 0.5, clipNorm: 0.05 };
    const { params, names, gpuWeights, reports, norms, tol, gradTol, gScale } = await compare(optimizer, 3);
    expect(norms.every((n) => n > 0.05), 'the test must actually clip').toBe(true);
    names.forEach((name, k) => expectAllClose(gpuWeights.get(name)!, params[k].w, tol, `${name} after 3 clipped steps`));
    // ‖g + Δg‖ − ‖g‖ ≤ ‖Δg‖ ≤ √n·(each element's bound); n = 12·9 + 9 + 9·10 + 10 = 217 parameters.
    const normTol = { atol: Math.sqrt(217) * (gradTol.atol + gradTol.rtol * gScale), rtol: 0 };
    reports.forEach((r, i) => {
      expectValueClose(r.gradNorm, norms[i], normTol, `epoch ${i + 1} gradient norm`);
      expectValueClose(r.maxGradNorm, norms[i], normTol, `epoch ${i + 1} largest gradient norm`);
    });
  });
});
