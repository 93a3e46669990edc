/**
 * `npm run init-experiment`: pushes one batch through a deep stack (10 × 256 by default) for every
 * initialiser, with ReLU and with tanh, and prints each layer's activation mean and standard deviation,
 * reduced on the GPU (src/nn/init_diagnostic.ts). The flags are the table below (`--help` prints it).
 */
import { sampleSize } from '../data/dataset';
import { requestGpu } from '../gpu/device';
import { loadMnist } from '../data/mnist_node';
import { Rng } from '../data/rng';
import { ConfigError } from '../errors';
import { activationKinds, type ActivationName } from '../graph/ops';
import { formatInitDiagnostic, initDiagnostic, type InitDiagnosticOptions } from '../nn/init_diagnostic';
import { choice, formatHelp, int, InvalidValue, nearest, parseFlags, spec } from './flags';
import { jsonFlag, mnistDataFlag, seedFlag } from './shared_flags';
import { processIo, runIfEntryPoint, type CliIo } from './run';

const activationNames = Object.keys(activationKinds) as ActivationName[];

/** `relu,tanh`: activation names joined by commas. */
function parseActivations(text: string): ActivationName[] {
  return text.split(',').map((name) => {
    if ((activationNames as string[]).includes(name)) return name as ActivationName;
    const guess = nearest(name, activationNames);
    throw new InvalidValue(`unknown activation '${name}'${guess ? `; did you mean ${guess}?` : ''}`);
  });
}

export const initExperimentFlags = {
  rows: int({ min: 1, default: 512, help: 'samples in the batch' }),
  depth: int({ min: 1, max: 1000, default: 10, help: 'dense layers in the stack' }),
  width: int({ min: 1, max: 65536, default: 256, help: 'units per layer' }),
  activations: spec({ metavar: 'A,B', expected: `activation names joined by commas, from ${activationNames.join(', ')}`, default: ['relu', 'tanh'] as ActivationName[], defaultText: 'relu,tanh', help: 'activations to compare', parse: parseActivations }),
  inputs: choice(['random', 'mnist'] as const, { default: 'random', help: 'random (N(0, 1) values) or mnist (the first training images, scaled to [0, 1])' }),
  data: mnistDataFlag,
  seed: seedFlag(0, 'seed for inputs and weights'),
  json: jsonFlag,
} as const;

export const INIT_EXPERIMENT_USAGE = 'Usage: npm run init-experiment -- [options]';

/** One batch of inputs is rows × width floats on the host and on the GPU; beyond this is surely a typo. */
const MAX_BATCH_FLOATS = 2 ** 27;

export async function main(argv: readonly string[], io: CliIo = processIo): Promise<void> {
  const parsed = parseFlags(initExperimentFlags, argv);
  if (parsed.help) {
    io.out(formatHelp(INIT_EXPERIMENT_USAGE, initExperimentFlags));
    return;
  }
  const { values } = parsed;
  const { rows, width } = values;
  if (rows * width > MAX_BATCH_FLOATS) {
    throw new ConfigError(`--rows ${rows} × --width ${width} = ${rows * width} values a batch, more than the ${MAX_BATCH_FLOATS} (512 MiB) this experiment allocates.`);
  }
  const options: InitDiagnosticOptions = { depth: values.depth, width, activations: values.activations, seed: values.seed };
  if (values.inputs === 'mnist') {
    const { train } = await loadMnist(values.data);
    const features = sampleSize(train);
    const count = Math.min(rows, train.count);
    const data = Float32Array.from(train.x.subarray(0, count * features), (v) => v / 255);
    options.inputs = { data, rows: count, features, description: `${count} MNIST training images, pixels in [0, 1]` };
  } else {
    const rng = new Rng(values.seed);
    options.inputs = { data: Float32Array.from({ length: rows * width }, () => rng.normal()), rows, features: width, description: `${rows} random N(0, 1) inputs of ${width} values` };
  }

  const gpu = await requestGpu();
  if (!values.json) io.out(`adapter: ${gpu.adapterName}\n`);
  const started = performance.now();
  const result = await initDiagnostic(gpu, options);
  if (values.json) {
    io.out(JSON.stringify(result));
  } else {
    io.out(formatInitDiagnostic(result));
    io.out(
      'Reading: zeros and N(0, 0.01²) make the signal vanish; N(0, 1) explodes through ReLU and saturates tanh;\n' +
        `He keeps ReLU layers at scale, Xavier tanh layers. (${((performance.now() - started) / 1000).toFixed(1)} s)`,
    );
  }
  gpu.device.destroy();
}

runIfEntryPoint(import.meta.url, 'init-experiment', main);
