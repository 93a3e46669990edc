/**
 * The training loop. Everything is decided once in `Trainer.create`: the model checked against the data,
 * parameters initialised and uploaded, datasets uploaded, plans built, pipelines and bind groups created.
 * An epoch is then two queue writes (the shuffled order and the table of per-step values) and a few
 * command buffers: K steps each (default: the whole epoch), at most two in flight. An epoch's metrics come
 * back asynchronously while the next epoch is already being submitted, so the GPU never waits for the host.
 */
import { ConfigError } from '../errors';
import { decodeCheckpoint, encodeCheckpoint } from '../io/checkpoint';
import { stateDictTensors, type StateValues } from '../io/state_dict';
import type { GpuContext } from '../gpu/device';
import type { GpuResources } from '../gpu/resources';
import type { KernelTiming } from '../gpu/profiler';
import { profileSteps } from './profile';
import { Rng, shuffledIndices } from '../data/rng';
import type { Dataset } from '../data/dataset';
import type { Projection } from '../data/projection';
import type { GpuDataset, Normalisation } from '../data/gpu_dataset';
import { Predictor } from './predictor';
import { mixupLambda } from '../data/mixup';
import { baseScale } from '../data/preprocess';
import { preprocessingMetadata, type SavedPreprocessing } from '../io/preprocessing_metadata';
import type { Model } from '../nn/model';
import { statsLength, type OptimizerOptions } from '../optim/optimizer';
import { LrScheduler } from '../optim/schedule';
import type { TuningTable } from '../kernels/matmul_select';
import type { NamedSafetensorsTensor } from '../io/safetensors';
import type { BatchRunner } from './batch_runner';
import { formatPlan } from '../scheduler/plan';
import { MetricsReader, totalsOf } from './metrics';
import { EarlyStopping } from './early_stopping';
import { epochReport, evaluationOf, type Evaluation, type EpochReport } from './reports';
import { METRICS_FLOATS, type ResolvedLoss } from './loss';
import { SubmitQueue } from './submit_queue';
import { packStepTable, type TrainingState, type StepValues } from './training_state';
import type { TransferPlan } from './transfer';
import { setUpTrainer, type TrainerParts } from './trainer_setup';

export { checkBatching } from './batching';
export type { EpochReport, StepReport } from './reports';
export type { TrainerOptions, FitOptions } from './options';
import type { TrainerOptions, FitOptions } from './options';

interface SubmittedEpoch {
  epoch: number;
  firstStep: number;
  lr: number;
  snapshot: 0 | 1;
  values: Promise<Float32Array[]>;
  /** Settles once every onStep report of this epoch has been delivered. */
  stepsDelivered: Promise<unknown>;
  /** Call once this epoch's onEpoch has run: the next epoch's step reports wait for it. */
  reported: () => void;
}


export class Trainer {
  private epochsDone = 0;
  private globalStep = 0;
  /** num_batches_tracked of the starting weights; the run's steps add to it. */
  private batchesTrackedBefore = 0;
  private currentLr = NaN;
  private readonly shuffleRng: Rng;
  private readonly scheduler: LrScheduler;
  private readonly submits: SubmitQueue;
  private predictor?: Predictor;
  /** Resolves when the last submitted epoch's report has been delivered (step reports of the next wait for it). */
  private previousReported: Promise<void> = Promise.resolve();
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
    this.batchesTrackedBefore = parts.batchesTracked;
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
    return this.currentLr;
  }

  /** Command buffers submitted so far (tests check "K steps per submit" with it). */
  get submitCount(): number {
    return this.submits.submits;
  }

  /** The per-step values of the epoch that starts now (learning rates from the schedule, mixup λs). */
  private stepTable(epoch: number, steps: number): StepValues[] {
    const mixup = this.trainData.source.augment?.mixup ?? 0;
    const seed = this.options.seed;
    return Array.from({ length: steps }, (_, s) => {
      const step = this.globalStep + s;
      return { step, batchStart: s * this.trainRunner.batchSize, seed, mixLambda: mixupLambda(mixup, seed, step), lr: this.scheduler.lr(epoch, step) };
    });
  }

  /** Submits one epoch of training and evaluation; its accumulators resolve once the GPU has run it. */
  private async submitEpoch(fit: FitOptions, evaluate: boolean): Promise<SubmittedEpoch> {
    const epoch = ++this.epochsDone;
    await this.enterTransferStage(epoch - 1);
    const firstStep = this.globalStep;
    const steps = this.trainRunner.steps;
    const table = this.stepTable(epoch - 1, steps);
    this.trainData.setOrder(shuffledIndices(this.trainData.data.count, this.shuffleRng));
    this.state.writeStepTable(packStepTable(table));
    this.currentLr = table[steps - 1].lr;
    const chunk = Math.min(steps, this.options.stepsPerSubmit ?? Infinity, fit.reportEvery ?? Infinity);
    let lastReported = { lossSum: 0, lossWeight: 0 };
    // Reports arrive in order: this epoch's steps after the previous epoch's report, before its own.
    const gate = this.previousReported;
    let reported!: () => void;
    this.previousReported = new Promise<void>((resolve) => (reported = resolve));
    let stepsDelivered: Promise<unknown> = gate;
    for (let start = 0; start < steps; start += chunk) {
      const end = Math.min(steps, start + chunk);
      const encoder = this.device.createCommandEncoder();
      if (start === 0) {
        encoder.clearBuffer(this.trainData.metrics);
        encoder.clearBuffer(this.state.buffer(this.state.optimizerBuffers.stats));
      }
      for (let s = start; s < end; s++) this.trainRunner.encode(encoder, s);
      this.globalStep += end - start;
      const reportNow = fit.reportEvery && (end % fit.reportEvery === 0 || end === steps);
      const read = reportNow ? await this.metrics.snapshot(encoder, [{ buffer: this.trainData.metrics, floats: METRICS_FLOATS }]) : undefined;
      await this.submits.submit(encoder);
      if (read) {
        const values = read();
        stepsDelivered = stepsDelivered.then(async () => {
          const totals = totalsOf((await values)[0]);
          fit.onStep?.({ epoch, step: end, loss: (totals.lossSum - lastReported.lossSum) / (totals.lossWeight - lastReported.lossWeight) });
          lastReported = totals;
        });
      }
      fit.afterSubmit?.(epoch, end);
    }
    const sources = [
      { buffer: this.trainData.metrics, floats: METRICS_FLOATS },
      { buffer: this.state.buffer(this.state.optimizerBuffers.stats), floats: statsLength(this.state.arena) },
    ];
    const encoder = this.device.createCommandEncoder();
    for (const evaluation of [this.evaluations.validation, this.evaluations.test]) {
      if (!evaluate || !evaluation) continue;
      evaluation.encode(encoder);
      sources.push({ buffer: evaluation.metrics, floats: METRICS_FLOATS });
    }
    const snapshot = (epoch % 2) as 0 | 1;
    encoder.copyBufferToBuffer(this.state.params, 0, this.state.buffer(this.state.snapshots[snapshot]), 0, this.state.arena.totalFloats * 4);
    const read = await this.metrics.snapshot(encoder, sources);
    await this.submits.submit(encoder);
    return { epoch, firstStep, lr: this.currentLr, snapshot, values: read(), stepsDelivered, reported };
  }

  /**
   * Frozen layers and learning-rate multipliers for the epoch about to run (src/train/transfer.ts): the
   * optimizer's slot rows, and, when progressive unfreezing thaws a layer, a training plan that computes
   * its gradients. The old plan's buffers go once the work already submitted with them is done.
   */
  private async enterTransferStage(epoch: number): Promise<void> {
    if (!this.transfer.active) return;
    this.state.writeSlotUpdates(this.transfer.slotUpdates(this.state.arena, epoch, this.trainRunner.steps));
    const frozen = this.transfer.frozenParameters(epoch);
    const current = this.trainRunner.setup.frozen ?? new Set();
    if (frozen.size === current.size && [...frozen].every((name) => current.has(name))) return;
    const previous = this.trainRunner;
    this.trainRunner = await previous.rebuilt(this.resources, { frozen });
    await this.device.queue.onSubmittedWorkDone();
    previous.destroy();
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
    return this.transfer.frozenLayers(this.epochsDone);
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
    const reports: EpochReport[] = [];
    let last = performance.now();
    let stop = false;
    const finish = async (submitted: SubmittedEpoch) => {
      const [train, stats, ...evals] = await submitted.values;
      await submitted.stepsDelivered;
      const now = performance.now();
      let e = 0;
      const validation = evaluate && this.evaluations.validation ? evals[e++] : undefined;
      const test = evaluate && this.evaluations.test ? evals[e++] : undefined;
      const report = epochReport({ epoch: submitted.epoch, firstStep: submitted.firstStep, lr: submitted.lr, train, stats, validation, test, regression: this.loss.regression }, this.state.arena, (now - last) / 1000);
      last = now;
      reports.push(report);
      this.history.push(report);
      if (report.valLoss !== undefined) this.scheduler.observe(report.valLoss);
      if (stopper) {
        const verdict = stopper.observe(report);
        if (verdict.improved) this.copyParams(this.state.snapshots[submitted.snapshot], this.state.best);
        stop ||= verdict.stop;
      }
      fit.onEpoch?.(report);
      submitted.reported();
      this.resources.gpu.check();
    };
    let previous: SubmittedEpoch | undefined;
    for (let e = 0; e < fit.epochs && !stop && !fit.shouldStop?.(); e++) {
      const submitted = await this.submitEpoch(fit, evaluate);
      if (previous) await finish(previous);
      previous = submitted;
      if (fit.onCheckpoint && fit.checkpointEvery && submitted.epoch % fit.checkpointEvery === 0) {
        // A checkpoint must hold exactly this epoch's state, so the next epoch waits for it.
        await finish(submitted);
        previous = undefined;
        await fit.onCheckpoint(await this.checkpoint(), submitted.epoch);
      }
    }
    if (previous) await finish(previous);
    if (stopper?.bestEpoch !== undefined && fit.earlyStopping?.restoreBest !== false) this.copyParams(this.state.best, this.state.optimizerBuffers.params);
    return reports;
  }

  private copyParams(from: Parameters<TrainingState['buffer']>[0], to: Parameters<TrainingState['buffer']>[0]): void {
    const encoder = this.device.createCommandEncoder();
    encoder.copyBufferToBuffer(this.state.buffer(from), 0, this.state.buffer(to), 0, this.state.arena.totalFloats * 4);
    this.device.queue.submit([encoder.finish()]);
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
    const { params } = await this.state.read();
    return new Map(this.state.arena.slots.map((slot) => [slot.name, params.slice(slot.offset, slot.offset + slot.size)]));
  }

  private async stateValues(): Promise<StateValues & { state1: Float32Array; state2: Float32Array }> {
    const values = await this.state.read();
    return { ...values, batchesTracked: this.batchesTrackedBefore + this.globalStep };
  }

  /** The model's state dict (parameters, running statistics, counters) as PyTorch names and lays it out. */
  async stateDict(): Promise<NamedSafetensorsTensor[]> {
    return stateDictTensors(this.model, this.state.arena, this.state.stateArena, await this.stateValues());
  }

  /**
   * GPU time of every dispatch of one training step (timestamp queries): per dispatch, the median over
   * `repeats` steps after one warm-up. Each measured step really trains (a step of the current epoch's
   * order), so call it between fits. Throws when the adapter has no timestamp queries.
   */
  async profileStep(repeats = 5): Promise<KernelTiming[]> {
    return profileSteps(this.resources, this.trainRunner.executableFor(0), repeats, () => {
      const [values] = this.stepTable(Math.max(0, this.epochsDone - 1), 1);
      this.state.writeStepTable(packStepTable([{ ...values, batchStart: 0 }]));
      this.globalStep++;
    });
  }

  /**
   * Everything needed to continue this run exactly: the state dict, optimizer state, the shuffling
   * generator, the epoch and step counters and the schedule (see src/io/checkpoint.ts). Call it between
   * fits or from `onCheckpoint`; it waits for the GPU to finish the work submitted so far.
   */
  async checkpoint(): Promise<Uint8Array> {
    const values = await this.stateValues();
    return encodeCheckpoint(this.model, this.state, {
      ...values,
      meta: {
        epoch: this.epochsDone,
        step: this.globalStep,
        seed: this.options.seed,
        shuffleRng: JSON.stringify(this.shuffleRng.state()),
        model: JSON.stringify(this.model.spec),
        optimizer: JSON.stringify(this.optimizer),
        scheduler: JSON.stringify(this.scheduler.state()),
        tuning: this.tuning,
        preprocessing: preprocessingMetadata(this.preprocessing),
      },
    });
  }

  /** The matmul variant of every product the trainer's plans run, keyed as src/kernels/matmul_select.ts keys them. */
  get tuning(): TuningTable {
    const runners = [this.trainRunner, this.evaluations.validation?.runner, this.evaluations.test?.runner];
    return Object.assign({}, ...runners.map((r) => r?.tuning ?? {}));
  }

  /**
   * Loads a checkpoint made by `checkpoint()` for the same model; training then continues from it exactly
   * (weights, buffers, optimizer state, counters, schedule, shuffling generator and seed).
   */
  restore(bytes: Uint8Array, fileName = 'checkpoint'): void {
    // decodeCheckpoint checks the whole file (tensors, counters, generator and schedule state) first, so a
    // refused file leaves this trainer exactly as it was.
    const blank = { params: new Float32Array(this.state.arena.totalFloats), state: new Float32Array(this.state.stateArena.totalFloats), batchesTracked: 0 };
    const data = decodeCheckpoint(bytes, fileName, this.model, this.state, blank);
    const differs = Object.entries(data.meta.tuning ?? {}).filter(([key, id]) => key in this.tuning && this.tuning[key] !== id);
    if (differs.length) {
      this.options.warn?.(
        `${fileName} was trained with other matmul kernels for ${differs.length} product(s) than this trainer planned; ` +
          'the run continues, but not bitwise. Create the trainer with { tuning: <the checkpoint\'s table> } to resume exactly (the CLI does).',
      );
    }
    this.shuffleRng.setState(data.shuffleRngState);
    this.scheduler.setState(data.schedulerState);
    this.state.write(data);
    this.epochsDone = data.meta.epoch;
    this.globalStep = data.meta.step;
    this.batchesTrackedBefore = data.batchesTracked - data.meta.step;
    // The run's seed drives dropout masks, augmentation and mixup on the GPU (with the step), so the
    // checkpoint's seed replaces the one this trainer was created with.
    this.options = { ...this.options, seed: data.meta.seed };
    this.currentLr = NaN;
  }

  /** The plan a full training step runs (kernel variants included), as `--print-plan` shows it. */
  formatPlan(): string {
    return formatPlan(this.trainRunner.executableFor(0).plan);
  }

  get epoch(): number {
    return this.epochsDone;
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
