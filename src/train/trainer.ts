/**
 * The training loop. Everything is decided once in `Trainer.create`: the model checked against the data,
 * parameters initialised and uploaded, datasets uploaded, plans built, pipelines and bind groups created.
 * An epoch is then two queue writes (the shuffled order and the table of per-step values) and a few
 * command buffers: K steps each (default: the whole epoch), at most two in flight. An epoch's metrics come
 * back asynchronously while the next epoch is already being submitted, so the GPU never waits for the host.
 *
 * The Trainer holds the run and keeps the public API; the work lives beside it: building in
 * src/train/trainer_setup.ts, submitting an epoch in src/train/epoch_submission.ts, its report in
 * src/train/epoch_completion.ts, weights, state dicts and checkpoints in src/train/trainer_checkpoint.ts.
 */
import { ConfigError } from '../errors';
import { encodeCheckpoint } from '../io/checkpoint';
import type { GpuContext } from '../gpu/device';
import type { GpuResources } from '../gpu/resources';
import type { KernelTiming } from '../gpu/profiler';
import { profileSteps } from './profile';
import { Rng } from '../data/rng';
import type { Dataset } from '../data/dataset';
import type { Projection } from '../data/projection';
import type { GpuDataset, Normalisation } from '../data/gpu_dataset';
import { Predictor } from './predictor';
import { baseScale } from '../data/preprocess';
import type { SavedPreprocessing } from '../io/preprocessing_metadata';
import type { Model } from '../nn/model';
import type { OptimizerOptions } from '../optim/optimizer';
import { LrScheduler } from '../optim/schedule';
import type { TuningTable } from '../kernels/matmul_select';
import type { NamedSafetensorsTensor } from '../io/safetensors';
import type { BatchRunner } from './batch_runner';
import { formatPlan } from '../scheduler/plan';
import { totalsOf, type MetricsReader } from './metrics';
import { EarlyStopping } from './early_stopping';
import { evaluationOf, type Evaluation, type EpochReport } from './reports';
import { METRICS_FLOATS, type ResolvedLoss } from './loss';
import { SubmitQueue } from './submit_queue';
import { packStepTable, type TrainingState } from './training_state';
import type { TransferPlan } from './transfer';
import { setUpTrainer, type TrainerParts } from './trainer_setup';
import type { RunCounters } from './run_counters';
import { enterTransferStage, ReportOrder, stepTable, submitEpoch, type EpochPieces, type SubmittedEpoch } from './epoch_submission';
import { EpochCompletion } from './epoch_completion';
import { checkpointMeta, decodeForRestore, resumeFrom, stateDict, stateValues, weightsByName } from './trainer_checkpoint';

export { checkBatching } from './batching';
export type { EpochReport, StepReport } from './reports';
export type { TrainerOptions, FitOptions } from './options';
import type { TrainerOptions, FitOptions } from './options';

export class Trainer {
  /** Epochs, steps, batches tracked and the current learning rate (src/train/run_counters.ts). */
  private readonly counters: RunCounters = { epochsDone: 0, globalStep: 0, batchesTrackedBefore: 0, currentLr: NaN };
  private readonly shuffleRng: Rng;
  private readonly scheduler: LrScheduler;
  private readonly submits: SubmitQueue;
  private predictor?: Predictor;
  private readonly reportOrder = new ReportOrder();
  readonly history: EpochReport[] = [];

  readonly resources: GpuResources;
  readonly model: Model;
  readonly optimizer: Required<OptimizerOptions>;
  private options: TrainerParts['options'];
  /** The loss every runner (training, validation, test) computes. */
  readonly loss: ResolvedLoss;
  readonly state: TrainingState;
  readonly trainData: GpuDataset;
  private trainRunner: BatchRunner;
  private readonly evaluations: TrainerParts['evaluations'];
  private readonly metrics: MetricsReader;
  private readonly normalisation: Normalisation;
  private readonly transfer: TransferPlan;
  private readonly fittedProjection?: TrainerParts['projection'];

  private constructor(parts: TrainerParts) {
    ({ resources: this.resources, model: this.model, optimizer: this.optimizer, options: this.options, loss: this.loss, state: this.state } = parts);
    ({ trainData: this.trainData, trainRunner: this.trainRunner, evaluations: this.evaluations, metrics: this.metrics } = parts);
    ({ normalisation: this.normalisation, transfer: this.transfer, projection: this.fittedProjection } = parts);
    this.counters.batchesTrackedBefore = parts.batchesTracked;
    this.shuffleRng = new Rng(this.options.seed ^ 0x5eed);
    this.scheduler = new LrScheduler(this.optimizer.lr, this.options.schedule, this.options.warmupSteps ?? 0);
    this.submits = new SubmitQueue(this.resources.device);
  }

  /** Checks everything against everything, then uploads, plans and compiles (src/train/trainer_setup.ts). */
  static async create(gpu: GpuContext | GpuResources, train: Dataset, test: Dataset | undefined, options: TrainerOptions): Promise<Trainer> {
    return new Trainer(await setUpTrainer(gpu, train, test, options));
  }

  get device(): GPUDevice {
    return this.resources.device;
  }

  get learningRate(): number {
    return this.counters.currentLr;
  }

  /** Command buffers submitted so far (tests check "K steps per submit" with it). */
  get submitCount(): number {
    return this.submits.submits;
  }

  /** What submitting an epoch uses, read when it starts (the training runner may have been rebuilt). */
  private epochPieces(): EpochPieces {
    const { device, trainData, trainRunner, state, evaluations, metrics, submits, shuffleRng, scheduler, options } = this;
    return { device, trainData, trainRunner, state, evaluations, metrics, submits, shuffleRng, scheduler, options };
  }

  /** Submits one epoch of training and evaluation (src/train/epoch_submission.ts); its accumulators resolve once the GPU has run it. */
  private async submitEpoch(fit: FitOptions, evaluate: boolean): Promise<SubmittedEpoch> {
    const epoch = ++this.counters.epochsDone;
    await enterTransferStage(this.resources, this.transfer, this.state, this.trainRunner, epoch - 1, (rebuilt) => (this.trainRunner = rebuilt));
    return submitEpoch(this.epochPieces(), this.counters, epoch, this.reportOrder.next(), fit, evaluate);
  }

  /** The PCA or whitening fitted on the training split. */
  get projection(): Projection | undefined {
    return this.fittedProjection?.fitted;
  }

  /** The inputs' preprocessing, as a saved model's metadata carries it (src/io/preprocessing_metadata.ts). */
  get preprocessing(): SavedPreprocessing {
    return { normalisation: this.normalisation, base: baseScale(this.trainData.data.x), projection: this.projection };
  }

  /** Top-level layers frozen in the epoch to come (feature extraction, progressive unfreezing). */
  get frozenLayers(): number[] {
    return this.transfer.frozenLayers(this.counters.epochsDone);
  }

  /**
   * Trains up to `epochs` epochs and returns their reports (also kept in `history`). Epoch e+1 is
   * submitted before epoch e's metrics are awaited; reports still arrive in order. Early stopping
   * therefore sees epoch e while e+1 runs: if it stops, e+1's report is kept, and the best weights
   * (from an on-GPU copy taken at the end of each epoch) are restored.
   */
  async fit(fit: FitOptions): Promise<EpochReport[]> {
    if (!Number.isInteger(fit.epochs) || fit.epochs < 0) throw new ConfigError(`epochs must be a non-negative integer; got ${fit.epochs}.`);
    const evaluate = fit.evaluate ?? true;
    if (fit.earlyStopping?.monitor === 'valAccuracy' && this.loss.regression) {
      throw new ConfigError(`Early stopping cannot monitor valAccuracy with the ${this.loss.kind} loss (regression reports MSE and MAE); monitor valLoss.`);
    }
    const stopper = fit.earlyStopping ? new EarlyStopping(fit.earlyStopping, !!this.evaluations.validation) : undefined;
    const { resources, state, loss, evaluations, scheduler, history } = this;
    const completion = new EpochCompletion({ resources, state, loss, evaluations, scheduler, history }, fit, evaluate, stopper);
    let previous: SubmittedEpoch | undefined;
    for (let e = 0; e < fit.epochs && !completion.stop && !fit.shouldStop?.(); e++) {
      const submitted = await this.submitEpoch(fit, evaluate);
      if (previous) await completion.finish(previous);
      previous = submitted;
      if (fit.onCheckpoint && fit.checkpointEvery && submitted.epoch % fit.checkpointEvery === 0) {
        // A checkpoint must hold exactly this epoch's state, so the next epoch waits for it.
        await completion.finish(submitted);
        previous = undefined;
        await fit.onCheckpoint(await this.checkpoint(), submitted.epoch);
      }
    }
    if (previous) await completion.finish(previous);
    if (stopper?.bestEpoch !== undefined && fit.earlyStopping?.restoreBest !== false) this.state.copyParams(this.state.best, this.state.optimizerBuffers.params);
    return completion.reports;
  }

  /**
   * The loss over the test (or validation) set with the current weights, with accuracy (classification;
   * NaN for regression losses) and, for regression losses, MSE and MAE.
   */
  async evaluate(which: 'test' | 'validation' = 'test'): Promise<Evaluation> {
    const evaluation = this.evaluations[which];
    if (!evaluation) throw new ConfigError(`evaluate('${which}') needs a ${which} set (pass it to Trainer.create).`);
    const encoder = this.device.createCommandEncoder();
    evaluation.encode(encoder);
    const read = await this.metrics.snapshot(encoder, [{ buffer: evaluation.metrics, floats: METRICS_FLOATS }]);
    await this.submits.submit(encoder);
    const totals = totalsOf((await read())[0]);
    return evaluationOf(totals, this.loss.regression);
  }

  /**
   * Predictions for new inputs, [count, outputs] row-major: class probabilities (softmax for
   * cross-entropy, per-class sigmoid for bce) or, for regression losses, the model's outputs; computed by
   * the model in evaluation mode (no dropout, batch norm's running statistics) on the GPU, in batches of
   * `evalBatchSize`. `images` holds whole samples as the training data does (bytes, preprocessed on the
   * GPU exactly as in training).
   */
  async predict(images: Uint8Array | Float32Array): Promise<Float32Array> {
    this.predictor ??= this.createPredictor();
    return this.predictor.predict(images);
  }

  private createPredictor(): Predictor {
    return Predictor.create(this.resources, this.model, this.state, this.trainData.data, this.normalisation, this.options.evalBatchSize ?? 1000, this.loss, this.fittedProjection?.buffers);
  }

  /** Adds weight × `predict(images)` to the GPU buffer `into`, reading nothing back (an ensemble's mean). */
  async accumulatePredictions(images: Uint8Array | Float32Array, into: GPUBuffer, weight: number): Promise<void> {
    this.predictor ??= this.createPredictor();
    return this.predictor.accumulate(images, into, weight);
  }

  /** The parameters, by name, in PyTorch layout ([out, in] weights, [out] biases). */
  async weights(): Promise<Map<string, Float32Array>> {
    return weightsByName(this.state);
  }

  /** The model's state dict (parameters, running statistics, counters) as PyTorch names and lays it out. */
  async stateDict(): Promise<NamedSafetensorsTensor[]> {
    return stateDict(this.model, this.state, this.counters);
  }

  /**
   * GPU time of every dispatch of one training step (timestamp queries): per dispatch, the median over
   * `repeats` steps after one warm-up. Each measured step really trains (a step of the current epoch's
   * order), so call it between fits. Throws when the adapter has no timestamp queries.
   */
  async profileStep(repeats = 5): Promise<KernelTiming[]> {
    return profileSteps(this.resources, this.trainRunner.executableFor(0), repeats, () => {
      const [values] = stepTable(this.epochPieces(), this.counters, Math.max(0, this.counters.epochsDone - 1), 1);
      this.state.writeStepTable(packStepTable([{ ...values, batchStart: 0 }]));
      this.counters.globalStep++;
    });
  }

  /**
   * Everything needed to continue this run exactly: the state dict, optimizer state, the shuffling
   * generator, the epoch and step counters and the schedule (see src/io/checkpoint.ts). Call it between
   * fits or from `onCheckpoint`; it waits for the GPU to finish the work submitted so far.
   */
  async checkpoint(): Promise<Uint8Array> {
    const values = await stateValues(this.state, this.counters);
    // Described after the readback, so the counters are those of the state just read.
    const { shuffleRng, model, optimizer, scheduler, tuning, preprocessing } = this;
    return encodeCheckpoint(this.model, this.state, { ...values, meta: checkpointMeta(this.counters, { seed: this.options.seed, shuffleRng, model, optimizer, scheduler, tuning, preprocessing }) });
  }

  /** The matmul variant of every product the trainer's plans run, keyed as src/kernels/matmul_select.ts keys them. */
  get tuning(): TuningTable {
    const runners = [this.trainRunner, this.evaluations.validation?.runner, this.evaluations.test?.runner];
    return Object.assign({}, ...runners.map((r) => r?.tuning ?? {}));
  }

  /**
   * Loads a checkpoint made by `checkpoint()` for the same model; training then continues from it exactly
   * (weights, buffers, optimizer state, counters, schedule, shuffling generator and seed). A refused file
   * leaves this trainer exactly as it was (src/train/trainer_checkpoint.ts decodeForRestore).
   */
  restore(bytes: Uint8Array, fileName = 'checkpoint'): void {
    const data = decodeForRestore(bytes, fileName, this.model, this.state, this.tuning, this.options);
    resumeFrom(data, { shuffleRng: this.shuffleRng, scheduler: this.scheduler, state: this.state, counters: this.counters });
    // The run's seed drives dropout masks, augmentation and mixup on the GPU (with the step), so the
    // checkpoint's seed replaces the one this trainer was created with.
    this.options = { ...this.options, seed: data.meta.seed };
  }

  /** The plan a full training step runs (kernel variants included), as `--print-plan` shows it. */
  formatPlan(): string {
    return formatPlan(this.trainRunner.executableFor(0).plan);
  }

  get epoch(): number {
    return this.counters.epochsDone;
  }

  destroy(): void {
    this.trainRunner.destroy();
    this.trainData.destroy();
    for (const evaluation of [this.evaluations.validation, this.evaluations.test]) evaluation?.destroy();
    this.metrics.destroy();
    this.predictor?.destroy();
    this.state.destroy();
  }
}
