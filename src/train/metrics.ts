/**
 * Asynchronous readback of small GPU accumulators (metrics, gradient statistics). A snapshot copies them
 * into a staging buffer from a fixed pool and maps it without blocking: the host keeps submitting steps
 * while earlier snapshots are in flight. The pool is allocated up front, so snapshots allocate nothing;
 * when every staging buffer is in flight the oldest is awaited first, which also bounds how far the host
 * runs ahead of the GPU.
 */
import type { GpuResources } from '../gpu/resources';

/**
 * A dataset's metrics accumulator (METRICS_FLOATS values, src/train/loss.ts):
 *   [loss_sum, correct, rows, non_finite, loss_weight, squared_error, absolute_error, predictions]
 * softmax_xent.wgsl adds the first four (its loss's denominator and accuracy's are the rows); loss.wgsl
 * adds all eight: loss_weight is the mean loss's denominator (Σ class weights of the targets, or elements),
 * predictions the accuracy's and the error means' (rows for cross-entropy, elements otherwise).
 */
export interface MetricTotals {
  lossSum: number;
  correct: number;
  rows: number;
  nonFinite: boolean;
  lossWeight: number;
  squaredError: number;
  absoluteError: number;
  predictions: number;
}

export function totalsOf(values: Float32Array): MetricTotals {
  const rows = values[2];
  return {
    lossSum: values[0],
    correct: values[1],
    rows,
    nonFinite: values[3] !== 0 || !Number.isFinite(values[0]),
    lossWeight: values.length > 4 && values[4] > 0 ? values[4] : rows,
    squaredError: values[5] ?? 0,
    absoluteError: values[6] ?? 0,
    predictions: values.length > 7 && values[7] > 0 ? values[7] : rows,
  };
}

export interface Source {
  buffer: GPUBuffer;
  /** Floats to copy from the start of the buffer. */
  floats: number;
}

export class MetricsReader {
  private readonly idle: GPUBuffer[] = [];
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly resources: GpuResources,
    private readonly capacityFloats: number,
    poolSize = 8,
  ) {
    for (let i = 0; i < poolSize; i++) {
      this.idle.push(resources.createBuffer(`metrics.staging${i}`, capacityFloats * 4, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST));
    }
  }

  /**
   * Records copies of `sources` into `encoder`. Call the returned function once that encoder has been
   * submitted; it resolves with each source's values when the GPU has run that far.
   */
  async snapshot(encoder: GPUCommandEncoder, sources: Source[]): Promise<() => Promise<Float32Array[]>> {
    const total = sources.reduce((s, x) => s + x.floats, 0);
    if (total > this.capacityFloats) throw new Error(`Metrics snapshot of ${total} floats exceeds the staging capacity (${this.capacityFloats}).`);
    while (this.idle.length === 0) await Promise.race(this.inFlight);
    const staging = this.idle.pop()!;
    let offset = 0;
    for (const source of sources) {
      encoder.copyBufferToBuffer(source.buffer, 0, staging, offset * 4, source.floats * 4);
      offset += source.floats;
    }
    return () => {
      const done: Promise<Float32Array[]> = staging.mapAsync(GPUMapMode.READ).then(() => {
        const values = new Float32Array(staging.getMappedRange(0, total * 4).slice(0));
        staging.unmap();
        this.idle.push(staging);
        this.inFlight.delete(done);
        let at = 0;
        return sources.map((s) => values.subarray(at, (at += s.floats)));
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
