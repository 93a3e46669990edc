import { describe, expect, it } from 'vitest';
import { loadMnist } from '../../src/data/mnist_node';
import { subset } from '../../src/data/dataset';
import { requestGpu } from '../../src/gpu/device';
import { DeviceLostError } from '../../src/errors';
import { Trainer, type TrainerOptions } from '../../src/train/trainer';
import { testGpu } from '../helpers/gpu';

const options: TrainerOptions = { model: { layers: [784, 16, 10] }, optimizer: { name: 'momentum', lr: 0.05 }, batchSize: 50, seed: 4 };

describe('faults', () => {
  it('a device lost mid-epoch raises DeviceLostError, the last checkpoint stays intact, and a new device resumes from it', async () => {
    const mnist = await loadMnist();
    const train = subset(mnist.train, 0, 600);
    const gpu = await requestGpu();
    const trainer = await Trainer.create(gpu, train, undefined, options);
    let checkpoint: Uint8Array | undefined;
    const run = trainer.fit({
      epochs: 3,
      checkpointEvery: 1,
      onCheckpoint: (bytes) => void (checkpoint = bytes.slice()),
      // Lost once epoch 2's training steps are submitted, before its metrics come back.
      afterSubmit: (epoch) => {
        if (epoch === 2) gpu.device.destroy();
      },
    });
    await expect(run).rejects.toBeInstanceOf(DeviceLostError);
    await expect(gpu.lost).resolves.toBeInstanceOf(DeviceLostError);
    expect(checkpoint).toBeDefined();

    const fresh = await testGpu();
    const resumed = await Trainer.create(fresh.resources, train, undefined, options);
    resumed.restore(checkpoint!);
    expect(resumed.epoch).toBe(1);
    const reports = await resumed.fit({ epochs: 2 });
    expect(reports.map((r) => r.epoch)).toEqual([2, 3]);
    expect(reports[1].loss).toBeLessThan(2);
    resumed.destroy();
  });
});

describe('determinism', () => {
  it('the same seed gives bitwise-identical weights; a different seed does not', async () => {
    const { resources } = await testGpu();
    const mnist = await loadMnist();
    const train = subset(mnist.train, 0, 500);
    const run = async (seed: number) => {
      const trainer = await Trainer.create(resources, train, undefined, { ...options, seed, optimizer: { name: 'adam', lr: 1e-3 } });
      await trainer.fit({ epochs: 2 });
      const weights = await trainer.weights();
      trainer.destroy();
      return Buffer.concat([...weights.values()].map((w) => Buffer.from(w.buffer)));
    };
    const [a, b, c] = [await run(1), await run(1), await run(2)];
    expect(a.equals(b)).toBe(true);
    expect(a.equals(c)).toBe(false);
  });
});
