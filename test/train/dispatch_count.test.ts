/**
 * The dispatches of one training step of the 784-128-64-10 MLP, as the trainer plans them: 10 on GPUs
 * (issue 13). Fusion folds each Linear's bias gradient into its weight-gradient matmul and, on GPUs, the
 * classifier head (last Linear, softmax cross-entropy, input gradient) into one kernel; the gradient norm
 * and the optimizer stay two passes, since global-norm clipping needs the whole norm before any update.
 * On CPU implementations the head stays three kernels (faster there; src/scheduler/fuse.ts headFusionFor),
 * and both plans train the same weights.
 */
import { describe, expect, it } from 'vitest';
import { subset } from '../../src/data/dataset';
import { loadMnist } from '../../src/data/mnist_node';
import { headFusionFor } from '../../src/scheduler/fuse';
import { Trainer } from '../../src/train/trainer';
import { testGpu } from '../helpers/gpu';

const kernelsOf = (plan: string) =>
  plan
    .split('\n')
    .filter((l) => /^\s*\d+ \w+\s+\[/.test(l))
    .map((l) => l.trim().split(/\s+/)[1]);

describe('dispatches per training step', () => {
  it('784-128-64-10: 10 dispatches with the fused head (gather, 2 forward matmuls, the head, 4 gradient matmuls, gradient norm, optimizer), 12 without', async () => {
    const { gpu } = await testGpu();
    const mnist = await loadMnist();
    const plan = async (optimizer: { name: 'momentum' | 'adam'; lr: number; clipNorm?: number }, fuseHead?: boolean) => {
      const trainer = await Trainer.create(gpu, subset(mnist.train, 0, 256), subset(mnist.test, 0, 64), { model: { layers: [784, 128, 64, 10], activation: 'relu' }, optimizer, batchSize: 64, autotune: false, fuseHead });
      const text = trainer.formatPlan();
      trainer.destroy();
      return text;
    };
    for (const optimizer of [{ name: 'momentum' as const, lr: 0.05 }, { name: 'adam' as const, lr: 1e-3, clipNorm: 1 }]) {
      const fused = await plan(optimizer, true);
      expect(fused, optimizer.name).toContain('(1 transfers, 10 dispatches)');
      const kernels = kernelsOf(fused);
      expect(kernels).toHaveLength(10);
      expect(kernels.filter((k) => k === 'matmul')).toHaveLength(6);
      expect(kernels.filter((k) => k !== 'matmul')).toEqual(['gather', 'linearSoftmaxXent', 'gradNorm', 'optimizer']);
      expect(fused.match(/BIAS_GRAD/g)).toHaveLength(3);
      expect(fused).not.toMatch(/columnSum|softmaxXent /);
      const unfused = kernelsOf(await plan(optimizer, false));
      expect(unfused.filter((k) => k !== 'matmul')).toEqual(['gather', 'softmaxXent', 'gradNorm', 'optimizer']);
      expect(unfused).toHaveLength(12);
    }
    // The default follows the adapter.
    expect(kernelsOf(await plan({ name: 'momentum', lr: 0.05 }))).toHaveLength(headFusionFor(gpu.adapterName) ? 10 : 12);
  });

  it('the fused head trains the same weights as the three kernels it replaces (bitwise on SwiftShader)', async (context) => {
    const { gpu } = await testGpu();
    const mnist = await loadMnist();
    const run = async (fuseHead: boolean) => {
      const trainer = await Trainer.create(gpu, subset(mnist.train, 0, 300), subset(mnist.test, 0, 100), { model: { layers: [784, 32, 16, 10], activation: 'tanh' }, optimizer: { name: 'adam', lr: 1e-3, clipNorm: 0.5 }, batchSize: 64, seed: 3, autotune: false, fuseHead });
      const reports = await trainer.fit({ epochs: 2 });
      const weights = await trainer.weights();
      trainer.destroy();
      return { reports, weights };
    };
    const fused = await run(true);
    const plain = await run(false);
    if (!/swiftshader/i.test(gpu.adapterName)) context.skip();
    fused.reports.forEach((r, e) => expect([r.loss, r.accuracy, r.testLoss, r.testAccuracy], `epoch ${e + 1}`).toEqual([plain.reports[e].loss, plain.reports[e].accuracy, plain.reports[e].testLoss, plain.reports[e].testAccuracy]));
    for (const [name, w] of plain.weights) expect(fused.weights.get(name), name).toEqual(w);
    expect(fused.reports[1].loss).toBeLessThan(fused.reports[0].loss);
  });
});
