/**
 * The input stage of a step graph: a batch's inputs gathered from the GPU-resident dataset and
 * preprocessed (and, in training, augmented and mixed up), shaped as the model takes them, with the batch's
 * labels or targets.
 *
 *   gather(perm, step, side, chunks…) → x, labels | targets;   x → [x·W + b] → [mixup] → reshape to [rows, ...shape]
 * (x·W + b: PCA or whitening, src/data/projection.ts).
 * One dispatch builds both (shaders/gather.wgsl reads the labels or targets from the dataset's side table).
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
  const side = g.external(source.side, [source.rowsOffset + source.count * source.rowWidth], 'u32');
  const augment = training ? source.augment : undefined;
  let [x, rowsOut] = g.add('gather', [perm, step, side, ...chunks], {
    rows,
    features: source.features,
    float: source.float,
    samplesPerChunk: source.samplesPerChunk,
    perFeature: source.perFeature,
    rowsOffset: source.rowsOffset,
    rowWidth: source.rowWidth,
    rowKind: source.rowKind,
    scale: source.scale,
    shift: source.shift,
    width: source.width,
    height: source.height,
    maxShift: augment?.maxShift,
    maxRotate: augment?.maxRotate === undefined ? undefined : (augment.maxRotate * Math.PI) / 180,
    noiseStd: augment?.noiseStd,
  });
  if (source.projection) {
    const { matrix, bias, components } = source.projection;
    [x] = g.add('matmul', [x, g.external(matrix, [source.features, components]), g.external(bias, [components])], { name: 'x.projected' });
  }
  if (augment?.mixup) [x] = g.add('mixup_inputs', [x, step]);
  if (shape.length !== 1) [x] = g.add('reshape', [x], { shape: [rows, ...shape].join(','), name: 'x.nchw' });
  return source.rowKind === 'labels' ? { x, labels: rowsOut } : { x, targets: rowsOut };
}
