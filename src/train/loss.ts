/**
 * The training loss: which one, its settings, and the checks of a dataset and a model against it, all on
 * the CPU before any GPU work. Plain cross-entropy runs the fused softmax_xent op (the default, whose plan
 * does not change); every other setting runs the `loss` op (shaders/loss.wgsl).
 *
 *   cross_entropy   class labels; nn.CrossEntropyLoss(weight=classWeights, label_smoothing=labelSmoothing)
 *   bce             float targets [C] in [0, 1]; nn.BCEWithLogitsLoss, mean over all elements
 *   mse, l1         float targets [T]; nn.MSELoss, nn.L1Loss (mean over all elements)
 *   huber           float targets [T]; nn.HuberLoss(delta) (default δ = 1)
 *   smooth_l1       float targets [T]; nn.SmoothL1Loss(beta) = HuberLoss(β)/β (default β = 1)
 */
import { ConfigError, ShapeError } from '../errors';

export const lossKinds = { cross_entropy: 0, bce: 1, mse: 2, l1: 3, huber: 4, smooth_l1: 4 } as const;
export type LossName = keyof typeof lossKinds;
export const lossNames = Object.keys(lossKinds) as LossName[];

export interface LossSpec {
  kind: LossName;
  /** Cross-entropy only: ε in [0, 1), the target (1 − ε)·onehot + ε/C. */
  labelSmoothing?: number;
  /** Cross-entropy only: one weight ≥ 0 per class; the mean divides by the sum of the batch targets' weights. */
  classWeights?: ArrayLike<number>;
  /** huber only: δ > 0 (default 1). */
  delta?: number;
  /** smooth_l1 only: β > 0 (default 1). */
  beta?: number;
}

export type LossOption = LossName | LossSpec;

export interface ResolvedLoss {
  kind: LossName;
  /** The loss.wgsl KIND. */
  code: number;
  labelSmoothing: number;
  classWeights?: Float32Array;
  /** Huber's δ and the factor its loss and gradient are scaled by (1, or 1/β for smooth L1). */
  delta: number;
  huberScale: number;
  /** Class labels (cross-entropy) or float targets (the rest). */
  usesLabels: boolean;
  /** Reports MSE and MAE instead of accuracy. */
  regression: boolean;
  /** Plain cross-entropy: the fused softmax_xent op. */
  plain: boolean;
}

/** Floats in a dataset's metrics accumulator: [loss_sum, correct, rows, non_finite, loss_weight, squared_error, absolute_error, predictions]. */
export const METRICS_FLOATS = 8;

const positive = (value: number | undefined, what: string, fallback: number) => {
  if (value === undefined) return fallback;
  if (!(typeof value === 'number' && value > 0 && Number.isFinite(value))) throw new ConfigError(`The loss's ${what} must be a finite number > 0; got ${value}.`);
  return value;
};

/** Checks a loss option and fills in its defaults; throws ConfigError naming what is wrong. */
export function resolveLoss(option: LossOption = 'cross_entropy'): ResolvedLoss {
  const spec: LossSpec = typeof option === 'string' ? { kind: option } : option;
  if (!spec || typeof spec !== 'object' || !Object.hasOwn(lossKinds, spec.kind)) {
    throw new ConfigError(`Unknown loss '${typeof option === 'string' ? option : spec?.kind}'; the losses are ${lossNames.join(', ')}.`);
  }
  const kind = spec.kind;
  const ce = kind === 'cross_entropy';
  const allowed: Record<LossName, string[]> = { cross_entropy: ['labelSmoothing', 'classWeights'], bce: [], mse: [], l1: [], huber: ['delta'], smooth_l1: ['beta'] };
  for (const key of ['labelSmoothing', 'classWeights', 'delta', 'beta'] as const) {
    if (spec[key] !== undefined && !allowed[kind].includes(key)) throw new ConfigError(`The loss option ${key} does not apply to ${kind}${allowed[kind].length ? ` (it takes ${allowed[kind].join(', ')})` : ''}.`);
  }
  const labelSmoothing = spec.labelSmoothing ?? 0;
  if (!(typeof labelSmoothing === 'number' && labelSmoothing >= 0 && labelSmoothing < 1)) {
    throw new ConfigError(`Label smoothing must be a number in [0, 1); got ${spec.labelSmoothing}.`);
  }
  let classWeights: Float32Array | undefined;
  if (spec.classWeights !== undefined) {
    const w = Array.from(spec.classWeights as ArrayLike<number>);
    const bad = w.findIndex((v) => !(typeof v === 'number' && v >= 0 && Number.isFinite(v)));
    if (w.length === 0 || bad >= 0) throw new ConfigError(`Class weights must be finite numbers ≥ 0, one per class; got ${w.length ? `classWeights[${bad}] = ${w[bad]}` : 'none'}.`);
    if (!w.some((v) => v > 0)) throw new ConfigError('Class weights must not all be 0 (the mean loss would divide by 0).');
    classWeights = Float32Array.from(w);
  }
  const delta = kind === 'smooth_l1' ? positive(spec.beta, 'beta', 1) : positive(spec.delta, 'delta', 1);
  return {
    kind,
    code: lossKinds[kind],
    labelSmoothing,
    classWeights,
    delta,
    huberScale: kind === 'smooth_l1' ? 1 / delta : 1,
    usesLabels: ce,
    regression: kind === 'mse' || kind === 'l1' || kind === 'huber' || kind === 'smooth_l1',
    plain: ce && labelSmoothing === 0 && !classWeights,
  };
}

/** What the data checks read of a dataset. */
interface DataShape {
  labels?: unknown;
  targets?: unknown;
  numClasses?: number;
  targetShape?: readonly number[];
}

/**
 * The data against the loss and the model's output per sample, before any GPU work: class labels for
 * cross-entropy (one output per class, one class weight per class), float targets for the rest (the
 * output per sample holds exactly the targets' values). ConfigError for the wrong kind of data,
 * ShapeError for shapes that do not fit.
 */
export function checkLossData(loss: ResolvedLoss, data: DataShape, outputShape: readonly number[], name: string): void {
  const out = outputShape.reduce((a, b) => a * b, 1);
  const outText = `[${outputShape.join(', ')}]`;
  if (loss.usesLabels) {
    if (data.labels === undefined) {
      throw new ConfigError(`The ${name} data has float targets, but the ${loss.kind} loss needs class labels; use loss 'bce' (multi-label) or 'mse', 'l1', 'huber', 'smooth_l1' (regression) for targets.`);
    }
    if (outputShape.length !== 1 || out !== data.numClasses) {
      throw new ShapeError(`The model's output per sample is ${outText} but the ${name} data has ${data.numClasses} classes (one logit per class is needed).`);
    }
    if (loss.classWeights && loss.classWeights.length !== data.numClasses) {
      throw new ShapeError(`${loss.classWeights.length} class weights for the ${name} data's ${data.numClasses} classes (one weight per class is needed).`);
    }
    return;
  }
  if (data.targets === undefined) {
    throw new ConfigError(`The ${name} data has class labels, but the ${loss.kind} loss needs float targets; use loss 'cross_entropy' for labels, or give targets (e.g. one-hot rows for bce).`);
  }
  const shape = data.targetShape ?? [1];
  const width = shape.reduce((a, b) => a * b, 1);
  if (out !== width || outputShape.length !== 1) {
    throw new ShapeError(`The model's output per sample is ${outText} but the ${name} data's targets are [${shape.join(', ')}] per sample; the ${loss.kind} loss needs a flat output of ${width} value${width === 1 ? '' : 's'} (one per target).`);
  }
}
