import { describe, expect, it } from 'vitest';
import { loadMnist } from '../../src/data/mnist_node';
import { splitDataset, subset } from '../../src/data/dataset';
import { formatResults, search } from '../../src/train/search';
import { testGpu } from '../helpers/gpu';

describe('hyperparameter search', () => {
  it('runs 8 random trials on the GPU and sorts them by validation accuracy', async () => {
    const { resources } = await testGpu();
    const mnist = await loadMnist();
    const { train, validation } = splitDataset(subset(mnist.train, 0, 1200), 200, 1);
    const seen: number[] = [];
    const results = await search(resources, train, validation, {
      mode: 'random',
      trials: 8,
      epochs: 1,
      seed: 5,
      inputs: 784,
      classes: 10,
      space: { lr: { min: 1e-3, max: 0.3 }, batchSize: [50, 100], optimizer: ['sgd', 'momentum', 'adam'], weightDecay: [0, 1e-4], hidden: [[32], [16]] },
      onTrial: (_, i) => seen.push(i),
    });
    expect(results).toHaveLength(8);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    for (let i = 1; i < results.length; i++) expect(results[i - 1].valAccuracy).toBeGreaterThanOrEqual(results[i].valAccuracy);
    expect(new Set(results.map((r) => r.lr)).size).toBe(8);
    expect(results.every((r) => r.lr >= 1e-3 && r.lr <= 0.3)).toBe(true);
    expect(results[0].valAccuracy).toBeGreaterThan(0.5);
    const table = formatResults(results);
    console.log(table);
    expect(table.split('\n')).toHaveLength(9);
  });
});
