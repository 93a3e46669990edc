/**
 * `--preprocess LIST`: how inputs are scaled (scale, standardize or minmax, src/data/preprocess.ts), then
 * optionally a projection fitted on the training split (src/data/projection.ts): `pca=50`, `pca-whiten=50`,
 * `zca` or `zca=EPS` (ε of the whitening). Joined by a comma: `standardize,pca=50`. Without the flag, a run
 * from --weights uses the preprocessing saved in that file's metadata (src/io/preprocessing_metadata.ts).
 */
import { ConfigError } from '../errors';
import { sampleSize, type Dataset } from '../data/dataset';
import { baseScale, preprocessingNames, type Preprocessing } from '../data/preprocess';
import { checkFittedProjection, checkProjectionSpec, projectionKinds, type Projection, type ProjectionSpec } from '../data/projection';
import type { SavedPreprocessing } from '../io/preprocessing_metadata';
import { flagError, InvalidValue, nearest, readNumber } from './flags';

export const PREPROCESS_EXPECTED = `${preprocessingNames.join(', ')}, optionally followed by pca=K, pca-whiten=K or zca[=EPS], e.g. standardize,pca=50`;

export function parsePreprocess(text: string): { scaling: Preprocessing; projection?: ProjectionSpec } {
  let scaling: (typeof preprocessingNames)[number] | undefined;
  let projection: ProjectionSpec | undefined;
  for (const part of text.split(',')) {
    const [name, value, extra] = part.split('=');
    if ((preprocessingNames as readonly string[]).includes(name)) {
      if (value !== undefined) throw new InvalidValue(`${name} takes no value`);
      if (scaling) throw new InvalidValue(`two scalings (${scaling} and ${name}); choose one`);
      scaling = name as (typeof preprocessingNames)[number];
    } else if ((projectionKinds as readonly string[]).includes(name)) {
      if (projection) throw new InvalidValue(`two projections (${projection.kind} and ${name}); choose one`);
      if (extra !== undefined) throw new InvalidValue(`'${part}' has two '='`);
      const kind = name as ProjectionSpec['kind'];
      if (kind !== 'zca' && value === undefined) throw new InvalidValue(`${kind} needs its number of components, e.g. ${kind}=50`);
      let number: number | undefined;
      try {
        number = value === undefined ? undefined : readNumber(value);
      } catch {
        throw new InvalidValue(`'${value}' in ${part} is not a number`);
      }
      if (kind !== 'zca' && !(Number.isInteger(number) && number! >= 1)) throw new InvalidValue(`${kind}=${value}: the number of components must be a whole number ≥ 1`);
      if (kind === 'zca' && number !== undefined && !(number >= 0 && Number.isFinite(number))) throw new InvalidValue(`zca=${value}: ε must be a finite number ≥ 0`);
      projection = kind === 'zca' ? { kind, eps: number } : { kind, components: number };
    } else {
      const guess = nearest(name, [...preprocessingNames, ...projectionKinds]);
      throw new InvalidValue(`unknown step '${name}'${guess ? `; did you mean ${guess}?` : ''}`);
    }
  }
  return { scaling: scaling ?? 'scale', projection };
}

/**
 * The run's preprocessing: --preprocess's, else (starting from --weights) the saved file's, else scale;
 * checked against the data. Returns the model's input shape too: [components] after PCA.
 */
export function resolvePreprocessing(
  flag: ReturnType<typeof parsePreprocess> | undefined,
  saved: SavedPreprocessing | undefined,
  train: Dataset,
): { scaling: Preprocessing; projection?: ProjectionSpec | Projection; inputShape: number[] } {
  const features = sampleSize(train);
  let scaling: Preprocessing = flag?.scaling ?? 'scale';
  let projection: ProjectionSpec | Projection | undefined = flag?.projection;
  let components = features;
  if (flag?.projection) {
    try {
      components = checkProjectionSpec(flag.projection, features);
    } catch (error) {
      if (error instanceof ConfigError) throw flagError('preprocess', { expected: PREPROCESS_EXPECTED }, undefined, error.message);
      throw error;
    }
  } else if (!flag && saved) {
    if (saved.base !== baseScale(train.x)) throw new ConfigError(`The --weights file was trained on ${saved.base === 1 ? 'float' : 'byte'} inputs; this data's are ${train.x instanceof Float32Array ? 'float32' : 'bytes'}.`);
    scaling = saved.normalisation;
    projection = saved.projection;
    if (saved.projection) components = checkFittedProjection(saved.projection, features);
  }
  const inputShape = projection && projection.kind !== 'zca' ? [components] : [...train.sampleShape];
  return { scaling, projection, inputShape };
}
