import { describe, it } from 'vitest';
import { Trainer } from '../../src/train/trainer';
import { expectAllClose, expectValueClose, maxAbs } from '../helpers/compare';
import { testGpu } from '../helpers/gpu';
import { chainTolerance, mlpForwardSums, mlpStepSums, sgdUpdateTolerance } from '../tolerances';
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
      const x = Float64Array.from(data.x, (v) => v / 255);
      const { loss, grads } = mlpLossAndGrads(before, x, data.labels!, 24, activation);
      const [report] = await trainer.fit({ epochs: 1 });
      const widths = [15, 9, 7, 10];
      expectValueClose(report.loss, loss, chainTolerance(mlpForwardSums(widths), loss), 'epoch loss');
      sgdStep(before, grads, lr);
      const after = await referenceLayers(trainer);
      const gScale = maxAbs(grads.flatMap((g) => [...g.weight, ...g.bias]));
      const tol = sgdUpdateTolerance(1, lr, chainTolerance(mlpStepSums(widths, 24), gScale), gScale);
      after.forEach((layer, i) => {
        expectAllClose(layer.weight, before[i].weight, tol, `fc${i + 1}.weight after the step`);
        expectAllClose(layer.bias, before[i].bias, tol, `fc${i + 1}.bias after the step`);
      });
      trainer.destroy();
    });
  }
});
