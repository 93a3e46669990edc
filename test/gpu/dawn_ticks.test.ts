/**
 * Dawn's promise polling in Node (src/gpu/dawn_ticks.ts): the device's ticks run from a timer, not a
 * setImmediate spin, while every other setImmediate callback still runs as before.
 */
import { describe, expect, it } from 'vitest';
import { paceDawnTicks } from '../../src/gpu/dawn_ticks';
import { testGpu } from '../helpers/gpu';

describe('Dawn tick pacing (Node)', () => {
  it('is installed by requestGpu, idempotent, and leaves JavaScript callbacks on setImmediate', async () => {
    await testGpu();
    expect(paceDawnTicks()).toBe(true);
    const installed = globalThis.setImmediate;
    expect(paceDawnTicks()).toBe(true);
    expect(globalThis.setImmediate).toBe(installed);
    // A JavaScript callback (and a bound one) still runs on the next turn, before any timer.
    const order: string[] = [];
    await new Promise<void>((done) => {
      setTimeout(() => {
        order.push('timer');
        done();
      }, 0);
      setImmediate(() => order.push('immediate'));
      setImmediate(function named(this: string[]) {
        this.push('bound');
      }.bind(order));
    });
    expect(order).toEqual(['immediate', 'bound', 'timer']);
  });

  it('GPU waits are ticked by timers (Dawn\'s ticks go through setTimeout)', async () => {
    const { gpu, resources } = await testGpu();
    const realTimeout = globalThis.setTimeout;
    let ticks = 0;
    const paced = globalThis.setImmediate;
    // Count the anonymous native callbacks (Dawn's ticks) the pacing wrapper hands to timers.
    globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => {
      const [callback] = args;
      if (typeof callback === 'function' && callback.name === '' && Function.prototype.toString.call(callback).includes('[native code]')) ticks++;
      return realTimeout(...args);
    }) as typeof setTimeout;
    try {
      const buffer = resources.createStorage('ticks.data', new Float32Array(1 << 16).fill(1));
      for (let i = 0; i < 3; i++) {
        gpu.device.queue.writeBuffer(buffer, 0, new Float32Array([i]));
        await gpu.device.queue.onSubmittedWorkDone();
      }
      resources.destroyBuffer(buffer);
    } finally {
      globalThis.setTimeout = realTimeout;
    }
    expect(globalThis.setImmediate).toBe(paced);
    expect(ticks).toBeGreaterThan(0);
  });
});
