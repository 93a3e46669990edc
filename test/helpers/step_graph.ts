/**
 * Step graphs without a GPU: a BatchSource for MNIST-shaped data with typed handles, the arena layout of
 * a model, and a model's training graph, for tests of shapes, autodiff, fusion and planning.
 */
import { externalBuffer } from '../../src/graph/graph';
import { stepLayout } from '../../src/kernels/catalog';
import type { BatchSource } from '../../src/data/gpu_dataset';
import { toModel, type ModelInput } from '../../src/nn/model_input';
import type { Model } from '../../src/nn/model';
import { ParameterArena } from '../../src/nn/parameters';
import type { ArenaLayout } from '../../src/scheduler/plan';
import { buildStepGraph } from '../../src/train/step_graph';
import { METRICS_FLOATS, resolveLoss, type LossOption } from '../../src/train/loss';

export function mnistLikeSource(count = 60000, name = 'train', side = 28, numClasses = 10): BatchSource {
  const features = side * side;
  return {
    name,
    count,
    features,
    sampleShape: [1, side, side],
    numClasses,
    float: false,
    samplesPerChunk: count,
    scale: 1 / 255,
    shift: 0,
    width: side,
    height: side,
    chunks: [externalBuffer(`${name}.x0`, Math.ceil((count * features) / 4) * 4)],
    perFeature: false,
    side: externalBuffer(`${name}.side`, count * 4),
    rowsOffset: 0,
    rowWidth: 1,
    rowKind: 'labels',
    perm: externalBuffer(`${name}.perm`, count * 4),
    metrics: externalBuffer(`${name}.metrics`, 4 * METRICS_FLOATS),
  };
}

export const stepHandle = externalBuffer('step', stepLayout.byteSize, true);

export function arenaLayout(model: Model): ArenaLayout {
  const params = new ParameterArena(model.parameters);
  const state = new ParameterArena(model.buffers);
  return {
    params,
    paramsBuffer: externalBuffer('params', params.totalFloats * 4),
    gradsBuffer: externalBuffer('grads', params.totalFloats * 4),
    state,
    stateBuffer: externalBuffer('state', state.totalFloats * 4),
  };
}

/** The training (or evaluation) graph of `input` over `rows` MNIST-shaped samples. */
export function modelGraph(input: ModelInput, rows = 128, training = true, source = mnistLikeSource(), loss?: LossOption) {
  const model = toModel(input, source.sampleShape);
  const { graph, lossNode, logits } = buildStepGraph({ model, source, step: stepHandle, training, loss: loss === undefined ? undefined : resolveLoss(loss) }, rows);
  return { model, graph, lossNode, logits, layout: arenaLayout(model) };
}

/** A layout around a hand-made parameter arena (no state). */
export function layoutOf(params: ParameterArena): ArenaLayout {
  return { params, paramsBuffer: externalBuffer('params', params.totalFloats * 4), gradsBuffer: externalBuffer('grads', params.totalFloats * 4) };
}
