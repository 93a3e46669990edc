/**
 * The forms a model can be given in: a layer list (JSON or code), an object with a layer list and a
 * model-wide initialiser, the compact MLP settings (MlpConfig), or text (a model string such as
 * "784-256-128-10 relu he batch dropout=0.2", or any of the above as JSON).
 */
import { ConfigError } from '../errors';
import { Model, type ModelSpec } from './model';
import { mlpLayers, type MlpConfig } from './mlp';
import { parseModelText } from './model_spec';

export type ModelInput = ModelSpec | MlpConfig | string;

/** Whether `value` is the compact MLP form: { layers: [784, 128, 10], ... }. */
export function isMlpConfig(value: unknown): value is MlpConfig {
  const layers = (value as { layers?: unknown })?.layers;
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Array.isArray(layers) && layers.every((w) => typeof w === 'number');
}

export function toModelSpec(input: ModelInput): ModelSpec {
  if (typeof input === 'string') return parseModelText(input);
  if (isMlpConfig(input)) return mlpLayers(input);
  if (Array.isArray(input) || (typeof input === 'object' && input !== null && Array.isArray((input as { layers?: unknown }).layers))) return input as ModelSpec;
  throw new ConfigError(`A model is a layer list, { layers: [...] }, MLP settings such as { layers: [784, 128, 10] }, or a model string; got ${JSON.stringify(input)}.`);
}

/** The checked model for samples of `inputShape`. */
export function toModel(input: ModelInput, inputShape: readonly number[], defaults: { init?: string } = {}): Model {
  return Model.create(toModelSpec(input), inputShape, defaults);
}
