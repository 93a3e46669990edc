/**
 * Asynchronous metric readback. The GPU accumulates [loss_sum, correct, rows, non_finite] per dataset;
 * a snapshot copies those 16-byte accumulators into a staging buffer from a fixed pool and maps it
 * without blocking: the host keeps submitting steps while earlier snapshots are in flight. The pool is
 * allocated up front, so snapshots allocate nothing; when every staging buffer is in flight the oldest
 * is awaited first, which also bounds how far the host runs ahead of the GPU.
 */
import type { GpuResources } from '../gpu/resources';

export interface MetricTotals {
  lossSum: number;
  correct: number;
  rows: number;
  nonFinite: boolean;
}

const ACCUMULATOR_BYTES = 16;

export class MetricsReader {
  private readonly idle: GPUBuffer[] = [];
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly resources: GpuResources,
    private readonly maxSources: number,
    poolSize = 8,
  ) {
    for (let i = 0; i < poolSize; i++) {
      this.idle.push(resources.createBuffer(`metrics.staging${i}`, maxSources * ACCUMULATOR_BYTES, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST));
    }
  }

  /** Records copies of `sources` into `encoder` and returns totals once the GPU has run that far. */
  async snapshot(encoder: GPUCommandEncoder, sources: GPUBuffer[]): Promise<() => Promise<MetricTotals[]>> {
    while (this.idle.length === 0) await Promise.race(this.inFlight);
    const staging = this.idle.pop()!;
    sources.slice(0, this.maxSources).forEach((source, i) => encoder.copyBufferToBuffer(source, 0, staging, i * ACCUMULATOR_BYTES, ACCUMULATOR_BYTES));
    return () => {
      const done = staging.mapAsync(GPUMapMode.READ).then(() => {
        const values = new Float32Array(staging.getMappedRange().slice(0));
        staging.unmap();
        this.idle.push(staging);
        this.inFlight.delete(done);
        return sources.map((_, i) => ({
          lossSum: values[i * 4],
          correct: values[i * 4 + 1],
          rows: values[i * 4 + 2],
          nonFinite: values[i * 4 + 3] !== 0 || !Number.isFinite(values[i * 4]),
        }));
      });
      this.inFlight.add(done);
      return Promise.race([done, this.resources.gpu.lost.then((e) => Promise.reject(e))]);
    };
  }

  destroy(): void {
    for (const buffer of this.idle) this.resources.destroyBuffer(buffer);
    this.idle.length = 0;
  }
}
