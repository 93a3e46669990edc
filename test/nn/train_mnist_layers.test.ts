// End to end on real MNIST: the 784-256-128-10 MLP with batch norm and dropout 0.2 learns (a small run:
// 5000 training images, 3 epochs; the full run, ≥ 97.5% test accuracy, is `npm run train -- --model
// "784-256-128-10 relu he batch dropout=0.2"`, too slow for the suite on a CPU Vulkan), and so does the
// layer-norm variant.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadMnist } from '../../src/data/mnist_node';
import { subset, type Dataset } from '../../src/data/dataset';
import { parseModel } from '../../src/nn/model_spec';
import { Trainer } from '../../src/train/trainer';
import { testGpu } from '../helpers/gpu';

let train: Dataset;
let test: Dataset;
beforeAll(async () => {
  const mnist = await loadMnist();
  train = subset(mnist.train, 0, 5000);
  test = subset(mnist.test, 0, 2000);
});

describe('MNIST with norm and dropout', () => {
  for (const [text, count, epochs, floor] of [
    ['784-256-128-10 relu he batch dropout=0.2', 5000, 3, 0.9],
    ['784-64-10 relu he layer dropout=0.1', 5000, 2, 0.85],
  ] as const) {
    it(`${text}: ≥ ${floor * 100}% test accuracy after ${epochs} epochs on ${count} images`, { timeout: 300_000 }, async () => {
      const { gpu } = await testGpu();
      const trainer = await Trainer.create(gpu, subset(train, 0, count), test, { model: parseModel(text), optimizer: { name: 'momentum', lr: 0.1, momentum: 0.9 }, batchSize: 64, seed: 1 });
      const started = performance.now();
      const reports = await trainer.fit({ epochs });
      const seconds = (performance.now() - started) / 1000;
      trainer.destroy();
      const last = reports[reports.length - 1];
      console.log(`${text}: test accuracy ${(100 * last.testAccuracy!).toFixed(2)}% in ${seconds.toFixed(1)} s; losses ${reports.map((r) => r.loss.toFixed(3)).join(' ')}`);
      expect(reports[reports.length - 1].loss).toBeLessThan(reports[0].loss);
      expect(last.testAccuracy).toBeGreaterThanOrEqual(floor);
    });
  }
});
