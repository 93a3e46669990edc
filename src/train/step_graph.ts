/**
 * The graph of one step on one batch: the input stage (gather the batch from the GPU-resident dataset,
 * preprocess and augment it, mixup), the model, and the loss with its metrics. Training graphs then get
 * their backward pass appended; evaluation graphs stop at the loss's metrics.
 *
 *   gather(images, labels, perm, step) → [mixup] → reshape to [rows, ...sampleShape] → model → softmax_xent → [mixup targets]
 */
import { ShapeError } from '../errors';
import { Graph, type ExternalBuffer, type Tensor } from '../graph/graph';
import { appendBackward } from '../graph/autodiff';
import { stepLayout } from '../kernels/catalog';
import type { BatchSource } from '../data/gpu_dataset';
import type { Model } from '../nn/model';

export interface StepGraph {
  graph: Graph;
  logits: Tensor;
  /** The loss node (-1 for prediction graphs, which have none). */
  lossNode: number;
  /** Prediction graphs: the probabilities, kept after the step to be copied out. */
  probabilities?: Tensor;
}

export interface StepGraphSetup {
  model: Model;
  source: BatchSource;
  /** The step uniform every step-dependent kernel reads. */
  step: ExternalBuffer;
  training: boolean;
  /** Parameters that get no gradient (frozen layers). */
  frozen?: ReadonlySet<string>;
  /** Inference on new inputs: the model's outputs through a softmax, no loss and no labels used. */
  predict?: boolean;
}

export function buildStepGraph(setup: StepGraphSetup, rows: number): StepGraph {
  const { model, source, training } = setup;
  const g = new Graph();
  const step = g.external(setup.step, [stepLayout.byteSize / 4], 'u32');
  const images = g.external(source.images, [Math.ceil((source.count * source.features) / 4)], 'u32');
  const allLabels = g.external(source.labels, [Math.ceil(source.count / 4)], 'u32');
  const perm = g.external(source.perm, [source.count], 'u32');
  const metrics = g.external(source.metrics, [4]);
  const augment = training ? source.augment : undefined;
  let [x, labels] = g.add('gather', [images, allLabels, perm, step], {
    rows,
    features: source.features,
    scale: source.scale,
    shift: source.shift,
    width: source.width,
    height: source.height,
    maxShift: augment?.maxShift,
    maxRotate: augment?.maxRotate === undefined ? undefined : (augment.maxRotate * Math.PI) / 180,
    noiseStd: augment?.noiseStd,
  });
  if (augment?.mixup) [x] = g.add('mixup_inputs', [x, step]);
  if (model.inputShape.join() !== source.sampleShape.join() && model.inputShape.reduce((a, b) => a * b, 1) !== source.features) {
    throw new ShapeError(`The model takes samples of shape [${model.inputShape.join(', ')}] but the data's samples are [${source.sampleShape.join(', ')}].`);
  }
  if (model.inputShape.length !== 1) [x] = g.add('reshape', [x], { shape: [rows, ...model.inputShape].join(','), name: 'x.nchw' });
  const logits = model.forward(g, x, training, step);
  if (logits.shape.length !== 2 || logits.shape[1] !== source.numClasses) {
    throw new ShapeError(`The model's output per sample is [${model.outputShape.join(', ')}], but the loss needs one logit per class: [${source.numClasses}].`);
  }
  logits.keep = true;
  if (setup.predict) {
    const [probabilities] = g.add('softmax', [logits]);
    probabilities.keep = true;
    return { graph: g, logits, lossNode: -1, probabilities };
  }
  const [dlogits] = g.add('softmax_xent', [logits, labels, metrics], { training });
  if (augment?.mixup) g.add('mixup_targets', [logits, labels, dlogits, metrics, step]);
  const lossNode = g.nodes.length - 1;
  if (training) appendBackward(g, lossNode, setup.frozen);
  return { graph: g, logits, lossNode };
}
