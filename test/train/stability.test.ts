import { beforeAll, describe, expect, it } from 'vitest';
import { loadMnist } from '../../src/data/mnist_node';
import { subset, type Dataset } from '../../src/data/dataset';
import { NonFiniteError } from '../../src/errors';
import { Trainer } from '../../src/train/trainer';
import { testGpu } from '../helpers/gpu';

let train: Dataset;
let test: Dataset;
beforeAll(async () => {
  const mnist = await loadMnist();
  train = subset(mnist.train, 0, 2000);
  test = subset(mnist.test, 0, 500);
});

describe('instability', () => {
  // ReLU networks at lr 10 mostly die (every unit off) rather than overflow; SELU has no dead region, so it overflows.
  it('lr 10 without clipping stops with the NaN message naming epoch, step and causes', async () => {
    const { gpu } = await testGpu();
    const trainer = await Trainer.create(gpu, train, test, { model: { layers: [784, 128, 128, 10], activation: 'selu' }, optimizer: { name: 'momentum', lr: 10 }, batchSize: 100, seed: 1 });
    const error = await trainer.fit({ epochs: 3 }).then(() => undefined, (e: unknown) => e);
    trainer.destroy();
    expect(error).toBeInstanceOf(NonFiniteError);
    const nonFinite = error as NonFiniteError;
    expect(nonFinite.epoch).toBe(1);
    expect(nonFinite.step).toBeGreaterThan(0);
    expect(nonFinite.message).toMatch(/epoch 1, step \d+/);
    expect(nonFinite.message).toMatch(/learning rate too high/);
    expect(nonFinite.message).toMatch(/clipping/);
    expect(nonFinite.message).toMatch(/bad input/);
  }, 300_000); // includes tuning this MLP's matmuls: 63 s beside another file on 2 cores

  it('the same setting with global-norm clipping trains', async () => {
    const { gpu } = await testGpu();
    const trainer = await Trainer.create(gpu, train, test, {
      model: { layers: [784, 128, 128, 10], activation: 'selu' },
      optimizer: { name: 'momentum', lr: 10, clipNorm: 0.01 },
      batchSize: 100,
      seed: 1,
    });
    const reports = await trainer.fit({ epochs: 3 });
    trainer.destroy();
    expect(reports.every((r) => Number.isFinite(r.loss))).toBe(true);
    expect(reports[2].loss).toBeLessThan(reports[0].loss);
    expect(reports[2].testAccuracy).toBeGreaterThan(0.7);
    // The norm is reported per epoch, measured before clipping.
    expect(reports[0].gradNorm).toBeGreaterThan(0.01);
  });
});
