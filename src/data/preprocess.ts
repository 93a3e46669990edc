/**
 * Input preprocessing, applied on the GPU by the input stage as x = (raw·base − mean) / std, where base is
 * 1/255 for byte inputs (pixels to [0, 1]) and 1 for float inputs. Statistics come from the training split
 * only, so nothing about validation or test data leaks into training.
 *   scale:       x = raw·base                          (pixels in [0, 1]; floats as they are)
 *   standardize: x = (raw·base − mean_f) / std_f       per feature f, over the training samples
 *   minmax:      x = (raw − min_f) / (max_f − min_f)    per feature, into [0, 1]
 *   { mean, std } numbers (or per-feature arrays) given by the caller, in base units.
 * A feature that never varies in the training split keeps std 1 (it is only centred), since dividing by 0
 * would turn it into NaN for any other value.
 */
import { ConfigError } from '../errors';
import { sampleSize, type Dataset } from './dataset';

/** x = (raw·base − mean) / std: one number for every feature, or one per feature. */
export interface Normalisation {
  mean: number | Float32Array;
  std: number | Float32Array;
}

export type Preprocessing = 'scale' | 'standardize' | 'minmax' | { mean?: number | Float32Array; std?: number | Float32Array };

export const preprocessingNames = ['scale', 'standardize', 'minmax'] as const;

/** 1/255 for bytes, 1 for floats: the unit the statistics are in. */
export const baseScale = (x: Dataset['x']) => (x instanceof Uint8Array ? 1 / 255 : 1);

function checkNormalisation(n: Normalisation, features: number): Normalisation {
  for (const [key, v] of [['mean', n.mean], ['std', n.std]] as const) {
    const values = typeof v === 'number' ? [v] : v;
    if (typeof v !== 'number' && !(v instanceof Float32Array)) throw new ConfigError(`Normalisation ${key} must be a number or a Float32Array; got ${typeof v}.`);
    if (typeof v !== 'number' && v.length !== features) throw new ConfigError(`Normalisation ${key} has ${v.length} values for ${features} features.`);
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i]) || (key === 'std' && !(values[i] > 0))) {
        throw new ConfigError(`Normalisation needs a finite mean and a finite std > 0; ${key}${typeof v === 'number' ? '' : `[${i}]`} is ${values[i]}.`);
      }
    }
  }
  return n;
}

export function preprocessing(kind: Preprocessing, train: Dataset): Normalisation {
  const features = sampleSize(train);
  if (typeof kind === 'object' && kind !== null) return checkNormalisation({ mean: kind.mean ?? 0, std: kind.std ?? 1 }, features);
  const base = baseScale(train.x);
  const x = train.x;
  const n = train.count;
  switch (kind) {
    case 'scale':
      return { mean: 0, std: 1 };
    case 'standardize': {
      const sum = new Float64Array(features);
      const sq = new Float64Array(features);
      for (let s = 0; s < n; s++) {
        for (let f = 0; f < features; f++) {
          const v = x[s * features + f] * base;
          sum[f] += v;
          sq[f] += v * v;
        }
      }
      const mean = Float32Array.from(sum, (v) => v / n);
      const std = Float32Array.from(sq, (v, f) => {
        const variance = Math.max(v / n - (sum[f] / n) ** 2, 0);
        const sd = Math.sqrt(variance);
        return sd > 1e-6 * Math.max(1, Math.abs(sum[f] / n)) ? sd : 1;
      });
      return { mean, std };
    }
    case 'minmax': {
      const min = new Float64Array(features).fill(Infinity);
      const max = new Float64Array(features).fill(-Infinity);
      for (let s = 0; s < n; s++) {
        for (let f = 0; f < features; f++) {
          const v = x[s * features + f] * base;
          if (v < min[f]) min[f] = v;
          if (v > max[f]) max[f] = v;
        }
      }
      return { mean: Float32Array.from(min), std: Float32Array.from(max, (v, f) => (v > min[f] ? v - min[f] : 1)) };
    }
    default:
      throw new ConfigError(`Unknown preprocessing '${String(kind)}'. Expected ${preprocessingNames.join(', ')}, or { mean, std }.`);
  }
}

/** The input stage's affine map x = raw·scale + shift, per feature (or one pair for every feature). */
export function inputAffine(n: Normalisation, x: Dataset['x'], features: number): { scale: number; shift: number } | { scale: Float32Array; shift: Float32Array } {
  const base = baseScale(x);
  if (typeof n.mean === 'number' && typeof n.std === 'number') return { scale: base / n.std, shift: -n.mean / n.std };
  const at = (v: number | Float32Array, f: number) => (typeof v === 'number' ? v : v[f]);
  return {
    scale: Float32Array.from({ length: features }, (_, f) => base / at(n.std, f)),
    shift: Float32Array.from({ length: features }, (_, f) => -at(n.mean, f) / at(n.std, f)),
  };
}
