import { describe, expect, it } from 'vitest';
import { loadMnist } from '../../src/data/mnist_node';
import { subset } from '../../src/data/dataset';
import { Trainer } from '../../src/train/trainer';
import { testGpu } from '../helpers/gpu';

describe('per-kernel GPU times', () => {
  it('times every dispatch of a training step with timestamp queries', async (context) => {
    const { gpu, resources } = await testGpu();
    if (!gpu.hasTimestamps) context.skip();
    const mnist = await loadMnist();
    const trainer = await Trainer.create(resources, subset(mnist.train, 0, 256), undefined, { model: { layers: [784, 64, 10] }, batchSize: 128 });
    const timings = await trainer.profileStep(3);
    trainer.destroy();
    console.table(timings);
    // Matmuls may run a tuned variant (matmulV16x16, ...) rather than the reference kernel.
    expect(timings.some((t) => t.kernel.startsWith('matmul'))).toBe(true);
    expect(timings.map((t) => t.kernel)).toContain('optimizer');
    expect(timings.every((t) => t.milliseconds >= 0 && Number.isFinite(t.milliseconds))).toBe(true);
    // The first layer's forward product (128×784×64) dominates the loss over 10 classes (the fused head on
    // GPUs, softmax cross-entropy alone on CPU adapters).
    const forward = timings.find((t) => t.kernel.startsWith('matmul'))!;
    const head = timings.find((t) => t.kernel === 'linearSoftmaxXent' || t.kernel === 'softmaxXent')!;
    expect(forward.milliseconds).toBeGreaterThan(head.milliseconds);
  });
});
