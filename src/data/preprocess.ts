/**
 * Input preprocessing, applied on the GPU by the gather kernel as x = byte·scale + shift. Statistics come
 * from the training split only, so nothing about validation or test data leaks into training.
 *   scale:       x = pixel / 255                    ∈ [0, 1]
 *   standardize: x = (pixel/255 − mean) / std       (mean and std over every training pixel)
 *   minmax:      x = (pixel − min) / (max − min)    ∈ [0, 1] (min and max over the training pixels)
 */
import { ConfigError } from '../errors';
import type { Dataset } from './dataset';
import type { Normalisation } from './gpu_dataset';

export type Preprocessing = 'scale' | 'standardize' | 'minmax' | Normalisation;

export function preprocessing(kind: Preprocessing, train: Dataset): Normalisation {
  if (typeof kind === 'object') {
    const { mean = 0, std = 1 } = kind;
    if (!Number.isFinite(mean) || !(std > 0) || !Number.isFinite(std)) {
      throw new ConfigError(`Normalisation needs a finite mean and a finite std > 0; got mean ${mean}, std ${std}.`);
    }
    return { mean, std };
  }
  const pixels = train.images;
  switch (kind) {
    case 'scale':
      return { mean: 0, std: 1 };
    case 'standardize': {
      let sum = 0;
      let sq = 0;
      for (let i = 0; i < pixels.length; i++) {
        const v = pixels[i] / 255;
        sum += v;
        sq += v * v;
      }
      const mean = sum / pixels.length;
      const std = Math.sqrt(Math.max(sq / pixels.length - mean * mean, 0));
      if (!(std > 0)) throw new ConfigError('Cannot standardise: every training pixel has the same value (std 0).');
      return { mean, std };
    }
    case 'minmax': {
      let min = 255;
      let max = 0;
      for (let i = 0; i < pixels.length; i++) {
        if (pixels[i] < min) min = pixels[i];
        if (pixels[i] > max) max = pixels[i];
      }
      if (max === min) throw new ConfigError('Cannot min-max scale: every training pixel has the same value.');
      return { mean: min / 255, std: (max - min) / 255 };
    }
    default:
      throw new ConfigError(`Unknown preprocessing '${kind}'. Expected scale, standardize or minmax.`);
  }
}
