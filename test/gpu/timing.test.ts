/**
 * The timing harness: the clock's resolution read from stamps (pure), and a timer on the test device whose
 * samples last long enough to resolve its clock, with timestamp queries or the wall clock.
 */
import { describe, expect, it } from 'vitest';
import { DispatchTimer, clockResolution } from '../../src/gpu/timing';
import { MatmulTrial } from '../../src/kernels/matmul_verify';
import { REFERENCE_MATMUL, variantSteps } from '../../src/kernels/matmul_variants';
import { testGpu } from '../helpers/gpu';

describe('clock resolution from stamps', () => {
  const stamps = (xs: number[]) => xs.map(BigInt);

  it('a nanosecond clock resolves to a few nanoseconds', () => {
    expect(clockResolution(stamps([1000, 5137, 5140, 9311, 9318, 14001]))).toBe(1);
  });

  it('Chrome\'s 100 µs quantisation and Dawn\'s 2¹⁶ ns are found, not assumed', () => {
    expect(clockResolution(stamps([0, 100_000, 100_000, 300_000, 300_000, 400_000]))).toBe(100_000);
    expect(clockResolution(stamps([65536 * 7, 65536 * 8, 65536 * 8, 65536 * 10]))).toBe(65536);
  });

  it('undefined when the work was too short to move the clock twice, or the clock ran backwards', () => {
    expect(clockResolution(stamps([5, 5, 5, 5]))).toBeUndefined();
    expect(clockResolution(stamps([0, 0, 100_000, 100_000]))).toBeUndefined();
    expect(clockResolution(stamps([10, 20, 15, 30]))).toBeUndefined();
  });
});

describe('DispatchTimer on the test device', () => {
  async function product() {
    const { resources } = await testGpu();
    const shape = { M: 64, N: 64, K: 64 };
    const trial = new MatmulTrial(resources, shape, {});
    const prepared = await trial.prepare(variantSteps(REFERENCE_MATMUL, shape, {}));
    return { resources, trial, record: prepared.record };
  }

  it('detects the clock and grows a sample until it lasts sampleMs, at least 50 resolutions', async () => {
    const { resources, trial, record } = await product();
    const timer = await DispatchTimer.create(resources, record);
    try {
      expect(timer.clock.kind).toBe(resources.gpu.hasTimestamps ? 'timestamp' : 'wall');
      expect(timer.clock.resolutionMs).toBeGreaterThan(0);
      expect(timer.sampleMs).toBeGreaterThanOrEqual(50 * timer.clock.resolutionMs);
      const { msPerRep, reps } = await timer.measure(record, 1);
      expect(msPerRep).toBeGreaterThan(0);
      expect(msPerRep * reps >= timer.sampleMs || reps === timer.maxReps).toBe(true);
      // A known clock is reused without probing again.
      const again = await DispatchTimer.create(resources, record, {}, timer.clock);
      expect(again.clock).toBe(timer.clock);
      again.destroy();
    } finally {
      timer.destroy();
      trial.destroy();
    }
  });

  it('the wall clock on request: a sample also spans 20 submit round trips', async () => {
    const live = (await testGpu()).resources.counts.liveBuffers;
    const { resources, trial, record } = await product();
    const timer = await DispatchTimer.create(resources, record, { clock: 'wall' });
    try {
      expect(timer.clock.kind).toBe('wall');
      expect(timer.sampleMs).toBeGreaterThanOrEqual(20 * timer.clock.overheadMs);
      const { msPerRep, reps } = await timer.measure(record, 1);
      expect(msPerRep).toBeGreaterThan(0);
      expect(msPerRep * reps >= timer.sampleMs || reps === timer.maxReps).toBe(true);
    } finally {
      timer.destroy();
      trial.destroy();
    }
    // The timer and the trial leave no buffer behind.
    expect(resources.counts.liveBuffers).toBe(live);
  });
});
