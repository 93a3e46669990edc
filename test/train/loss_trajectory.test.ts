/**
 * A fixed-seed run on real MNIST, step by step: 784-32-10 (relu, he_normal), the first 2000 training
 * samples, batch 100, SGD with momentum 0.9 at lr 0.1, one epoch = 20 steps.
 *  - The 20 per-step losses must match values recorded from this engine (STORED): any change to
 *    initialisation, shuffling, kernels, fusion or the update shows up. The tolerance only absorbs
 *    adapter-to-adapter rounding (fused multiply-add, summation order).
 *  - The first 3 must also match an independent float64 CPU run from the same initial weights and the
 *    same shuffle, so STORED is anchored to a reference and not only to itself.
 */
import { describe, expect, it } from 'vitest';
import { subset } from '../../src/data/dataset';
import { loadMnist } from '../../src/data/mnist_node';
import { Rng, shuffledIndices } from '../../src/data/rng';
import { Trainer } from '../../src/train/trainer';
import { testGpu } from '../helpers/gpu';
import { mlpLossAndGrads, type RefLayer } from '../helpers/mlp_reference';
import { newParam, optimizerStep, type RefOptimizer } from '../helpers/optim_reference';

// Recorded from this engine on SwiftShader (Vulkan on CPU) via Dawn, seed 1.
const STORED = [
  2.474, 2.2832, 2.1296, 2.1807, 1.9456, 1.8339, 1.6138, 1.5092, 1.2434, 1.2478, //
  1.0333, 1.009, 1.0002, 1.0589, 0.6774, 0.6048, 0.784, 0.7554, 0.5069, 0.5591,
];

describe('fixed-seed loss trajectory (784-32-10, 2000 MNIST samples, batch 100, momentum)', () => {
  it('20 per-step losses match the stored values, and the first 3 a float64 reference run', async () => {
    const { gpu } = await testGpu();
    const mnist = await loadMnist();
    const count = 2000;
    const batch = 100;
    const widths = [784, 32, 10];
    const optimizer: RefOptimizer = { name: 'momentum', lr: 0.1, momentum: 0.9 };
    const seed = 1;
    const trainer = await Trainer.create(gpu, subset(mnist.train, 0, count), undefined, {
      model: { layers: widths },
      optimizer,
      batchSize: batch,
      seed,
    });
    const initial = await trainer.weights();
    const losses: number[] = [];
    await trainer.fit({ epochs: 1, reportEvery: 1, onStep: (r) => losses.push(r.loss) });
    trainer.destroy();

    // float64 reference: the trainer shuffles once per epoch with Rng(seed ^ 0x5eed); batch s is
    // order[s·100 .. s·100 + 100); each loss is the batch's mean loss before that step's update.
    const order = shuffledIndices(count, new Rng(seed ^ 0x5eed));
    const names = ['1.weight', '1.bias', '3.weight', '3.bias'];
    const params = names.map((n) => newParam(initial.get(n)!, n.endsWith('weight')));
    const referenceLosses: number[] = [];
    for (let s = 0; s < 3; s++) {
      const samples = order.subarray(s * batch, (s + 1) * batch);
      const x = new Float64Array(batch * 784);
      samples.forEach((sample, r) => {
        for (let f = 0; f < 784; f++) x[r * 784 + f] = mnist.train.images[sample * 784 + f] / 255;
      });
      const labels = Array.from(samples, (sample) => mnist.train.labels[sample]);
      const layers: RefLayer[] = [
        { weight: params[0].w, bias: params[1].w, in: 784, out: 32 },
        { weight: params[2].w, bias: params[3].w, in: 32, out: 10 },
      ];
      const { loss, grads } = mlpLossAndGrads(layers, x, labels, batch, 'relu');
      referenceLosses.push(loss);
      // v = μ·v + g;  w −= lr·v
      optimizerStep(params, grads.flatMap((g) => [g.weight, g.bias]), optimizer, s + 1);
    }

    expect(losses).toHaveLength(20);
    expect(losses.every(Number.isFinite)).toBe(true);
    referenceLosses.forEach((ref, i) => expect(Math.abs(losses[i] - ref), `step ${i + 1}: ${losses[i]} vs float64 ${ref}`).toBeLessThan(1e-3));
    expect(losses[19]).toBeLessThan(losses[0]);
    expect(STORED).toHaveLength(20);
    losses.forEach((loss, i) => expect(Math.abs(loss - STORED[i]), `step ${i + 1}: ${loss} vs stored ${STORED[i]}`).toBeLessThan(2e-3));
  });
});
