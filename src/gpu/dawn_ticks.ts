/**
 * Node only. Dawn's Node binding (the `webgpu` package) settles its promises (mapAsync,
 * onSubmittedWorkDone, async pipeline creation) by ticking the device from a `setImmediate` loop for as
 * long as one is pending, so the JavaScript thread spins at 100% of a core while it waits for the GPU.
 * On SwiftShader, whose "GPU" is the CPU's other threads, that spin takes a core from the kernels
 * themselves: on this project's 2-core machine the main thread ran at 100% while SwiftShader's two
 * workers shared what was left.
 *
 * The binding looks `setImmediate` up on the global object at every tick, so the pace can be set from
 * outside: a callback that is an anonymous native function (Dawn's tick; JavaScript callbacks are never
 * native, bound functions are named "bound …") runs after a timer of `intervalMs` instead. Every other
 * callback goes to the real setImmediate unchanged. A wait then ends at most `intervalMs` after the GPU
 * finishes, which the engine pays once per epoch and per readback, not per step.
 *
 * WEBGRAD_DAWN_TICKS=immediate leaves Dawn's loop as it is (for comparisons).
 */

type Immediate = (callback: (...args: unknown[]) => void, ...args: unknown[]) => unknown;

const PACED = Symbol.for('webgrad.dawnTicksPaced');

/** Paces Dawn's device ticks with a timer; idempotent, and a no-op outside Node. Returns whether it is active. */
export function paceDawnTicks(intervalMs = 1): boolean {
  const global = globalThis as typeof globalThis & {
    setImmediate?: Immediate & { [PACED]?: true };
    process?: { versions?: { node?: string }; env?: Record<string, string | undefined> };
  };
  const immediate = global.setImmediate;
  if (!global.process?.versions?.node || !immediate) return false;
  if (immediate[PACED]) return true;
  if (global.process.env?.WEBGRAD_DAWN_TICKS === 'immediate') return false;
  const nativeSource = Function.prototype.toString;
  const isDawnTick = (callback: unknown) =>
    typeof callback === 'function' && callback.name === '' && nativeSource.call(callback).includes('[native code]');
  const paced = Object.assign(
    (callback: (...args: unknown[]) => void, ...args: unknown[]) =>
      isDawnTick(callback) ? setTimeout(callback, intervalMs, ...args) : immediate(callback, ...args),
    immediate,
    { [PACED]: true as const },
  );
  global.setImmediate = paced;
  return true;
}
