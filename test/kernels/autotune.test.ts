/**
 * Choosing matmul variants: the pure selection from a tuning table (what the planner calls), the candidate
 * policy, the tuner that fills tables (verifying every candidate first), the host stores, and the planner
 * applying a table, split-K's scratch buffer and second step included. Every tuner
 * test uses its own in-memory or temporary store, never the user's cache.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng';
import { appendBackward } from '../../src/graph/autodiff';
import { externalBuffer, Graph } from '../../src/graph/graph';
import { layoutOf } from '../helpers/step_graph';
import { readBuffer } from '../../src/gpu/readback';
import { autotuneChoices, clearAutotuneCache, tuneMatmuls, tuneProduct } from '../../src/kernels/autotune';
import { kernels } from '../../src/kernels/catalog';
import { SCRATCH_BUFFER, matmulParamsOf, matmulRequestsOf, variantOfDispatch } from '../../src/kernels/matmul_plan';
import { ALL_ALIGNED, alignmentOf, candidateVariants, MIN_GPU_INVOCATIONS } from '../../src/kernels/matmul_policy';
import { adapterKindOf } from '../../src/gpu/adapter_kind';
import { CPU_SPLIT, GPU_SPLIT, splitForAdapter } from '../../src/kernels/reduction_split';
import { CPU_GRAD_NORM, GPU_GRAD_NORM, gradNormSplit } from '../../src/optim/optimizer';
import { headFusionFor } from '../../src/scheduler/fuse';
import { adoptChoices, formatSelection, selectMatmul, tuningKey, type MatmulRequest, type TuningTable } from '../../src/kernels/matmul_select';
import { REFERENCE_MATMUL, matmulKernelNames, matmulVariants, variantSteps, type MatmulVariant } from '../../src/kernels/matmul_variants';
import { localStorageTuningStore } from '../../src/kernels/tuning_store_browser';
import { defaultTuningFile, fileTuningStore } from '../../src/kernels/tuning_store_node';
import { memoryTuningStore, tuningStoreKey } from '../../src/kernels/tuning_store';
import { lower } from '../../src/kernels/lower';
import { ParameterArena } from '../../src/nn/parameters';
import { fuse } from '../../src/scheduler/fuse';
import { Executable } from '../../src/scheduler/executable';
import { planStep } from '../../src/scheduler/plan';
import { expectAllClose } from '../helpers/compare';
import { randomArray, testGpu } from '../helpers/gpu';
import { activateRef, matmulRef } from '../helpers/reference';
import { epilogueTolerance } from '../tolerances';

const byId = (id: string) => matmulVariants.find((v) => v.id === id)!;
const fwd = { TRANS_A: false, TRANS_B: true, BIAS: true, ACT: 1, ACT_GRAD: 0, WG_X: 8, WG_Y: 8 };
const SPLIT4 = 'matmulTiled+TILE_M=64+SPLIT_K=4@16x16';
const layer1 = { M: 128, N: 128, K: 784 };

describe('selectMatmul: a pure function of the tuning table', () => {
  it('with nothing in the table, the reference dispatch lowering emits', () => {
    const selection = selectMatmul(layer1, fwd, ALL_ALIGNED, {});
    expect(selection.variant).toBe(REFERENCE_MATMUL);
    expect(selection.scratchBytes).toBe(0);
    expect(selection.steps).toEqual([
      { kernel: 'matmul', constants: { TRANS_A: false, TRANS_B: true, BIAS: true, ACT: 1, ACT_GRAD: 0, BIAS_GRAD: false, WG_X: 8, WG_Y: 8 }, workgroups: [4, 4, 1], operands: ['A', 'B', 'E', 'C', 'dummyOut'] },
    ]);
  });

  it('a fused weight-and-bias gradient (BIAS_GRAD) is selected as lowering emits it: one more column of workgroups, D bound', () => {
    const g = new Graph();
    const [M, N, K] = [10, 64, 32];
    const dy = g.tensor([K, M], 'external', 'dy');
    const x = g.tensor([K, N], 'external', 'x');
    const dw = g.tensor([M, N], 'grad', 'dw');
    const db = g.tensor([M], 'grad', 'db');
    const lowered = lower({ op: 'matmul', inputs: [dy, x], outputs: [dw, db], attrs: { transA: true, biasGrad: true } })!;
    const [step] = selectMatmul({ M, N, K }, lowered.constants, ALL_ALIGNED, {}).steps;
    expect({ kernel: step.kernel, constants: step.constants, workgroups: step.workgroups }).toEqual({ kernel: lowered.kernel, constants: lowered.constants, workgroups: lowered.workgroups });
    expect(step.workgroups).toEqual([3, 1, 1]);
    expect(step.operands).toEqual(['A', 'B', 'E', 'C', 'D']);
    expect(lowered.operands[4]).toEqual({ tensor: db });
    // Split-K never takes it: the table's split-K choice falls back to the reference.
    const split = selectMatmul({ M: 128, N: 784, K: 512 }, lowered.constants, ALL_ALIGNED, { [tuningKey({ M: 128, N: 784, K: 512 }, lowered.constants, ALL_ALIGNED)]: SPLIT4 });
    expect(split.variant).toBe(REFERENCE_MATMUL);
  });

  it('for every transpose and epilogue, the empty table\'s selection is exactly what lowering emits (so the planner can switch without a change)', () => {
    for (const [transA, transB] of [[false, false], [false, true], [true, false], [true, true]]) {
      for (const epilogue of [{}, { act: 'relu' }, { actGrad: 'tanh' }]) {
        const g = new Graph();
        const [M, N, K] = [37, 70, 19];
        const a = g.tensor(transA ? [K, M] : [M, K], 'external', 'a');
        const b = g.tensor(transB ? [N, K] : [K, N], 'external', 'b');
        const grad = 'actGrad' in epilogue;
        g.add('matmul', grad ? [a, b] : [a, b, g.tensor([N], 'external', 'bias')], { transA, transB, ...(grad ? {} : epilogue) });
        const [node] = g.nodes;
        // What fusion makes of a matmul followed by an activation gradient: E is the activation's output.
        const lowered = lower(grad ? { ...node, inputs: [a, b, g.tensor([M, N], 'external', 'y')], attrs: { ...node.attrs, ...epilogue } } : node)!;
        const [step] = selectMatmul({ M, N, K }, lowered.constants, ALL_ALIGNED, {}).steps;
        expect({ kernel: step.kernel, constants: step.constants, workgroups: step.workgroups }).toEqual({ kernel: lowered.kernel, constants: lowered.constants, workgroups: lowered.workgroups });
      }
    }
  });

  it('the table\'s variant where it fits the shape, transposes and alignment; the reference otherwise', () => {
    const key = tuningKey(layer1, fwd, ALL_ALIGNED);
    const v16 = 'matmulV16x16@2x2';
    expect(selectMatmul(layer1, fwd, ALL_ALIGNED, { [key]: v16 }).steps[0]).toMatchObject({ kernel: 'matmulV16x16', workgroups: [4, 4, 1], constants: { WG_X: 2, WG_Y: 2, TRANS_B: true } });
    expect(selectMatmul(layer1, fwd, ALL_ALIGNED, { [key]: 'no-such-variant' }).variant).toBe(REFERENCE_MATMUL);
    // N = 10: no vec4 along N.
    const last = { M: 128, N: 10, K: 64 };
    expect(selectMatmul(last, fwd, ALL_ALIGNED, { [tuningKey(last, fwd, ALL_ALIGNED)]: v16 }).variant).toBe(REFERENCE_MATMUL);
    // C not 16-byte aligned: no vec4 store.
    const unaligned = [true, true, true, false] as const;
    expect(selectMatmul(layer1, fwd, unaligned, { [tuningKey(layer1, fwd, unaligned)]: v16 }).variant).toBe(REFERENCE_MATMUL);
    // Aᵀ·Bᵀ is not a block kernel's.
    const tt = { ...fwd, TRANS_A: true };
    expect(selectMatmul(layer1, tt, ALL_ALIGNED, { [tuningKey(layer1, tt, ALL_ALIGNED)]: v16 }).variant).toBe(REFERENCE_MATMUL);
  });

  it('split-K is two steps and a scratch buffer, as data', () => {
    const selection = selectMatmul(layer1, fwd, ALL_ALIGNED, { [tuningKey(layer1, fwd, ALL_ALIGNED)]: SPLIT4 });
    expect(selection.variant.id).toBe(SPLIT4);
    expect(selection.scratchBytes).toBe(4 * 128 * 128 * 4);
    expect(selection.steps).toEqual([
      { kernel: 'matmulTiled', constants: { TRANS_A: false, TRANS_B: true, BIAS: true, ACT: 1, ACT_GRAD: 0, BIAS_GRAD: false, WG_X: 16, WG_Y: 16, TILE_M: 64, SPLIT_K: 4 }, workgroups: [2, 2, 4], operands: ['A', 'B', 'dummy', 'scratch', 'dummyOut'] },
      { kernel: 'matmulSplitKReduce', constants: { TRANS_A: false, TRANS_B: true, BIAS: true, ACT: 1, ACT_GRAD: 0, BIAS_GRAD: false, SPLIT_K: 4 }, workgroups: [16, 1, 1], operands: ['scratch', 'dummy', 'E', 'C', 'dummyOut'] },
    ]);
    expect(formatSelection(selection)).toBe(`${SPLIT4}: matmulTiled [2×2×4] → matmulSplitKReduce [16×1×1], scratch 256.0 KiB`);
    // A product with many output tiles never splits K, whatever the table says.
    const square = { M: 1024, N: 1024, K: 1024 };
    expect(selectMatmul(square, fwd, ALL_ALIGNED, { [tuningKey(square, fwd, ALL_ALIGNED)]: SPLIT4 }).variant).toBe(REFERENCE_MATMUL);
  });

  it('is pure: the same arguments give equal selections, and the table is not touched', () => {
    const table = Object.freeze({ [tuningKey(layer1, fwd, ALL_ALIGNED)]: SPLIT4 });
    expect(selectMatmul(layer1, fwd, ALL_ALIGNED, table)).toEqual(selectMatmul(layer1, fwd, ALL_ALIGNED, table));
    expect(table).toEqual({ [tuningKey(layer1, fwd, ALL_ALIGNED)]: SPLIT4 });
  });

  it('keys name the shape, the six flags and the alignment, and ignore workgroup sizes and extras', () => {
    const key = tuningKey(layer1, fwd, ALL_ALIGNED);
    expect(key).toBe('128x128x784|TRANS_A=0,TRANS_B=1,BIAS=1,ACT=1,ACT_GRAD=0,BIAS_GRAD=0|align=1111');
    expect(tuningKey(layer1, { ...fwd, BIAS_GRAD: true }, ALL_ALIGNED)).not.toBe(key);
    expect(tuningKey(layer1, { ...fwd, WG_X: 4, WIDE: true }, ALL_ALIGNED)).toBe(key);
    expect(tuningKey(layer1, { ...fwd, ACT: 2 }, ALL_ALIGNED)).not.toBe(key);
    expect(tuningKey(layer1, fwd, [true, true, false, true])).not.toBe(key);
    expect(tuningKey({ ...layer1, M: 127 }, fwd, ALL_ALIGNED)).not.toBe(key);
  });

  it('adoptChoices copies a choice to another batch size where it fits', () => {
    const from: MatmulRequest = { shape: layer1, constants: fwd, alignment: ALL_ALIGNED };
    const tail: MatmulRequest = { shape: { ...layer1, M: 96 }, constants: fwd, alignment: ALL_ALIGNED };
    const odd: MatmulRequest = { shape: { ...layer1, K: 783 }, constants: fwd, alignment: ALL_ALIGNED };
    const table = { [tuningKey(from.shape, fwd, ALL_ALIGNED)]: 'matmulV8x16@2x2' };
    const adopted = adoptChoices(table, [{ from, to: tail }, { from, to: odd }]);
    expect(adopted[tuningKey(tail.shape, fwd, ALL_ALIGNED)]).toBe('matmulV8x16@2x2');
    expect(adopted[tuningKey(odd.shape, fwd, ALL_ALIGNED)]).toBeUndefined();
  });
});

describe('candidate policy', () => {
  it('GPUs: every variant with at least 64 invocations that fits, tiled and split-K included; no family pruning', () => {
    const list = candidateVariants(layer1, fwd, ALL_ALIGNED, 'gpu');
    expect(list[0]).toBe(REFERENCE_MATMUL);
    for (const v of list) expect(v.workgroup[0] * v.workgroup[1], v.id).toBeGreaterThanOrEqual(MIN_GPU_INVOCATIONS);
    const expected = matmulVariants.filter((v) => v.fits(layer1, { transA: false, transB: true }) && v.workgroup[0] * v.workgroup[1] >= 64 && v.family !== 'vec4k');
    expect(list.map((v) => v.id)).toEqual(expected.map((v) => v.id));
    expect(list.map((v) => v.id)).toContain(SPLIT4);
    // Many output tiles: no split-K.
    expect(candidateVariants({ M: 1024, N: 1024, K: 1024 }, fwd, ALL_ALIGNED, 'gpu').some((v) => v.splitK > 1)).toBe(false);
  });

  it('CPU Vulkan: the block kernels at every workgroup shape, no workgroup-tiled kernel', () => {
    const list = candidateVariants(layer1, fwd, ALL_ALIGNED, 'cpu');
    expect(list.map((v) => v.id)).toContain('matmulV16x16@2x2');
    expect(list.some((v) => v.family === 'tiled')).toBe(false);
    expect(list.map((v) => v.id)).toEqual(matmulVariants.filter((v) => v.family === 'reference' || v.family === 'blocks').map((v) => v.id));
  });

  it('the vec4k / vec4n fallbacks only where no all-vec4 kernel fits; unaligned bindings rule vec4 kernels out', () => {
    const last = { M: 128, N: 10, K: 64 };
    expect(candidateVariants(last, fwd, ALL_ALIGNED, 'gpu').map((v) => v.family)).toEqual(['reference', 'vec4k', 'vec4k']);
    expect(candidateVariants(layer1, fwd, [false, true, true, true], 'gpu')).toEqual([REFERENCE_MATMUL]);
  });

  it('adapter kinds from the names adapters report', () => {
    expect(adapterKindOf('google swiftshader swiftshader-device-subzero- SwiftShader driver 5.0.0')).toBe('cpu');
    expect(adapterKindOf('mesa llvmpipe (LLVM 15.0.7, 256 bits)')).toBe('cpu');
    expect(adapterKindOf('nvidia hopper NVIDIA H200')).toBe('gpu');
    expect(adapterKindOf('apple metal-3 Apple M2')).toBe('gpu');
    expect(adapterKindOf('microsoft warp Microsoft Basic Render Driver')).toBe('cpu');
    // Every adapter-dependent planning choice follows the one classification.
    for (const name of ['google swiftshader swiftshader-device-subzero- SwiftShader driver 5.0.0', 'microsoft warp Microsoft Basic Render Driver', 'nvidia hopper NVIDIA H200']) {
      const cpu = adapterKindOf(name) === 'cpu';
      expect([splitForAdapter(name), gradNormSplit(name), headFusionFor(name)], name).toEqual(cpu ? [CPU_SPLIT, CPU_GRAD_NORM, false] : [GPU_SPLIT, GPU_GRAD_NORM, true]);
    }
  });

  it('alignment of bindings from their offsets and sizes', () => {
    expect(alignmentOf([{ offset: 0, size: 64 }, { offset: 16, size: 32 }, { offset: 0, size: 40 }, { offset: 8, size: 16 }])).toEqual([true, true, false, false]);
  });
});

describe('the tuner', () => {
  it('verifies every candidate against the reference, rejects a broken one and picks the fastest verified one', async () => {
    const { resources } = await testGpu();
    const request: MatmulRequest = { shape: { M: 64, N: 128, K: 256 }, constants: fwd, alignment: ALL_ALIGNED };
    // Claims 8×8 blocks but runs 4×4 ones: three quarters of C stay poisoned.
    const broken: MatmulVariant = { ...REFERENCE_MATMUL, id: 'broken', block: [8, 8] };
    const candidates = [...candidateVariants(request.shape, fwd, ALL_ALIGNED, 'cpu').slice(0, 4), byId(SPLIT4), broken];
    const live = resources.counts.liveBuffers;
    const result = await tuneProduct(resources, request, candidates, { rounds: 2 });
    expect(resources.counts.liveBuffers).toBe(live);
    const results = new Map(result.results.map((r) => [r.variant.id, r]));
    expect(results.get('broken')).toMatchObject({ verified: false, compiled: true, error: Infinity });
    expect(results.get(REFERENCE_MATMUL.id)).toMatchObject({ verified: true, error: 0 });
    // Split-K sums in another order: verified within the bound, not bitwise.
    expect(results.get(SPLIT4)!.verified).toBe(true);
    const timed = result.results.filter((r) => r.milliseconds !== undefined);
    expect(timed.map((r) => r.variant.id).sort()).toEqual(result.results.filter((r) => r.verified).map((r) => r.variant.id).sort());
    for (const r of timed) expect(r.reps).toBeGreaterThanOrEqual(1);
    expect(results.get(result.chosen.id)!.milliseconds).toBe(Math.min(...timed.map((r) => r.milliseconds!)));
  });

  it('fills the table, writes the store under the adapter key, and answers again without tuning', async () => {
    const { gpu, resources } = await testGpu();
    clearAutotuneCache(resources);
    const store = memoryTuningStore();
    const requests: MatmulRequest[] = [
      { shape: { M: 32, N: 64, K: 128 }, constants: fwd, alignment: ALL_ALIGNED },
      { shape: { M: 64, N: 32, K: 64 }, constants: { TRANS_A: true }, alignment: ALL_ALIGNED },
      { shape: { M: 8, N: 8, K: 8 }, constants: fwd, alignment: ALL_ALIGNED }, // tiny: the reference, untimed
    ];
    const candidates = (r: MatmulRequest) => candidateVariants(r.shape, r.constants, r.alignment, 'cpu').slice(0, 3);
    const table = await tuneMatmuls(resources, requests, { store, candidates, rounds: 1 });
    const keys = requests.map((r) => tuningKey(r.shape, r.constants, r.alignment));
    expect(Object.keys(table).sort()).toEqual([...keys].sort());
    expect(table[keys[2]]).toBe(REFERENCE_MATMUL.id);
    for (const [i, key] of keys.entries()) expect(selectMatmul(requests[i].shape, requests[i].constants, ALL_ALIGNED, table).variant.id, key).toBe(table[key]);
    const adapterKey = tuningStoreKey(gpu.adapterName);
    expect(store.tables.get(adapterKey)).toMatchObject({ [keys[0]]: table[keys[0]], [keys[1]]: table[keys[1]] });
    expect(await autotuneChoices(resources)).toMatchObject(table);

    // The process remembers; after forgetting, the store answers: no buffer created, no pipeline compiled.
    const before = { ...resources.counts };
    expect(await tuneMatmuls(resources, requests, { candidates })).toEqual(table);
    clearAutotuneCache(resources);
    expect(await tuneMatmuls(resources, requests, { store, candidates })).toEqual(table);
    expect(resources.counts.buffersCreated).toBe(before.buffersCreated);
    expect(resources.counts.pipelines).toBe(before.pipelines);

    // A stored id that is not a candidate is ignored and the product is tuned again.
    clearAutotuneCache(resources);
    store.tables.set(adapterKey, { ...store.tables.get(adapterKey), [keys[0]]: 'no-such-variant' });
    const again = await tuneMatmuls(resources, requests.slice(0, 1), { store, candidates, rounds: 1 });
    expect(again[keys[0]]).not.toBe('no-such-variant');
    expect(store.tables.get(adapterKey)![keys[0]]).toBe(again[keys[0]]);
  });

  it('a given table (a checkpoint\'s) stands as it is: nothing is timed', async () => {
    const { resources } = await testGpu();
    clearAutotuneCache(resources);
    const request: MatmulRequest = { shape: layer1, constants: fwd, alignment: ALL_ALIGNED };
    const key = tuningKey(layer1, fwd, ALL_ALIGNED);
    const store = memoryTuningStore();
    const before = resources.counts.buffersCreated;
    const table = await tuneMatmuls(resources, [request], { table: { [key]: SPLIT4 }, store });
    expect(table).toEqual({ [key]: SPLIT4 });
    expect(resources.counts.buffersCreated).toBe(before);
    expect(store.tables.size).toBe(0);
  });
});

/** A one-layer forward pass, x [rows, 256] · Wᵀ + b, ReLU, planned under `tuning`: the plan, its arena and tensors. */
function forwardPlan(rows: number, tuning: TuningTable = {}, inputs = 256) {
  const g = new Graph();
  const x = g.external(externalBuffer('x', rows * inputs * 4), [rows, inputs]);
  const w = g.tensor([128, inputs], 'param', 'fc1.weight');
  const b = g.tensor([128], 'param', 'fc1.bias');
  const [z] = g.add('matmul', [x, w, b], { transB: true, act: 'relu' });
  z.keep = true;
  const arena = new ParameterArena([{ name: w.name, shape: [128, inputs], decay: true }, { name: b.name, shape: [128], decay: false }]);
  const layout = layoutOf(arena);
  return { plan: planStep(g.nodes, layout, { tuning }), arena, layout, z, x };
}

describe('the planner applies tuning tables (choosing a variant is a pure function of the table)', () => {
  it('tuned plans differ from the reference plan only in the matmul dispatches; bindings, labels and uniforms stay', async () => {
    const { resources } = await testGpu();
    clearAutotuneCache(resources);
    // A small MLP step: 48 rows, 256 → 64 → 10, with its backward pass.
    const g = new Graph();
    const x = g.external(externalBuffer('x', 48 * 256 * 4), [48, 256]);
    const labels = g.external(externalBuffer('labels', 48 * 4), [48], 'u32');
    const metrics = g.external(externalBuffer('metrics', 32), [8]);
    const w1 = g.tensor([64, 256], 'param', 'fc1.weight');
    const b1 = g.tensor([64], 'param', 'fc1.bias');
    const w2 = g.tensor([10, 64], 'param', 'fc2.weight');
    const b2 = g.tensor([10], 'param', 'fc2.bias');
    const [z1] = g.add('matmul', [x, w1, b1], { transB: true });
    const [h1] = g.add('activation', [z1], { kind: 'relu' });
    const [z2] = g.add('matmul', [h1, w2, b2], { transB: true });
    z2.keep = true;
    g.add('softmax_xent', [z2, labels, metrics], { training: true });
    appendBackward(g, g.nodes.length - 1);
    const layout = layoutOf(new ParameterArena([w1, b1, w2, b2].map((t) => ({ name: t.name, shape: [...t.shape], decay: t.shape.length > 1 }))));
    const nodes = fuse(g.nodes);
    const plan = planStep(nodes, layout);
    const candidates = (r: MatmulRequest) => candidateVariants(r.shape, r.constants, r.alignment, 'cpu').slice(0, 3);
    const requests = matmulRequestsOf(plan);
    expect(requests.length).toBeGreaterThan(0);
    const table = await tuneMatmuls(resources, requests, { rounds: 1, candidates, store: memoryTuningStore() });
    const tuned = planStep(nodes, layout, { tuning: table });
    expect(tuned.dispatches).toHaveLength(plan.dispatches.length);
    expect(Buffer.from(tuned.uniformData).equals(Buffer.from(plan.uniformData))).toBe(true);
    let changed = 0;
    plan.dispatches.forEach((d, i) => {
      const t = tuned.dispatches[i];
      expect(t.bindings).toEqual(d.bindings);
      expect(t.label).toBe(d.label);
      if (d.kernel !== 'matmul') return expect(t).toEqual(d);
      expect(matmulKernelNames.has(t.kernel)).toBe(true);
      const v = variantOfDispatch(t)!;
      expect(v, t.kernel).toBeDefined();
      if (v.id !== REFERENCE_MATMUL.id) changed++;
      const shape = matmulParamsOf(plan, d);
      expect(v.fits(shape, { transA: !!d.constants.TRANS_A, transB: !!d.constants.TRANS_B, biasGrad: !!d.constants.BIAS_GRAD })).toBe(true);
      expect(t.workgroups).toEqual(variantSteps(v, shape, d.constants).steps[0].workgroups);
      for (const flag of ['TRANS_A', 'TRANS_B', 'BIAS', 'ACT', 'ACT_GRAD', 'BIAS_GRAD']) expect(Number(t.constants[flag] ?? 0)).toBe(Number(d.constants[flag] ?? 0));
    });
    // The table names a variant for every product; on SwiftShader the reference rarely wins them all.
    expect(Object.keys(table).length).toBe(requests.length);
    expect(changed + requests.filter((r) => table[tuningKey(r.shape, r.constants, r.alignment)] === REFERENCE_MATMUL.id).length).toBe(requests.length);
  });

  it('a split-K choice adds the scratch buffer and the second step, and the plan computes the product', async () => {
    const { gpu, resources } = await testGpu();
    const rows = 20;
    const reference = forwardPlan(rows).plan;
    const [request] = matmulRequestsOf(reference);
    const { plan: split, arena, layout, z, x } = forwardPlan(rows, { [tuningKey(request.shape, request.constants, request.alignment)]: SPLIT4 });
    expect(split.dispatches.map((d) => d.kernel)).toEqual(['matmulTiled', 'matmulSplitKReduce']);
    expect(split.buffers.find((b) => b.name === SCRATCH_BUFFER)?.bytes).toBe(4 * rows * 128 * 4);
    // Both steps bind the product's Params.
    expect(split.dispatches[0].bindings[5]).toEqual(reference.dispatches[0].bindings[5]);
    expect(split.dispatches[1].bindings[5]).toEqual(reference.dispatches[0].bindings[5]);
    expect(split.dispatches[1].bindings[3]).toEqual(reference.dispatches[0].bindings[3]);

    const rng = new Rng(3);
    const xs = randomArray(rows * 256, rng);
    const weights = new Float32Array(arena.totalFloats);
    const w = randomArray(128 * 256, rng);
    const bias = randomArray(128, rng);
    weights.set(w, arena.slot('fc1.weight').offset);
    weights.set(bias, arena.slot('fc1.bias').offset);
    const bindings = new Map([
      [x.external!, resources.createStorage('test.x', xs)],
      [layout.paramsBuffer, resources.createStorage('test.params', weights)],
    ]);
    const exe = await Executable.create(resources, split, bindings, 'split-K test');
    const encoder = gpu.device.createCommandEncoder();
    exe.encode(encoder);
    gpu.device.queue.submit([encoder.finish()]);
    const where = exe.locate(z.id);
    const out = new Float32Array(await readBuffer(resources, where.buffer, where.offset, where.size));
    gpu.check();
    exe.destroy();
    bindings.forEach((b) => resources.destroyBuffer(b));
    const expected = matmulRef(xs, w, rows, 128, 256, false, true).map((v, i) => activateRef(v + bias[i % 128], 'relu'));
    expectAllClose(out, expected, epilogueTolerance(256), 'split-K plan output');
    expect(kernels[split.dispatches[1].kernel].name).toBe('matmul_split_k');
  });

  it('a partial batch adopts the full batch\'s variants where they fit, and keeps the reference elsewhere', () => {
    const [full] = matmulRequestsOf(forwardPlan(64).plan);
    const [tail] = matmulRequestsOf(forwardPlan(20).plan);
    for (const id of ['matmulV16x16@4x4', SPLIT4]) {
      const adopted = adoptChoices({ [tuningKey(full.shape, full.constants, full.alignment)]: id }, [{ from: full, to: tail }]);
      const plan = forwardPlan(20, adopted).plan;
      expect(variantOfDispatch(plan.dispatches[0])?.id).toBe(id);
      expect(plan.dispatches[0].workgroups).toEqual(variantSteps(byId(id), { M: 20, N: 128, K: 256 }, full.constants).steps[0].workgroups);
    }
    // 126 input columns: K % 4 ≠ 0, no all-vec4 kernel fits, so the choice is not adopted.
    const odd = forwardPlan(18, {}, 126);
    const [oddRequest] = matmulRequestsOf(odd.plan);
    const adopted = adoptChoices({ [tuningKey(full.shape, full.constants, full.alignment)]: 'matmulV16x16@4x4' }, [{ from: full, to: oddRequest }]);
    expect(forwardPlan(18, adopted, 126).plan.dispatches[0]).toEqual(odd.plan.dispatches[0]);
  });
});

describe('host stores', () => {
  it('Node: one JSON file of tables by adapter key, written whole; a corrupt file counts as empty', () => {
    const dir = mkdtempSync(join(tmpdir(), 'webgrad-tuning-'));
    const file = join(dir, 'nested', 'tuning.json');
    const store = fileTuningStore(file);
    expect(store.get('v2|a')).toBeUndefined();
    store.set('v2|a', { k1: 'matmul@8x8' });
    store.set('v2|b', { k2: 'matmulV8x8@4x4' });
    expect(fileTuningStore(file).get('v2|a')).toEqual({ k1: 'matmul@8x8' });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ 'v2|a': { k1: 'matmul@8x8' }, 'v2|b': { k2: 'matmulV8x8@4x4' } });
    writeFileSync(file, '{ half a file');
    expect(store.get('v2|a')).toBeUndefined();
    store.set('v2|a', { k3: 'matmul@8x8' });
    expect(store.get('v2|a')).toEqual({ k3: 'matmul@8x8' });
    expect(defaultTuningFile({ XDG_CACHE_HOME: '/tmp/cache' })).toBe('/tmp/cache/webgrad/tuning.json');
  });

  it('browsers: localStorage, one entry per adapter; quota errors and junk ignored', () => {
    const items = new Map<string, string>();
    let full = false;
    const storage = {
      getItem: (k: string) => items.get(k) ?? null,
      setItem: (k: string, v: string) => {
        if (full) throw new Error('QuotaExceededError');
        items.set(k, v);
      },
    } as unknown as Storage;
    const store = localStorageTuningStore(storage)!;
    store.set('v2|a', { k: 'matmul@8x8' });
    expect(store.get('v2|a')).toEqual({ k: 'matmul@8x8' });
    expect(items.has('webgrad.tuning.v2|a')).toBe(true);
    full = true;
    expect(() => store.set('v2|a', { k: 'x' })).not.toThrow();
    items.set('webgrad.tuning.v2|b', 'not json');
    expect(store.get('v2|b')).toBeUndefined();
    expect(localStorageTuningStore(undefined)).toBeUndefined();
  });
});
