/**
 * `npm run search`: random (default) or grid hyperparameter search on MNIST, every trial on the GPU,
 * validated on a held-out split of the training set; prints the table sorted by validation accuracy.
 * The flags are the table below (`--help` prints it; src/cli/flags.ts says how to add one).
 */
import { requestGpu } from '../gpu/device';
import { loadMnist } from '../data/mnist_node';
import { sampleSize, splitDataset, subset } from '../data/dataset';
import { formatResults, search, type SearchSpace } from '../train/search';
import { choice, formatHelp, int, parseFlags } from './flags';
import { jsonFlag, mnistDataFlag, seedFlag } from './shared_flags';
import { processIo, runIfEntryPoint, type CliIo } from './run';

export const searchFlags = {
  mode: choice(['random', 'grid'] as const, { default: 'random', help: 'random samples of the space, or its full grid' }),
  trials: int({ min: 1, default: 8, help: 'trials of a random search' }),
  epochs: int({ min: 1, default: 2, help: 'epochs a trial' }),
  subset: int({ min: 300, default: 10000, help: 'training samples to search on (a tenth is held out; batches go up to 256)' }),
  seed: seedFlag(1, 'seed for the split and the sampled trials'),
  data: mnistDataFlag,
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
  const { train } = await loadMnist(values.data);
  const pool = subset(train, 0, Math.min(train.count, values.subset));
  const split = splitDataset(pool, 0.1, values.seed);
  const gpu = await requestGpu();
  const space: SearchSpace = {
    lr: mode === 'grid' ? { values: [0.01, 0.05, 0.1] } : { min: 1e-3, max: 0.3 },
    batchSize: mode === 'grid' ? [64, 128] : [32, 64, 128, 256],
    optimizer: mode === 'grid' ? ['momentum'] : ['sgd', 'momentum', 'adam'],
    weightDecay: mode === 'grid' ? [0] : [0, 1e-4],
    hidden: mode === 'grid' ? [[128, 64]] : [[64], [128, 64], [256, 128]],
  };
  if (!values.json) io.out(`${mode} search on ${split.train.count} training / ${split.validation.count} validation samples, ${values.epochs} epochs a trial (${gpu.adapterName})`);
  const results = await search(gpu, split.train, split.validation, {
    space,
    mode,
    trials: values.trials,
    epochs: values.epochs,
    seed: values.seed,
    inputs: sampleSize(pool),
    classes: 10,
    onTrial: (r, i, n) => {
      if (values.json) io.out(JSON.stringify({ trial: i + 1, ...r }));
      else io.out(`trial ${i + 1}/${n}: lr ${r.lr.toExponential(2)} batch ${r.batchSize} ${r.optimizer} decay ${r.weightDecay} hidden ${r.hidden.join('-')} -> val acc ${(100 * r.valAccuracy).toFixed(2)}% (${r.seconds.toFixed(1)} s)`);
    },
  });
  if (!values.json) io.out(`\n${formatResults(results)}`);
  gpu.device.destroy();
}

runIfEntryPoint(import.meta.url, 'search', main);
