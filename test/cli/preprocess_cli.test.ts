// `npm run train -- --preprocess pca=K`, in process on the real adapter: the projection is fitted on the
// training split, the model takes K inputs, and --save keeps the fitted transform in the file's metadata,
// so a run from --weights with --epochs 0 applies the same transform and scores exactly the same.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/train';
import { decodeSafetensors } from '../../src/io/safetensors';
import { readPreprocessing } from '../../src/io/preprocessing_metadata';
import { runInProcess, temporaryFolder } from '../helpers/cli';

describe('train: --preprocess pca=K, saved with the weights', () => {
  it('fits PCA, trains on 20 components, saves the transform, and --weights --epochs 0 scores the same', async () => {
    const file = join(temporaryFolder('pca'), 'pca.safetensors');
    const common = ['--layers', '20-16-10', '--subset', '600', '--batch-size', '100', '--json'];
    const run = await runInProcess('train', main, [...common, '--preprocess', 'standardize,pca=20', '--epochs', '2', '--save', file]);
    expect(run.err.filter(Boolean)).toEqual([]);
    expect(run.status).toBe(0);
    const lines = run.out.filter(Boolean).map((l) => JSON.parse(l));
    const trained = lines.at(-1).testAccuracy;
    expect(trained).toBeGreaterThan(0.6);
    const saved = readPreprocessing(decodeSafetensors(new Uint8Array(readFileSync(file)), file).metadata, file)!;
    expect(saved.projection!.kind).toBe('pca');
    expect(saved.projection!.matrix.length).toBe(784 * 20);
    expect(saved.normalisation.std).toBeInstanceOf(Float32Array);
    const again = await runInProcess('train', main, [...common, '--weights', file, '--epochs', '0']);
    expect(again.err.filter(Boolean)).toEqual([]);
    expect(again.status).toBe(0);
    expect(JSON.parse(again.out.filter(Boolean).at(-1)!).testAccuracy).toBe(trained);
  }, 240_000);
});
