/**
 * The preprocessing a model was trained with, kept in its saved file's safetensors metadata (strings, so
 * PyTorch's strict `load_state_dict` never sees them; Python reads them with
 * `safe_open(path, 'pt').metadata()`):
 *
 *   webgrad.normalisation  {"base": 1/255 or 1, "mean": …, "std": …}: x = (raw·base − mean) / std, each a
 *                          number or a base64 float32 array with one value per feature
 *   webgrad.projection     PCA or whitening after it (src/data/projection.ts): y = x·matrix + bias
 *
 * A model loaded back with these applies exactly the transform it was trained with.
 */
import { ConfigError } from '../errors';
import type { Normalisation } from '../data/preprocess';
import { decodeProjection, encodeProjection, type Projection } from '../data/projection';
import { floatsFromBase64, floatsToBase64 } from '../util/base64';

export const NORMALISATION_KEY = 'webgrad.normalisation';
export const PROJECTION_KEY = 'webgrad.projection';

export interface SavedPreprocessing {
  normalisation: Normalisation;
  /** 1/255 when the model was trained on bytes, 1 on floats. */
  base: number;
  projection?: Projection;
}

export function preprocessingMetadata(p: SavedPreprocessing): Record<string, string> {
  const value = (v: number | Float32Array) => (typeof v === 'number' ? v : floatsToBase64(v));
  return {
    [NORMALISATION_KEY]: JSON.stringify({ base: p.base, mean: value(p.normalisation.mean), std: value(p.normalisation.std) }),
    ...(p.projection && { [PROJECTION_KEY]: encodeProjection(p.projection) }),
  };
}

/** What a file's metadata says of its preprocessing (undefined when it says nothing: a PyTorch file). */
export function readPreprocessing(metadata: Readonly<Record<string, string>>, file: string): SavedPreprocessing | undefined {
  const text = metadata[NORMALISATION_KEY];
  if (text === undefined) {
    if (metadata[PROJECTION_KEY] !== undefined) throw new ConfigError(`${file}: it has a ${PROJECTION_KEY} but no ${NORMALISATION_KEY} entry in its metadata.`);
    return undefined;
  }
  const fail = (why: string): never => {
    throw new ConfigError(`${file}: its ${NORMALISATION_KEY} metadata is unreadable: ${why}.`);
  };
  let raw: { base?: unknown; mean?: unknown; std?: unknown };
  try {
    raw = JSON.parse(text);
  } catch {
    return fail('not JSON');
  }
  const read = (key: 'mean' | 'std') => {
    const v = raw[key];
    const parsed = typeof v === 'number' ? v : typeof v === 'string' ? floatsFromBase64(v) : undefined;
    if (parsed === undefined) return fail(`${key} is neither a number nor base64 float32 values`);
    return parsed;
  };
  if (raw.base !== 1 && raw.base !== 1 / 255) fail(`base is ${JSON.stringify(raw.base)}, not 1 or 1/255`);
  const projection = metadata[PROJECTION_KEY] === undefined ? undefined : decodeProjection(metadata[PROJECTION_KEY], file);
  return { normalisation: { mean: read('mean'), std: read('std') }, base: raw.base as number, projection };
}
