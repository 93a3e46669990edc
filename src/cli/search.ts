/**
 * `npm run search`: random (default) or grid hyperparameter search on MNIST, every trial on the GPU,
 * validated on a held-out split of the training set; prints the table sorted by validation accuracy.
 * Flags: --mode random|grid --trials N --epochs N --subset N (training samples) --seed N --json
 */
import { parseArgs } from 'node:util';
import { requestGpu } from '../gpu/device';
import { loadMnist } from '../data/mnist_node';
import { splitDataset, subset } from '../data/dataset';
import { formatResults, search, type SearchSpace } from '../train/search';
import { WebgradError } from '../errors';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      mode: { type: 'string', default: 'random' },
      trials: { type: 'string', default: '8' },
      epochs: { type: 'string', default: '2' },
      subset: { type: 'string', default: '10000' },
      seed: { type: 'string', default: '1' },
      data: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const mode = values.mode === 'grid' ? 'grid' : 'random';
  const gpu = await requestGpu();
  const { train } = await loadMnist(values.data);
  const pool = subset(train, 0, Math.min(train.count, Number(values.subset)));
  const split = splitDataset(pool, 0.1, Number(values.seed));
  const space: SearchSpace = {
    lr: mode === 'grid' ? { values: [0.01, 0.05, 0.1] } : { min: 1e-3, max: 0.3 },
    batchSize: mode === 'grid' ? [64, 128] : [32, 64, 128, 256],
    optimizer: mode === 'grid' ? ['momentum'] : ['sgd', 'momentum', 'adam'],
    weightDecay: mode === 'grid' ? [0] : [0, 1e-4],
    hidden: mode === 'grid' ? [[128, 64]] : [[64], [128, 64], [256, 128]],
  };
  if (!values.json) console.log(`${mode} search on ${split.train.count} training / ${split.validation.count} validation samples, ${values.epochs} epochs a trial (${gpu.adapterName})`);
  const results = await search(gpu, split.train, split.validation, {
    space,
    mode,
    trials: Number(values.trials),
    epochs: Number(values.epochs),
    seed: Number(values.seed),
    inputs: pool.rows * pool.cols,
    classes: 10,
    onTrial: (r, i, n) => {
      if (values.json) console.log(JSON.stringify({ trial: i + 1, ...r }));
      else console.log(`trial ${i + 1}/${n}: lr ${r.lr.toExponential(2)} batch ${r.batchSize} ${r.optimizer} decay ${r.weightDecay} hidden ${r.hidden.join('-')} -> val acc ${(100 * r.valAccuracy).toFixed(2)}% (${r.seconds.toFixed(1)} s)`);
    },
  });
  if (!values.json) console.log(`\n${formatResults(results)}`);
  gpu.device.destroy();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof WebgradError ? `${error.name}: ${error.message}` : error);
    process.exit(1);
  },
);
