/**
 * Evaluation of one labelled dataset: a batch runner in evaluation mode (no dropout, batch norm's running
 * statistics) with its own constant table of step values (each batch's start), so a whole pass over the
 * dataset is encoded into one command buffer, its metrics accumulated on the GPU.
 */
import type { GpuDataset } from '../data/gpu_dataset';
import type { GpuResources } from '../gpu/resources';
import { externalBuffer } from '../graph/graph';
import type { BufferBindings } from '../scheduler/executable';
import { BatchRunner, type RunnerSetup } from './batch_runner';
import { packStepTable } from './training_state';

export class Evaluator {
  private constructor(
    private readonly resources: GpuResources,
    readonly data: GpuDataset,
    readonly runner: BatchRunner,
    private readonly table: GPUBuffer,
  ) {}

  static async create(
    resources: GpuResources,
    data: GpuDataset,
    setup: Omit<RunnerSetup, 'source' | 'training' | 'stepTable' | 'update'>,
    bindings: BufferBindings,
  ): Promise<Evaluator> {
    const batch = Math.min(setup.batchSize, data.data.count);
    const steps = Math.ceil(data.data.count / batch);
    const bytes = packStepTable(Array.from({ length: steps }, (_, s) => ({ step: 0, batchStart: s * batch, seed: 0, mixLambda: 1, lr: 0 })));
    const handle = externalBuffer(`${data.name}.steps`, bytes.byteLength);
    const table = resources.createStorage(handle.name, new Uint8Array(bytes));
    try {
      const all = new Map([...bindings, ...data.buffers, [handle, table]]);
      const runner = await BatchRunner.create(resources, { ...setup, source: data.source, training: false, stepTable: handle }, all);
      return new Evaluator(resources, data, runner, table);
    } catch (error) {
      resources.destroyBuffer(table);
      throw error;
    }
  }

  get metrics(): GPUBuffer {
    return this.data.metrics;
  }

  /** Records a whole pass over the dataset, its metrics accumulator zeroed first. */
  encode(encoder: GPUCommandEncoder): void {
    encoder.clearBuffer(this.data.metrics);
    for (let s = 0; s < this.runner.steps; s++) this.runner.encode(encoder, s);
  }

  destroy(): void {
    this.runner.destroy();
    this.data.destroy();
    this.resources.destroyBuffer(this.table);
  }
}
