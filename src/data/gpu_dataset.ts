/**
 * A dataset uploaded once to the GPU as raw bytes (pixels and labels, four to a u32), with a buffer for
 * the epoch's sample order and one for the metrics its batches accumulate. Batches are gathered on the GPU.
 */
import { ConfigError } from '../errors';
import type { GpuResources } from '../gpu/resources';
import type { Augmentation, BatchSource } from '../nn/mlp';
import type { Dataset } from './dataset';

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
  readonly buffers: Record<string, GPUBuffer>;
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
    const initialOrder = Uint32Array.from({ length: data.count }, (_, i) => i);
    this.buffers = {
      [`${name}.images`]: resources.createStorage(`${name}.images`, padded(data.images)),
      [`${name}.labels`]: resources.createStorage(`${name}.labels`, padded(data.labels)),
      [`${name}.perm`]: resources.createStorage(`${name}.perm`, initialOrder),
      [`${name}.metrics`]: resources.createStorage(`${name}.metrics`, new Float32Array(4)),
    };
    if (augment) {
      for (const [key, value] of Object.entries(augment)) {
        if (value !== undefined && !(value >= 0 && Number.isFinite(value))) throw new ConfigError(`Augmentation ${key} must be a finite number ≥ 0; got ${value}.`);
      }
    }
    this.source = { name, count: data.count, features, scale: 1 / (255 * std), shift: -mean / std, width: data.cols, height: data.rows, augment };
  }

  get perm(): GPUBuffer {
    return this.buffers[`${this.name}.perm`];
  }

  get metrics(): GPUBuffer {
    return this.buffers[`${this.name}.metrics`];
  }

  setOrder(order: Uint32Array<ArrayBuffer>): void {
    this.resources.device.queue.writeBuffer(this.perm, 0, order);
  }

  destroy(): void {
    for (const buffer of Object.values(this.buffers)) this.resources.destroyBuffer(buffer);
  }
}
