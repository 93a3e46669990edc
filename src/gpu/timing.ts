/**
 * Timing GPU work: the one harness the autotuner (src/kernels/autotune.ts) and the benchmarks
 * (bench/suite.mjs, bench/matmul_variants.mjs) use. A sample records some work `reps` times back to back
 * in one compute pass and returns milliseconds per repetition.
 *
 * The clock is found once per device (`detectClock`):
 *   - timestamp queries, when the device has them and they advance: their resolution is measured, not
 *     assumed (Chrome quantises timestamps, to 100 µs by default; Dawn's quantisation rounds to 2¹⁶ ns),
 *     from the greatest common divisor of the differences between stamps written around the probe work;
 *   - otherwise the wall clock around `queue.onSubmittedWorkDone()`, whose resolution is the larger of
 *     `performance.now()`'s step and the round trip of an empty submit (which is subtracted from samples
 *     unless `includeOverhead`).
 * A sample must last at least `quanta` (50) resolutions and `minSampleMs`, so quantisation moves it by at
 * most 2 %: `measure` grows the repetitions until it does. Interference from other work only ever adds
 * time, so callers keep the fastest of several samples.
 */
import { readBuffer } from './readback';
import type { GpuResources } from './resources';

/** Records one repetition of the work to time into a compute pass (pipelines, bind groups, dispatches). */
export type Recorder = (pass: GPUComputePassEncoder) => void;

export interface Clock {
  kind: 'timestamp' | 'wall';
  /** The smallest time step the clock shows, in milliseconds. */
  resolutionMs: number;
  /** Wall time of an empty submit and its completion, in milliseconds. */
  overheadMs: number;
}

export interface TimingOptions {
  /** 'auto' (default): timestamp queries when they work, else the wall clock. 'wall': always the wall clock. */
  clock?: 'auto' | 'wall';
  /** A sample lasts at least this many clock resolutions (default 50). */
  quanta?: number;
  /** ... and at least this long (default 1 ms). */
  minSampleMs?: number;
  /** The most repetitions in one sample (default 16,384). */
  maxReps?: number;
  /** Wall clock only: keep the submit round trip in the samples (default false: it is subtracted). */
  includeOverhead?: boolean;
}

export interface Measurement {
  msPerRep: number;
  reps: number;
}

/** Slots of the probe: this many passes, each stamped at its beginning and end. */
const PROBE_PASSES = 8;
/** Give up on timestamps when they have not advanced after this much wall time of probing. */
const PROBE_LIMIT_MS = 250;

/**
 * The resolution (ns) of a clock from stamps written in order: the greatest common divisor of the nonzero
 * differences between consecutive stamps. Undefined when the stamps go backwards (a broken clock) or fewer
 * than two differences are nonzero (the work was too short to tell).
 */
export function clockResolution(stamps: readonly bigint[]): number | undefined {
  let divisor = 0n;
  let nonzero = 0;
  for (let i = 1; i < stamps.length; i++) {
    const delta = stamps[i] - stamps[i - 1];
    if (delta < 0n) return undefined;
    if (delta === 0n) continue;
    nonzero++;
    let [x, y] = [divisor, delta];
    while (y) [x, y] = [y, x % y];
    divisor = x;
  }
  return nonzero >= 2 ? Number(divisor) : undefined;
}

/** performance.now()'s smallest step, in milliseconds. */
function wallStep(): number {
  let step = Infinity;
  for (let i = 0; i < 5; i++) {
    const start = performance.now();
    let now = start;
    while (now === start) now = performance.now();
    step = Math.min(step, now - start);
  }
  return step;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

export class DispatchTimer {
  private constructor(
    private readonly resources: GpuResources,
    readonly clock: Clock,
    private readonly options: TimingOptions,
    private readonly querySet: GPUQuerySet | undefined,
    private readonly resolve: GPUBuffer | undefined,
  ) {}

  /**
   * A timer for this device. The clock is detected with `probe` (real work, so stamps advance) unless
   * `clock` is given (the result of an earlier `detectClock` on the same device).
   */
  static async create(resources: GpuResources, probe: Recorder, options: TimingOptions = {}, known?: Clock): Promise<DispatchTimer> {
    const wantTimestamps = options.clock !== 'wall' && resources.gpu.hasTimestamps;
    // A known wall clock means timestamps failed on this device before; a known timestamp clock needs them wanted.
    const reuse = known && (known.kind === 'wall' || wantTimestamps) ? known : undefined;
    const stamped = reuse ? reuse.kind === 'timestamp' : wantTimestamps;
    const querySet = stamped ? resources.device.createQuerySet({ type: 'timestamp', count: 2 * PROBE_PASSES }) : undefined;
    const resolve = stamped ? resources.createBuffer('timing.resolve', 16 * PROBE_PASSES, GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC) : undefined;
    const provisional = new DispatchTimer(resources, reuse ?? { kind: 'wall', resolutionMs: 0, overheadMs: 0 }, options, querySet, resolve);
    if (reuse) return provisional;
    const clock = await provisional.detect(probe, wantTimestamps);
    if (clock.kind === 'timestamp') return new DispatchTimer(resources, clock, options, querySet, resolve);
    provisional.destroy();
    return new DispatchTimer(resources, clock, options, undefined, undefined);
  }

  /** The shortest sample that resolves the clock, in milliseconds. */
  get sampleMs(): number {
    const { resolutionMs, overheadMs, kind } = this.clock;
    const floor = Math.max(this.options.minSampleMs ?? 1, (this.options.quanta ?? 50) * resolutionMs);
    // A wall-clock sample also carries the submit round trip; 20 of them keep its jitter under 5 %.
    return kind === 'wall' ? Math.max(floor, 20 * overheadMs) : floor;
  }

  get maxReps(): number {
    return this.options.maxReps ?? 16384;
  }

  /** Repetitions for a sample of work that takes about `msPerRep` each. */
  repsFor(msPerRep: number): number {
    return Math.min(this.maxReps, Math.max(1, Math.ceil(this.sampleMs / Math.max(msPerRep, 1e-6))));
  }

  /** Milliseconds per repetition of `record`, over one sample of `reps` repetitions. */
  async sample(record: Recorder, reps: number): Promise<number> {
    return (await this.run(record, reps, 1)).elapsed[0] / reps;
  }

  /**
   * One sample long enough to resolve the clock: starts at `reps` repetitions and grows them until the
   * sample lasts `sampleMs` (or reaches maxReps). Returns its time per repetition and the repetitions used.
   */
  async measure(record: Recorder, reps = 1): Promise<Measurement> {
    let count = Math.min(this.maxReps, Math.max(1, Math.round(reps)));
    for (;;) {
      const elapsed = (await this.run(record, count, 1)).elapsed[0];
      if (elapsed >= this.sampleMs || count >= this.maxReps) return { msPerRep: elapsed / count, reps: count };
      // At most 64× at a time: a wall-clock sample minus the round trip can read near zero.
      const grown = Math.ceil(count * Math.min(64, (1.25 * this.sampleMs) / Math.max(elapsed, this.clock.resolutionMs, 1e-6)));
      count = Math.min(this.maxReps, Math.max(count + 1, grown));
    }
  }

  destroy(): void {
    this.querySet?.destroy();
    if (this.resolve) this.resources.destroyBuffer(this.resolve);
  }

  /**
   * Encodes `passes` passes of `reps` repetitions each, submits them, waits, and returns each pass's time
   * (ms) on the timer's clock plus the raw stamps (timestamps only).
   */
  private async run(record: Recorder, reps: number, passes: number, timestamps = this.clock.kind === 'timestamp'): Promise<{ elapsed: number[]; stamps: bigint[]; wallMs: number }> {
    const device = this.resources.device;
    await device.queue.onSubmittedWorkDone();
    const encoder = device.createCommandEncoder();
    for (let p = 0; p < passes; p++) {
      const descriptor: GPUComputePassDescriptor | undefined = timestamps
        ? { timestampWrites: { querySet: this.querySet!, beginningOfPassWriteIndex: 2 * p, endOfPassWriteIndex: 2 * p + 1 } }
        : undefined;
      const pass = encoder.beginComputePass(descriptor);
      for (let r = 0; r < reps; r++) record(pass);
      pass.end();
    }
    if (timestamps) encoder.resolveQuerySet(this.querySet!, 0, 2 * passes, this.resolve!, 0);
    const start = performance.now();
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
    const wallMs = performance.now() - start;
    if (!timestamps) {
      const overhead = this.options.includeOverhead ? 0 : this.clock.overheadMs;
      return { elapsed: [Math.max(0, wallMs - overhead)], stamps: [], wallMs };
    }
    const stamps = [...new BigUint64Array(await readBuffer(this.resources, this.resolve!, 0, 16 * passes))];
    const elapsed = Array.from({ length: passes }, (_, p) => Math.max(0, Number(stamps[2 * p + 1] - stamps[2 * p])) / 1e6);
    return { elapsed, stamps, wallMs };
  }

  /** Measures the submit round trip and, with timestamps, their resolution, using `probe` as the work. */
  private async detect(probe: Recorder, useTimestamps: boolean): Promise<Clock> {
    const device = this.resources.device;
    const roundTrips: number[] = [];
    for (let i = 0; i < 5; i++) {
      await device.queue.onSubmittedWorkDone();
      const start = performance.now();
      device.queue.submit([device.createCommandEncoder().finish()]);
      await device.queue.onSubmittedWorkDone();
      roundTrips.push(performance.now() - start);
    }
    const overheadMs = median(roundTrips);
    const wall: Clock = { kind: 'wall', resolutionMs: wallStep(), overheadMs };
    if (!useTimestamps) return wall;
    await this.run(probe, 1, 1, false); // warm-up
    for (let reps = 1; reps <= this.maxReps; reps *= 4) {
      const { stamps, wallMs } = await this.run(probe, reps, PROBE_PASSES, true);
      const resolutionNs = clockResolution(stamps);
      const spanMs = Number(stamps[stamps.length - 1] - stamps[0]) / 1e6;
      // Stamps that advance by more than the wall time passed are not a clock to trust.
      if (resolutionNs !== undefined && spanMs <= wallMs * 1.5 + 1) return { kind: 'timestamp', resolutionMs: resolutionNs / 1e6, overheadMs };
      if (wallMs > PROBE_LIMIT_MS) break;
    }
    return wall;
  }
}
