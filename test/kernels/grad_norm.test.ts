/**
 * grad_norm.wgsl: every slot of the arena cut into chunks, one workgroup a chunk, each writing its chunk's
 * squared gradient norm, against float64 sums, with both splits (GPU: 256 invocations, 1,024-vec4 chunks;
 * CPU: 64 invocations, one chunk a slot): slots of 1 to
 * 70,000 floats laid out by the engine's own ParameterArena (64-float aligned, zero padding), slots that end
 * exactly on a chunk and one float past it, large and tiny gradients side by side (no slot's norm may leak
 * into another's), and the dispatch folded into 2-D rows of workgroups as grid1d folds past 65,535.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng';
import { grid1d } from '../../src/kernels/kernel';
import { ParameterArena } from '../../src/nn/parameters';
import { CPU_GRAD_NORM, GPU_GRAD_NORM, gradChunkCount, slotTable, type GradNormSplit } from '../../src/optim/optimizer';
import { expectAllClose } from '../helpers/compare';
import { randomArray, runKernel } from '../helpers/gpu';
import { chunkPartials } from '../helpers/optim_reference';
import { gradNormTolerance } from '../tolerances';

const CHUNK = 4 * GPU_GRAD_NORM.chunkVec4;
// Sizes around the 256-invocation workgroup's stride, a chunk exactly, a chunk and one float, two chunks
// and a bit, one big slot (18 chunks), and 1-float slots.
const sizes = [1, 3, 63, 64, 65, 255, 1023, 1024, 1025, CHUNK, CHUNK + 1, 2 * CHUNK + 7, 70000, 1];

async function gradNorm(grads: Float32Array, arena: ParameterArena, split: GradNormSplit, table = slotTable(arena), workgroups?: [number, number, number]) {
  const chunks = gradChunkCount(arena, split.chunkVec4);
  const [partials] = (await runKernel(
    'gradNorm',
    { WORKGROUP_SIZE: split.workgroup },
    [{ data: grads }, { data: table }, { output: chunks }],
    { slot_count: arena.slots.length, chunk_count: chunks, chunk_vec4: split.chunkVec4 },
    workgroups ?? grid1d(chunks, 1),
  )) as Float32Array[];
  return partials;
}

describe('gradient-norm kernel vs float64, CPU split (one 64-invocation workgroup a slot)', () => {
  it(`${sizes.length} slots of ${sizes.join(', ')} floats: every slot's squared norm`, async () => {
    const arena = new ParameterArena(sizes.map((n, i) => ({ name: `p${i}`, shape: [n], decay: i % 2 === 0 })));
    const rng = new Rng(18);
    const grads = new Float32Array(arena.totalFloats);
    arena.slots.forEach((slot, i) => grads.set(randomArray(slot.size, rng, 10 ** (i % 4) / 100), slot.offset));
    const partials = await gradNorm(grads, arena, CPU_GRAD_NORM);
    expect(partials.length).toBe(arena.slots.length);
    arena.slots.forEach((slot, i) => {
      let s = 0;
      for (let j = slot.offset; j < slot.offset + slot.size; j++) s += grads[j] * grads[j];
      expectAllClose([partials[i]], [s], gradNormTolerance(slot.size, CPU_GRAD_NORM.workgroup).squared, `‖g‖² of ${slot.name} (${slot.size} floats)`);
    });
  });
});

describe('gradient-norm kernel vs float64, GPU split (1,024-vec4 chunks of 256 invocations)', () => {
  it(`${sizes.length} slots of ${sizes.join(', ')} floats: every chunk's squared norm`, async () => {
    const arena = new ParameterArena(sizes.map((n, i) => ({ name: `p${i}`, shape: [n], decay: i % 2 === 0 })));
    const rng = new Rng(17);
    const grads = new Float32Array(arena.totalFloats); // the padding stays 0, as in the trainer's arena
    arena.slots.forEach((slot, i) => grads.set(randomArray(slot.size, rng, 10 ** (i % 4) / 100), slot.offset));
    const partials = await gradNorm(grads, arena, GPU_GRAD_NORM);
    const expected = chunkPartials(grads, arena);
    expect(partials.length).toBe(expected.length);
    expect(partials.length).toBe(sizes.reduce((n, s) => n + Math.max(1, Math.ceil(s / CHUNK)), 0));
    // Chunk by chunk, each against its float64 sum (chunkPartials sums in float64 before rounding).
    let c = 0;
    for (const slot of arena.slots) {
      const chunks = Math.max(1, Math.ceil(slot.size / CHUNK));
      for (let k = 0; k < chunks; k++, c++) {
        let s = 0;
        for (let i = slot.offset + k * CHUNK; i < Math.min(slot.offset + slot.size, slot.offset + (k + 1) * CHUNK); i++) s += grads[i] * grads[i];
        expectAllClose([partials[c]], [s], gradNormTolerance(Math.min(CHUNK, slot.size - k * CHUNK), GPU_GRAD_NORM.workgroup).squared, `chunk ${k} of ${slot.name} (${slot.size} floats)`);
      }
    }
  });

  it('the workgroups may come as 2-D rows (grid1d past 65,535): the same partials', async () => {
    const arena = new ParameterArena([5000, 9, 70000].map((n, i) => ({ name: `q${i}`, shape: [n], decay: true })));
    const grads = new Float32Array(arena.totalFloats);
    for (const slot of arena.slots) grads.set(randomArray(slot.size, new Rng(slot.size)), slot.offset);
    const chunks = gradChunkCount(arena, GPU_GRAD_NORM.chunkVec4);
    const flat = await gradNorm(grads, arena, GPU_GRAD_NORM);
    // Rows of 4 workgroups: the kernel reads its chunk as x + y·4 and leaves the surplus of the last row idle.
    const folded = await gradNorm(grads, arena, GPU_GRAD_NORM, undefined, [4, Math.ceil(chunks / 4), 1]);
    expect([...folded]).toEqual([...flat]);
  });

  it('a slot of zeros has norm exactly 0', async () => {
    const arena = new ParameterArena([{ name: 'a', shape: [100], decay: true }, { name: 'b', shape: [7], decay: false }]);
    const grads = new Float32Array(arena.totalFloats);
    grads.set(randomArray(7, new Rng(1)), arena.slot('b').offset);
    const partials = await gradNorm(grads, arena, GPU_GRAD_NORM);
    expect(partials[0]).toBe(0);
    expect(partials[1]).toBeGreaterThan(0);
  });

  it('a frozen slot (learning-rate scale 0) has norm 0, whatever its buffer holds', async () => {
    const arena = new ParameterArena([{ name: 'a', shape: [2 * CHUNK], decay: true }, { name: 'b', shape: [7], decay: false }]);
    const grads = new Float32Array(arena.totalFloats); // zero padding, as in the trainer's arena
    for (const slot of arena.slots) grads.set(randomArray(slot.size, new Rng(slot.size)), slot.offset); // stale values in the frozen slot
    const table = slotTable(arena, [{ lrScale: 0, firstStep: 0 }, { lrScale: 0.5, firstStep: 3 }]);
    const partials = await gradNorm(grads, arena, GPU_GRAD_NORM, table);
    const b = arena.slot('b');
    const squared = grads.subarray(b.offset, b.offset + b.size).reduce((s, g) => s + g * g, 0);
    expect([...partials.slice(0, 2)]).toEqual([0, 0]);
    expectAllClose([partials[2]], [squared], gradNormTolerance(7, GPU_GRAD_NORM.workgroup).squared, '‖g‖² of the trained slot');
  });
});
