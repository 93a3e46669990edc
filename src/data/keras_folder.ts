/** Node-only: reads a Keras NumPy folder (the format and its rules: src/data/keras.ts). */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DataFormatError } from '../errors';
import type { Dataset } from './dataset';
import { KERAS_FILE_LIST, KERAS_FILES, kerasDatasets, type NamedNpy } from './keras';
import { parseNpy } from './npy';

/** Reads x_train.npy, y_train.npy, x_test.npy and y_test.npy from `dir` (Node). */
export async function loadNpyFolder(dir: string): Promise<{ train: Dataset; test: Dataset }> {
  // Every file is looked for first, so a missing one is named before a large x_train is read.
  const names = Object.values(KERAS_FILES);
  const found = await Promise.all(names.map((name) => stat(join(dir, name)).then((s) => s.isFile(), () => false)));
  const missing = names.filter((_, i) => !found[i]);
  if (missing.length) {
    throw new DataFormatError(`${dir}: ${missing.join(', ')} not found; a Keras NumPy folder must hold the four files ${KERAS_FILE_LIST}`);
  }
  const read = async (fileName: string): Promise<NamedNpy> => {
    const location = join(dir, fileName);
    return { array: parseNpy(await readFile(location), location), location };
  };
  // One at a time: each file is parsed (and its buffer can go) before the next is read.
  const xTrain = await read(KERAS_FILES.xTrain);
  const yTrain = await read(KERAS_FILES.yTrain);
  const xTest = await read(KERAS_FILES.xTest);
  const yTest = await read(KERAS_FILES.yTest);
  return kerasDatasets({ xTrain, yTrain, xTest, yTest });
}
