/**
 * A multi-layer perceptron described as plain data, and the graph that computes its loss on one batch.
 * Dense weights use PyTorch's layout, [out, in] with bias [out], named fc{i}.weight / fc{i}.bias, so a
 * checkpoint loads into torch.nn.Linear as it is. Each hidden layer i is
 *   linear (fc{i}) → norm (bn{i} or ln{i}, optional) → activation → dropout (training only, optional)
 * with batch norm's γ, β as bn{i}.weight / bn{i}.bias and its running statistics as bn{i}.running_mean /
 * bn{i}.running_var (torch.nn.BatchNorm1d's names; layer norm: ln{i}.weight / ln{i}.bias).
 */
import { ConfigError, ShapeError } from '../errors';
import { Graph, type Tensor } from '../graph/graph';
import { activationKinds, BATCH_NORM_MOMENTUM, checkDropoutRate, NORM_EPS, type ActivationName } from '../graph/ops';
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
  /** Normalisation after each hidden linear layer, before its activation (default 'none'). */
  norm?: NormName;
  /** Dropout rate p in [0, 1) after each hidden activation, training only (default 0: none). */
  dropout?: number;
  /** Batch norm: running = (1 − m)·running + m·batch statistic (default 0.1, as PyTorch). */
  normMomentum?: number;
}

export const normNames = ['none', 'batch', 'layer'] as const;
export type NormName = (typeof normNames)[number];

/** An MlpConfig with every default filled in and every name checked. */
export interface ResolvedMlp {
  layers: number[];
  activation: ActivationName;
  alpha: number;
  init: InitName;
  norm: NormName;
  dropout: number;
  normMomentum: number;
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
  const alpha = config.alpha ?? (activation === 'elu' ? 1 : 0.01);
  if (!Number.isFinite(alpha)) throw new ConfigError(`The activation's alpha must be a finite number; got ${alpha}.`);
  const norm = config.norm ?? 'none';
  if (!normNames.includes(norm)) throw new ConfigError(`Unknown norm '${norm}'. Expected one of: ${normNames.join(', ')}.`);
  const dropout = config.dropout ?? 0;
  checkDropoutRate(dropout);
  const normMomentum = config.normMomentum ?? BATCH_NORM_MOMENTUM;
  if (!(normMomentum >= 0 && normMomentum <= 1)) throw new ConfigError(`The batch-norm momentum must be in [0, 1]; got ${normMomentum}.`);
  return { layers, activation, alpha, init: resolveInit(config.init ?? 'he_normal'), norm, dropout, normMomentum };
}

/** The parameters (and, for batch norm, running-statistics buffers) of hidden layer i's norm. */
function normParameters(norm: NormName, i: number, width: number): ParameterSpec[] {
  if (norm === 'none') return [];
  const prefix = norm === 'batch' ? `bn${i}` : `ln${i}`;
  const specs = [
    { name: `${prefix}.weight`, shape: [width], decay: false },
    { name: `${prefix}.bias`, shape: [width], decay: false },
  ];
  // Buffers, not parameters: they get no gradient, so every optimizer leaves them as the forward pass set them.
  if (norm === 'batch') specs.push({ name: `${prefix}.running_mean`, shape: [width], decay: false }, { name: `${prefix}.running_var`, shape: [width], decay: false });
  return specs;
}

export function mlpParameters(config: MlpConfig): ParameterSpec[] {
  const { layers, norm } = validateMlp(config);
  return layers.slice(1).flatMap((out, i) => [
    { name: `fc${i + 1}.weight`, shape: [out, layers[i]], decay: true },
    { name: `fc${i + 1}.bias`, shape: [out], decay: false },
    ...(i + 1 < layers.length - 1 ? normParameters(norm, i + 1, out) : []),
  ]);
}

/**
 * Batch norm cannot train on a batch of one row. Checks the full batches and the last partial one (the
 * trainer trains it, it does not drop it) and suggests batch sizes that avoid a one-row batch.
 */
export function checkTrainingBatches(config: MlpConfig, count: number, batchSize: number): void {
  if (validateMlp(config).norm !== 'batch') return;
  const batch = Math.min(batchSize, count);
  const tail = count % batch;
  if (batch >= 2 && tail !== 1) return;
  const fits = (b: number) => b >= 2 && b <= count && count % b !== 1;
  const suggestions: number[] = [];
  for (let d = 1; suggestions.length < 3 && d <= count; d++) {
    for (const b of [batchSize - d, batchSize + d]) if (fits(b) && suggestions.length < 3) suggestions.push(b);
  }
  const what = batch < 2 ? `a batch size of ${batch}` : `${count} training samples in batches of ${batch}, which leaves a last batch of 1 row`;
  throw new ConfigError(
    `Batch norm needs at least 2 rows in every training batch (a single row has no batch variance), but the run has ${what}. ` +
      (suggestions.length ? `Use a batch size such as ${suggestions.join(', ')}, or layer norm (norm: 'layer').` : `Use layer norm (norm: 'layer') instead.`),
  );
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
  // Norm scales γ and batch norm's running variance start at 1 (shifts β and running means at 0), as in PyTorch.
  for (const slot of arena.slots) {
    if (/^(bn|ln)\d+\.weight$/.test(slot.name) || slot.name.endsWith('.running_var')) data.fill(1, slot.offset, slot.offset + slot.size);
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

/**
 * gather → (matmul + bias → [norm] → activation → [dropout])* → matmul + bias → softmax cross-entropy, for
 * `rows` samples. Evaluation graphs (training = false) have no dropout and normalise with batch norm's
 * running statistics.
 */
export function buildMlpGraph(config: MlpConfig, rows: number, source: BatchSource, training: boolean): MlpGraph {
  const { layers, activation, alpha, norm, dropout, normMomentum } = validateMlp(config);
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
    if (i === layers.length - 1) break;
    if (norm !== 'none') {
      const prefix = norm === 'batch' ? `bn${i}` : `ln${i}`;
      const [gamma, beta] = [g.tensor([layers[i]], 'param', `${prefix}.weight`), g.tensor([layers[i]], 'param', `${prefix}.bias`)];
      if (norm === 'batch') {
        // Running statistics are buffers, not parameters: 'state' tensors, in the state buffer (laid out like
        // the arena until the model has a state layout of its own; the trainer mirrors them into the arena
        // at every epoch end for weights(), checkpoints and snapshots).
        const stats = [g.tensor([layers[i]], 'state', `${prefix}.running_mean`), g.tensor([layers[i]], 'state', `${prefix}.running_var`)];
        [x] = g.add('batch_norm', [x, gamma, beta, ...stats], { training, eps: NORM_EPS, momentum: normMomentum, name: `n${i}` });
      } else {
        [x] = g.add('layer_norm', [x, gamma, beta], { eps: NORM_EPS, name: `n${i}` });
      }
    }
    [x] = g.add('activation', [x], { kind: activation, alpha, name: `h${i}` });
    // Salt i: every layer draws its own mask from the same (seed, step).
    if (training && dropout > 0) [x] = g.add('dropout', [x], { rate: dropout, salt: i, name: `d${i}` });
  }
  x.keep = true;
  const [dlogits] = g.add('softmax_xent', [x, labels, metrics], { training });
  if (augment?.mixup) g.add('mixup_targets', [x, labels, dlogits, metrics]);
  return { graph: g, logits: x, lossNode: g.nodes.length - 1 };
}

/** Slots of the arena that are state (batch norm's running statistics), not trainable parameters. */
export function isStateSlot(name: string): boolean {
  return /\.running_(mean|var)$/.test(name);
}

export { ParameterArena };
