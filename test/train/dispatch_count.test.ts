/**
 * The dispatches of one training step of the 784-128-64-10 MLP, as the trainer plans them: at most 10
 * (issue 13). Fusion folds each Linear's bias gradient into its weight-gradient matmul and the classifier
 * head (last Linear, softmax cross-entropy, input gradient) into one kernel; the gradient norm and the
 * optimizer stay two passes, since global-norm clipping needs the whole norm before any update.
 */
import { describe, expect, it } from 'vitest';
import { subset } from '../../src/data/dataset';
import { loadMnist } from '../../src/data/mnist_node';
import { Trainer } from '../../src/train/trainer';
import { testGpu } from '../helpers/gpu';

const kernelsOf = (plan: string) =>
  plan
    .split('\n')
    .filter((l) => /^\s*\d+ \w+\s+\[/.test(l))
    .map((l) => l.trim().split(/\s+/)[1]);

describe('dispatches per training step', () => {
  it('784-128-64-10: 10 dispatches (gather, 2 forward matmuls, the fused head, 4 gradient matmuls, gradient norm, optimizer)', async () => {
    const { gpu } = await testGpu();
    const mnist = await loadMnist();
    for (const optimizer of [{ name: 'momentum' as const, lr: 0.05 }, { name: 'adam' as const, lr: 1e-3, clipNorm: 1 }]) {
      const trainer = await Trainer.create(gpu, subset(mnist.train, 0, 256), subset(mnist.test, 0, 64), { model: { layers: [784, 128, 64, 10], activation: 'relu' }, optimizer, batchSize: 64, autotune: false });
      const plan = trainer.formatPlan();
      trainer.destroy();
      expect(plan, optimizer.name).toContain('(1 transfers, 10 dispatches)');
      const kernels = kernelsOf(plan);
      expect(kernels).toHaveLength(10);
      expect(kernels.filter((k) => k === 'matmul')).toHaveLength(6);
      expect(kernels.filter((k) => k !== 'matmul')).toEqual(['gather', 'linearSoftmaxXent', 'gradNorm', 'optimizer']);
      expect(plan.match(/BIAS_GRAD/g)).toHaveLength(3);
      expect(plan).not.toMatch(/columnSum|softmaxXent /);
    }
  });
});
