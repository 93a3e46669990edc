/**
 * The training loop. Everything is decided once in `Trainer.create`: parameters initialised and uploaded
 * to the arena, datasets uploaded, plans built, pipelines and bind groups created. A step is then one
 * queue write (the step uniform) and one command buffer; an epoch's metrics come back asynchronously
 * while the next epoch is already being submitted.
 */
import { ConfigError, NonFiniteError } from '../errors';
import type { GpuContext } from '../gpu/device';
import { GpuResources } from '../gpu/resources';
import { readFloats } from '../gpu/readback';
import { Rng, shuffledIndices } from '../data/rng';
import type { Dataset } from '../data/dataset';
import { GpuDataset, type Normalisation } from '../data/gpu_dataset';
import { initialParameters, mlpParameters, validateMlp, ParameterArena, type MlpConfig, type ResolvedMlp } from '../nn/mlp';
import { OPTIM_HYPER, OPTIM_STATE, sgdDispatch, sgdHyper, type SgdOptions } from '../optim/sgd';
import { stepLayout, sgdHyperLayout } from '../kernels/catalog';
import { BatchRunner } from './batch_runner';
import { MetricsReader, type MetricTotals } from './metrics';

export interface TrainerOptions {
  model: MlpConfig;
  optimizer?: SgdOptions;
  batchSize?: number;
  seed?: number;
  normalisation?: Normalisation;
  /** Evaluation batch size (default 1000). */
  evalBatchSize?: number;
  warn?: (message: string) => void;
}

export interface EpochReport {
  epoch: number;
  loss: number;
  accuracy: number;
  testLoss?: number;
  testAccuracy?: number;
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
  /** Evaluate on the test set after every epoch (default true when a test set was given). */
  evaluate?: boolean;
  onEpoch?: (report: EpochReport) => void;
  /** Read the running loss every N steps (asynchronously) and report it here. */
  reportEvery?: number;
  onStep?: (report: StepReport) => void;
  /** Called synchronously after each step is submitted (tests use it to watch resource counts). */
  afterSubmit?: (epoch: number, step: number) => void;
}

interface SubmittedEpoch {
  epoch: number;
  totals: Promise<MetricTotals[]>;
}

const lossOf = (t: MetricTotals) => t.lossSum / Math.max(1, t.rows);
const accuracyOf = (t: MetricTotals) => t.correct / Math.max(1, t.rows);

export class Trainer {
  private epochsDone = 0;
  private globalStep = 0;
  private readonly shuffleRng: Rng;

  private constructor(
    readonly resources: GpuResources,
    readonly model: ResolvedMlp,
    readonly arena: ParameterArena,
    private readonly options: TrainerOptions & { seed: number; optimizer: SgdOptions },
    private readonly buffers: Record<string, GPUBuffer>,
    readonly trainData: GpuDataset,
    private readonly test: GpuDataset | undefined,
    private readonly trainRunner: BatchRunner,
    private readonly testRunner: BatchRunner | undefined,
    private readonly metrics: MetricsReader,
  ) {
    this.shuffleRng = new Rng(options.seed ^ 0x5eed);
  }

  static async create(gpu: GpuContext | GpuResources, train: Dataset, test: Dataset | undefined, options: TrainerOptions): Promise<Trainer> {
    const resources = gpu instanceof GpuResources ? gpu : new GpuResources(gpu);
    const model = validateMlp(options.model);
    const batchSize = options.batchSize ?? 128;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new ConfigError(`The batch size must be a positive integer; got ${batchSize}.`);
    if (batchSize > train.count) throw new ConfigError(`The batch size (${batchSize}) is larger than the training set (${train.count} samples).`);
    const optimizer = options.optimizer ?? { lr: 0.1 };
    const hyper = sgdHyper(optimizer);
    const seed = options.seed ?? 0;
    const arena = new ParameterArena(mlpParameters(model));

    const buffers: Record<string, GPUBuffer> = {
      params: resources.createStorage('params', initialParameters(model, arena, seed, options.warn)),
      grads: resources.createStorage('grads', new Float32Array(arena.totalFloats)),
      [OPTIM_STATE]: resources.createStorage(OPTIM_STATE, new Float32Array(arena.totalFloats)),
      [OPTIM_HYPER]: resources.createBuffer(OPTIM_HYPER, sgdHyperLayout.byteSize, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST),
      step: resources.createBuffer('step', stepLayout.byteSize, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST),
    };
    resources.device.queue.writeBuffer(buffers[OPTIM_HYPER], 0, hyper);

    const trainData = new GpuDataset(resources, 'train', train, options.normalisation);
    const testData = test ? new GpuDataset(resources, 'test', test, options.normalisation) : undefined;
    const externals = { ...buffers, ...trainData.buffers, ...testData?.buffers };
    const [trainRunner, testRunner] = await Promise.all([
      BatchRunner.create(resources, { model, arena, dataset: trainData, batchSize, training: true, update: [sgdDispatch(arena)], externals }),
      testData
        ? BatchRunner.create(resources, { model, arena, dataset: testData, batchSize: options.evalBatchSize ?? 1000, training: false, externals })
        : undefined,
    ]);
    const metrics = new MetricsReader(resources, 2);
    resources.gpu.check();
    return new Trainer(resources, model, arena, { ...options, seed, optimizer }, buffers, trainData, testData, trainRunner, testRunner, metrics);
  }

  get device(): GPUDevice {
    return this.resources.device;
  }

  /** Changes the learning rate from the next submitted step on (one 16-byte queue write). */
  setLearningRate(lr: number): void {
    this.device.queue.writeBuffer(this.buffers[OPTIM_HYPER], 0, sgdHyper(this.options.optimizer, lr));
  }

  /** Writes the step uniform and records batch `index`, first zeroing the `clear` accumulators. */
  private submitBatch(runner: BatchRunner, index: number, clear: GPUBuffer[]): GPUCommandEncoder {
    this.device.queue.writeBuffer(this.buffers.step, 0, runner.stepUniform(index, this.globalStep, this.options.seed));
    const encoder = this.device.createCommandEncoder();
    clear.forEach((buffer) => encoder.clearBuffer(buffer));
    runner.encode(encoder, index);
    return encoder;
  }

  /** Submits one epoch of training (and evaluation); its totals resolve once the GPU has run it. */
  private async submitEpoch(fit: FitOptions, evaluate: boolean): Promise<SubmittedEpoch> {
    const epoch = ++this.epochsDone;
    this.trainData.setOrder(shuffledIndices(this.trainData.data.count, this.shuffleRng));
    const steps = this.trainRunner.steps;
    let lastReported = { lossSum: 0, rows: 0 };
    for (let s = 0; s < steps; s++) {
      const encoder = this.submitBatch(this.trainRunner, s, s === 0 ? [this.trainData.metrics] : []);
      this.globalStep++;
      if (fit.reportEvery && ((s + 1) % fit.reportEvery === 0 || s === steps - 1)) {
        const read = await this.metrics.snapshot(encoder, [this.trainData.metrics]);
        this.device.queue.submit([encoder.finish()]);
        const step = s + 1;
        void read().then(([totals]) => {
          fit.onStep?.({ epoch, step, loss: (totals.lossSum - lastReported.lossSum) / (totals.rows - lastReported.rows) });
          lastReported = totals;
        });
      } else {
        this.device.queue.submit([encoder.finish()]);
      }
      fit.afterSubmit?.(epoch, s + 1);
    }
    const sources = [this.trainData.metrics];
    if (evaluate && this.testRunner && this.test) {
      this.submitEvaluation(this.testRunner, this.test);
      sources.push(this.test.metrics);
    }
    const encoder = this.device.createCommandEncoder();
    const read = await this.metrics.snapshot(encoder, sources);
    this.device.queue.submit([encoder.finish()]);
    return { epoch, totals: read() };
  }

  private submitEvaluation(runner: BatchRunner, dataset: GpuDataset): void {
    for (let s = 0; s < runner.steps; s++) {
      const encoder = this.submitBatch(runner, s, s === 0 ? [dataset.metrics] : []);
      this.device.queue.submit([encoder.finish()]);
    }
  }

  /**
   * Trains `epochs` epochs. Epoch e+1 is submitted before epoch e's metrics are awaited, so the GPU never
   * waits for the host; reports still arrive in order.
   */
  async fit(fit: FitOptions): Promise<EpochReport[]> {
    if (!Number.isInteger(fit.epochs) || fit.epochs < 0) throw new ConfigError(`epochs must be a non-negative integer; got ${fit.epochs}.`);
    const evaluate = fit.evaluate ?? this.test !== undefined;
    const reports: EpochReport[] = [];
    let last = performance.now();
    const finish = async ({ epoch, totals }: SubmittedEpoch) => {
      const [train, test] = await totals;
      const now = performance.now();
      const seconds = (now - last) / 1000;
      last = now;
      if (train.nonFinite) {
        throw new NonFiniteError(
          `The training loss became NaN or Inf in epoch ${epoch}. Likely causes: a learning rate too high, no gradient clipping, or bad input data.`,
          epoch,
          this.trainRunner.steps,
        );
      }
      const report: EpochReport = {
        epoch,
        loss: lossOf(train),
        accuracy: accuracyOf(train),
        testLoss: test ? lossOf(test) : undefined,
        testAccuracy: test ? accuracyOf(test) : undefined,
        seconds,
        samplesPerSecond: train.rows / seconds,
      };
      reports.push(report);
      fit.onEpoch?.(report);
    };
    let previous: SubmittedEpoch | undefined;
    for (let e = 0; e < fit.epochs; e++) {
      const submitted = await this.submitEpoch(fit, evaluate);
      if (previous) await finish(previous);
      previous = submitted;
      this.resources.gpu.check();
    }
    if (previous) await finish(previous);
    return reports;
  }

  /** Loss and accuracy over the test set with the current weights. */
  async evaluate(): Promise<{ loss: number; accuracy: number }> {
    if (!this.testRunner || !this.test) throw new ConfigError('evaluate() needs a test set passed to Trainer.create.');
    this.submitEvaluation(this.testRunner, this.test);
    const encoder = this.device.createCommandEncoder();
    const read = await this.metrics.snapshot(encoder, [this.test.metrics]);
    this.device.queue.submit([encoder.finish()]);
    const [totals] = await read();
    return { loss: lossOf(totals), accuracy: accuracyOf(totals) };
  }

  /** The parameters, by name, in PyTorch layout ([out, in] weights, [out] biases). */
  async weights(): Promise<Map<string, Float32Array>> {
    const all = await readFloats(this.resources, this.buffers.params);
    return new Map(this.arena.slots.map((slot) => [slot.name, all.slice(slot.offset, slot.offset + slot.size)]));
  }

  destroy(): void {
    this.trainRunner.destroy();
    this.testRunner?.destroy();
    this.trainData.destroy();
    this.test?.destroy();
    this.metrics.destroy();
    for (const buffer of Object.values(this.buffers)) this.resources.destroyBuffer(buffer);
  }
}
