/**
 * Per-dispatch GPU times of a training step, from timestamp queries: each dispatch in its own timestamped
 * pass, the median over `repeats` steps after one warm-up (a median, because SwiftShader shares the CPU
 * with everything else).
 */
import type { GpuResources } from '../gpu/resources';
import { TimestampProfiler, type KernelTiming } from '../gpu/profiler';
import type { Executable } from '../scheduler/executable';

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** `beforeStep` writes the step's values (its entry 0 of the step table) before each measured step. */
export async function profileSteps(resources: GpuResources, executable: Executable, repeats: number, beforeStep: () => void): Promise<KernelTiming[]> {
  const profiler = new TimestampProfiler(resources, executable.dispatchCount);
  try {
    const samples: number[][] = [];
    for (let r = 0; r <= repeats; r++) {
      beforeStep();
      const encoder = resources.device.createCommandEncoder();
      executable.encodeSeparately(encoder, (i) => profiler.pass(i));
      const times = await profiler.read(encoder, executable.dispatchCount);
      if (r > 0) samples.push(times);
    }
    return executable.plan.dispatches.map((d, i) => ({ label: d.label, kernel: d.kernel, milliseconds: median(samples.map((s) => s[i])) }));
  } finally {
    profiler.destroy();
  }
}
