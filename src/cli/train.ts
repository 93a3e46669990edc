/**
 * `npm run train`: trains a model (a torch.nn-shaped layer list, or an MLP) on MNIST, or on a folder of
 * Keras-named .npy files (--data), in Node on whatever WebGPU adapter there is. The flags are the table
 * below (`--help` prints it). Every value is checked before any GPU work is done: the table checks each flag, `settingsFrom` the flags together (the
 * optimizer, the schedule), then, once the data is read, --classes against the data's labels, the model
 * against the data's shape and number of classes, a --resume checkpoint or --weights file against the
 * model, and the data's size against --batch-size and --validation, all before the GPU is requested.
 */
import { readFileSync } from 'node:fs';
import { writeFileAtomically } from '../io/atomic_write';
import { requestGpu } from '../gpu/device';
import { loadMnist } from '../data/mnist_node';
import { loadDataFolder } from '../data/data_folder';
import { oneHotTargets, subset, type Dataset } from '../data/dataset';
import { lossNames, resolveLoss, type LossSpec } from '../train/loss';
import { Trainer, type EpochReport, type TrainerOptions } from '../train/trainer';
import { encodeSafetensors } from '../io/safetensors';
import { decodeCheckpoint } from '../io/checkpoint';
import { ConfigError, ShapeError, WebgradError } from '../errors';
import { activationKinds, type ActivationName } from '../graph/ops';
import { optimizerNames, resolveOptimizer, type DecayMode, type OptimizerOptions } from '../optim/optimizer';
import { LrScheduler, parseSchedule } from '../optim/schedule';
import { mlpLayers, normNames, validateMlp, type MlpConfig } from '../nn/mlp';
import type { Augmentation } from '../data/gpu_dataset';
import { initChoices } from '../nn/init';
import { parseModel, parseModelText } from '../nn/model_spec';
import { Model, type ModelSpec } from '../nn/model';
import { ParameterArena } from '../nn/parameters';
import { decodeSafetensors } from '../io/safetensors';
import { readStateDict } from '../io/state_dict';
import { checkBatching } from '../train/trainer';
import { existsSync, statSync } from 'node:fs';
import type { TuningTable } from '../kernels/matmul_select';
import { fileTuningStore } from '../kernels/tuning_store_node';
import { diagnose } from '../train/diagnose';
import { trainEnsemble } from '../train/ensemble';
import { boolean, choice, file, flagError, formatHelp, int, InvalidValue, nearest, number, output, parseFlags, readNumber, spec, type FlagValues } from './flags';
import { dataFlag, jsonFlag, seedFlag } from './shared_flags';
import { processIo, runIfEntryPoint, type CliIo } from './run';
import { CLASS_LIST_EXPECTED, parseClassList, selectDataClasses } from './classes';
import { describeTransfer, transferFlags, transferFrom } from './transfer_flags';
import { parsePreprocess, PREPROCESS_EXPECTED, resolvePreprocessing } from './preprocess_flag';
import { preprocessingMetadata, readPreprocessing } from '../io/preprocessing_metadata';
import { withNewHead } from '../train/transfer';
import { targetSize } from '../data/dataset';

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

/** Parameters the CLI will allocate per arena (1 GiB of float32); a larger model is almost surely a typo. */
const MAX_PARAMETERS = 2 ** 28;

interface TrainSettings {
  model: ModelSpec;
  optimizer: OptimizerOptions;
  options: Omit<TrainerOptions, 'model' | 'optimizer' | 'validation'>;
}

/** Combines the flags into the trainer's settings and checks them together, before any data or GPU work. */
function settingsFrom(values: FlagValues<typeof trainFlags>): TrainSettings {
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

/** The data folder (MNIST by default), narrowed to --classes when given. */
async function readData(values: FlagValues<typeof trainFlags>): Promise<{ kind: 'mnist' | 'keras'; train: Dataset; test: Dataset }> {
  const data = values.data === undefined ? { kind: 'mnist' as const, ...(await loadMnist()) } : await loadDataFolder(values.data);
  if (!values.classes) return data;
  try {
    return { kind: data.kind, ...selectDataClasses(data.train, data.test, values.classes) };
  } catch (error) {
    if (error instanceof InvalidValue) throw flagError('classes', trainFlags.classes, values.classes.text, error.detail);
    throw error;
  }
}

/** A model that does not take PCA's components: the error says that --preprocess (or --weights' saved PCA) set its inputs. */
function checkModelAfterPca<T>(check: () => T, inputShape: readonly number[], train: Dataset): T {
  try {
    return check();
  } catch (error) {
    if (!(error instanceof ShapeError) || inputShape.join() === train.sampleShape.join()) throw error;
    throw new ShapeError(`${error.message} After PCA (--preprocess or the --weights file's) the model's inputs are its ${inputShape[0]} components.`);
  }
}

/** The preprocessing saved in a --weights file's metadata, if any (the file itself is checked with the model). */
function savedPreprocessingOf(path: string) {
  try {
    return readPreprocessing(decodeSafetensors(new Uint8Array(readFileSync(path)), path).metadata, path);
  } catch (error) {
    if (!(error instanceof WebgradError)) throw error;
    throw flagError('weights', { expected: 'a state dict of this model' }, path, error.message);
  }
}

/**
 * The model against the data's sample shape (with --new-head, its output layer resized to `outputs`), and
 * the --resume and --weights files against the model, on the CPU.
 */
function checkModel(values: FlagValues<typeof trainFlags>, spec: ModelSpec, sampleShape: number[], outputs: number) {
  let model: Model;
  let head = new Set<string>();
  try {
    model = Model.create(spec, sampleShape);
    if (values['new-head']) ({ model, head } = withNewHead(model, outputs));
  } catch (error) {
    if (!(error instanceof WebgradError) || values.model === undefined) throw error;
    throw flagError('model', trainFlags.model, '…', error.message);
  }
  if (model.parameterCount > MAX_PARAMETERS) {
    throw new ConfigError(`The model has ${model.parameterCount.toLocaleString('en-US')} parameters, more than the ${MAX_PARAMETERS.toLocaleString('en-US')} this CLI allocates; check --layers / --model.`);
  }
  const arena = new ParameterArena(model.parameters);
  const stateArena = new ParameterArena(model.buffers);
  const blank = { params: new Float32Array(arena.totalFloats), state: new Float32Array(stateArena.totalFloats), batchesTracked: 0 };
  let tuning: TuningTable | undefined;
  const read = (flag: 'resume' | 'weights', path: string | undefined, check: (bytes: Uint8Array) => void) => {
    if (path === undefined) return undefined;
    const bytes = new Uint8Array(readFileSync(path));
    try {
      check(bytes);
    } catch (error) {
      if (!(error instanceof WebgradError)) throw error;
      throw flagError(flag, { expected: flag === 'resume' ? 'a webgrad checkpoint of this model' : 'a state dict of this model' }, path, error.message);
    }
    return { path, bytes };
  };
  const resume = read('resume', values.resume, (bytes) => void (tuning = decodeCheckpoint(bytes, values.resume!, model, { arena, stateArena }, blank).meta.tuning));
  const weights = read('weights', values.weights, (bytes) => readStateDict(decodeSafetensors(bytes, values.weights!).tensors, values.weights!, model, arena, stateArena, blank, { ignorePrefixes: ['optimizer.'], skip: head }));
  return { model, resume, weights, tuning, transfer: transferFrom(values, model) };
}

export async function main(argv: readonly string[], io: CliIo = processIo): Promise<void> {
  const parsed = parseFlags(trainFlags, argv);
  if (parsed.help) {
    io.out(formatHelp(TRAIN_USAGE, trainFlags));
    return;
  }
  const { values } = parsed;
  const settings = settingsFrom(values);
  const { model, optimizer } = settings;
  const log = (text: string) => !values.json && io.out(text);

  const data = await readData(values);
  // Losses on float targets see class labels as one-hot rows (a dataset with targets stays as it is).
  const asLoss = (d: Dataset) => (resolveLoss(settings.options.loss).usesLabels ? d : oneHotTargets(d));
  const test = asLoss(data.test);
  const train = asLoss(values.subset !== undefined ? subset(data.train, 0, Math.min(data.train.count, values.subset)) : data.train);
  const validationCount = values.validation < 1 ? Math.round(values.validation * train.count) : values.validation;
  if (validationCount >= train.count) {
    throw flagError('validation', trainFlags.validation, String(values.validation), `the training set has ${train.count} samples and needs some left to train on`);
  }
  const trainCount = train.count - validationCount;
  if (values['batch-size'] > trainCount) {
    throw flagError('batch-size', trainFlags['batch-size'], String(values['batch-size']), `larger than the ${trainCount} training samples`);
  }
  const saved = values.weights === undefined ? undefined : savedPreprocessingOf(values.weights);
  const preprocess = resolvePreprocessing(values.preprocess, saved, train);
  const checked = checkModelAfterPca(() => checkModel(values, model, preprocess.inputShape, train.numClasses ?? targetSize(train)), preprocess.inputShape, train);
  const outputs = checked.model.outputShape;
  if (train.labels && (outputs.length !== 1 || outputs[0] !== train.numClasses)) {
    // The Trainer's own check, made here so that it comes before the GPU is requested.
    const selected = values.classes ? ` (--classes ${values.classes.text})` : '';
    throw new ShapeError(`The model's output per sample is [${outputs.join(', ')}] but the training data has ${train.numClasses} classes${selected} (one logit per class is needed).`);
  }
  checkBatching(checked.model, trainCount, values['batch-size']);

  if (values.ensemble > 1) {
    const conflict = (['resume', 'checkpoint', 'save', 'early-stop'] as const).find((k) => values[k] !== undefined);
    if (conflict) throw flagError('ensemble', trainFlags.ensemble, String(values.ensemble), `it trains several models and cannot be combined with --${conflict}`);
    if (!train.labels) throw flagError('ensemble', trainFlags.ensemble, String(values.ensemble), `it averages class probabilities and needs --loss cross_entropy, not ${values.loss}`);
  }

  const gpu = await requestGpu();
  log(`adapter: ${gpu.adapterName}`);
  log(`data: ${train.count} training and ${test.count} test ${data.kind === 'keras' ? `samples of [${train.sampleShape.join(', ')}] from ${values.data}` : 'images'}${values.classes ? `, classes ${values.classes.text} as 0-${values.classes.classes.length - 1}` : ''}`);
  const trainerOptions: TrainerOptions = {
    ...settings.options,
    ...checked.transfer,
    preprocessing: preprocess.scaling,
    projection: preprocess.projection,
    model: { layers: checked.model.spec, init: checked.model.init },
    weights: checked.weights?.bytes,
    // The kernels a resumed run was trained with stand; the choices on this adapter persist between runs.
    tuning: checked.tuning,
    autotune: { store: fileTuningStore(), log: process.env.WEBGRAD_AUTOTUNE_LOG ? (m) => io.err(m) : undefined },
    optimizer,
    validation: values.validation,
    warn: (message) => io.err(`warning: ${message}`),
  };
  if (values.ensemble > 1) {
    await runEnsemble(gpu, train, test, trainerOptions, values, io);
    gpu.device.destroy();
    return;
  }
  const trainer = await Trainer.create(gpu, train, test, trainerOptions);
  const earlyStopping = values['early-stop'] !== undefined ? { patience: values['early-stop'], monitor: values.monitor } : undefined;
  const batchSize = values['batch-size'];
  if (values['print-plan']) io.out(trainer.formatPlan());
  const projection = trainer.projection;
  if (projection) log(`${projection.kind}: ${projection.components} components${projection.kind === 'zca' ? '' : ` keep ${(100 * projection.explainedVariance).toFixed(1)}% of the variance`}${saved?.projection ? ` (from ${values.weights})` : ''}`);
  log(`model (${trainer.model.parameterCount} parameters):\n${trainer.model.summary().map((l) => `  ${l}`).join('\n')}`);
  log(`${trainer.optimizer.name} lr ${values.lr}, batch ${batchSize}${checked.weights ? `, starting from ${checked.weights.path}${values['new-head'] ? ' with a new head' : ''}` : ''}`);
  const transfer = describeTransfer(checked.transfer);
  if (transfer) log(`transfer: ${transfer}`);

  const onEpoch = (r: EpochReport) => {
    if (values.json) {
      const { layerGradNorms: _omit, ...flat } = r;
      io.out(JSON.stringify(flat));
    } else {
      const pct = (x = 0) => `${(100 * x).toFixed(2)}%`;
      const regression = r.mse !== undefined;
      const fit = (what: string, acc?: number, mse?: number, mae?: number) => (regression ? `  ${what}mse ${mse?.toFixed(5)}  ${what}mae ${mae?.toFixed(5)}` : `  ${what}acc ${pct(acc)}`);
      const val = r.valLoss === undefined ? '' : `  val loss ${r.valLoss.toFixed(4)}${fit('val ', r.valAccuracy, r.valMse, r.valMae)}`;
      log(
        `epoch ${r.epoch}/${values.epochs}  loss ${r.loss.toFixed(4)}${fit('train ', r.accuracy, r.mse, r.mae)}${val}${fit('test ', r.testAccuracy, r.testMse, r.testMae)}` +
          `  lr ${r.lr.toPrecision(3)}  grad norm ${r.gradNorm.toFixed(3)}  ${r.seconds.toFixed(2)} s  ${Math.round(r.samplesPerSecond)} samples/s`,
      );
    }
  };
  if (checked.resume) {
    trainer.restore(checked.resume.bytes, checked.resume.path);
    log(`resumed from ${checked.resume.path} after epoch ${trainer.epoch}`);
  }
  // --epochs is the run's total, so a resumed run trains the epochs that remain.
  const epochs = Math.max(0, values.epochs - trainer.epoch);
  const checkpointPath = values.checkpoint;
  const reports = await trainer.fit({
    epochs,
    onEpoch,
    earlyStopping,
    checkpointEvery: checkpointPath ? values['checkpoint-every'] : undefined,
    onCheckpoint: checkpointPath
      ? (bytes, epoch) => {
          writeFileAtomically(checkpointPath, bytes);
          log(`checkpoint after epoch ${epoch}: ${checkpointPath}`);
        }
      : undefined,
  });
  for (const line of diagnose(reports)) log(`diagnosis: ${line}`);
  // After early stopping the best weights are back in place, so evaluate them afresh.
  const last = reports.at(-1);
  const final = earlyStopping || !last ? await trainer.evaluate() : { loss: last.testLoss!, accuracy: last.testAccuracy!, mse: last.testMse, mae: last.testMae };
  if (final.mse !== undefined) {
    if (values.json) io.out(JSON.stringify({ final: true, testLoss: final.loss, testMse: final.mse, testMae: final.mae }));
    else log(`final test loss: ${final.loss.toFixed(5)}  MSE ${final.mse.toFixed(5)}  MAE ${final.mae!.toFixed(5)}`);
  } else if (values.json) io.out(JSON.stringify({ final: true, testAccuracy: final.accuracy }));
  else log(`final test accuracy: ${(100 * final.accuracy).toFixed(2)}%`);

  if (values.save) {
    const bytes = encodeSafetensors(await trainer.stateDict(), { format: 'pt', model: JSON.stringify(trainer.model.spec), ...preprocessingMetadata(trainer.preprocessing) });
    writeFileAtomically(values.save, bytes);
    log(`saved weights to ${values.save}`);
  }
  trainer.destroy();
  gpu.device.destroy();
}

/** --ensemble N: the members train one after another; one line per member epoch, then the ensemble's score. */
async function runEnsemble(gpu: Awaited<ReturnType<typeof requestGpu>>, train: Dataset, test: Dataset, options: TrainerOptions, values: FlagValues<typeof trainFlags>, io: CliIo): Promise<void> {
  const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
  const report = await trainEnsemble(gpu, train, test, options, { epochs: values.epochs }, {
    members: values.ensemble,
    onEpoch: (member, r) => {
      if (values.json) {
        const { layerGradNorms: _omit, ...flat } = r;
        io.out(JSON.stringify({ member, ...flat }));
      } else {
        io.out(`member ${member + 1}/${values.ensemble} (seed ${options.seed! + member})  epoch ${r.epoch}/${values.epochs}  loss ${r.loss.toFixed(4)}  train acc ${pct(r.accuracy)}  test acc ${pct(r.testAccuracy ?? NaN)}  ${r.seconds.toFixed(2)} s`);
      }
    },
  });
  const members = report.members.map((m) => ({ seed: m.seed, testAccuracy: m.testAccuracy }));
  if (values.json) io.out(JSON.stringify({ final: true, testAccuracy: report.testAccuracy, meanMemberAccuracy: report.meanMemberAccuracy, members }));
  else {
    for (const m of members) io.out(`member seed ${m.seed}: test accuracy ${pct(m.testAccuracy)}`);
    io.out(`ensemble of ${members.length}: test accuracy ${pct(report.testAccuracy)} (members' mean ${pct(report.meanMemberAccuracy)})`);
  }
}

runIfEntryPoint(import.meta.url, 'train', main);
