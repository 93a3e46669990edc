/**
 * Building a trainer (`Trainer.create`): every input checked against the others before any GPU work
 * (the model against the data's shape and classes, the loss against the labels or targets, batching,
 * the datasets against the adapter's buffer limits, transfer and projection options against the model),
 * then the parameters initialised or loaded, the datasets uploaded, a projection fitted, and every plan
 * built and compiled. What it returns is all a trainer holds; src/train/trainer.ts runs it.
 */
import { ConfigError, ShapeError } from '../errors';
import { decodeSafetensors } from '../io/safetensors';
import { readStateDict } from '../io/state_dict';
import type { GpuContext } from '../gpu/device';
import { GpuResources } from '../gpu/resources';
import { checkBatching } from './batching';
import { sampleSize, splitDataset, type Dataset } from '../data/dataset';
import { datasetMoments } from '../data/covariance';
import { checkFittedProjection, checkProjectionSpec, fitProjection, type Projection } from '../data/projection';
import { chunking, GpuDataset, type Normalisation, type ProjectionBuffers } from '../data/gpu_dataset';
import { preprocessing } from '../data/preprocess';
import type { Model } from '../nn/model';
import { optimizerDispatches, resolveOptimizer, statsLength, type OptimizerOptions } from '../optim/optimizer';
import { LrScheduler } from '../optim/schedule';
import { BatchRunner } from './batch_runner';
import { MetricsReader } from './metrics';
import { checkLossData, METRICS_FLOATS, resolveLoss, type ResolvedLoss } from './loss';
import { describeLoss } from './step_graph';
import { TrainingState } from './training_state';
import { Evaluator } from './evaluator';
import { transferSetup, type TransferPlan } from './transfer';
import type { TrainerOptions } from './options';

export interface TrainerParts {
  resources: GpuResources;
  model: Model;
  optimizer: Required<OptimizerOptions>;
  options: TrainerOptions & { seed: number; stepsPerSubmit: number };
  loss: ResolvedLoss;
  state: TrainingState;
  trainData: GpuDataset;
  trainRunner: BatchRunner;
  evaluations: { validation?: Evaluator; test?: Evaluator };
  metrics: MetricsReader;
  normalisation: Normalisation;
  transfer: TransferPlan;
  projection?: { fitted: Projection; buffers: ProjectionBuffers };
  /** num_batches_tracked of the starting weights. */
  batchesTracked: number;
}

export async function setUpTrainer(gpu: GpuContext | GpuResources, train: Dataset, test: Dataset | undefined, options: TrainerOptions): Promise<TrainerParts> {
  const resources = gpu instanceof GpuResources ? gpu : new GpuResources(gpu);
  const projectionSpec = options.projection;
  const components = projectionSpec && ('matrix' in projectionSpec ? checkFittedProjection(projectionSpec, sampleSize(train)) : checkProjectionSpec(projectionSpec, sampleSize(train)));
  const pca = projectionSpec && projectionSpec.kind !== 'zca';
  const { model, head, transfer } = transferSetup(options, train, pca ? [components!] : train.sampleShape);
  const optimizer = resolveOptimizer(options.optimizer ?? { lr: 0.1 });
  const seed = options.seed ?? 0;
  const loss = resolveLoss(options.loss);
  if (options.augment?.mixup && !loss.plain) {
    throw new ConfigError(`Mixup blends one-hot class targets and works with plain cross-entropy only; the loss is ${describeLoss(loss)}.`);
  }
  let validation: Dataset | undefined;
  if (options.validation) ({ train, validation } = splitDataset(train, options.validation, seed));
  const batchSize = options.batchSize ?? 128;
  checkBatching(model, train.count, batchSize);
  const stepsPerSubmit = checkStepsPerSubmit(options.stepsPerSubmit);
  new LrScheduler(optimizer.lr, options.schedule, options.warmupSteps ?? 0); // validates before any GPU work
  checkDataAgainstTraining(train, test, loss, model);
  for (const [name, data] of [['train', train], ['validation', validation], ['test', test]] as const) {
    if (data) chunking(resources.device.limits, name, data, options.maxDataBufferBytes); // fits, before any GPU work
  }
  const normalisation = preprocessing(options.preprocessing ?? 'scale', train);
  const steps = Math.ceil(train.count / batchSize);
  let batchesTracked = 0;
  const state = new TrainingState(resources, model, optimizer, (arena, stateArena) => {
    const fresh = { params: model.initialParameters(arena, seed, options.warn), state: model.initialBuffers(stateArena), batchesTracked: 0 };
    if (!options.weights) return fresh;
    const { tensors } = decodeSafetensors(options.weights, 'weights');
    const loaded = readStateDict(tensors, 'weights', model, arena, stateArena, fresh, { ignorePrefixes: ['optimizer.'], skip: head });
    batchesTracked = loaded.batchesTracked;
    return loaded;
  }, steps);

  const projectionBuffers = projectionSpec && state.projectionBuffers(sampleSize(train), components!);
  const shared = { maxChunkBytes: options.maxDataBufferBytes, classWeights: loss.classWeights, projection: projectionBuffers };
  const datasets = {
    train: new GpuDataset(resources, 'train', train, normalisation, { ...shared, augment: options.augment }),
    validation: validation ? new GpuDataset(resources, 'validation', validation, normalisation, shared) : undefined,
    test: test ? new GpuDataset(resources, 'test', test, normalisation, shared) : undefined,
  };
  let projection: Projection | undefined;
  if (projectionSpec) {
    projection = 'matrix' in projectionSpec ? projectionSpec : fitProjection(projectionSpec, await datasetMoments(resources, datasets.train, { autotune: options.autotune }));
    state.writeProjection(projectionBuffers!, projection);
  }
  const bindings = new Map([...state.bindings, ...datasets.train.buffers]);
  const common = { model, loss, layout: state.layout, step: state.step, autotune: options.autotune, tuning: options.tuning, fuseHead: options.fuseHead };
  const update = optimizerDispatches(state.arena, optimizer, state.optimizerBuffers, state.gradNormSplit);
  const evaluator = (data: GpuDataset | undefined) => data && Evaluator.create(resources, data, { ...common, batchSize: options.evalBatchSize ?? 1000 }, state.bindings);
  const [trainRunner, validationEval, testEval] = await Promise.all([
    BatchRunner.create(resources, { ...common, source: datasets.train.source, batchSize, training: true, update, stepTable: state.stepTable, frozen: transfer.frozenParameters(0) }, bindings),
    evaluator(datasets.validation),
    evaluator(datasets.test),
  ]);
  const metrics = new MetricsReader(resources, 3 * METRICS_FLOATS + statsLength(state.arena));
  resources.gpu.check();
  return {
    resources,
    model,
    optimizer,
    options: { ...options, seed, stepsPerSubmit },
    loss,
    state,
    trainData: datasets.train,
    trainRunner,
    evaluations: { validation: validationEval, test: testEval },
    metrics,
    normalisation,
    transfer,
    projection: projection && { fitted: projection, buffers: projectionBuffers! },
    batchesTracked,
  };
}

/** The test data against the training data, and both against the loss and the model's output. */
function checkDataAgainstTraining(train: Dataset, test: Dataset | undefined, loss: ResolvedLoss, model: Model): void {
  for (const [name, data] of [['training', train], ['test', test]] as const) {
    if (!data) continue;
    if (sampleSize(data) !== sampleSize(train) || (data.labels === undefined) !== (train.labels === undefined)) {
      throw new ShapeError(`The ${name} data's samples are [${data.sampleShape.join(', ')}] with ${data.labels ? 'labels' : 'targets'}; the training data's are [${train.sampleShape.join(', ')}] with ${train.labels ? 'labels' : 'targets'}.`);
    }
    if (data.labels && data.numClasses !== train.numClasses && loss.classWeights) {
      throw new ShapeError(`The ${name} data has ${data.numClasses} classes; the training data's ${train.numClasses} (the class weights are per class).`);
    }
    checkLossData(loss, data, model.outputShape, name);
  }
}

/** Training steps per command buffer: a positive integer, or Infinity (the default) for a whole epoch. */
function checkStepsPerSubmit(value: number | undefined): number {
  const steps = value ?? Infinity;
  if (!(steps >= 1) || (Number.isFinite(steps) && !Number.isInteger(steps))) {
    throw new ConfigError(`stepsPerSubmit must be a positive integer (or Infinity for a whole epoch); got ${steps}.`);
  }
  return steps;
}
