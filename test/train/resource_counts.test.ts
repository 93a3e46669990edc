import { describe, expect, it } from 'vitest';
import { loadMnist } from '../../src/data/mnist_node';
import { subset } from '../../src/data/dataset';
import { Trainer } from '../../src/train/trainer';
import type { ResourceCounts } from '../../src/gpu/resources';
import { testGpu } from '../helpers/gpu';

describe('GPU resources during training', () => {
  it('no buffer, pipeline or bind group is created inside the step loop, nothing leaks, and destroy frees everything', async () => {
    const { resources } = await testGpu();
    const mnist = await loadMnist();
    const before = { ...resources.counts };
    // 1000 samples at batch 128: 7 full batches and a partial one, so both plans run every epoch.
    const trainer = await Trainer.create(resources, subset(mnist.train, 0, 1000), subset(mnist.test, 0, 300), {
      model: { layers: [784, 32, 10] },
      optimizer: { name: 'adam', lr: 1e-3 },
      batchSize: 128,
      // One step per submit, so the counts are seen after every step.
      stepsPerSubmit: 1,
    });
    const atStep: Record<string, ResourceCounts> = {};
    const afterEpoch: ResourceCounts[] = [];
    await trainer.fit({
      epochs: 10,
      reportEvery: 3,
      afterSubmit: (epoch, step) => {
        if (step === 2 || step === 8) atStep[`${epoch}:${step}`] = { ...resources.counts };
      },
      onEpoch: () => afterEpoch.push({ ...resources.counts }),
    });
    expect(Object.keys(atStep)).toHaveLength(20);
    for (const counts of Object.values(atStep)) expect(counts).toEqual(atStep['1:2']);
    // No leaks: the live buffers and bytes after epoch 1 and after epoch 10 are the same.
    expect(afterEpoch).toHaveLength(10);
    expect(afterEpoch[9]).toEqual(afterEpoch[0]);
    // The trainer really holds buffers, so the equalities above are not vacuous.
    expect(atStep['1:2'].liveBuffers).toBeGreaterThan(before.liveBuffers);
    trainer.destroy();
    expect(resources.counts.liveBuffers).toBe(before.liveBuffers);
    expect(resources.counts.liveBytes).toBe(before.liveBytes);
  });
});
