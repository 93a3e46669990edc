/**
 * A multi-layer perceptron in a few settings (widths, activation, init, norm, dropout): the compact form of
 * the model strings and flags. It expands into an ordinary layer list (src/nn/model.ts), so an MLP trains,
 * saves and loads exactly as any other model, under torch.nn.Sequential's names.
 */
import { ConfigError, preview, ShapeError } from '../errors';
import { activationKinds, BATCH_NORM_MOMENTUM, checkDropoutRate, type ActivationName } from '../graph/ops';
import { resolveInit, type InitName } from './init';
import { activationLayerOf } from './layers/activation';
import type { LayerSpec, ModelSpec } from './model';

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
  // Values may come from JSON or JavaScript callers, so types are checked too, and messages use preview().
  if (!Array.isArray(layers) || layers.length < 2) throw new ShapeError(`An MLP needs at least an input and an output width; got layers ${preview(layers)}.`);
  layers.forEach((w, i) => {
    if (!Number.isSafeInteger(w) || w <= 0) throw new ShapeError(`Layer width ${i} is ${preview(w)}; every width must be a positive integer.`);
  });
  const activation = config.activation ?? 'relu';
  if (typeof activation !== 'string' || !Object.hasOwn(activationKinds, activation)) {
    throw new ConfigError(`Unknown activation ${typeof activation === 'string' ? `'${activation}'` : preview(activation)}. Expected one of: ${Object.keys(activationKinds).join(', ')}.`);
  }
  const alpha = config.alpha ?? (activation === 'elu' ? 1 : 0.01);
  if (typeof alpha !== 'number' || !Number.isFinite(alpha)) throw new ConfigError(`The activation's alpha must be a finite number; got ${preview(alpha)}.`);
  const norm = config.norm ?? 'none';
  if (!normNames.includes(norm)) throw new ConfigError(`Unknown norm ${typeof norm === 'string' ? `'${norm}'` : preview(norm)}. Expected one of: ${normNames.join(', ')}.`);
  const dropout = config.dropout ?? 0;
  checkDropoutRate(dropout);
  const normMomentum = config.normMomentum ?? BATCH_NORM_MOMENTUM;
  if (typeof normMomentum !== 'number' || !(normMomentum >= 0 && normMomentum <= 1)) throw new ConfigError(`The batch-norm momentum must be in [0, 1]; got ${preview(normMomentum)}.`);
  return { layers, activation, alpha, init: resolveInit(config.init ?? 'he_normal'), norm, dropout, normMomentum };
}

/**
 * The MLP as a layer list: Flatten, then per hidden width Linear → [BatchNorm1d | LayerNorm] → activation →
 * [Dropout], then the output Linear. The initialiser is the model-wide default.
 */
export function mlpLayers(config: MlpConfig): ModelSpec {
  const { layers, activation, alpha, init, norm, dropout, normMomentum } = validateMlp(config);
  const list: LayerSpec[] = [{ type: 'Flatten' }];
  const act: LayerSpec = { type: activationLayerOf[activation] };
  if (activation === 'leaky_relu') act.negative_slope = alpha;
  if (activation === 'elu') act.alpha = alpha;
  for (let i = 1; i < layers.length; i++) {
    list.push({ type: 'Linear', in_features: layers[i - 1], out_features: layers[i] });
    if (i === layers.length - 1) break;
    if (norm === 'batch') list.push({ type: 'BatchNorm1d', num_features: layers[i], momentum: normMomentum });
    if (norm === 'layer') list.push({ type: 'LayerNorm', normalized_shape: [layers[i]] });
    list.push({ ...act });
    if (dropout > 0) list.push({ type: 'Dropout', p: dropout });
  }
  return { layers: list, init };
}
