/**
 * `npm run train`: trains a model (a torch.nn-shaped layer list, or an MLP) on MNIST, or on a folder of
 * Keras-named .npy files (--data), in Node on whatever WebGPU adapter there is. The flags are the table
 * in src/cli/train_flags.ts (`--help` prints it). Every value is checked before any GPU work is done: the
 * table checks each flag, `settingsFrom` the flags together (the optimizer, the schedule), then, once the data is read, --classes against the data's labels, the model
 * against the data's shape and number of classes, a --resume checkpoint or --weights file against the
 * model, and the data's size against --batch-size and --validation, all before the GPU is requested.
 */
import { readFileSync } from 'node:fs';
import { loadDataFolder } from '../data/data_folder';
import { oneHotTargets, subset, targetSize, type Dataset } from '../data/dataset';
import { loadMnist } from '../data/mnist_node';
import { ConfigError, ShapeError, WebgradError } from '../errors';
import { requestGpu } from '../gpu/device';
import { writeFileAtomically } from '../io/atomic_write';
import { decodeCheckpoint } from '../io/checkpoint';
import { preprocessingMetadata, readPreprocessing } from '../io/preprocessing_metadata';
import { decodeSafetensors, encodeSafetensors } from '../io/safetensors';
import { readStateDict } from '../io/state_dict';
import type { TuningTable } from '../kernels/matmul_select';
import { fileTuningStore } from '../kernels/tuning_store_node';
import { Model, type ModelSpec } from '../nn/model';
import { ParameterArena } from '../nn/parameters';
import { diagnose } from '../train/diagnose';
import { resolveLoss } from '../train/loss';
import { trainEnsemble } from '../train/ensemble';
import { checkBatching, Trainer, type EpochReport, type TrainerOptions } from '../train/trainer';
import { withNewHead } from '../train/transfer';
import { selectDataClasses } from './classes';
import { flagError, formatHelp, InvalidValue, parseFlags, type FlagValues } from './flags';
import { resolvePreprocessing } from './preprocess_flag';
import { processIo, runIfEntryPoint, type CliIo } from './run';
import { settingsFrom, trainFlags, TRAIN_USAGE } from './train_flags';
import { describeTransfer, transferFrom } from './transfer_flags';

export { parseAugment, trainFlags, TRAIN_USAGE } from './train_flags';

/** Parameters the CLI will allocate per arena (1 GiB of float32); a larger model is almost surely a typo. */
const MAX_PARAMETERS = 2 ** 28;

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
