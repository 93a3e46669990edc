/**
 * The graph of one step on one batch: the input stage (gather the batch from the GPU-resident dataset,
 * preprocess and augment it, mixup), the model, and the loss with its metrics. Training graphs then get
 * their backward pass appended; evaluation graphs stop at the loss's metrics.
 *
 *   input stage (src/data/input_stage.ts) → model → softmax_xent → [mixup targets]
 */
import { ConfigError, ShapeError } from '../errors';
import { buildInputStage } from '../data/input_stage';
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
  const metrics = g.external(source.metrics, [4]);
  const augment = training ? source.augment : undefined;
  if (model.inputShape.reduce((a, b) => a * b, 1) !== source.features) {
    throw new ShapeError(`The model takes samples of shape [${model.inputShape.join(', ')}] but the data's samples are [${source.sampleShape.join(', ')}].`);
  }
  const { x, labels } = buildInputStage(g, source, rows, training, step, model.inputShape);
  if (!labels) throw new ConfigError(`The data has float targets; the softmax cross-entropy loss needs class labels.`);
  const logits = model.forward(g, x, training, step);
  if (logits.shape.length !== 2 || logits.shape[1] !== (source.numClasses ?? 0)) {
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
