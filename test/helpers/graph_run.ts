/**
 * Running graphs on the GPU in tests: one training step of a model on a dataset (gradients read straight
 * from the gradient arena, poisoned first), or any hand-built graph with named parameters and external
 * inputs.
 */
import { GpuDataset } from '../../src/data/gpu_dataset';
import type { Dataset } from '../../src/data/dataset';
import { readFloats } from '../../src/gpu/readback';
import type { GpuResources } from '../../src/gpu/resources';
import { externalBuffer, Graph, type ExternalBuffer, type Tensor } from '../../src/graph/graph';
import { appendBackward } from '../../src/graph/autodiff';
import { toModel, type ModelInput } from '../../src/nn/model_input';
import type { Model } from '../../src/nn/model';
import { ParameterArena } from '../../src/nn/parameters';
import { resolveOptimizer } from '../../src/optim/optimizer';
import { Executable } from '../../src/scheduler/executable';
import { fuse } from '../../src/scheduler/fuse';
import { planStep } from '../../src/scheduler/plan';
import { BatchRunner } from '../../src/train/batch_runner';
import { packStepTable, TrainingState, type StepValues } from '../../src/train/training_state';
import { testGpu } from './gpu';
import { resolveLoss, type LossOption } from '../../src/train/loss';

export interface StepResult {
  model: Model;
  /** Gradient of every parameter by name. */
  grads: Map<string, Float32Array>;
  /** Parameter values the step started from, by name. */
  params: Map<string, Float32Array>;
  /** The dataset's metrics accumulator after the step (src/train/metrics.ts). */
  metrics: Float32Array;
  /** Buffers (running statistics) after the step, by name. */
  buffers: Map<string, Float32Array>;
}

/**
 * One training step (no optimizer) of `input` on all of `data` as one batch, from `initial(model, arena)`
 * parameters (default: the model's own initialisation with seed 0). Step values default to step 0, seed 0.
 */
export async function trainingStepGradients(
  input: ModelInput,
  data: Dataset,
  options: { initial?: (model: Model, arena: ParameterArena) => Float32Array; step?: Partial<StepValues>; training?: boolean; loss?: LossOption } = {},
): Promise<StepResult> {
  const { gpu, resources } = await testGpu();
  const model = toModel(input, data.sampleShape);
  let params: Float32Array = new Float32Array(0);
  const state = new TrainingState(resources, model, resolveOptimizer({ lr: 1 }), (arena, stateArena) => {
    params = options.initial ? options.initial(model, arena) : model.initialParameters(arena, 0, () => {});
    return { params, state: model.initialBuffers(stateArena) };
  }, 1);
  state.writeStepTable(packStepTable([{ step: 0, batchStart: 0, seed: 0, mixLambda: 1, lr: 1, ...options.step }]));
  const grads = state.buffer(state.optimizerBuffers.grads);
  resources.device.queue.writeBuffer(grads, 0, new Float32Array(state.arena.totalFloats).fill(NaN));
  const loss = resolveLoss(options.loss);
  const dataset = new GpuDataset(resources, 'train', data, undefined, { classWeights: loss.classWeights });
  const runner = await BatchRunner.create(
    resources,
    { model, loss, source: dataset.source, batchSize: data.count, training: options.training ?? true, layout: state.layout, step: state.step, stepTable: state.stepTable, autotune: false },
    new Map([...state.bindings, ...dataset.buffers]),
  );
  try {
    const encoder = resources.device.createCommandEncoder();
    runner.encode(encoder, 0);
    resources.device.queue.submit([encoder.finish()]);
    const all = await readFloats(resources, grads);
    const metrics = await readFloats(resources, dataset.metrics);
    const stateValues = await readFloats(resources, state.stateBuffer);
    gpu.check();
    const slice = (arena: ParameterArena, values: Float32Array) => new Map(arena.slots.map((s) => [s.name, values.slice(s.offset, s.offset + s.size)]));
    return { model, grads: slice(state.arena, all), params: slice(state.arena, params), metrics, buffers: slice(state.stateArena, stateValues) };
  } finally {
    runner.destroy();
    dataset.destroy();
    state.destroy();
  }
}

/**
 * Builds `body(graph, params, inputs) → logits`, follows it with softmax_xent, differentiates, plans and
 * runs it once; returns each parameter's gradient and the mean loss. `inputs` are external float tensors.
 */
export async function graphGradients(
  params: Record<string, { shape: number[]; value: Float32Array }>,
  labels: Uint32Array,
  body: (g: Graph, p: Record<string, Tensor>, inputs: Record<string, Tensor>) => Tensor,
  inputs: Record<string, { shape: number[]; value: Float32Array }> = {},
  resources?: GpuResources,
): Promise<{ grads: Record<string, Float32Array>; loss: number }> {
  const { gpu, resources: shared } = await testGpu();
  resources ??= shared;
  const g = new Graph();
  const tensors = Object.fromEntries(Object.entries(params).map(([name, p]) => [name, g.tensor(p.shape, 'param', name)]));
  const handles = new Map<ExternalBuffer, GPUBuffer>();
  const external = (name: string, data: ArrayBufferView & { length: number }, shape: number[], dtype: 'f32' | 'u32' = 'f32') => {
    const handle = externalBuffer(name, data.byteLength);
    handles.set(handle, resources!.createStorage(name, data));
    return g.external(handle, shape, dtype);
  };
  const inputTensors = Object.fromEntries(Object.entries(inputs).map(([name, v]) => [name, external(name, v.value, v.shape)]));
  const logits = body(g, tensors, inputTensors);
  const labelTensor = external('labels', labels, [logits.shape[0]], 'u32');
  const metrics = new Float32Array(8);
  const metricsTensor = external('metrics', metrics, [8]);
  g.add('softmax_xent', [logits, labelTensor, metricsTensor], { training: true });
  appendBackward(g, g.nodes.length - 1);

  const arena = new ParameterArena(Object.entries(params).map(([name, p]) => ({ name, shape: p.shape, decay: false })));
  const initial = new Float32Array(arena.totalFloats);
  for (const [name, p] of Object.entries(params)) initial.set(p.value, arena.slot(name).offset);
  const paramsHandle = externalBuffer('params', initial.byteLength);
  const gradsHandle = externalBuffer('grads', initial.byteLength);
  handles.set(paramsHandle, resources.createStorage('params', initial));
  handles.set(gradsHandle, resources.createStorage('grads', new Float32Array(arena.totalFloats).fill(NaN)));
  const exe = await Executable.create(resources, planStep(fuse(g.nodes), { params: arena, paramsBuffer: paramsHandle, gradsBuffer: gradsHandle }), handles, 'op-gradcheck');
  try {
    const encoder = resources.device.createCommandEncoder();
    exe.encode(encoder);
    resources.device.queue.submit([encoder.finish()]);
    const all = await readFloats(resources, handles.get(gradsHandle)!);
    const m = await readFloats(resources, handles.get(metricsTensor.external!)!);
    gpu.check();
    const grads = Object.fromEntries(arena.slots.map((s) => [s.name, all.slice(s.offset, s.offset + s.size)]));
    return { grads, loss: m[0] / logits.shape[0] };
  } finally {
    exe.destroy();
    handles.forEach((b) => resources!.destroyBuffer(b));
  }
}
