/**
 * The graph of one step on one batch: the input stage (gather the batch from the GPU-resident dataset,
 * preprocess and augment it, mixup), the model, and the loss with its metrics. Training graphs then get
 * their backward pass appended; evaluation graphs stop at the loss's metrics.
 *
 *   input stage (src/data/input_stage.ts) → model → softmax_xent → [mixup targets]   (plain cross-entropy)
 *   input stage → model → loss (src/train/loss.ts: weighted / smoothed cross-entropy, bce, mse, l1, huber)
 */
import { ConfigError, ShapeError } from '../errors';
import { buildInputStage } from '../data/input_stage';
import { Graph, type ExternalBuffer, type Tensor } from '../graph/graph';
import { appendBackward } from '../graph/autodiff';
import { stepLayout } from '../kernels/catalog';
import type { BatchSource } from '../data/gpu_dataset';
import type { Model } from '../nn/model';
import { checkLossData, METRICS_FLOATS, resolveLoss, type ResolvedLoss } from './loss';

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
  /**
   * Inference on new inputs, no loss and no labels used: the model's outputs through a softmax
   * (cross-entropy), a sigmoid (bce), or as they are (regression).
   */
  predict?: boolean;
  /** Default: plain cross-entropy. */
  loss?: ResolvedLoss;
}

export function buildStepGraph(setup: StepGraphSetup, rows: number): StepGraph {
  const { model, source, training } = setup;
  const g = new Graph();
  const step = g.external(setup.step, [stepLayout.byteSize / 4], 'u32');
  const loss = setup.loss ?? resolveLoss();
  const metrics = g.external(source.metrics, [METRICS_FLOATS]);
  const augment = training ? source.augment : undefined;
  const inputs = source.projection?.components ?? source.features;
  if (model.inputShape.reduce((a, b) => a * b, 1) !== inputs) {
    const projected = source.projection ? `, projected to ${inputs} components` : '';
    throw new ShapeError(`The model takes samples of shape [${model.inputShape.join(', ')}] but the data's samples are [${source.sampleShape.join(', ')}]${projected}.`);
  }
  if (augment?.mixup && !loss.plain) throw new ConfigError(`Mixup blends one-hot class targets and works with plain cross-entropy only; the loss is ${describeLoss(loss)}.`);
  if (!setup.predict) checkLossData(loss, { labels: source.rowKind === 'labels' || undefined, targets: source.rowKind === 'targets' || undefined, numClasses: source.numClasses, targetShape: source.targetShape }, model.outputShape, source.name);
  const { x, labels, targets } = buildInputStage(g, source, rows, training, step, model.inputShape);
  const logits = model.forward(g, x, training, step);
  if (logits.shape.length !== 2 || (loss.usesLabels && !setup.predict && logits.shape[1] !== (source.numClasses ?? 0))) {
    throw new ShapeError(`The model's output per sample is [${model.outputShape.join(', ')}], but the loss needs one logit per class: [${source.numClasses}].`);
  }
  if (setup.predict) {
    // Read after the plan has run (the probabilities, or for regression the outputs themselves).
    logits.keep = true;
    if (loss.regression) return { graph: g, logits, lossNode: -1, probabilities: logits };
    const [probabilities] = loss.usesLabels ? g.add('softmax', [logits]) : g.add('activation', [logits], { kind: 'sigmoid', name: 'probabilities' });
    probabilities.keep = true;
    return { graph: g, logits, lossNode: -1, probabilities };
  }
  if (loss.plain) {
    if (!labels) throw new ConfigError(`The data has float targets; the softmax cross-entropy loss needs class labels.`);
    const [dlogits] = g.add('softmax_xent', [logits, labels, metrics], { training });
    if (augment?.mixup) g.add('mixup_targets', [logits, labels, dlogits, metrics, step]);
  } else {
    const weights = loss.classWeights ? [g.external(source.classWeights!, [loss.classWeights.length])] : [];
    g.add('loss', [logits, (labels ?? targets)!, metrics, ...weights], {
      kind: loss.code,
      smoothing: loss.labelSmoothing,
      weightSum: loss.classWeights ? loss.classWeights.reduce((a, b) => a + b, 0) : logits.shape[1],
      delta: loss.delta,
      huberScale: loss.huberScale,
      training,
    });
  }
  const lossNode = g.nodes.length - 1;
  if (training) appendBackward(g, lossNode, setup.frozen);
  return { graph: g, logits, lossNode };
}

/** The loss as a user would name it in an error message. */
export function describeLoss(loss: ResolvedLoss): string {
  const parts = [loss.labelSmoothing ? `label smoothing ${loss.labelSmoothing}` : '', loss.classWeights ? 'class weights' : ''].filter(Boolean);
  return `${loss.kind}${parts.length ? ` (${parts.join(', ')})` : ''}`;
}
