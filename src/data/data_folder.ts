/**
 * A data folder as `--data DIR` takes it (Node): the four MNIST IDX files, or the four Keras NumPy files
 * (src/data/keras_folder.ts). Which kind it is follows from the file names alone, so the CLI can check the
 * folder when it reads its flags, before anything is loaded. A folder holding both complete sets is read
 * as MNIST, as it was before .npy folders were accepted.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DataFormatError } from '../errors';
import type { Dataset } from './dataset';
import { KERAS_FILE_LIST, KERAS_FILES } from './keras';
import { loadNpyFolder } from './keras_folder';
import { MNIST_FILE_LIST, MNIST_FILES } from './mnist';
import { loadMnist } from './mnist_node';

export type DataFolderKind = 'mnist' | 'keras';

const isFile = (path: string) => {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
};

const missingFrom = (folder: string, names: readonly string[]) => names.filter((name) => !isFile(join(folder, name)));
const verb = (names: readonly string[]) => (names.length === 1 ? 'is' : 'are');

/** Gzipped IDX files (as yann.lecun.com serves them) and .npz archives (as Keras downloads them) are named. */
function hints(folder: string): string {
  const gzipped = Object.values(MNIST_FILES).filter((name) => !isFile(join(folder, name)) && existsSync(join(folder, `${name}.gz`)));
  let npz: string[] = [];
  try {
    npz = readdirSync(folder).filter((name) => name.endsWith('.npz'));
  } catch {
    // An unreadable folder has no hint to give; what is missing says enough.
  }
  return (
    (gzipped.length ? `; ${gzipped.map((n) => `${n}.gz`).join(', ')} must be decompressed first (gunzip)` : '') +
    (npz.length ? `; ${npz.slice(0, 3).join(', ')} must be unpacked first (np.load it, then np.save each array as its own .npy)` : '')
  );
}

/** The kind of data folder `folder` is, or what is wrong with it: one phrase naming the files expected. */
export function detectDataFolder(folder: string): { kind: DataFolderKind } | { problem: string } {
  const mnistNames = Object.values(MNIST_FILES);
  const kerasNames = Object.values(KERAS_FILES);
  const mnistMissing = missingFrom(folder, mnistNames);
  const kerasMissing = missingFrom(folder, kerasNames);
  if (mnistMissing.length === 0) return { kind: 'mnist' };
  if (kerasMissing.length === 0) return { kind: 'keras' };
  const hasMnist = mnistMissing.length < mnistNames.length;
  const hasKeras = kerasMissing.length < kerasNames.length;
  const mnistProblem = `${mnistMissing.join(', ')} ${verb(mnistMissing)} missing`;
  const kerasProblem = `${kerasMissing.join(', ')} ${verb(kerasMissing)} missing (a Keras NumPy folder holds ${KERAS_FILE_LIST})`;
  let problem: string;
  if (hasMnist && hasKeras) problem = `it holds some of each kind of file: for MNIST IDX files ${mnistProblem}; for Keras NumPy files ${kerasProblem}`;
  else if (hasMnist) problem = mnistProblem;
  else if (hasKeras) problem = kerasProblem;
  else problem = `it holds neither the four MNIST IDX files (${MNIST_FILE_LIST}) nor the four Keras NumPy files (${KERAS_FILE_LIST})`;
  return { problem: problem + hints(folder) };
}

/** What is wrong with `folder` as a data folder, or undefined (the `contents` check of the --data flag). */
export function dataFolderProblem(folder: string): string | undefined {
  const found = detectDataFolder(folder);
  return 'problem' in found ? found.problem : undefined;
}

/** What is wrong with `folder` as an MNIST folder (the four uncompressed IDX files), or undefined. */
export function mnistFolderProblem(folder: string): string | undefined {
  const names = Object.values(MNIST_FILES);
  const missing = missingFrom(folder, names);
  if (missing.length === 0) return undefined;
  const gzipped = missing.filter((name) => existsSync(join(folder, `${name}.gz`)));
  const hint = gzipped.length ? `; ${gzipped.map((n) => `${n}.gz`).join(', ')} must be decompressed first (gunzip)` : '';
  if (missing.length === names.length) return `it holds none of ${names.join(', ')}${hint}`;
  return `${missing.join(', ')} ${verb(missing)} missing${hint}`;
}

/** Loads whichever kind of data folder `dir` is; one that is neither gets a DataFormatError naming both sets of files. */
export async function loadDataFolder(dir: string): Promise<{ kind: DataFolderKind; train: Dataset; test: Dataset }> {
  const found = detectDataFolder(dir);
  if ('problem' in found) throw new DataFormatError(`${dir}: not a data folder: ${found.problem}`);
  const { train, test } = found.kind === 'mnist' ? await loadMnist(dir) : await loadNpyFolder(dir);
  return { kind: found.kind, train, test };
}
