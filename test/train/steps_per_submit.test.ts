/**
 * Many steps per submit: the per-step values come from a table on the GPU, so encoding K steps into one
 * command buffer must change nothing but the number of submits. With K = 1, 16 and a whole epoch the
 * losses, the accuracies and the final weights are bitwise identical (SwiftShader is deterministic), and
 * an epoch takes ceil(steps / K) training submits plus one for evaluation and the metrics readback.
 */
import { describe, expect, it } from 'vitest';
import { subset } from '../../src/data/dataset';
import { loadMnist } from '../../src/data/mnist_node';
import { Trainer } from '../../src/train/trainer';
import { testGpu } from '../helpers/gpu';

describe('steps per submit', () => {
  it('K = 1, 16 and a whole epoch give bitwise the same run; submits per epoch = ceil(steps / K) + 1', async () => {
    const { gpu } = await testGpu();
    const mnist = await loadMnist();
    // 1000 samples at batch 48: 20 full batches and a partial one of 40 rows.
    const train = subset(mnist.train, 0, 1000);
    const test = subset(mnist.test, 0, 200);
    const runs = [];
    for (const stepsPerSubmit of [1, 16, Infinity]) {
      const trainer = await Trainer.create(gpu, train, test, {
        model: { layers: [784, 24, 10], norm: 'batch', dropout: 0.2 },
        optimizer: { name: 'adam', lr: 2e-3 },
        schedule: { kind: 'exponential', gamma: 0.5 },
        warmupSteps: 5,
        augment: { mixup: 0.4 },
        batchSize: 48,
        seed: 4,
        stepsPerSubmit,
        autotune: false,
      });
      const before = trainer.submitCount;
      const reports = await trainer.fit({ epochs: 2 });
      const submits = trainer.submitCount - before;
      const weights = await trainer.weights();
      runs.push({ stepsPerSubmit, reports, submits, weights });
      trainer.destroy();
    }
    const steps = Math.ceil(1000 / 48);
    for (const run of runs) expect(run.submits, `K = ${run.stepsPerSubmit}`).toBe(2 * (Math.ceil(steps / Math.min(steps, run.stepsPerSubmit)) + 1));
    const [one, ...others] = runs;
    for (const run of others) {
      run.reports.forEach((r, e) => {
        const o = one.reports[e];
        expect([r.loss, r.accuracy, r.testLoss, r.testAccuracy, r.gradNorm, r.lr], `epoch ${e + 1}, K = ${run.stepsPerSubmit}`).toEqual([o.loss, o.accuracy, o.testLoss, o.testAccuracy, o.gradNorm, o.lr]);
      });
      for (const [name, w] of one.weights) expect(run.weights.get(name), `${name}, K = ${run.stepsPerSubmit}`).toEqual(w);
    }
    // Training happened: the weights moved and the loss fell.
    expect(one.reports[1].loss).toBeLessThan(one.reports[0].loss);
  });
});
