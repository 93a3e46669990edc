// Every bad input gets a typed error that names the value and what was expected, before any GPU work.
import { describe, expect, it } from 'vitest';
import { encodeIdx, parseIdx } from '../../src/data/idx';
import { makeDataset, type Dataset } from '../../src/data/dataset';
import { ConfigError, DataFormatError, GPUValidationError, ShapeError, WebgradError } from '../../src/errors';
import { Trainer, type TrainerOptions } from '../../src/train/trainer';
import { kernels } from '../../src/kernels/catalog';
import { shaderFiles } from '../../src/kernels/shaders';
import { locate } from '../../src/gpu/resources';
import { testGpu } from '../helpers/gpu';

const tiny: Dataset = { x: new Uint8Array(8 * 4), labels: Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7]), count: 8, sampleShape: [1, 2, 2], numClasses: 10 };
const good: TrainerOptions = { model: { layers: [4, 5, 10] }, batchSize: 4, optimizer: { lr: 0.1 } };

/** Trainer.create must throw `type` matching `message`, and must not have created a single GPU buffer. */
async function rejects(options: Partial<TrainerOptions>, type: typeof WebgradError, message: RegExp, data: Dataset = tiny): Promise<void> {
  const { resources } = await testGpu();
  const created = resources.counts.buffersCreated;
  const error = await Trainer.create(resources, data, undefined, { ...good, ...options }).then(
    (t) => (t.destroy(), undefined),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(type);
  expect((error as Error).message).toMatch(message);
  expect(resources.counts.buffersCreated, 'no GPU work before the error').toBe(created);
}

describe('bad input is refused with a clear, typed error', () => {
  it('an IDX file with the wrong magic number', () => {
    const bytes = encodeIdx([2], new Uint8Array([1, 2]));
    bytes[2] = 0x0d;
    expect(() => parseIdx(bytes, 'labels.idx')).toThrow(DataFormatError);
    expect(() => parseIdx(bytes, 'labels.idx')).toThrow(/labels\.idx/);
  });

  it('a truncated IDX file', () => {
    const bytes = encodeIdx([3, 2, 2], new Uint8Array(12)).slice(0, 20);
    expect(() => parseIdx(bytes, 'images.idx')).toThrow(/images\.idx.*truncated/);
  });

  it('a label out of range, and image and label counts that differ', () => {
    const images = parseIdx(encodeIdx([2, 2, 2], new Uint8Array(8)), 'i');
    expect(() => makeDataset(images, parseIdx(encodeIdx([2], new Uint8Array([3, 12])), 'l'), { images: 'i', labels: 'l' })).toThrow(/12/);
    expect(() => makeDataset(images, parseIdx(encodeIdx([3], new Uint8Array([1, 2, 3])), 'l'), { images: 'i', labels: 'l' })).toThrow(DataFormatError);
  });

  it('layer sizes that do not fit the data, at either end', async () => {
    await rejects({ model: { layers: [5, 5, 10] } }, ShapeError, /layer 1 \(Linear\): in_features is 5 but each sample has 4 features/);
    await rejects({ model: { layers: [4, 5, 7] } }, ShapeError, /output per sample is \[7\].*10 classes/);
    await rejects({ model: { layers: [4, 0, 10] } }, ShapeError, /width 1 is 0/);
  });

  it('a batch size of 0, or one larger than the data', async () => {
    await rejects({ batchSize: 0 }, ConfigError, /batch size must be a positive integer; got 0/);
    await rejects({ batchSize: 9 }, ConfigError, /batch size \(9\) is larger than the training set \(8/);
  });

  it('a negative or NaN learning rate', async () => {
    await rejects({ optimizer: { lr: -1 } }, ConfigError, /learning rate.*-1/);
    await rejects({ optimizer: { lr: Number.NaN } }, ConfigError, /learning rate.*NaN/);
  });

  it('unknown optimizer, activation and initialiser names', async () => {
    await rejects({ optimizer: { name: 'adamax' as never, lr: 0.1 } }, ConfigError, /Unknown optimizer 'adamax'.*adam/);
    await rejects({ model: { layers: [4, 5, 10], activation: 'swish' as never } }, ConfigError, /Unknown activation 'swish'/);
    await rejects({ model: { layers: [4, 5, 10], init: 'glorious' } }, ConfigError, /Unknown initialiser 'glorious'/);
  });

  it('non-finite preprocessing values (the only way NaN can reach byte-valued inputs)', async () => {
    await rejects({ preprocessing: { mean: Number.NaN, std: 1 } }, ConfigError, /mean is NaN/);
    await rejects({ preprocessing: { mean: 0, std: 0 } }, ConfigError, /std is 0/);
    await rejects({ preprocessing: { mean: 0, std: Float32Array.from([1, 1, Number.POSITIVE_INFINITY, 1]) } }, ConfigError, /std\[2\] is Infinity/);
  });

  it('a request beyond the adapter limits fails before any dispatch', async () => {
    const { resources } = await testGpu();
    const limit = resources.device.limits.maxBufferSize;
    expect(() => resources.createBuffer('huge', limit + 1024, GPUBufferUsage.STORAGE)).toThrow(GPUValidationError);
    expect(() => resources.createBuffer('huge', limit + 1024, GPUBufferUsage.STORAGE)).toThrow(/huge.*maxBufferSize/);
  });

  it('WGSL errors are reported against the shader file and line they come from', () => {
    const matmul = kernels.matmul;
    expect(locate(matmul, 3)).toBe('shaders/act_fns.wgsl:3');
    const before = matmul.files.slice(0, -1).reduce((n, f) => n + shaderFiles[f].split('\n').length, 0);
    expect(matmul.files.at(-1)).toBe('matmul.wgsl');
    expect(locate(matmul, before + 3)).toBe('shaders/matmul.wgsl:3');
  });
});
