/**
 * The flags of `npm run train` (the table `--help` prints) and the checks that combine them into the
 * trainer's settings before any data is read or GPU requested (src/cli/train.ts runs them).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { Augmentation } from '../data/gpu_dataset';
import { activationKinds, type ActivationName } from '../graph/ops';
import { initChoices } from '../nn/init';
import { mlpLayers, normNames, validateMlp, type MlpConfig } from '../nn/mlp';
import type { ModelSpec } from '../nn/model';
import { parseModel, parseModelText } from '../nn/model_spec';
import { optimizerNames, resolveOptimizer, type DecayMode, type OptimizerOptions } from '../optim/optimizer';
import { LrScheduler, parseSchedule } from '../optim/schedule';
import { lossNames, resolveLoss, type LossSpec } from '../train/loss';
import type { TrainerOptions } from '../train/trainer';
import { CLASS_LIST_EXPECTED, parseClassList } from './classes';
import { boolean, choice, file, flagError, int, InvalidValue, nearest, number, output, readNumber, spec, type FlagValues } from './flags';
import { parsePreprocess, PREPROCESS_EXPECTED } from './preprocess_flag';
import { dataFlag, jsonFlag, seedFlag } from './shared_flags';
import { transferFlags } from './transfer_flags';

const AUGMENT_KEYS = { shift: 'maxShift', rotate: 'maxRotate', noise: 'noiseStd', mixup: 'mixup' } as const satisfies Record<string, keyof Augmentation>;

/** `shift=PX,rotate=DEG,noise=STD,mixup=ALPHA`, each at most once, each a number ≥ 0. */
export function parseAugment(text: string): Augmentation {
  const augment: Augmentation = {};
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    if (!Object.hasOwn(AUGMENT_KEYS, key)) {
      const guess = nearest(key, Object.keys(AUGMENT_KEYS));
      throw new InvalidValue(`unknown setting '${key}'${guess ? `; did you mean ${guess}?` : ''}`);
    }
    const field = AUGMENT_KEYS[key as keyof typeof AUGMENT_KEYS];
    if (eq < 0) throw new InvalidValue(`'${key}' has no value; write ${key}=VALUE`);
    if (augment[field] !== undefined) throw new InvalidValue(`${key} is given twice`);
    const value = part.slice(eq + 1);
    let parsed: number;
    try {
      parsed = readNumber(value);
    } catch {
      throw new InvalidValue(`${key}=${value}: expected a number ≥ 0`);
    }
    if (!(parsed >= 0)) throw new InvalidValue(`${key}=${value}: expected a number ≥ 0`);
    augment[field] = parsed;
  }
  return augment;
}

/** --model: a file holding the description, or the description itself; an MLP's settings stay open to the MLP flags. */
function parseModelFlag(text: string): { mlp: MlpConfig } | { layers: ModelSpec } {
  const isFile = existsSync(text) && statSync(text).isFile();
  const description = (isFile ? readFileSync(text, 'utf8') : text).trim();
  const isMlp = !description.startsWith('[') && !(description.startsWith('{') && /"layers"\s*:\s*\[\s*\d/.test(description));
  return isMlp ? { mlp: parseModel(description) } : { layers: parseModelText(description) };
}

/** `784-128-64-10`: two or more positive integers joined by '-'. */
function parseLayers(text: string): number[] {
  const widths = /^\d+(-\d+)+$/.test(text) ? text.split('-').map(Number) : [];
  if (widths.length < 2 || widths.some((w) => !Number.isSafeInteger(w) || w < 1)) throw new InvalidValue();
  return widths;
}

/** A validation split: a whole number of samples, or a fraction strictly between 0 and 1. */
function parseValidation(text: string): number {
  const value = readNumber(text);
  if (value > 0 && value < 1) return value;
  if (Number.isSafeInteger(value) && value >= 0) return value;
  throw new InvalidValue();
}

export const trainFlags = {
  epochs: int({ min: 0, default: 5, help: "epochs to train, in all (a resumed run trains what remains)" }),
  'batch-size': int({ min: 1, default: 64, help: 'mini-batch size' }),
  lr: number({ min: 0, minExclusive: true, default: 0.05, help: 'learning rate' }),
  momentum: number({ min: 0, max: 1, maxExclusive: true, default: 0.9, help: 'SGD momentum' }),
  optimizer: choice(optimizerNames, { default: 'momentum', help: optimizerNames.join(', ') }),
  'weight-decay': number({ min: 0, default: 0, help: 'weight decay λ on the weights' }),
  decay: choice(['l2', 'l1', 'decoupled'] as const satisfies readonly DecayMode[], { defaultText: 'l2; decoupled for adamw', help: 'how weight decay applies: l2, l1 or decoupled' }),
  'clip-norm': number({ min: 0, default: 0, help: 'clip the global gradient norm to X (0: off)' }),
  'clip-value': number({ min: 0, default: 0, help: 'clip every gradient element to [-X, X] (0: off)' }),
  schedule: spec({
    metavar: 'S',
    expected: 'constant, step:EVERY:GAMMA, exp:GAMMA, cosine:EPOCHS[:MIN] or plateau[:FACTOR[:PATIENCE]]',
    defaultText: 'constant',
    help: 'learning-rate schedule: constant, step:EVERY:GAMMA, exp:GAMMA, cosine:EPOCHS[:MIN], plateau[:FACTOR[:PATIENCE]]',
    parse: (text) => {
      const schedule = parseSchedule(text);
      new LrScheduler(1, schedule); // checks the numbers (a step size of 0, a negative gamma ...)
      return schedule;
    },
  }),
  warmup: int({ min: 0, default: 0, help: 'linear learning-rate warm-up over N steps' }),
  validation: spec({ metavar: 'N', expected: 'a whole number of samples or a fraction in (0, 1)', default: 0, help: 'hold out N training samples (or a fraction < 1) for validation', parse: parseValidation }),
  augment: spec({
    metavar: 'S',
    expected: 'shift=PX,rotate=DEG,noise=STD,mixup=ALPHA (any of them, each a number ≥ 0)',
    help: 'random augmentation on the GPU: shift=PX,rotate=DEG,noise=STD,mixup=ALPHA, e.g. shift=2,rotate=10',
    parse: parseAugment,
  }),
  preprocess: spec({
    metavar: 'LIST',
    expected: PREPROCESS_EXPECTED,
    defaultText: 'scale',
    help: 'scale, standardize or minmax, then optionally pca=K, pca-whiten=K or zca[=EPS] fitted on the training split,\ne.g. pca=50 or standardize,zca=0.1 (the fitted transform is saved with --save)',
    parse: parsePreprocess,
  }),
  'early-stop': int({ min: 0, help: 'stop after N epochs without validation improvement, restoring the best weights' }),
  monitor: choice(['valLoss', 'valAccuracy'] as const, { default: 'valLoss', help: 'what --early-stop watches: valLoss or valAccuracy' }),
  loss: choice(lossNames, {
    default: 'cross_entropy',
    help: 'cross_entropy, bce, mse, l1, huber or smooth_l1; on data with class labels (MNIST) the losses other than\n' +
      'cross_entropy train on one-hot targets, one per class (bce reports per-element accuracy, the rest MSE and MAE)',
  }),
  'label-smoothing': number({ min: 0, max: 1, maxExclusive: true, default: 0, help: 'label smoothing ε of --loss cross_entropy (PyTorch label_smoothing)' }),
  'huber-delta': number({ min: 0, minExclusive: true, defaultText: '1', help: 'δ of --loss huber (HuberLoss), β of --loss smooth_l1 (SmoothL1Loss)' }),
  seed: seedFlag(1),
  layers: spec({ metavar: 'A-B-..', expected: "layer widths joined by '-', input first, e.g. 784-128-10", defaultText: '784-128-64-10', help: 'layer widths', parse: parseLayers }),
  activation: choice(Object.keys(activationKinds) as ActivationName[], { defaultText: 'relu', help: Object.keys(activationKinds).join(', ') }),
  init: choice(initChoices, { defaultText: 'he_normal', help: 'initialiser' }),
  norm: choice(normNames, { defaultText: 'none', help: 'none, batch or layer: a norm after each hidden linear layer' }),
  dropout: number({ min: 0, max: 1, maxExclusive: true, defaultText: '0', help: 'dropout rate after each hidden activation, training only' }),
  model: spec({
    metavar: 'SPEC',
    expected: 'a JSON file or JSON string with a layer list, or an MLP string such as "784-256-128-10 relu he batch dropout=0.2"',
    help:
      'the model: a JSON file or JSON string with a layer list mirroring torch.nn ([{"type": "Conv2d", "in_channels": 1, ...}]),\n' +
      'or an MLP string such as "784-256-128-10 relu he batch dropout=0.2" (--layers, --activation, --init, --norm and --dropout override an MLP\'s parts)',
    parse: parseModelFlag,
  }),
  weights: file({ help: 'start from these weights: a state dict in safetensors (saved by --save, or by PyTorch), loaded strictly' }),
  ...transferFlags,
  subset: int({ min: 1, defaultText: 'all', help: 'train on the first N training images only (quick experiments; after --classes)' }),
  data: dataFlag,
  classes: spec({
    metavar: 'LIST',
    expected: CLASS_LIST_EXPECTED,
    defaultText: 'all',
    help: 'train and test on these classes only, e.g. 0-4, 5,7,9 or 0-2,8, relabelled 0, 1, ... in the order given\n(the model then needs one output per listed class)',
    parse: parseClassList,
  }),
  checkpoint: output({ help: 'save a checkpoint (weights, optimizer and run state) every --checkpoint-every epochs' }),
  'checkpoint-every': int({ min: 1, default: 1, help: 'epochs between checkpoints' }),
  resume: file({ help: 'continue a run from a checkpoint' }),
  ensemble: int({
    min: 1,
    default: 1,
    help: 'train N members with seeds --seed, --seed+1, ... and score the mean of their predicted probabilities\n(classification only; the --json final line holds the ensemble\'s testAccuracy and each member\'s)',
  }),
  save: output({ help: "write the trained model's state dict as safetensors (PyTorch loads it with strict=True)" }),
  json: jsonFlag,
  'print-plan': boolean({ help: "print the training step's plan before training" }),
} as const;

export const TRAIN_USAGE = 'Usage: npm run train -- [options]';

interface TrainSettings {
  model: ModelSpec;
  optimizer: OptimizerOptions;
  options: Omit<TrainerOptions, 'model' | 'optimizer' | 'validation'>;
}

/** Combines the flags into the trainer's settings and checks them together, before any data or GPU work. */
export function settingsFrom(values: FlagValues<typeof trainFlags>): TrainSettings {
  const mlpFlags = (['layers', 'activation', 'init', 'norm', 'dropout'] as const).filter((k) => values[k] !== undefined);
  let model: ModelSpec;
  if (values.model && 'layers' in values.model) {
    if (mlpFlags.length) throw flagError(mlpFlags[0], trainFlags[mlpFlags[0]], String(values[mlpFlags[0]]), "it changes an MLP's settings and cannot be combined with a layer-list --model (edit the layer list instead)");
    model = values.model.layers;
  } else {
    const mlp: MlpConfig = {
      ...(values.model?.mlp ?? { layers: [784, 128, 64, 10], activation: 'relu', init: 'he_normal' }),
      ...(values.layers !== undefined && { layers: values.layers }),
      ...(values.activation !== undefined && { activation: values.activation }),
      ...(values.init !== undefined && { init: values.init }),
      ...(values.norm !== undefined && { norm: values.norm }),
      ...(values.dropout !== undefined && { dropout: values.dropout }),
    };
    validateMlp(mlp);
    model = mlpLayers(mlp);
  }
  const optimizer: OptimizerOptions = {
    name: values.optimizer,
    lr: values.lr,
    momentum: values.momentum,
    weightDecay: values['weight-decay'],
    decay: values.decay,
    clipNorm: values['clip-norm'],
    clipValue: values['clip-value'],
  };
  resolveOptimizer(optimizer);
  new LrScheduler(values.lr, values.schedule, values.warmup);
  const loss = lossFrom(values);
  return {
    model,
    optimizer,
    options: {
      batchSize: values['batch-size'],
      seed: values.seed,
      schedule: values.schedule,
      warmupSteps: values.warmup,
      augment: values.augment,
      loss,
    },
  };
}

/** --loss, --label-smoothing and --huber-delta as a loss option, checked together. */
function lossFrom(values: FlagValues<typeof trainFlags>): LossSpec {
  const kind = values.loss;
  const smoothing = values['label-smoothing'];
  if (smoothing && kind !== 'cross_entropy') throw flagError('label-smoothing', trainFlags['label-smoothing'], String(smoothing), `it applies to --loss cross_entropy, not ${kind}`);
  const delta = values['huber-delta'];
  if (delta !== undefined && kind !== 'huber' && kind !== 'smooth_l1') throw flagError('huber-delta', trainFlags['huber-delta'], String(delta), `it applies to --loss huber or smooth_l1, not ${kind}`);
  if (values.augment?.mixup && (kind !== 'cross_entropy' || smoothing)) throw flagError('augment', trainFlags.augment, 'mixup=…', 'mixup works with plain cross-entropy only (no --loss other than cross_entropy, no --label-smoothing)');
  const spec: LossSpec = kind === 'cross_entropy' ? { kind, labelSmoothing: smoothing || undefined } : kind === 'huber' ? { kind, delta } : kind === 'smooth_l1' ? { kind, beta: delta } : { kind };
  resolveLoss(spec);
  return spec;
}
