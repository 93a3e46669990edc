/**
 * Everything a training run keeps on the GPU besides the data: the three arenas of the design
 * (parameters, their gradients, the optimizer's state) plus the state arena of non-trainable buffers
 * (running statistics), the optimizer's small buffers, the step uniform and the epoch's table of per-step
 * values, and the weight snapshots early stopping restores from. Each buffer has a typed handle; plans
 * bind the handles, and `bindings` gives executables the buffers behind them.
 */
import type { GpuResources } from '../gpu/resources';
import { readFloats } from '../gpu/readback';
import { externalBuffer, type ExternalBuffer } from '../graph/graph';
import { optimizerHyperLayout, stepLayout } from '../kernels/catalog';
import type { Model } from '../nn/model';
import { ParameterArena } from '../nn/parameters';
import { gradChunkCount, gradNormSplit, optimizerHyper, slotTable, type GradNormSplit, statsLength, type OptimizerBuffers, type OptimizerOptions, type SlotUpdate } from '../optim/optimizer';
import type { ArenaLayout } from '../scheduler/plan';
import type { ProjectionBuffers } from '../data/gpu_dataset';
import type { Projection } from '../data/projection';

/** Bytes between entries of a step table (copy offsets need only 4-byte alignment). */
export const STEP_STRIDE = stepLayout.byteSize;

export interface StepValues {
  step: number;
  batchStart: number;
  seed: number;
  mixLambda: number;
  lr: number;
}

/** A table of step values, one entry per step, laid out as the Step uniform. */
export function packStepTable(entries: readonly StepValues[], target = new ArrayBuffer(Math.max(1, entries.length) * STEP_STRIDE)): ArrayBuffer {
  entries.forEach((e, i) =>
    stepLayout.pack({ step: e.step, batch_start: e.batchStart, seed: e.seed, mix_lambda: e.mixLambda, lr: e.lr }, target, i * STEP_STRIDE),
  );
  return target;
}

export class TrainingState {
  readonly arena: ParameterArena;
  /** How the gradient-norm pass cuts the arena on this adapter (src/optim/optimizer.ts gradNormSplit). */
  readonly gradNormSplit: GradNormSplit;
  readonly stateArena: ParameterArena;
  readonly optimizerBuffers: OptimizerBuffers;
  readonly layout: ArenaLayout;
  readonly step: ExternalBuffer;
  readonly stepTable: ExternalBuffer;
  readonly snapshots: [ExternalBuffer, ExternalBuffer];
  readonly best: ExternalBuffer;
  readonly bindings = new Map<ExternalBuffer, GPUBuffer>();

  constructor(
    private readonly resources: GpuResources,
    model: Model,
    optimizer: Required<OptimizerOptions>,
    initial: { params: Float32Array; state: Float32Array } | ((arena: ParameterArena, stateArena: ParameterArena) => { params: Float32Array; state: Float32Array }),
    maxSteps: number,
  ) {
    this.arena = new ParameterArena(model.parameters);
    this.gradNormSplit = gradNormSplit(resources.gpu.adapterName);
    this.stateArena = new ParameterArena(model.buffers);
    const values = typeof initial === 'function' ? initial(this.arena, this.stateArena) : initial;
    const floats = this.arena.totalFloats;
    const storage = (name: string, data: ArrayBufferView) => this.add(externalBuffer(name, data.byteLength), resources.createStorage(name, data));
    const uniform = (name: string, size: number) => this.add(externalBuffer(name, size, true), resources.createBuffer(name, size, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST));
    const params = storage('params', values.params);
    const grads = storage('grads', new Float32Array(floats));
    const state = storage('state', values.state);
    this.optimizerBuffers = {
      params,
      grads,
      state1: storage('optim.state1', new Float32Array(floats)),
      state2: storage('optim.state2', new Float32Array(floats)),
      slots: storage('grad.slots', slotTable(this.arena)),
      partials: storage('grad.partials', new Float32Array(gradChunkCount(this.arena, this.gradNormSplit.chunkVec4))),
      stats: storage('optim.stats', new Float32Array(statsLength(this.arena))),
      hyper: uniform('optim.hyper', optimizerHyperLayout.byteSize),
      step: uniform('step', stepLayout.byteSize),
    };
    resources.device.queue.writeBuffer(this.buffer(this.optimizerBuffers.hyper), 0, optimizerHyper(optimizer));
    this.step = this.optimizerBuffers.step;
    this.stepTable = storage('step.table', new Uint8Array(Math.max(1, maxSteps) * STEP_STRIDE));
    // Two end-of-epoch copies of the weights, and the best so far, for early stopping's restore.
    this.snapshots = [storage('params.snapshot0', new Float32Array(floats)), storage('params.snapshot1', new Float32Array(floats))];
    this.best = storage('params.best', new Float32Array(floats));
    this.layout = { params: this.arena, paramsBuffer: params, gradsBuffer: grads, state: this.stateArena, stateBuffer: state };
  }

  private add(handle: ExternalBuffer, buffer: GPUBuffer): ExternalBuffer {
    this.bindings.set(handle, buffer);
    return handle;
  }

  buffer(handle: ExternalBuffer): GPUBuffer {
    const buffer = this.bindings.get(handle);
    if (!buffer) throw new Error(`No buffer for '${handle.name}'.`);
    return buffer;
  }

  get params(): GPUBuffer {
    return this.buffer(this.optimizerBuffers.params);
  }

  get stateBuffer(): GPUBuffer {
    return this.buffer(this.layout.stateBuffer!);
  }

  /** A projection's buffers (src/data/projection.ts), zero until `writeProjection` fills them. */
  projectionBuffers(features: number, components: number): ProjectionBuffers {
    const make = (name: string, floats: number) => this.add(externalBuffer(name, floats * 4), this.resources.createStorage(name, new Float32Array(floats)));
    return { matrix: make('projection.matrix', features * components), bias: make('projection.bias', components), components };
  }

  writeProjection(buffers: ProjectionBuffers, projection: Projection): void {
    this.resources.device.queue.writeBuffer(this.buffer(buffers.matrix), 0, projection.matrix as Float32Array<ArrayBuffer>);
    this.resources.device.queue.writeBuffer(this.buffer(buffers.bias), 0, projection.bias as Float32Array<ArrayBuffer>);
  }

  /** How the optimizer treats each slot from the next submit on (src/train/transfer.ts: frozen, scaled). */
  writeSlotUpdates(updates: readonly SlotUpdate[]): void {
    this.resources.device.queue.writeBuffer(this.buffer(this.optimizerBuffers.slots), 0, slotTable(this.arena, updates));
  }

  writeStepTable(table: ArrayBuffer): void {
    this.resources.device.queue.writeBuffer(this.buffer(this.stepTable), 0, table);
  }

  /** Copies the whole parameter arena from one of its buffers to another (params, snapshots, best), in a submit of its own. */
  copyParams(from: ExternalBuffer, to: ExternalBuffer): void {
    const device = this.resources.device;
    const encoder = device.createCommandEncoder();
    encoder.copyBufferToBuffer(this.buffer(from), 0, this.buffer(to), 0, this.arena.totalFloats * 4);
    device.queue.submit([encoder.finish()]);
  }

  /** Parameters, optimizer state and buffers as they are on the GPU (waits for submitted work). */
  async read(): Promise<{ params: Float32Array; state1: Float32Array; state2: Float32Array; state: Float32Array }> {
    const o = this.optimizerBuffers;
    const [params, state1, state2, state] = await Promise.all([o.params, o.state1, o.state2, this.layout.stateBuffer!].map((h) => readFloats(this.resources, this.buffer(h))));
    return { params, state1, state2, state };
  }

  write(values: { params: Float32Array; state1?: Float32Array; state2?: Float32Array; state?: Float32Array }): void {
    const queue = this.resources.device.queue;
    const o = this.optimizerBuffers;
    const put = (handle: ExternalBuffer, data: Float32Array | undefined) => data && queue.writeBuffer(this.buffer(handle), 0, data as Float32Array<ArrayBuffer>);
    put(o.params, values.params);
    put(o.state1, values.state1);
    put(o.state2, values.state2);
    if (this.stateArena.slots.length) put(this.layout.stateBuffer!, values.state);
  }

  destroy(): void {
    for (const buffer of this.bindings.values()) this.resources.destroyBuffer(buffer);
    this.bindings.clear();
  }
}
