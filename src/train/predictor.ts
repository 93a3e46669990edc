/**
 * Inference on new inputs, on the GPU: the model in evaluation mode (no dropout, batch norm's running
 * statistics) and a softmax, over chunks of up to `capacity` samples copied into a fixed input buffer.
 * The same preprocessing as the training data is applied by the same gather kernel. Plans are built once
 * per chunk size and cached, so repeated predictions (a drawn digit, a test set) allocate nothing.
 */
import { ConfigError } from '../errors';
import { sampleSize, type Dataset } from '../data/dataset';
import { GpuDataset } from '../data/gpu_dataset';
import type { Normalisation, ProjectionBuffers } from '../data/gpu_dataset';
import type { GpuResources } from '../gpu/resources';
import { externalBuffer, type ExternalBuffer } from '../graph/graph';
import type { Model } from '../nn/model';
import { Executable, type BufferBindings } from '../scheduler/executable';
import { kernels } from '../kernels/catalog';
import { grid1d } from '../kernels/kernel';
import { splitForAdapter, withReductionSplit } from '../kernels/reduction_split';
import { fuse } from '../scheduler/fuse';
import { planStep, type ArenaLayout } from '../scheduler/plan';
import { buildStepGraph } from './step_graph';
import { resolveLoss, type ResolvedLoss } from './loss';
import { packStepTable, STEP_STRIDE } from './training_state';

interface ChunkPlan {
  executable: Executable;
  probabilities: { buffer: GPUBuffer; offset: number; size: number };
}

export class Predictor {
  private readonly plans = new Map<number, Promise<ChunkPlan>>();
  private readonly output: GPUBuffer;

  private constructor(
    private readonly resources: GpuResources,
    private readonly model: Model,
    private readonly layout: ArenaLayout,
    private readonly step: ExternalBuffer,
    private readonly input: GpuDataset,
    private readonly table: { handle: ExternalBuffer; buffer: GPUBuffer },
    private readonly bindings: BufferBindings,
    readonly capacity: number,
    readonly classes: number,
    private readonly loss: ResolvedLoss,
  ) {
    this.output = resources.createBuffer('predict.output', capacity * classes * 4, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
  }

  /** `like` gives the sample shape and class count; `normalisation` is the training data's. */
  static create(
    resources: GpuResources,
    model: Model,
    setup: { layout: ArenaLayout; step: ExternalBuffer; bindings: BufferBindings },
    like: Dataset,
    normalisation: Normalisation,
    capacity: number,
    loss: ResolvedLoss = resolveLoss(),
    projection?: ProjectionBuffers,
  ): Predictor {
    const size = sampleSize(like);
    const x = like.x instanceof Float32Array ? new Float32Array(capacity * size) : new Uint8Array(capacity * size);
    const blank: Dataset = { x, sampleShape: like.sampleShape, labels: new Uint32Array(capacity), numClasses: like.numClasses, count: capacity };
    const input = new GpuDataset(resources, 'predict', blank, normalisation, { projection });
    const bytes = packStepTable([{ step: 0, batchStart: 0, seed: 0, mixLambda: 1, lr: 0 }]);
    const handle = externalBuffer('predict.steps', bytes.byteLength);
    const table = { handle, buffer: resources.createStorage(handle.name, new Uint8Array(bytes)) };
    const bindings = new Map([...setup.bindings, ...input.buffers, [handle, table.buffer]]);
    return new Predictor(resources, model, setup.layout, setup.step, input, table, bindings, capacity, loss.usesLabels ? (like.numClasses ?? model.outputShape[0]) : model.outputShape[0], loss);
  }

  private plan(rows: number): Promise<ChunkPlan> {
    let plan = this.plans.get(rows);
    if (!plan) {
      const { graph, probabilities } = buildStepGraph({ model: this.model, source: this.input.source, step: this.step, training: false, predict: true, loss: this.loss }, rows);
      const nodes = withReductionSplit(fuse(graph.nodes), splitForAdapter(this.resources.gpu.adapterName));
      const planned = planStep(nodes, this.layout, { stepValues: { table: this.table.handle, step: this.step, stride: STEP_STRIDE } });
      plan = Executable.create(this.resources, planned, this.bindings, `predict[${rows}]`).then((executable) => ({ executable, probabilities: executable.locate(probabilities!.id) }));
      this.plans.set(rows, plan);
    }
    return plan;
  }

  /** Class probabilities [count, classes] for `images`: count samples of raw values, as the training data holds them. */
  async predict(images: Uint8Array | Float32Array): Promise<Float32Array> {
    const out = new Float32Array(this.sampleCount(images) * this.classes);
    await this.run(images, async (encoder, probabilities, start, rows) => {
      encoder.copyBufferToBuffer(probabilities.buffer, probabilities.offset, this.output, 0, rows * this.classes * 4);
      this.resources.device.queue.submit([encoder.finish()]);
      await this.output.mapAsync(GPUMapMode.READ, 0, rows * this.classes * 4);
      out.set(new Float32Array(this.output.getMappedRange(0, rows * this.classes * 4).slice(0)), start * this.classes);
      this.output.unmap();
    });
    return out;
  }

  /**
   * Adds weight × the probabilities of `images` to `into` ([count, classes] floats) on the GPU, nothing
   * read back: an ensemble's mean, one member at a time (src/train/ensemble.ts).
   */
  async accumulate(images: Uint8Array | Float32Array, into: GPUBuffer, weight: number): Promise<void> {
    const kernel = kernels.accumulate;
    const pipeline = await this.resources.pipeline(kernel, {});
    const params: GPUBuffer[] = [];
    await this.run(images, (encoder, probabilities, start, rows) => {
      const count = rows * this.classes;
      const uniform = this.resources.createBuffer('accumulate.params', kernel.params.byteSize, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
      params.push(uniform);
      this.resources.device.queue.writeBuffer(uniform, 0, kernel.params.pack({ count, weight, offset: start * this.classes }));
      const pass = encoder.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, this.resources.createBindGroup(kernel, 'accumulate', [
        { buffer: probabilities.buffer, offset: probabilities.offset, size: count * 4 },
        { buffer: into, offset: 0, size: into.size },
        { buffer: uniform, offset: 0, size: kernel.params.byteSize },
      ]));
      pass.dispatchWorkgroups(...grid1d(count, 256));
      pass.end();
      this.resources.device.queue.submit([encoder.finish()]);
    });
    await this.resources.device.queue.onSubmittedWorkDone();
    params.forEach((b) => this.resources.destroyBuffer(b));
  }

  private sampleCount(images: Uint8Array | Float32Array): number {
    const features = this.input.source.features;
    if ((images instanceof Float32Array) !== this.input.source.float) {
      throw new ConfigError(`predict: the model was trained on ${this.input.source.float ? 'float32' : 'byte'} inputs; got a ${images.constructor.name}.`);
    }
    if (images.length === 0 || images.length % features !== 0) {
      throw new ConfigError(`predict: expected whole samples of ${features} values each (${this.input.source.sampleShape.join('×')}); got ${images.length} values.`);
    }
    return images.length / features;
  }

  /** Runs the model over `images` in chunks; `emit` records what to do with each chunk's probabilities and submits. */
  private async run(images: Uint8Array | Float32Array, emit: (encoder: GPUCommandEncoder, probabilities: ChunkPlan['probabilities'], start: number, rows: number) => void | Promise<void>): Promise<void> {
    const features = this.input.source.features;
    const count = this.sampleCount(images);
    for (let start = 0; start < count; start += this.capacity) {
      const rows = Math.min(this.capacity, count - start);
      const chunk = images.subarray(start * features, (start + rows) * features);
      const padded = chunk instanceof Float32Array ? chunk : new Uint8Array(Math.ceil(chunk.length / 4) * 4);
      if (padded !== chunk) padded.set(chunk);
      const { executable, probabilities } = await this.plan(rows);
      this.resources.device.queue.writeBuffer(this.input.inputs, 0, padded as Uint8Array<ArrayBuffer>);
      const encoder = this.resources.device.createCommandEncoder();
      executable.encode(encoder, 0);
      await emit(encoder, probabilities, start, rows);
    }
    this.resources.gpu.check();
  }

  destroy(): void {
    for (const plan of this.plans.values()) void plan.then((p) => p.executable.destroy());
    this.input.destroy();
    this.resources.destroyBuffer(this.table.buffer);
    this.resources.destroyBuffer(this.output);
  }
}
