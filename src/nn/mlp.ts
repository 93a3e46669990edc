/**
 * A multi-layer perceptron described as plain data, and the graph that computes its loss on one batch.
 * Dense weights use PyTorch's layout, [out, in] with bias [out], named fc{i}.weight / fc{i}.bias, so a
 * checkpoint loads into torch.nn.Linear as it is.
 */
import { ConfigError, ShapeError } from '../errors';
import { Graph, type Tensor } from '../graph/graph';
import { activationKinds, type ActivationName } from '../graph/ops';
import { Rng } from '../data/rng';
import { breaksSymmetry, initWeight, resolveInit, type InitName } from './init';
import { ParameterArena, type ParameterSpec } from './parameters';

export interface MlpConfig {
  /** Widths from input to output, e.g. [784, 128, 64, 10]. */
  layers: number[];
  activation?: ActivationName;
  /** Slope for leaky_relu, saturation for elu. */
  alpha?: number;
  init?: string;
}

/** An MlpConfig with every default filled in and every name checked. */
export interface ResolvedMlp {
  layers: number[];
  activation: ActivationName;
  alpha: number;
  init: InitName;
}

export function validateMlp(config: MlpConfig): ResolvedMlp {
  const { layers } = config;
  if (!Array.isArray(layers) || layers.length < 2) throw new ShapeError(`An MLP needs at least an input and an output width; got layers [${layers}].`);
  layers.forEach((w, i) => {
    if (!Number.isInteger(w) || w <= 0) throw new ShapeError(`Layer width ${i} is ${w}; every width must be a positive integer.`);
  });
  const activation = config.activation ?? 'relu';
  if (!(activation in activationKinds)) {
    throw new ConfigError(`Unknown activation '${activation}'. Expected one of: ${Object.keys(activationKinds).join(', ')}.`);
  }
  return { layers, activation, alpha: config.alpha ?? (activation === 'elu' ? 1 : 0.01), init: resolveInit(config.init ?? 'he_normal') };
}

export function mlpParameters(config: MlpConfig): ParameterSpec[] {
  const { layers } = validateMlp(config);
  return layers.slice(1).flatMap((out, i) => [
    { name: `fc${i + 1}.weight`, shape: [out, layers[i]], decay: true },
    { name: `fc${i + 1}.bias`, shape: [out], decay: false },
  ]);
}

/** Initial arena contents: weights from the initialiser, biases zero. Warns when symmetry can't break. */
export function initialParameters(config: MlpConfig, arena: ParameterArena, seed: number, warn: (message: string) => void = console.warn): Float32Array {
  const { layers, init } = validateMlp(config);
  if (!breaksSymmetry(init) && layers.length > 2) {
    warn(`Initialiser '${init}' gives every hidden unit identical weights: they get identical gradients and never become different (symmetry is not broken). Use he_normal or xavier_normal.`);
  }
  const data = new Float32Array(arena.totalFloats);
  const rng = new Rng(seed);
  for (let i = 1; i < layers.length; i++) {
    const slot = arena.slot(`fc${i}.weight`);
    data.set(initWeight(init, layers[i], layers[i - 1], rng), slot.offset);
  }
  return data;
}

export interface BatchSource {
  /** Prefix of the external dataset buffers: `${name}.images`, `.labels`, `.perm`, `.metrics`. */
  name: string;
  /** Samples in the dataset (sizes the external tensors). */
  count: number;
  features: number;
  /** x = byte · scale + shift. */
  scale: number;
  shift: number;
  /** Image size, for augmentation's warps. */
  width: number;
  height: number;
  /** Random shifts, rotations and noise, applied by the gather kernel in training graphs only. */
  augment?: Augmentation;
}

export interface Augmentation {
  /** Largest shift in pixels, each axis. */
  maxShift?: number;
  /** Largest rotation in degrees, either way. */
  maxRotate?: number;
  /** Standard deviation of Gaussian noise added to the (preprocessed) inputs. */
  noiseStd?: number;
  /** Mixup's α: λ ~ Beta(α, α) per step (0 or undefined: off). */
  mixup?: number;
}

export interface MlpGraph {
  graph: Graph;
  logits: Tensor;
  lossNode: number;
}

/** gather → (matmul + bias → activation)* → matmul + bias → softmax cross-entropy, for `rows` samples. */
export function buildMlpGraph(config: MlpConfig, rows: number, source: BatchSource, training: boolean): MlpGraph {
  const { layers, activation, alpha } = validateMlp(config);
  if (source.features !== layers[0]) {
    throw new ShapeError(`The model's input width is ${layers[0]} but the data has ${source.features} features per sample.`);
  }
  const g = new Graph();
  const images = g.tensor([Math.ceil((source.count * source.features) / 4)], 'external', `${source.name}.images`, 'u32');
  const allLabels = g.tensor([Math.ceil(source.count / 4)], 'external', `${source.name}.labels`, 'u32');
  const perm = g.tensor([source.count], 'external', `${source.name}.perm`, 'u32');
  const metrics = g.tensor([4], 'external', `${source.name}.metrics`);
  const augment = training ? source.augment : undefined;
  let [x, labels] = g.add('gather', [images, allLabels, perm], {
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
  if (augment?.mixup) [x] = g.add('mixup_inputs', [x]);

  for (let i = 1; i < layers.length; i++) {
    const weight = g.tensor([layers[i], layers[i - 1]], 'param', `fc${i}.weight`);
    const bias = g.tensor([layers[i]], 'param', `fc${i}.bias`);
    [x] = g.add('matmul', [x, weight, bias], { transB: true, name: `z${i}` });
    if (i < layers.length - 1) [x] = g.add('activation', [x], { kind: activation, alpha, name: `h${i}` });
  }
  x.keep = true;
  const [dlogits] = g.add('softmax_xent', [x, labels, metrics], { training });
  if (augment?.mixup) g.add('mixup_targets', [x, labels, dlogits, metrics]);
  return { graph: g, logits: x, lossNode: g.nodes.length - 1 };
}

export { ParameterArena };
