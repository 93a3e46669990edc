/**
 * Model descriptions as text: a compact one-liner for flags and demos, or the MlpConfig as JSON.
 *
 *   model    := widths setting*                      e.g.  784-256-128-10 relu he batch dropout=0.2
 *   widths   := INT ('-' INT)+                        input, hidden..., output
 *   setting  := ACTIVATION | INIT | NORM             a bare name: relu, tanh, ...; he, xavier_uniform, ...;
 *                                                    batch, layer, none (also batchnorm, layernorm, bn, ln)
 *             | KEY '=' VALUE                        activation=, init=, norm=, dropout=P, alpha=X,
 *                                                    norm_momentum=M
 *
 * Settings are separated by spaces, may come in any order, and each may appear once. Anything else is a
 * ConfigError that names the word and lists what is accepted. `formatModel` writes the same grammar, so
 * parseModel(formatModel(m)) gives m back.
 */
import { ConfigError, preview } from '../errors';
import { activationKinds, BATCH_NORM_MOMENTUM } from '../graph/ops';
import { initNames, resolveInit } from './init';
import { mlpLayers, normNames, validateMlp, type MlpConfig, type NormName, type ResolvedMlp } from './mlp';
import type { ModelSpec } from './model';

const normAliases: Record<string, NormName> = { batch: 'batch', batchnorm: 'batch', bn: 'batch', layer: 'layer', layernorm: 'layer', ln: 'layer', none: 'none' };
const initAliases = ['he', 'kaiming', 'xavier', 'glorot', 'lecun'];
const jsonKeys: readonly (keyof MlpConfig)[] = ['layers', 'activation', 'alpha', 'init', 'norm', 'dropout', 'normMomentum'];

type Setting = 'activation' | 'init' | 'norm' | 'dropout' | 'alpha' | 'normMomentum';
const keyNames: Record<string, Setting> = {
  activation: 'activation',
  init: 'init',
  norm: 'norm',
  dropout: 'dropout',
  alpha: 'alpha',
  norm_momentum: 'normMomentum',
};

function isInit(word: string): boolean {
  try {
    resolveInit(word);
    return true;
  } catch {
    return false;
  }
}

function numberValue(key: string, text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) throw new ConfigError(`Model setting ${key}=${text}: expected a number.`);
  return value;
}

function parseWidths(word: string): number[] {
  const widths = word.split('-').map((w) => (/^\d+$/.test(w) ? Number(w) : NaN));
  if (widths.length < 2 || widths.some((w) => !Number.isSafeInteger(w) || w <= 0)) {
    throw new ConfigError(`Model widths '${word}': expected positive integers joined by '-', input first and output last, e.g. 784-128-10.`);
  }
  return widths;
}

function parseCompact(text: string): MlpConfig {
  const words = text.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) throw new ConfigError('The model description is empty; expected e.g. "784-256-128-10 relu he batch dropout=0.2".');
  const config: MlpConfig = { layers: parseWidths(words[0]) };
  const set = (key: Setting, value: string | number, word: string) => {
    if (config[key] !== undefined) throw new ConfigError(`Model setting '${word}': the ${key} is already set (to ${config[key]}).`);
    (config as unknown as Record<string, unknown>)[key] = value;
  };
  for (const word of words.slice(1)) {
    const eq = word.indexOf('=');
    if (eq >= 0) {
      const [key, value] = [word.slice(0, eq), word.slice(eq + 1)];
      const setting = Object.hasOwn(keyNames, key) ? keyNames[key] : undefined;
      if (!setting) throw new ConfigError(`Unknown model setting '${key}' in '${word}'. Expected one of: ${Object.keys(keyNames).map((k) => `${k}=`).join(', ')}.`);
      if (setting === 'norm') {
        if (!Object.hasOwn(normAliases, value)) throw new ConfigError(`Unknown norm '${value}'. Expected one of: ${Object.keys(normAliases).join(', ')}.`);
        set('norm', normAliases[value], word);
      } else if (setting === 'activation' || setting === 'init') {
        set(setting, value, word);
      } else {
        set(setting, numberValue(key, value), word);
      }
    } else if (Object.hasOwn(activationKinds, word)) {
      set('activation', word, word);
    } else if (Object.hasOwn(normAliases, word)) {
      set('norm', normAliases[word], word);
    } else if (isInit(word)) {
      set('init', word, word);
    } else if (/^\d+(-\d+)+$/.test(word)) {
      throw new ConfigError(`Model description: the widths are given twice ('${words[0]}' and '${word}').`);
    } else {
      throw new ConfigError(
        `Unknown word '${word}' in the model description. Expected widths first (784-128-10), then any of: ` +
          `an activation (${Object.keys(activationKinds).join(', ')}), an initialiser (${[...initNames, ...initAliases].join(', ')}), ` +
          `a norm (${normNames.join(', ')}), dropout=P, alpha=X, norm_momentum=M.`,
      );
    }
  }
  return config;
}

/** The JSON type each MlpConfig key must have; validateMlp then checks the values. */
const jsonTypes: Record<keyof MlpConfig, 'widths' | 'string' | 'number'> = {
  layers: 'widths',
  activation: 'string',
  alpha: 'number',
  init: 'string',
  norm: 'string',
  dropout: 'number',
  normMomentum: 'number',
};

function parseJson(text: string): MlpConfig {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`The model description is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigError('A JSON model description must be an object such as {"layers": [784, 128, 10]}.');
  for (const [key, field] of Object.entries(value)) {
    if (!(jsonKeys as readonly string[]).includes(key)) throw new ConfigError(`Unknown model key '${key}'. Expected: ${jsonKeys.join(', ')}.`);
    const type = jsonTypes[key as keyof MlpConfig];
    const ok = type === 'widths' ? Array.isArray(field) && field.every((w) => typeof w === 'number') : typeof field === type;
    if (!ok) {
      const expected = type === 'widths' ? 'an array of widths such as [784, 128, 10]' : `a ${type}`;
      throw new ConfigError(`Model key '${key}' must be ${expected}; got ${preview(field)}.`);
    }
  }
  return value as MlpConfig;
}

/** Parses a compact model string or an MlpConfig in JSON, and validates it (ConfigError / ShapeError). */
export function parseModel(text: string): ResolvedMlp {
  const trimmed = text.trim();
  return validateMlp(trimmed.startsWith('{') ? parseJson(trimmed) : parseCompact(trimmed));
}

/**
 * Any model as text: a compact MLP string, a JSON layer list ([{"type": "Conv2d", ...}, ...]), a JSON object
 * {"layers": [...layer objects], "init": "he_normal"}, or MlpConfig JSON ({"layers": [784, 128, 10]}).
 * The layer list itself is checked when the model is built against the data's shape.
 */
export function parseModelText(text: string): ModelSpec {
  const trimmed = text.trim();
  if (!trimmed.startsWith('[') && !trimmed.startsWith('{')) return mlpLayers(parseCompact(trimmed));
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch (error) {
    throw new ConfigError(`The model description is not valid JSON: ${(error as Error).message}`);
  }
  if (Array.isArray(value)) return value as ModelSpec;
  if (typeof value === 'object' && value !== null && Array.isArray((value as { layers?: unknown }).layers)) {
    const layers = (value as { layers: unknown[] }).layers;
    if (layers.every((w) => typeof w === 'number')) return mlpLayers(parseJson(trimmed));
    for (const key of Object.keys(value)) {
      if (key !== 'layers' && key !== 'init') throw new ConfigError(`Unknown model key '${key}'. A model object has 'layers' (a list of layer objects) and optionally 'init'.`);
    }
    return value as ModelSpec;
  }
  throw new ConfigError('A JSON model is a list of layers such as [{"type": "Linear", "in_features": 784, "out_features": 10}], or {"layers": [...]}.');
}

/** The compact form of a model (only settings that differ from the defaults, except activation and init). */
export function formatModel(config: MlpConfig): string {
  const m = validateMlp(config);
  const defaultAlpha = m.activation === 'elu' ? 1 : 0.01;
  const words = [m.layers.join('-'), m.activation, m.init];
  if (m.alpha !== defaultAlpha && (m.activation === 'leaky_relu' || m.activation === 'elu')) words.push(`alpha=${m.alpha}`);
  if (m.norm !== 'none') words.push(m.norm);
  if (m.norm === 'batch' && m.normMomentum !== BATCH_NORM_MOMENTUM) words.push(`norm_momentum=${m.normMomentum}`);
  if (m.dropout > 0) words.push(`dropout=${m.dropout}`);
  return words.join(' ');
}
