import { describe, expect, it } from 'vitest';
import { Trainer } from '../../src/train/trainer';
import { testGpu, expectClose } from '../helpers/gpu';
import { mlpLossAndGrads, sgdStep, type RefLayer } from '../helpers/mlp_reference';
import { syntheticDataset } from '../helpers/synthetic';

/** The Linear layers of the trainer's model as float64 reference layers. */
async function referenceLayers(trainer: Trainer): Promise<RefLayer[]> {
  const weights = await trainer.weights();
  return trainer.model.layers
    .filter((l) => l.type === 'Linear')
    .map((l) => ({
      weight: Float64Array.from(weights.get(`${l.path}.weight`)!),
      bias: Float64Array.from(weights.get(`${l.path}.bias`)!),
      in: l.args.in_features as number,
      out: l.args.out_features as number,
    }));
}

describe('a GPU training step matches the float64 reference', () => {
  for (const activation of ['relu', 'tanh'] as const) {
    it(`one full-batch SGD step, ${activation}`, async () => {
      const { gpu } = await testGpu();
      const data = syntheticDataset(24, 3, 5, 1);
      const lr = 0.5;
      const trainer = await Trainer.create(gpu, data, undefined, {
        model: { layers: [15, 9, 7, 10], activation, init: 'xavier_normal' },
        batchSize: 24,
        optimizer: { lr },
        seed: 3,
      });
      const before = await referenceLayers(trainer);
      const x = Float64Array.from(data.images, (v) => v / 255);
      const { loss, grads } = mlpLossAndGrads(before, x, data.labels, 24, activation);
      const [report] = await trainer.fit({ epochs: 1 });
      expect(report.loss).toBeCloseTo(loss, 5);
      sgdStep(before, grads, lr);
      const after = await referenceLayers(trainer);
      after.forEach((layer, i) => {
        expectClose(layer.weight, before[i].weight, 1e-5);
        expectClose(layer.bias, before[i].bias, 1e-5);
      });
      trainer.destroy();
    });
  }
});
