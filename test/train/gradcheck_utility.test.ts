import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng';
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
});
