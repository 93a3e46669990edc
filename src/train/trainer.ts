/**
 * The training loop. Everything is decided once in `Trainer.create`: parameters initialised and uploaded
 * to the arena, datasets uploaded, plans built, pipelines and bind groups created. A step is then one
 * queue write (the step uniform) and one command buffer. An epoch's metrics come back asynchronously
 * while the next epoch is already being submitted, so the GPU never waits for the host.
 */
import { ConfigError, DataFormatError, NonFiniteError, ShapeError } from '../errors';
import { decodeCheckpoint, encodeCheckpoint } from '../io/checkpoint';
import type { GpuContext } from '../gpu/device';
import { GpuResources } from '../gpu/resources';
import { readFloats } from '../gpu/readback';
import { TimestampProfiler, type KernelTiming } from '../gpu/profiler';
import { Rng, shuffledIndices } from '../data/rng';
import { splitDataset, type Dataset } from '../data/dataset';
import { GpuDataset } from '../data/gpu_dataset';
import { preprocessing, type Preprocessing } from '../data/preprocess';
import { checkTrainingBatches, initialParameters, isStateSlot, mlpParameters, validateMlp, ParameterArena, type Augmentation, type MlpConfig, type ResolvedMlp } from '../nn/mlp';
import { OPTIM, optimizerDispatches, optimizerHyper, resolveOptimizer, slotTable, statsLength, type OptimizerOptions } from '../optim/optimizer';
import { LrScheduler, type Schedule } from '../optim/schedule';
import { optimizerHyperLayout, stepLayout } from '../kernels/catalog';
import { BatchRunner } from './batch_runner';
import { STATE_BUFFER } from '../scheduler/plan';
import type { AutotuneOptions } from '../kernels/autotune';
import { MetricsReader, totalsOf, type MetricTotals } from './metrics';
import { EarlyStopping, type EarlyStoppingOptions } from './early_stopping';

export interface TrainerOptions {
  model: MlpConfig;
  /** Default: SGD with lr 0.1. */
  optimizer?: OptimizerOptions;
  schedule?: Schedule;
  /** Linear learning-rate warm-up over this many steps. */
  warmupSteps?: number;
  batchSize?: number;
  seed?: number;
  /** How pixels become inputs; statistics come from the training split only. Default 'scale' ([0, 1]). */
  preprocessing?: Preprocessing;
  /** Random shifts, rotations and noise on the training batches, on the GPU. */
  augment?: Augmentation;
  /** Hold out this many training samples (or this fraction, if < 1) as a seeded validation split. */
  validation?: number;
  /** Evaluation batch size (default 1000). */
  evalBatchSize?: number;
  /**
   * Time the matmul variants on this adapter when the plans are built and use the fastest (default true;
   * choices are cached per adapter, see src/kernels/autotune.ts). false keeps the reference kernel, which
   * makes Trainer.create fast on a fresh adapter (tests, the demo's first visit).
   */
  autotune?: boolean | AutotuneOptions;
  warn?: (message: string) => void;
}

export interface EpochReport {
  epoch: number;
  loss: number;
  accuracy: number;
  valLoss?: number;
  valAccuracy?: number;
  testLoss?: number;
  testAccuracy?: number;
  /** Learning rate at the end of the epoch. */
  lr: number;
  /** Mean and largest global gradient norm over the epoch's steps (before clipping). */
  gradNorm: number;
  maxGradNorm: number;
  /** Mean gradient norm of each parameter over the epoch: vanishing or exploding gradients show here. */
  layerGradNorms: Record<string, number>;
  /** Wall time from the previous report (or the start of fit) until the GPU finished this epoch. */
  seconds: number;
  samplesPerSecond: number;
}

export interface StepReport {
  epoch: number;
  /** Steps completed in this epoch. */
  step: number;
  /** Mean loss over the steps since the previous step report. */
  loss: number;
}

export interface FitOptions {
  epochs: number;
  /** Evaluate the validation and test sets after every epoch (default true). */
  evaluate?: boolean;
  onEpoch?: (report: EpochReport) => void;
  /** Read the running loss every N steps (asynchronously) and report it to `onStep`. */
  reportEvery?: number;
  onStep?: (report: StepReport) => void;
  /** Called synchronously after each step is submitted (tests use it to watch resource counts). */
  afterSubmit?: (epoch: number, step: number) => void;
  earlyStopping?: EarlyStoppingOptions;
  /** Checked between epochs: return true to stop (the demo's Stop button). */
  shouldStop?: () => boolean;
  /** Every N epochs, hand a checkpoint (safetensors bytes) to `onCheckpoint`, taken exactly at that epoch's end. */
  checkpointEvery?: number;
  onCheckpoint?: (checkpoint: Uint8Array, epoch: number) => void | Promise<void>;
}

interface SubmittedEpoch {
  epoch: number;
  /** Global step count before this epoch's first step. */
  firstStep: number;
  lr: number;
  snapshot: number;
  values: Promise<Float32Array[]>;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const lossOf = (t: MetricTotals) => t.lossSum / Math.max(1, t.rows);
const accuracyOf = (t: MetricTotals) => t.correct / Math.max(1, t.rows);

interface Evaluation {
  runner: BatchRunner;
  data: GpuDataset;
}

export class Trainer {
  private epochsDone = 0;
  private globalStep = 0;
  private currentLr: number;
  private readonly shuffleRng: Rng;
  private readonly scheduler: LrScheduler;
  readonly history: EpochReport[] = [];

  private constructor(
    readonly resources: GpuResources,
    readonly model: ResolvedMlp,
    readonly arena: ParameterArena,
    readonly optimizer: Required<OptimizerOptions>,
    private options: TrainerOptions & { seed: number },
    private readonly buffers: Record<string, GPUBuffer>,
    readonly trainData: GpuDataset,
    private readonly trainRunner: BatchRunner,
    private readonly evaluations: { validation?: Evaluation; test?: Evaluation },
    private readonly metrics: MetricsReader,
  ) {
    this.shuffleRng = new Rng(options.seed ^ 0x5eed);
    this.scheduler = new LrScheduler(optimizer.lr, options.schedule, options.warmupSteps ?? 0);
    this.currentLr = NaN;
  }

  static async create(gpu: GpuContext | GpuResources, train: Dataset, test: Dataset | undefined, options: TrainerOptions): Promise<Trainer> {
    const resources = gpu instanceof GpuResources ? gpu : new GpuResources(gpu);
    const model = validateMlp(options.model);
    const optimizer = resolveOptimizer(options.optimizer ?? { lr: 0.1 });
    const seed = options.seed ?? 0;
    let validation: Dataset | undefined;
    if (options.validation) ({ train, validation } = splitDataset(train, options.validation, seed));
    const batchSize = options.batchSize ?? 128;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new ConfigError(`The batch size must be a positive integer; got ${batchSize}.`);
    if (batchSize > train.count) throw new ConfigError(`The batch size (${batchSize}) is larger than the training set (${train.count} samples).`);
    checkTrainingBatches(model, train.count, batchSize); // batch norm: no one-row batch, the last partial one included
    new LrScheduler(optimizer.lr, options.schedule, options.warmupSteps ?? 0); // validates before any GPU work
    for (const [name, data] of [['training', train], ['test', test]] as const) {
      if (!data) continue;
      const features = data.rows * data.cols;
      if (features !== model.layers[0]) throw new ShapeError(`The model's input width is ${model.layers[0]} but the ${name} data has ${data.rows}×${data.cols} = ${features} features per sample.`);
      if (data.numClasses !== model.layers[model.layers.length - 1]) {
        throw new ShapeError(`The model's output width is ${model.layers[model.layers.length - 1]} but the ${name} data has ${data.numClasses} classes.`);
      }
    }
    const normalisation = preprocessing(options.preprocessing ?? 'scale', train);

    const arena = new ParameterArena(mlpParameters(model));
    const floats = arena.totalFloats;
    const uniform = GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST;
    const initial = initialParameters(model, arena, seed, options.warn);
    const buffers: Record<string, GPUBuffer> = {
      params: resources.createStorage('params', initial),
      // Running statistics live in the state buffer (written by batch norm, never by the optimizer), laid
      // out like the arena; syncState mirrors them into the arena for weights, checkpoints and snapshots.
      ...(arena.slots.some((s) => isStateSlot(s.name)) ? { [STATE_BUFFER]: resources.createStorage(STATE_BUFFER, initial) } : {}),
      grads: resources.createStorage('grads', new Float32Array(floats)),
      [OPTIM.state1]: resources.createStorage(OPTIM.state1, new Float32Array(floats)),
      [OPTIM.state2]: resources.createStorage(OPTIM.state2, new Float32Array(floats)),
      [OPTIM.slots]: resources.createStorage(OPTIM.slots, slotTable(arena)),
      [OPTIM.norms]: resources.createStorage(OPTIM.norms, new Float32Array(arena.slots.length)),
      [OPTIM.stats]: resources.createStorage(OPTIM.stats, new Float32Array(statsLength(arena))),
      [OPTIM.hyper]: resources.createBuffer(OPTIM.hyper, optimizerHyperLayout.byteSize, uniform),
      step: resources.createBuffer('step', stepLayout.byteSize, uniform),
      // Two end-of-epoch copies of the weights, and the best so far, for early stopping's restore.
      'params.snapshot0': resources.createStorage('params.snapshot0', new Float32Array(floats)),
      'params.snapshot1': resources.createStorage('params.snapshot1', new Float32Array(floats)),
      'params.best': resources.createStorage('params.best', new Float32Array(floats)),
    };

    const datasets = {
      train: new GpuDataset(resources, 'train', train, normalisation, options.augment),
      validation: validation ? new GpuDataset(resources, 'validation', validation, normalisation) : undefined,
      test: test ? new GpuDataset(resources, 'test', test, normalisation) : undefined,
    };
    const externals = { ...buffers, ...datasets.train.buffers, ...datasets.validation?.buffers, ...datasets.test?.buffers };
    const evalRunner = async (data: GpuDataset | undefined): Promise<Evaluation | undefined> =>
      data && {
        data,
        runner: await BatchRunner.create(resources, { model, arena, dataset: data, batchSize: options.evalBatchSize ?? 1000, training: false, externals, autotune: options.autotune }),
      };
    const update = optimizerDispatches(arena, optimizer);
    const [trainRunner, validationEval, testEval] = await Promise.all([
      BatchRunner.create(resources, { model, arena, dataset: datasets.train, batchSize, training: true, update, externals, autotune: options.autotune }),
      evalRunner(datasets.validation),
      evalRunner(datasets.test),
    ]);
    const metrics = new MetricsReader(resources, 12 + statsLength(arena));
    resources.gpu.check();
    return new Trainer(resources, model, arena, optimizer, { ...options, seed }, buffers, datasets.train, trainRunner, { validation: validationEval, test: testEval }, metrics);
  }

  get device(): GPUDevice {
    return this.resources.device;
  }

  get learningRate(): number {
    return this.currentLr;
  }

  /** Rewrites the optimizer's uniform when the schedule's rate changes (a 36-byte queue write). */
  private applyLearningRate(epoch: number): void {
    const lr = this.scheduler.lr(epoch, this.globalStep);
    if (lr === this.currentLr) return;
    this.device.queue.writeBuffer(this.buffers[OPTIM.hyper], 0, optimizerHyper(this.optimizer, lr));
    this.currentLr = lr;
  }

  /** Copies the running statistics from the state buffer into their arena slots (a few small copies). */
  private syncState(encoder: GPUCommandEncoder): void {
    const state = this.buffers[STATE_BUFFER];
    if (!state) return;
    for (const slot of this.arena.slots) {
      if (isStateSlot(slot.name)) encoder.copyBufferToBuffer(state, slot.offset * 4, this.buffers.params, slot.offset * 4, slot.size * 4);
    }
  }

  /** Writes the step uniform and records batch `index`, first zeroing the `clear` accumulators. */
  private encodeBatch(runner: BatchRunner, index: number, clear: GPUBuffer[]): GPUCommandEncoder {
    this.device.queue.writeBuffer(this.buffers.step, 0, runner.stepUniform(index, this.globalStep, this.options.seed));
    const encoder = this.device.createCommandEncoder();
    clear.forEach((buffer) => encoder.clearBuffer(buffer));
    runner.encode(encoder, index);
    return encoder;
  }

  private submitEvaluation({ runner, data }: Evaluation): void {
    for (let s = 0; s < runner.steps; s++) {
      this.device.queue.submit([this.encodeBatch(runner, s, s === 0 ? [data.metrics] : []).finish()]);
    }
  }

  /** Submits one epoch of training and evaluation; its accumulators resolve once the GPU has run it. */
  private async submitEpoch(fit: FitOptions, evaluate: boolean): Promise<SubmittedEpoch> {
    const epoch = ++this.epochsDone;
    const firstStep = this.globalStep;
    this.trainData.setOrder(shuffledIndices(this.trainData.data.count, this.shuffleRng));
    const steps = this.trainRunner.steps;
    let lastReported = { lossSum: 0, rows: 0 };
    for (let s = 0; s < steps; s++) {
      this.applyLearningRate(epoch - 1);
      const clear = s === 0 ? [this.trainData.metrics, this.buffers[OPTIM.stats]] : [];
      const encoder = this.encodeBatch(this.trainRunner, s, clear);
      this.globalStep++;
      if (fit.reportEvery && ((s + 1) % fit.reportEvery === 0 || s === steps - 1)) {
        const read = await this.metrics.snapshot(encoder, [{ buffer: this.trainData.metrics, floats: 4 }]);
        this.device.queue.submit([encoder.finish()]);
        const step = s + 1;
        void read().then(([values]) => {
          const totals = totalsOf(values);
          fit.onStep?.({ epoch, step, loss: (totals.lossSum - lastReported.lossSum) / (totals.rows - lastReported.rows) });
          lastReported = totals;
        });
      } else {
        this.device.queue.submit([encoder.finish()]);
      }
      fit.afterSubmit?.(epoch, s + 1);
    }
    const sources = [
      { buffer: this.trainData.metrics, floats: 4 },
      { buffer: this.buffers[OPTIM.stats], floats: statsLength(this.arena) },
    ];
    for (const evaluation of [this.evaluations.validation, this.evaluations.test]) {
      if (!evaluate || !evaluation) continue;
      this.submitEvaluation(evaluation);
      sources.push({ buffer: evaluation.data.metrics, floats: 4 });
    }
    const encoder = this.device.createCommandEncoder();
    const snapshot = epoch % 2;
    this.syncState(encoder);
    encoder.copyBufferToBuffer(this.buffers.params, 0, this.buffers[`params.snapshot${snapshot}`], 0, this.arena.totalFloats * 4);
    const read = await this.metrics.snapshot(encoder, sources);
    this.device.queue.submit([encoder.finish()]);
    return { epoch, firstStep, lr: this.currentLr, snapshot, values: read() };
  }

  private report(submitted: SubmittedEpoch, values: Float32Array[], evaluate: boolean, seconds: number): EpochReport {
    const [trainValues, stats, ...evals] = values;
    const train = totalsOf(trainValues);
    const slots = this.arena.slots.length;
    const steps = Math.max(1, stats[slots + 1]);
    const firstBadStep = stats[slots + 2];
    if (train.nonFinite || firstBadStep > 0) {
      const step = firstBadStep > 0 ? firstBadStep - submitted.firstStep : undefined;
      throw new NonFiniteError(
        `Training diverged: the ${firstBadStep > 0 ? 'gradients' : 'loss'} became NaN or Inf in epoch ${submitted.epoch}` +
          `${step ? `, step ${step}` : ''}. Likely causes: a learning rate too high (now ${submitted.lr}), no gradient clipping ` +
          `(try clipNorm: 1), or bad input data (unnormalised or NaN values).`,
        submitted.epoch,
        step ?? 0,
      );
    }
    const report: EpochReport = {
      epoch: submitted.epoch,
      loss: lossOf(train),
      accuracy: accuracyOf(train),
      lr: submitted.lr,
      gradNorm: stats[slots] / steps,
      maxGradNorm: stats[slots + 3],
      layerGradNorms: Object.fromEntries(this.arena.slots.map((slot, i) => [slot.name, stats[i] / steps])),
      seconds,
      samplesPerSecond: train.rows / seconds,
    };
    let e = 0;
    if (evaluate && this.evaluations.validation) {
      const t = totalsOf(evals[e++]);
      report.valLoss = lossOf(t);
      report.valAccuracy = accuracyOf(t);
    }
    if (evaluate && this.evaluations.test) {
      const t = totalsOf(evals[e++]);
      report.testLoss = lossOf(t);
      report.testAccuracy = accuracyOf(t);
    }
    return report;
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
    const stopper = fit.earlyStopping ? new EarlyStopping(fit.earlyStopping, !!this.evaluations.validation) : undefined;
    const reports: EpochReport[] = [];
    let last = performance.now();
    let stop = false;
    const finish = async (submitted: SubmittedEpoch) => {
      const values = await submitted.values;
      const now = performance.now();
      const report = this.report(submitted, values, evaluate, (now - last) / 1000);
      last = now;
      reports.push(report);
      this.history.push(report);
      if (report.valLoss !== undefined) this.scheduler.observe(report.valLoss);
      if (stopper) {
        const verdict = stopper.observe(report);
        if (verdict.improved) {
          const encoder = this.device.createCommandEncoder();
          encoder.copyBufferToBuffer(this.buffers[`params.snapshot${submitted.snapshot}`], 0, this.buffers['params.best'], 0, this.arena.totalFloats * 4);
          this.device.queue.submit([encoder.finish()]);
        }
        stop ||= verdict.stop;
      }
      fit.onEpoch?.(report);
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
    if (stopper?.bestEpoch !== undefined && fit.earlyStopping?.restoreBest !== false) {
      const encoder = this.device.createCommandEncoder();
      encoder.copyBufferToBuffer(this.buffers['params.best'], 0, this.buffers.params, 0, this.arena.totalFloats * 4);
      if (this.buffers[STATE_BUFFER]) encoder.copyBufferToBuffer(this.buffers['params.best'], 0, this.buffers[STATE_BUFFER], 0, this.arena.totalFloats * 4);
      this.device.queue.submit([encoder.finish()]);
    }
    return reports;
  }

  /** Loss and accuracy over the test (or validation) set with the current weights. */
  async evaluate(which: 'test' | 'validation' = 'test'): Promise<{ loss: number; accuracy: number }> {
    const evaluation = this.evaluations[which];
    if (!evaluation) throw new ConfigError(`evaluate('${which}') needs a ${which} set (pass it to Trainer.create).`);
    this.submitEvaluation(evaluation);
    const encoder = this.device.createCommandEncoder();
    const read = await this.metrics.snapshot(encoder, [{ buffer: evaluation.data.metrics, floats: 4 }]);
    this.device.queue.submit([encoder.finish()]);
    const totals = totalsOf((await read())[0]);
    return { loss: lossOf(totals), accuracy: accuracyOf(totals) };
  }

  /** The parameters, by name, in PyTorch layout ([out, in] weights, [out] biases). */
  async weights(): Promise<Map<string, Float32Array>> {
    const all = await readFloats(this.resources, this.buffers.params);
    return new Map(this.arena.slots.map((slot) => [slot.name, all.slice(slot.offset, slot.offset + slot.size)]));
  }

  /**
   * GPU time of every dispatch of one training step (timestamp queries): per dispatch, the median over
   * `repeats` steps after one warm-up (a median, because SwiftShader shares the CPU with everything else).
   * Each measured step really trains (it is a step of the current epoch's order), so call it between fits.
   * Throws when the adapter has no timestamp queries.
   */
  async profileStep(repeats = 5): Promise<KernelTiming[]> {
    const executable = this.trainRunner.executableFor(0);
    const plan = executable.plan;
    const profiler = new TimestampProfiler(this.resources, executable.dispatchCount);
    try {
      const samples: number[][] = [];
      for (let r = 0; r <= repeats; r++) {
        this.device.queue.writeBuffer(this.buffers.step, 0, this.trainRunner.stepUniform(0, this.globalStep++, this.options.seed));
        const encoder = this.device.createCommandEncoder();
        executable.encodeSeparately(encoder, (i) => profiler.pass(i));
        const times = await profiler.read(encoder, executable.dispatchCount);
        if (r > 0) samples.push(times);
      }
      const encoder = this.device.createCommandEncoder();
      this.syncState(encoder);
      this.device.queue.submit([encoder.finish()]);
      return plan.dispatches.map((d, i) => ({ label: d.label, kernel: d.kernel, milliseconds: median(samples.map((s) => s[i])) }));
    } finally {
      profiler.destroy();
    }
  }

  /**
   * Everything needed to continue this run exactly: weights, optimizer state, the shuffling generator,
   * the epoch and step counters and the schedule (see src/io/checkpoint.ts). Call it between fits or from
   * `onCheckpoint`; it waits for the GPU to finish the work submitted so far.
   */
  async checkpoint(): Promise<Uint8Array> {
    const [params, state1, state2] = await Promise.all(
      ['params', OPTIM.state1, OPTIM.state2].map((name) => readFloats(this.resources, this.buffers[name])),
    );
    return encodeCheckpoint(this.arena, {
      params,
      state1,
      state2,
      meta: {
        epoch: this.epochsDone,
        step: this.globalStep,
        seed: this.options.seed,
        shuffleRng: JSON.stringify(this.shuffleRng.state()),
        model: JSON.stringify(this.model),
        optimizer: JSON.stringify(this.optimizer),
        scheduler: JSON.stringify(this.scheduler.state()),
      },
    });
  }

  /**
   * Loads a checkpoint made by `checkpoint()` for the same model; training then continues from it exactly
   * (weights, optimizer state, counters, schedule, shuffling generator and seed).
   */
  restore(bytes: Uint8Array, fileName = 'checkpoint'): void {
    const data = decodeCheckpoint(bytes, fileName, this.arena);
    const queue = this.device.queue;
    queue.writeBuffer(this.buffers.params, 0, data.params as Float32Array<ArrayBuffer>);
    if (this.buffers[STATE_BUFFER]) queue.writeBuffer(this.buffers[STATE_BUFFER], 0, data.params as Float32Array<ArrayBuffer>);
    queue.writeBuffer(this.buffers[OPTIM.state1], 0, data.state1 as Float32Array<ArrayBuffer>);
    queue.writeBuffer(this.buffers[OPTIM.state2], 0, data.state2 as Float32Array<ArrayBuffer>);
    this.epochsDone = data.meta.epoch;
    this.globalStep = data.meta.step;
    // The run's seed drives dropout masks, augmentation and mixup on the GPU (with the step), so the
    // checkpoint's seed replaces the one this trainer was created with.
    this.options = { ...this.options, seed: data.meta.seed };
    this.currentLr = NaN;
    try {
      this.shuffleRng.setState(JSON.parse(data.meta.shuffleRng));
      this.scheduler.setState(JSON.parse(data.meta.scheduler));
    } catch (error) {
      throw new DataFormatError(`${fileName}: the generator or schedule state in the metadata is unreadable (${(error as Error).message}).`);
    }
  }

  get epoch(): number {
    return this.epochsDone;
  }

  destroy(): void {
    this.trainRunner.destroy();
    this.trainData.destroy();
    for (const evaluation of [this.evaluations.validation, this.evaluations.test]) {
      evaluation?.runner.destroy();
      evaluation?.data.destroy();
    }
    this.metrics.destroy();
    for (const buffer of Object.values(this.buffers)) this.resources.destroyBuffer(buffer);
  }
}
