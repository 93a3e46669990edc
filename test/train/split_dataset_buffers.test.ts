/**
 * A dataset larger than one storage binding is split by samples over up to four GPU buffers. The split must
 * change nothing: the same data in one buffer or in several gives bitwise the same losses, accuracies and
 * weights after an epoch (SwiftShader is deterministic), for byte images and for float32 features with a
 * per-feature standardisation. The buffers are made small here (maxDataBufferBytes) so the split happens.
 */
import { describe, expect, it } from 'vitest';
import { subset, tensorDataset, type Dataset } from '../../src/data/dataset';
import { loadMnist } from '../../src/data/mnist_node';
import { ConfigError } from '../../src/errors';
import { Rng } from '../../src/data/rng';
import { Trainer, type TrainerOptions } from '../../src/train/trainer';
import { testGpu } from '../helpers/gpu';

async function run(train: Dataset, test: Dataset, options: TrainerOptions) {
  const { gpu } = await testGpu();
  const trainer = await Trainer.create(gpu, train, test, options);
  const bufferCount = trainer.trainData.source.chunks.length;
  const reports = await trainer.fit({ epochs: 1 });
  const weights = await trainer.weights();
  trainer.destroy();
  return { reports, weights, bufferCount };
}

function expectSameRun(a: Awaited<ReturnType<typeof run>>, b: Awaited<ReturnType<typeof run>>) {
  const r = (x: typeof a) => x.reports.map((e) => [e.loss, e.accuracy, e.testLoss, e.testAccuracy]);
  expect(r(b)).toEqual(r(a));
  for (const [name, w] of a.weights) expect(b.weights.get(name), name).toEqual(w);
}

describe('a dataset split over several GPU buffers', () => {
  it('MNIST bytes in 3 buffers train exactly as in one (and the test set in 2)', async () => {
    const mnist = await loadMnist();
    const train = subset(mnist.train, 0, 600);
    const test = subset(mnist.test, 0, 300);
    const options: TrainerOptions = { model: { layers: [784, 16, 10] }, optimizer: { name: 'adam', lr: 1e-2 }, batchSize: 64, seed: 3, autotune: false };
    const one = await run(train, test, options);
    // 250 samples of 784 bytes a buffer: the 600 training images span 3 buffers, batches cross their borders.
    const split = await run(train, test, { ...options, maxDataBufferBytes: 250 * 784 });
    expect([one.bufferCount, split.bufferCount]).toEqual([1, 3]);
    expectSameRun(one, split);
    expect(one.reports[0].testAccuracy).toBeGreaterThan(0.5);
  });

  it('float32 features, standardised per feature, in 4 buffers train exactly as in one', async () => {
    const rng = new Rng(11);
    const [count, features] = [203, 9];
    const x = Float32Array.from({ length: count * features }, (_, i) => rng.normal() * (1 + (i % features)) + (i % features));
    const labels = Uint32Array.from({ length: count }, (_, n) => (x[n * features] + x[n * features + 1] > 1 ? 1 : 0) + (x[n * features + 2] > 2 ? 2 : 0));
    const train = tensorDataset({ x: x.subarray(0, 160 * features), sampleShape: [features], labels: labels.subarray(0, 160) }, 'train');
    const test = tensorDataset({ x: x.subarray(160 * features), sampleShape: [features], labels: labels.subarray(160), numClasses: train.numClasses }, 'test');
    const options: TrainerOptions = { model: { layers: [features, 12, train.numClasses!] }, optimizer: { lr: 0.1, momentum: 0.9 }, preprocessing: 'standardize', batchSize: 16, seed: 5, autotune: false };
    const one = await run(train, test, options);
    const split = await run(train, test, { ...options, maxDataBufferBytes: 41 * features * 4 });
    expect([one.bufferCount, split.bufferCount]).toEqual([1, 4]);
    expectSameRun(one, split);
  });

  it('more than four buffers is refused before any GPU work, naming the sizes', async () => {
    const { gpu, resources } = await testGpu();
    const mnist = await loadMnist();
    const created = resources.counts.buffersCreated;
    // 500 images of 784 bytes in buffers of 100 images: 5 buffers, one more than the input stage reads.
    await expect(Trainer.create(gpu, subset(mnist.train, 0, 500), undefined, { model: { layers: [784, 10] }, maxDataBufferBytes: 100 * 784, autotune: false })).rejects.toThrow(ConfigError);
    await expect(Trainer.create(gpu, subset(mnist.train, 0, 500), undefined, { model: { layers: [784, 10] }, maxDataBufferBytes: 100 * 784, autotune: false })).rejects.toThrow(/392000 bytes of inputs.*78400 bytes a buffer/);
    expect(resources.counts.buffersCreated).toBe(created);
  });
});
