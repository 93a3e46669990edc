/**
 * grad_norm.wgsl: one workgroup per parameter slot of the arena writes the slot's squared gradient norm
 * and adds its norm to the per-epoch statistics, against float64 sums, for slots of 1 to 70,000 floats
 * laid out by the engine's own ParameterArena (64-float aligned, zero padding), with large and tiny
 * gradients side by side (no slot's norm may leak into another's).
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng';
import { ParameterArena } from '../../src/nn/parameters';
import { slotTable } from '../../src/optim/optimizer';
import { expectAllClose } from '../helpers/compare';
import { randomArray, runKernel } from '../helpers/gpu';
import { gradNormTolerance } from '../tolerances';

// Sizes around the 64-invocation workgroup and its 256-float (64 vec4) stride, one big slot, and 1-float slots.
const sizes = [1, 3, 63, 64, 65, 255, 256, 257, 1000, 4097, 70000, 1];

describe('gradient-norm kernel vs float64', () => {
  it(`${sizes.length} slots of ${sizes.join(', ')} floats: squared norms, and norms added to the statistics`, async () => {
    const arena = new ParameterArena(sizes.map((n, i) => ({ name: `p${i}`, shape: [n], decay: i % 2 === 0 })));
    const rng = new Rng(17);
    const grads = new Float32Array(arena.totalFloats); // the padding stays 0, as in the trainer's arena
    arena.slots.forEach((slot, i) => grads.set(randomArray(slot.size, rng, 10 ** (i % 4) / 100), slot.offset));
    const slots = arena.slots.length;
    // The statistics already hold an epoch's sums: the kernel adds to them (and leaves the global ones alone).
    const stats = Float32Array.from({ length: slots + 4 }, (_, i) => i + 0.5);
    const [norms, after] = (await runKernel(
      'gradNorm',
      {},
      [{ data: grads }, { data: slotTable(arena) }, { output: slots }, { output: slots + 4, initial: stats }],
      { slot_count: slots },
      [slots, 1, 1],
    )) as Float32Array[];
    const squared = arena.slots.map((slot) => {
      let s = 0;
      for (let i = slot.offset; i < slot.offset + slot.size; i++) s += grads[i] * grads[i];
      return s;
    });
    arena.slots.forEach((slot, i) => {
      const tol = gradNormTolerance(slot.size);
      expectAllClose([norms[i]], [squared[i]], tol.squared, `‖g‖² of ${slot.name} (${slot.size} floats)`);
      expectAllClose([after[i]], [stats[i] + Math.sqrt(squared[i])], tol.norm, `statistics[${slot.name}] + ‖g‖`);
    });
    expect([...after.slice(slots)], 'the global statistics are the optimizer kernel\'s').toEqual([...stats.slice(slots)]);
  });

  it('a slot of zeros has norm exactly 0', async () => {
    const arena = new ParameterArena([{ name: 'a', shape: [100], decay: true }, { name: 'b', shape: [7], decay: false }]);
    const grads = new Float32Array(arena.totalFloats);
    grads.set(randomArray(7, new Rng(1)), arena.slot('b').offset);
    const [norms] = await runKernel('gradNorm', {}, [{ data: grads }, { data: slotTable(arena) }, { output: 2 }, { output: 6, initial: new Float32Array(6) }], { slot_count: 2 }, [2, 1, 1]);
    expect(norms[0]).toBe(0);
    expect(norms[1]).toBeGreaterThan(0);
  });

  it('a frozen slot (learning-rate scale 0) has norm 0 and adds nothing to the statistics, whatever its buffer holds', async () => {
    const arena = new ParameterArena([{ name: 'a', shape: [100], decay: true }, { name: 'b', shape: [7], decay: false }]);
    const grads = new Float32Array(arena.totalFloats); // zero padding, as in the trainer's arena
    for (const slot of arena.slots) grads.set(randomArray(slot.size, new Rng(slot.size)), slot.offset); // stale values in the frozen slot
    const table = slotTable(arena, [{ lrScale: 0, firstStep: 0 }, { lrScale: 0.5, firstStep: 3 }]);
    const [norms, stats] = await runKernel('gradNorm', {}, [{ data: grads }, { data: table }, { output: 2 }, { output: 6, initial: new Float32Array(6) }], { slot_count: 2 }, [2, 1, 1]);
    const b = arena.slot('b');
    const squared = grads.subarray(b.offset, b.offset + b.size).reduce((s, g) => s + g * g, 0);
    expect(norms[0]).toBe(0);
    expect(stats[0]).toBe(0);
    expectAllClose([norms[1]], [squared], gradNormTolerance(7).squared, '‖g‖² of the trained slot');
  });
});
