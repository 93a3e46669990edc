/**
 * A dataset uploaded once to the GPU: its inputs (bytes packed four to a u32, or float32), split by samples
 * over up to four buffers when it is larger than one storage binding; a side table with the per-feature
 * preprocessing (when there is one) and the labels (u32) or targets (f32); a buffer for the epoch's sample
 * order; and the metrics
 * its batches accumulate. Batches are gathered on the GPU (src/data/input_stage.ts).
 */
import { ConfigError } from '../errors';
import type { GpuResources } from '../gpu/resources';
import { externalBuffer, type ExternalBuffer } from '../graph/graph';
import { imageSize, sampleSize, targetSize, type Dataset } from './dataset';
import { inputAffine, type Normalisation } from './preprocess';
import { METRICS_FLOATS } from '../train/loss';

export type { Normalisation } from './preprocess';

export interface Augmentation {
  /** Largest shift in pixels, each axis. */
  maxShift?: number;
  /** Largest rotation in degrees, either way. */
  maxRotate?: number;
  /** Standard deviation of Gaussian noise added to the (preprocessed) inputs. */
  noiseStd?: number;
  /** Mixup's α: λ ~ Beta(α, α) per step (0 or undefined: off). */
  mixup?: number;
}

/** What the input stage of a step graph needs to know about a GPU-resident dataset. */
export interface BatchSource {
  /** The dataset's name ('train', 'test', ...): labels its buffers and plans. */
  name: string;
  count: number;
  /** Values per sample, and one sample's shape (NCHW without N: [1, 28, 28] for MNIST). */
  features: number;
  sampleShape: number[];
  /** Float32 inputs (else bytes). */
  float: boolean;
  /** The inputs, `samplesPerChunk` samples a buffer. */
  chunks: ExternalBuffer[];
  samplesPerChunk: number;
  /** x = raw·scale + shift: one pair, or (perFeature) one per feature at the start of `side`. */
  scale: number;
  shift: number;
  perFeature: boolean;
  /**
   * The dataset's small tables in one buffer (so the gather kernel keeps to eight storage bindings): the
   * per-feature affine map ([scale_0..scale_F−1, shift_0..shift_F−1] as f32) when perFeature, then from word
   * `rowsOffset` each sample's class label (u32, rowWidth 1) or float targets (rowWidth values).
   */
  side: ExternalBuffer;
  rowsOffset: number;
  rowWidth: number;
  rowKind: 'labels' | 'targets';
  numClasses?: number;
  targetShape?: number[];
  /** Weighted cross-entropy's class weights [numClasses] (src/train/loss.ts). */
  classWeights?: ExternalBuffer;
  /** Image size, for augmentation's warps. */
  width: number;
  height: number;
  /** Random shifts, rotations and noise, applied by the input stage in training graphs only. */
  augment?: Augmentation;
  /** PCA or whitening after preprocessing (src/data/projection.ts): x·matrix + bias, [features, components]. */
  projection?: ProjectionBuffers;
  /** The epoch's order of samples, and the metrics accumulator (METRICS_FLOATS values, src/train/loss.ts). */
  perm: ExternalBuffer;
  metrics: ExternalBuffer;
}

export interface GpuDatasetOptions {
  augment?: Augmentation;
  /** Largest buffer for the inputs (default: the adapter's maxStorageBufferBindingSize); tests make it small. */
  maxChunkBytes?: number;
  /** Weighted cross-entropy's class weights, uploaded with the dataset for its batches' loss. */
  classWeights?: Float32Array;
  /** The projection's buffers (owned by the trainer, shared by its datasets). */
  projection?: ProjectionBuffers;
}

/** Where a fitted projection lives on the GPU: the matrix [features, components] and the bias [components]. */
export interface ProjectionBuffers {
  matrix: ExternalBuffer;
  bias: ExternalBuffer;
  components: number;
}

const MAX_CHUNKS = 4;

function asWords(bytes: Uint8Array): Uint8Array {
  if (bytes.byteLength % 4 === 0 && bytes.byteOffset % 4 === 0) return bytes;
  const out = new Uint8Array(Math.ceil(bytes.byteLength / 4) * 4);
  out.set(bytes);
  return out;
}

/**
 * How a dataset's inputs are split over buffers: as many samples a buffer as the adapter binds (or
 * `maxChunkBytes`), at most MAX_CHUNKS buffers. Throws a ConfigError naming the sizes when they do not fit,
 * so callers can check before any GPU work.
 */
export function chunking(limits: Pick<GPUSupportedLimits, 'maxStorageBufferBindingSize' | 'maxBufferSize'>, name: string, data: Dataset, maxChunkBytes?: number): { samplesPerChunk: number; chunkCount: number } {
  if (maxChunkBytes !== undefined && !(maxChunkBytes >= 4 && Number.isFinite(maxChunkBytes))) {
    throw new ConfigError(`The largest data buffer must be a finite number of bytes ≥ 4; got ${maxChunkBytes}.`);
  }
  const sampleBytes = sampleSize(data) * (data.x instanceof Float32Array ? 4 : 1);
  const maxBytes = Math.min(maxChunkBytes ?? Infinity, limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  const samplesPerChunk = Math.min(data.count, Math.floor(maxBytes / sampleBytes));
  const chunkCount = Math.ceil(data.count / Math.max(1, samplesPerChunk));
  if (samplesPerChunk < 1 || chunkCount > MAX_CHUNKS) {
    throw new ConfigError(
      `Dataset '${name}' has ${data.count * sampleBytes} bytes of inputs; this adapter binds at most ${maxBytes} bytes a buffer and the input stage reads ${MAX_CHUNKS} buffers (${MAX_CHUNKS * maxBytes} bytes). Use a subset, or bytes instead of float32 inputs.`,
    );
  }
  return { samplesPerChunk, chunkCount };
}

export class GpuDataset {
  /** The GPU buffer of each of the source's handles. */
  readonly buffers = new Map<ExternalBuffer, GPUBuffer>();
  readonly source: BatchSource;

  constructor(
    private readonly resources: GpuResources,
    readonly name: string,
    readonly data: Dataset,
    normalisation: Normalisation = { mean: 0, std: 1 },
    options: GpuDatasetOptions = {},
  ) {
    if (data.count < 1) throw new ConfigError(`Dataset '${name}' is empty.`);
    const augment = options.augment;
    if (augment) {
      for (const [key, value] of Object.entries(augment)) {
        if (value !== undefined && !(value >= 0 && Number.isFinite(value))) throw new ConfigError(`Augmentation ${key} must be a finite number ≥ 0; got ${value}.`);
      }
    }
    const features = sampleSize(data);
    const float = data.x instanceof Float32Array;
    const { samplesPerChunk, chunkCount } = chunking(resources.device.limits, name, data, options.maxChunkBytes);
    const size = imageSize(data);
    if (augment && (augment.maxShift || augment.maxRotate || augment.noiseStd)) {
      if (float || !size || (data.sampleShape.length === 3 && data.sampleShape[0] !== 1) || chunkCount > 1) {
        throw new ConfigError(`Augmentation (shifts, rotations, noise) works on single-channel byte images [1, H, W] that fit one buffer; '${name}' has ${float ? 'float' : 'byte'} samples of shape [${data.sampleShape.join(', ')}]${chunkCount > 1 ? ` in ${chunkCount} buffers` : ''}.`);
      }
    }
    const add = (key: string, bytes: ArrayBufferView) => {
      const handle = externalBuffer(`${name}.${key}`, Math.max(4, bytes.byteLength));
      this.buffers.set(handle, this.resources.createStorage(handle.name, bytes.byteLength ? bytes : new Uint32Array(1)));
      return handle;
    };
    try {
      const chunks = Array.from({ length: chunkCount }, (_, c) => {
        const part = data.x.subarray(c * samplesPerChunk * features, Math.min(data.count, (c + 1) * samplesPerChunk) * features);
        return add(`x${c}`, part instanceof Uint8Array ? asWords(part) : part);
      });
      const affine = inputAffine(normalisation, data.x, features);
      const perFeature = typeof affine.scale !== 'number';
      if (!data.labels && !data.targets) throw new ConfigError(`Dataset '${name}' has neither labels nor targets.`);
      // The side table: the per-feature affine map (f32), then the labels (u32) or targets (f32), one buffer.
      const affineWords = perFeature ? 2 * features : 0;
      const rowWidth = data.labels ? 1 : targetSize(data);
      const side = new Uint32Array(affineWords + data.count * rowWidth);
      if (perFeature) side.set(new Uint32Array(Float32Array.of(...(affine.scale as Float32Array), ...(affine.shift as Float32Array)).buffer));
      if (data.labels) side.set(data.labels, affineWords);
      else side.set(new Uint32Array(data.targets!.buffer, data.targets!.byteOffset, data.targets!.length), affineWords);
      this.source = {
        name,
        count: data.count,
        features,
        sampleShape: [...data.sampleShape],
        float,
        chunks,
        samplesPerChunk,
        scale: perFeature ? 1 : (affine.scale as number),
        shift: perFeature ? 0 : (affine.shift as number),
        perFeature,
        side: add('side', side),
        rowsOffset: affineWords,
        rowWidth,
        rowKind: data.labels ? 'labels' : 'targets',
        numClasses: data.numClasses,
        targetShape: data.targets ? [...(data.targetShape ?? [targetSize(data)])] : undefined,
        width: size?.width ?? features,
        height: size?.height ?? 1,
        augment,
        projection: options.projection,
        perm: add('perm', Uint32Array.from({ length: data.count }, (_, i) => i)),
        classWeights: options.classWeights ? add('class_weights', options.classWeights) : undefined,
        metrics: add('metrics', new Float32Array(METRICS_FLOATS)),
      };
    } catch (error) {
      this.destroy();
      throw error;
    }
  }

  get perm(): GPUBuffer {
    return this.buffers.get(this.source.perm)!;
  }

  get metrics(): GPUBuffer {
    return this.buffers.get(this.source.metrics)!;
  }

  /** The first input buffer (a predictor writes its samples there). */
  get inputs(): GPUBuffer {
    return this.buffers.get(this.source.chunks[0])!;
  }

  setOrder(order: Uint32Array<ArrayBuffer>): void {
    this.resources.device.queue.writeBuffer(this.perm, 0, order);
  }

  destroy(): void {
    for (const buffer of this.buffers.values()) this.resources.destroyBuffer(buffer);
    this.buffers.clear();
  }
}
