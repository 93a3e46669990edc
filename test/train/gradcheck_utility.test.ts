import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng';
import { tensorDataset } from '../../src/data/dataset';
import { gradientCheck } from '../../src/train/gradcheck';
import { testGpu } from '../helpers/gpu';
import { expectAllClose } from '../helpers/compare';
import { chainTolerance, float32FiniteDifferenceTolerance, mlpForwardSums } from '../tolerances';

describe('the numerical gradient-check utility', () => {
  it('agrees with the analytic gradients of a model', async () => {
    const { gpu } = await testGpu();
    const rng = new Rng(4);
    const count = 16;
    const data = {
      x: Uint8Array.from({ length: count * 20 }, () => rng.nextBelow(256)),
      labels: Uint8Array.from({ length: count }, () => rng.nextBelow(10)),
      count,
      sampleShape: [1, 4, 5],
      numClasses: 10,
    };
    const results = await gradientCheck(gpu, { layers: [20, 13, 10], activation: 'tanh', init: 'xavier_normal' }, data, { samplesPerParameter: 4, seed: 3 });
    expect(results.length).toBe(16);
    // Elementwise: the float32 loss (mean over 16 rows of a 20-13-10 model) carries chainTolerance's error.
    const lossTol = chainTolerance(mlpForwardSums([20, 13, 10]), 3).atol;
    expectAllClose(results.map((r) => r.analytic), results.map((r) => r.numeric), float32FiniteDifferenceTolerance(1e-2, lossTol), 'analytic vs numeric');
    // And the utility's own verdict, as it reports it to users.
    const worst = Math.max(...results.map((r) => r.relativeError));
    expect(worst, JSON.stringify(results.filter((r) => r.relativeError > 0.02))).toBeLessThan(0.02);
    // A check that cannot fail is no check: a visibly non-zero gradient must be among the samples.
    expect(Math.max(...results.map((r) => Math.abs(r.analytic)))).toBeGreaterThan(1e-3);
  });

  // The other losses (the loss op): smooth ones only, since finite differences with ε = 1e-2 straddle L1's
  // and Huber's kinks at random. Float targets built with tensorDataset.
  for (const loss of [{ kind: 'mse' }, { kind: 'bce' }, { kind: 'cross_entropy', labelSmoothing: 0.1, classWeights: [1, 2, 0.5] }] as const) {
    it(`agrees with the analytic gradients under loss ${loss.kind}${'labelSmoothing' in loss ? ' (smoothed, weighted)' : ''}`, async () => {
      const { gpu } = await testGpu();
      const rng = new Rng(9);
      const count = 16;
      const x = Float32Array.from({ length: count * 6 }, () => rng.normal());
      const data =
        loss.kind === 'cross_entropy'
          ? tensorDataset({ x, sampleShape: [6], labels: Array.from({ length: count }, () => rng.nextBelow(3)), numClasses: 3 })
          : tensorDataset({ x, sampleShape: [6], targets: Float32Array.from({ length: count * 3 }, () => (loss.kind === 'bce' ? rng.nextFloat() : rng.normal())) });
      const results = await gradientCheck(gpu, { layers: [6, 7, 3], activation: 'tanh', init: 'xavier_normal' }, data, { samplesPerParameter: 4, seed: 5, loss });
      const lossTol = chainTolerance(mlpForwardSums([6, 7, 3]), 3).atol;
      expectAllClose(results.map((r) => r.analytic), results.map((r) => r.numeric), float32FiniteDifferenceTolerance(1e-2, lossTol), 'analytic vs numeric');
      expect(Math.max(...results.map((r) => Math.abs(r.analytic)))).toBeGreaterThan(1e-3);
    });
  }
});
