/**
 * A saved model's preprocessing in its safetensors metadata (src/io/preprocessing_metadata.ts): numbers and
 * per-feature arrays come back bit for bit, a file without the entries (PyTorch's) says nothing, and a
 * damaged entry is refused with the file's name.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors';
import { NORMALISATION_KEY, PROJECTION_KEY, preprocessingMetadata, readPreprocessing } from '../../src/io/preprocessing_metadata';
import type { Projection } from '../../src/data/projection';

const projection: Projection = { kind: 'pca', features: 3, components: 2, eps: 1e-5, matrix: Float32Array.of(0.1, -0.2, 0.3, 1 / 3, 5e-8, -7), bias: Float32Array.of(0.25, -1e-30), mean: Float32Array.of(1, 2, 3), explainedVariance: 0.875 };

describe('preprocessing in a saved file\'s metadata', () => {
  it('round-trips a scalar normalisation, per-feature statistics and a projection exactly', () => {
    const scalar = { normalisation: { mean: 0, std: 1 }, base: 1 / 255 };
    expect(readPreprocessing(preprocessingMetadata(scalar), 'a')).toEqual({ ...scalar, projection: undefined });
    const perFeature = { normalisation: { mean: Float32Array.of(0.1, 0.2, Math.PI), std: Float32Array.of(1, 1e-3, 7) }, base: 1, projection };
    expect(readPreprocessing(preprocessingMetadata(perFeature), 'b')).toEqual(perFeature);
  });

  it('says nothing for a file without the entries, and refuses damaged ones naming the file', () => {
    expect(readPreprocessing({ format: 'pt' }, 'torch.safetensors')).toBeUndefined();
    const good = preprocessingMetadata({ normalisation: { mean: 0, std: 1 }, base: 1, projection });
    const cases: [Record<string, string>, RegExp][] = [
      [{ [NORMALISATION_KEY]: '{' }, /w\.safetensors: its webgrad\.normalisation metadata is unreadable: not JSON/],
      [{ [NORMALISATION_KEY]: '{"base": 2, "mean": 0, "std": 1}' }, /base is 2, not 1 or 1\/255/],
      [{ [NORMALISATION_KEY]: '{"base": 1, "mean": "@@", "std": 1}' }, /mean is neither a number nor base64 float32 values/],
      [{ [PROJECTION_KEY]: good[PROJECTION_KEY] }, /has a webgrad\.projection but no webgrad\.normalisation/],
      [{ ...good, [PROJECTION_KEY]: good[PROJECTION_KEY].replace('"components":2', '"components":3') }, /matrix holds 6 values, not 9/],
    ];
    for (const [metadata, message] of cases) {
      expect(() => readPreprocessing(metadata, 'w.safetensors')).toThrow(ConfigError);
      expect(() => readPreprocessing(metadata, 'w.safetensors')).toThrow(message);
    }
  });
});
