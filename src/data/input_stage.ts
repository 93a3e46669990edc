/**
 * The input stage of a step graph: a batch's inputs gathered from the GPU-resident dataset and
 * preprocessed (and, in training, augmented and mixed up), shaped as the model takes them, with the batch's
 * labels or targets.
 *
 *   gather(perm, step, [affine], chunks…) → [mixup] → reshape to [rows, ...sampleShape]
 *   gather_rows(labels | targets, perm, step)
 */
import type { Graph, Tensor } from '../graph/graph';
import type { BatchSource } from './gpu_dataset';

export interface InputStage {
  /** [rows, ...sampleShape]. */
  x: Tensor;
  /** u32 [rows] class labels, or f32 [rows, T] targets. */
  labels?: Tensor;
  targets?: Tensor;
}

export function buildInputStage(g: Graph, source: BatchSource, rows: number, training: boolean, step: Tensor, shape: readonly number[] = source.sampleShape): InputStage {
  const words = (bytes: number) => Math.max(1, Math.ceil(bytes / 4));
  const valueBytes = source.float ? 4 : 1;
  const perm = g.external(source.perm, [source.count], 'u32');
  const chunks = source.chunks.map((handle, c) => {
    const samples = Math.min(source.samplesPerChunk, source.count - c * source.samplesPerChunk);
    return g.external(handle, [words(samples * source.features * valueBytes)], 'u32');
  });
  const affine = source.affine ? [g.external(source.affine, [2 * source.features])] : [];
  const augment = training ? source.augment : undefined;
  let [x] = g.add('gather', [perm, step, ...affine, ...chunks], {
    rows,
    features: source.features,
    float: source.float,
    samplesPerChunk: source.samplesPerChunk,
    perFeature: affine.length > 0,
    scale: source.scale,
    shift: source.shift,
    width: source.width,
    height: source.height,
    maxShift: augment?.maxShift,
    maxRotate: augment?.maxRotate === undefined ? undefined : (augment.maxRotate * Math.PI) / 180,
    noiseStd: augment?.noiseStd,
  });
  if (augment?.mixup) [x] = g.add('mixup_inputs', [x, step]);
  if (shape.length !== 1) [x] = g.add('reshape', [x], { shape: [rows, ...shape].join(','), name: 'x.nchw' });
  if (source.labels) {
    const all = g.external(source.labels, [source.count], 'u32');
    return { x, labels: g.add('gather_rows', [all, perm, step], { rows, width: 1, dtype: 'u32' })[0] };
  }
  const width = (source.targetShape ?? [1]).reduce((a, b) => a * b, 1);
  const all = g.external(source.targets!, [source.count * width]);
  return { x, targets: g.add('gather_rows', [all, perm, step], { rows, width, dtype: 'f32' })[0] };
}
