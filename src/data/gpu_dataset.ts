/**
 * A dataset uploaded once to the GPU as raw bytes (pixels and labels, four to a u32), with a buffer for
 * the epoch's sample order and one for the metrics its batches accumulate. Batches are gathered on the GPU.
 */
import { ConfigError } from '../errors';
import type { GpuResources } from '../gpu/resources';
import { externalBuffer, type ExternalBuffer } from '../graph/graph';
import type { Dataset } from './dataset';

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
  /** Samples in the dataset (sizes the external tensors). */
  count: number;
  features: number;
  /** One sample's shape, NCHW without N: [1, 28, 28] for MNIST. */
  sampleShape: number[];
  numClasses: number;
  /** x = byte · scale + shift. */
  scale: number;
  shift: number;
  /** Image size, for augmentation's warps. */
  width: number;
  height: number;
  /** Random shifts, rotations and noise, applied by the gather kernel in training graphs only. */
  augment?: Augmentation;
  /** The dataset's buffers: pixels and labels four bytes to a u32, the epoch's order, the metrics accumulator. */
  images: ExternalBuffer;
  labels: ExternalBuffer;
  perm: ExternalBuffer;
  metrics: ExternalBuffer;
}

export interface Normalisation {
  /** x = (pixel/255 − mean) / std. Default mean 0, std 1: pixels scaled to [0, 1]. */
  mean?: number;
  std?: number;
}

function padded(bytes: Uint8Array): Uint8Array {
  if (bytes.byteLength % 4 === 0 && bytes.byteOffset % 4 === 0) return bytes;
  const out = new Uint8Array(Math.ceil(bytes.byteLength / 4) * 4);
  out.set(bytes);
  return out;
}

export class GpuDataset {
  /** The GPU buffer of each of the source's handles. */
  readonly buffers: Map<ExternalBuffer, GPUBuffer>;
  readonly source: BatchSource;

  constructor(
    private readonly resources: GpuResources,
    readonly name: string,
    readonly data: Dataset,
    normalisation: Normalisation = {},
    augment?: Augmentation,
  ) {
    if (data.count < 1) throw new ConfigError(`Dataset '${name}' is empty.`);
    const mean = normalisation.mean ?? 0;
    const std = normalisation.std ?? 1;
    if (!(std > 0) || !Number.isFinite(mean)) throw new ConfigError(`Normalisation of '${name}' needs a finite mean and std > 0; got mean ${mean}, std ${std}.`);
    const features = data.rows * data.cols;
    const maxBinding = resources.device.limits.maxStorageBufferBindingSize;
    if (data.images.byteLength > maxBinding) {
      throw new ConfigError(`Dataset '${name}' has ${data.images.byteLength} bytes of images, more than this adapter binds at once (${maxBinding}); use a subset.`);
    }
    if (augment) {
      for (const [key, value] of Object.entries(augment)) {
        if (value !== undefined && !(value >= 0 && Number.isFinite(value))) throw new ConfigError(`Augmentation ${key} must be a finite number ≥ 0; got ${value}.`);
      }
    }
    const initialOrder = Uint32Array.from({ length: data.count }, (_, i) => i);
    const contents = {
      images: padded(data.images),
      labels: padded(data.labels),
      perm: initialOrder,
      metrics: new Float32Array(4),
    };
    const handles = Object.fromEntries(Object.entries(contents).map(([key, bytes]) => [key, externalBuffer(`${name}.${key}`, bytes.byteLength)])) as Record<keyof typeof contents, ExternalBuffer>;
    this.buffers = new Map(Object.entries(contents).map(([key, bytes]) => [handles[key as keyof typeof contents], resources.createStorage(`${name}.${key}`, bytes)]));
    this.source = {
      name,
      count: data.count,
      features,
      sampleShape: [1, data.rows, data.cols],
      numClasses: data.numClasses,
      scale: 1 / (255 * std),
      shift: -mean / std,
      width: data.cols,
      height: data.rows,
      augment,
      ...handles,
    };
  }

  get perm(): GPUBuffer {
    return this.buffers.get(this.source.perm)!;
  }

  get metrics(): GPUBuffer {
    return this.buffers.get(this.source.metrics)!;
  }

  setOrder(order: Uint32Array<ArrayBuffer>): void {
    this.resources.device.queue.writeBuffer(this.perm, 0, order);
  }

  destroy(): void {
    for (const buffer of this.buffers.values()) this.resources.destroyBuffer(buffer);
  }
}
