import { describe, expect, it } from 'vitest';
import { loadMnist } from '../../src/data/mnist_node';
import { subset, type Dataset } from '../../src/data/dataset';
import { DataFormatError, ShapeError } from '../../src/errors';
import { Trainer, type TrainerOptions } from '../../src/train/trainer';
import { decodeSafetensors } from '../../src/io/safetensors';
import { testGpu } from '../helpers/gpu';

const options: TrainerOptions = {
  model: { layers: [784, 24, 10] },
  optimizer: { name: 'adam', lr: 2e-3 },
  schedule: { kind: 'exponential', gamma: 0.9 },
  batchSize: 64,
  seed: 9,
};

async function data(): Promise<{ train: Dataset; test: Dataset }> {
  const mnist = await loadMnist();
  return { train: subset(mnist.train, 0, 700), test: subset(mnist.test, 0, 200) };
}

describe('checkpoints and resume', () => {
  // Batch norm's running statistics live in the arena; dropout masks, augmentation and mixup are functions
  // of the seed and the step: all must come back from the file for the resumed run to match (the resumed
  // trainer is created with another seed on purpose).
  const layered: TrainerOptions = { ...options, model: { layers: [784, 24, 16, 10], norm: 'batch', dropout: 0.2 } };
  it.each([
    ['plain MLP', options],
    ['batch norm + dropout', layered],
    ['augmentation + mixup', { ...options, augment: { maxShift: 2, maxRotate: 10, noiseStd: 0.1, mixup: 0.2 } }],
  ] as const)('resuming from a checkpoint gives weights bitwise identical to an uninterrupted run: %s', async (_, options) => {
    const { resources } = await testGpu();
    const { train, test } = await data();

    const straight = await Trainer.create(resources, train, test, options);
    await straight.fit({ epochs: 4 });
    const expected = await straight.weights();
    straight.destroy();

    const first = await Trainer.create(resources, train, test, options);
    let saved: Uint8Array | undefined;
    await first.fit({ epochs: 2, checkpointEvery: 2, onCheckpoint: (bytes) => void (saved = bytes) });
    first.destroy();
    expect(saved).toBeDefined();

    const resumed = await Trainer.create(resources, train, test, { ...options, seed: 12345 /* restored from the file */ });
    resumed.restore(saved!);
    expect(resumed.epoch).toBe(2);
    const reports = await resumed.fit({ epochs: 2 });
    expect(reports.map((r) => r.epoch)).toEqual([3, 4]);
    const actual = await resumed.weights();
    resumed.destroy();
    for (const [name, values] of expected) expect(Buffer.from(actual.get(name)!.buffer).equals(Buffer.from(values.buffer)), name).toBe(true);
  });

  it('stores PyTorch-layout weights, optimizer state and the run state in safetensors', async () => {
    const { resources } = await testGpu();
    const { train } = await data();
    const trainer = await Trainer.create(resources, train, undefined, options);
    await trainer.fit({ epochs: 1 });
    const bytes = await trainer.checkpoint();
    trainer.destroy();
    const { tensors, metadata } = decodeSafetensors(bytes, 'ckpt');
    expect(tensors.get('1.weight')!.shape).toEqual([24, 784]);
    expect(tensors.get('1.bias')!.shape).toEqual([24]);
    expect(tensors.get('3.weight')!.shape).toEqual([10, 24]);
    expect(tensors.has('optimizer.state2.3.weight')).toBe(true);
    expect(metadata.epoch).toBe('1');
    expect(Number(metadata.step)).toBe(Math.ceil(700 / 64));
    expect(JSON.parse(metadata.shuffle_rng)).toHaveLength(4);
  });

  it('rejects truncated, corrupted and mismatched checkpoints with clear errors', async () => {
    const { resources } = await testGpu();
    const { train } = await data();
    const trainer = await Trainer.create(resources, train, undefined, options);
    const bytes = await trainer.checkpoint();
    expect(() => trainer.restore(bytes.slice(0, bytes.length - 100), 'cut.safetensors')).toThrow(DataFormatError);
    expect(() => trainer.restore(bytes.slice(0, bytes.length - 100), 'cut.safetensors')).toThrow(/cut\.safetensors.*truncated/);
    const corrupt = bytes.slice();
    corrupt[12] = 0x7b; // inside the JSON header
    corrupt[13] = 0x7b;
    expect(() => trainer.restore(corrupt, 'bad.safetensors')).toThrow(DataFormatError);
    const other = await Trainer.create(resources, train, undefined, { ...options, model: { layers: [784, 30, 10] } });
    const otherBytes = await other.checkpoint();
    other.destroy();
    expect(() => trainer.restore(otherBytes, 'other.safetensors')).toThrow(ShapeError);
    expect(() => trainer.restore(otherBytes, 'other.safetensors')).toThrow(/1\.weight.*\[30, 784\].*\[24, 784\]/);
    trainer.destroy();
  });
});
