/**
 * Ensembles: the mean of the members' predicted probabilities, checked against members trained on their
 * own from the same seeds (the ensemble adds nothing but the average), the averaging and argmax helpers
 * against hand-worked values, and the refusals, made before any GPU work.
 */
import { describe, expect, it } from 'vitest';
import { tensorDataset, type Dataset } from '../../src/data/dataset';
import { Rng } from '../../src/data/rng';
import { ConfigError } from '../../src/errors';
import { argmaxAccuracy, meanProbabilities, trainEnsemble } from '../../src/train/ensemble';
import { expectAllClose } from '../helpers/compare';
import { Trainer, type TrainerOptions } from '../../src/train/trainer';
import { testGpu } from '../helpers/gpu';

const features = 4;
/** Four classes from the signs of two noisy features: members trained briefly disagree on the hard cases. */
function labelled(count: number, seed: number): Dataset {
  const rng = new Rng(seed);
  const x = Float32Array.from({ length: count * features }, () => rng.nextFloat() * 2 - 1);
  const labels = Uint32Array.from({ length: count }, (_, i) => (x[i * features] + 0.3 * x[i * features + 2] > 0 ? 1 : 0) + (x[i * features + 1] - 0.3 * x[i * features + 3] > 0 ? 2 : 0));
  return tensorDataset({ x, sampleShape: [features], labels, numClasses: 4 });
}

describe('meanProbabilities and argmaxAccuracy', () => {
  it('average elementwise in float64 and score the first maximum of each row', () => {
    const mean = meanProbabilities([Float32Array.of(0.5, 0.5, 1, 0), Float32Array.of(0.25, 0.75, 0, 1)]);
    expect([...mean]).toEqual([0.375, 0.625, 0.5, 0.5]);
    // Row 0: class 1 wins; row 1: a tie goes to class 0.
    expect(argmaxAccuracy(mean, [1, 0], 2)).toBe(1);
    expect(argmaxAccuracy(mean, [0, 1], 2)).toBe(0);
    expect(() => meanProbabilities([Float32Array.of(1), Float32Array.of(1, 2)])).toThrow(ConfigError);
    expect(() => meanProbabilities([])).toThrow(/no members/);
  });
});

describe('trainEnsemble', () => {
  // evalBatchSize 20: the 61 test samples are predicted in four chunks, each added at its own offset of the mean.
  const options: TrainerOptions = { model: { layers: [features, 6, 4], activation: 'tanh' }, batchSize: 16, autotune: false, optimizer: { name: 'sgd', lr: 0.3 }, seed: 5, evalBatchSize: 20 };

  it('scores the mean of members trained from seeds seed, seed+1, ... exactly as separately trained members give it', async () => {
    const { resources } = await testGpu();
    const train = labelled(96, 1);
    const test = labelled(61, 2);
    const report = await trainEnsemble(resources, train, test, options, { epochs: 2 }, { members: 3 });
    expect(report.members.map((m) => m.seed)).toEqual([5, 6, 7]);
    expect(report.members.every((m) => m.reports.length === 2)).toBe(true);

    const probabilities: Float32Array[] = [];
    for (const seed of [5, 6, 7]) {
      const trainer = await Trainer.create(resources, train, test, { ...options, seed });
      const reports = await trainer.fit({ epochs: 2 });
      const p = await trainer.predict(test.x);
      // predict's argmax agrees with the trainer's own evaluation of the test set.
      expect(argmaxAccuracy(p, test.labels!, 4)).toBe(reports[1].testAccuracy);
      probabilities.push(p);
      trainer.destroy();
    }
    expect(report.members.map((m) => m.testAccuracy)).toEqual(probabilities.map((p) => argmaxAccuracy(p, test.labels!, 4)));
    // The GPU's mean against the float64 mean of the members' predictions: three float32 products and sums
    // of values ≤ 1, each rounded once (≤ 6 units of 2⁻²⁴ in all); the poison-free buffer starts at 0.
    const mean = meanProbabilities(probabilities);
    expectAllClose(report.probabilities, mean, { atol: 6 * 2 ** -24, rtol: 0 }, 'the ensemble mean');
    expect(report.testAccuracy).toBe(argmaxAccuracy(report.probabilities, test.labels!, 4));
    expect(report.testAccuracy).toBe(argmaxAccuracy(mean, test.labels!, 4));
    expect(report.meanMemberAccuracy).toBeCloseTo(report.members.reduce((s, m) => s + m.testAccuracy, 0) / 3, 12);
    // The members differ (different seeds), so the ensemble is more than one model repeated.
    expect(probabilities[0]).not.toEqual(probabilities[1]);
  });

  it('refuses fewer than two members, a regression loss or an unlabelled test set before any GPU work', async () => {
    const { resources } = await testGpu();
    const created = resources.counts.buffersCreated;
    const train = labelled(32, 3);
    await expect(trainEnsemble(resources, train, train, options, { epochs: 1 }, { members: 1 })).rejects.toThrow(/at least 2; got 1/);
    await expect(trainEnsemble(resources, train, train, options, { epochs: 1 }, { members: 2.5 })).rejects.toThrow(ConfigError);
    await expect(trainEnsemble(resources, train, train, { ...options, loss: 'mse' }, { epochs: 1 }, { members: 2 })).rejects.toThrow(/classification loss/);
    expect(resources.counts.buffersCreated).toBe(created);
  });
});
