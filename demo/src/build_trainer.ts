/**
 * A trainer in the demo's worker for the form's settings, on the first samples of MNIST's splits, starting
 * from a fresh initialisation, imported weights or a restored checkpoint.
 */
import type { MnistSource, RemoteTrainerOptions, TrainerProxy, TrainerWorker } from '../../src/index';
import { toTrainerOptions, type DemoSettings } from './options';
import type { Normalisation } from './weights_file';

/** What the next Train starts from: imported weights or a restored checkpoint (kept until "Start from scratch"). */
export interface StartFrom {
  kind: 'weights' | 'checkpoint';
  name: string;
  bytes: Uint8Array;
  normalisation?: Normalisation;
}

/** MNIST's sizes: the worker fetches the files, so the page clamps the subsets without holding the data. */
const MNIST_TRAIN = 60_000;
const MNIST_TEST = 10_000;
export const trainCount = (s: DemoSettings) => Math.min(Math.max(1, Math.floor(s.subset)), MNIST_TRAIN);
export const testCount = (s: DemoSettings) => Math.min(Math.max(1, Math.floor(s.testSubset)), MNIST_TEST);

/**
 * The first `count` samples of a split, fetched by the worker (once per page). The URL is resolved here,
 * relative to the page, so the static build works from any folder; the dev server and the build serve it.
 */
function mnistSource(split: 'train' | 'test', count: number): MnistSource {
  return { mnist: new URL('mnist/', location.href).href, split, count };
}

/**
 * A trainer in the worker for `settings`, starting from imported weights (loaded strictly by
 * Trainer.create) or a checkpoint (restored after it), with the normalisation they were trained with.
 */
export async function buildTrainer(gpu: TrainerWorker, settings: DemoSettings, from: StartFrom | undefined, warnings: string[] = []): Promise<TrainerProxy> {
  const options: RemoteTrainerOptions = { ...toTrainerOptions(settings, from?.normalisation ?? settings.preprocessing), warn: (message) => warnings.push(message) };
  if (from?.kind === 'weights') options.weights = from.bytes;
  const t = await gpu.createTrainer(mnistSource('train', trainCount(settings)), mnistSource('test', testCount(settings)), options);
  if (from?.kind === 'checkpoint') {
    try {
      await t.restore(from.bytes, from.name);
    } catch (error) {
      await t.destroy();
      throw error;
    }
  }
  return t;
}
