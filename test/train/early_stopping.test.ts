import { describe, expect, it } from 'vitest';
import { loadMnist } from '../../src/data/mnist_node';
import { subset } from '../../src/data/dataset';
import { Trainer } from '../../src/train/trainer';
import { diagnose } from '../../src/train/diagnose';
import { testGpu } from '../helpers/gpu';

describe('early stopping', () => {
  it('stops a run that overfits a small subset and restores the best weights', async () => {
    const { gpu } = await testGpu();
    const mnist = await loadMnist();
    // 300 training samples, 200 held out: a 784-256-10 network memorises the 300 within a few epochs.
    const trainer = await Trainer.create(gpu, subset(mnist.train, 0, 500), undefined, {
      model: { layers: [784, 256, 10] },
      optimizer: { name: 'adam', lr: 0.003 },
      batchSize: 50,
      validation: 200,
      seed: 2,
    });
    const maxEpochs = 40;
    const reports = await trainer.fit({ epochs: maxEpochs, earlyStopping: { monitor: 'valLoss', patience: 3 } });
    expect(reports.length).toBeLessThan(maxEpochs);
    const best = reports.reduce((b, r) => (r.valLoss! < b.valLoss! ? r : b));
    // It ran `patience` epochs past the best (plus the one already in flight), then stopped.
    expect(reports.length).toBeGreaterThanOrEqual(best.epoch + 3);
    expect(reports.length).toBeLessThanOrEqual(best.epoch + 4);
    // The weights in place are the best epoch's: re-evaluating the validation set gives its loss back.
    // The same weights through the same evaluation plan: bitwise the same figures.
    const now = await trainer.evaluate('validation');
    expect(now.loss).toBe(best.valLoss!);
    expect(now.accuracy).toBe(best.valAccuracy!);
    expect(reports.at(-1)!.valLoss!).toBeGreaterThan(best.valLoss!);
    expect(diagnose(reports).some((line) => line.startsWith('overfitting'))).toBe(true);
    trainer.destroy();
  });
});
