/**
 * Per-dispatch GPU time from timestamp queries. A profiled run records every dispatch of a plan in a
 * compute pass of its own, with timestamps written at the pass's beginning and end (WebGPU's only
 * timestamp hook), so the times include no host work and no readback. Only for measuring: the step loop
 * itself runs the plan in a single pass.
 */
import type { GpuResources } from './resources';
import { readBuffer } from './readback';

export interface KernelTiming {
  label: string;
  kernel: string;
  milliseconds: number;
}

export class TimestampProfiler {
  private readonly querySet: GPUQuerySet;
  private readonly resolve: GPUBuffer;

  constructor(
    private readonly resources: GpuResources,
    readonly capacity: number,
  ) {
    if (!resources.gpu.hasTimestamps) throw new Error('This adapter has no timestamp-query feature; per-kernel GPU times are not available.');
    this.querySet = resources.device.createQuerySet({ type: 'timestamp', count: capacity * 2 });
    this.resolve = resources.createBuffer('profiler.resolve', capacity * 16, GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC);
  }

  /** Pass descriptor that stamps slot `index` at the pass's beginning and end. */
  pass(index: number): GPUComputePassDescriptor {
    if (index >= this.capacity) throw new Error(`Profiler slot ${index} is beyond its capacity (${this.capacity}).`);
    return { timestampWrites: { querySet: this.querySet, beginningOfPassWriteIndex: 2 * index, endOfPassWriteIndex: 2 * index + 1 } };
  }

  /** Resolves the first `count` slots into milliseconds (waits for the GPU). */
  async read(encoder: GPUCommandEncoder, count: number): Promise<number[]> {
    encoder.resolveQuerySet(this.querySet, 0, count * 2, this.resolve, 0);
    this.resources.device.queue.submit([encoder.finish()]);
    const ticks = new BigUint64Array(await readBuffer(this.resources, this.resolve, 0, count * 16));
    return Array.from({ length: count }, (_, i) => Number(ticks[2 * i + 1] - ticks[2 * i]) / 1e6);
  }

  destroy(): void {
    this.querySet.destroy();
    this.resources.destroyBuffer(this.resolve);
  }
}
