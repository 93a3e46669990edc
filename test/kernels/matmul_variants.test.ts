/**
 * Every matmul variant (src/kernels/matmul_variants.ts) against the float64 reference: the same shapes as
 * matmul.test.ts plus shapes that suit the vec4 kernels, every transpose combination the variant supports,
 * both epilogues, outputs poisoned, nothing written outside C. Then the autotuner: it only ever picks a
 * verified candidate, rejects a broken one, caches its choice, and rewrites a plan's matmuls and nothing else.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng';
import { activationKinds } from '../../src/graph/ops';
import {
  adoptMatmulVariants,
  autotuneChoices,
  chooseMatmul,
  clearAutotuneCache,
  matmulParamsOf,
  tuneKey,
  tuneMatmul,
  tuneMatmuls,
  type AutotuneStore,
} from '../../src/kernels/autotune';
import { kernels } from '../../src/kernels/catalog';
import {
  REFERENCE_MATMUL,
  candidateVariants,
  matmulKernelNames,
  matmulVariants,
  variantConstants,
  variantWorkgroups,
  type MatmulVariant,
} from '../../src/kernels/matmul_variants';
import { shaderFiles } from '../../src/kernels/shaders';
import { externalBuffer, Graph } from '../../src/graph/graph';
import { layoutOf } from '../helpers/step_graph';
import { fuse } from '../../src/scheduler/fuse';
import { planStep } from '../../src/scheduler/plan';
import { ParameterArena } from '../../src/nn/parameters';
import { appendBackward } from '../../src/graph/autodiff';
import { Trainer } from '../../src/train/trainer';
import { syntheticDataset } from '../helpers/synthetic';
import { expectAllClose, maxAbs } from '../helpers/compare';
import { randomArray, runKernel, testGpu } from '../helpers/gpu';
import { dotTolerance, matmulActGradTolerance, matmulEpilogueTolerance } from '../tolerances';
import { activateGradRef, activateRef, matmulRef, savedForGrad } from '../helpers/reference';

// [M, N, K]: matmul.test.ts's shapes (1s, sizes off every block and tile, the MLP's), N = 10 and K = 10 as
// in the MLP's last layer, and shapes with N, K (and M) multiples of 4 so the vec4 variants run too,
// some of them off every block size in M and N.
const shapes: [number, number, number][] = [
  [1, 1, 1],
  [3, 5, 7],
  [33, 31, 17],
  [127, 129, 65],
  [128, 128, 784],
  [10, 64, 128],
  [64, 10, 64],
  [64, 64, 10],
  [10, 64, 64],
  [4, 4, 4],
  [36, 20, 12],
  [44, 132, 68],
  [128, 784, 64],
  [64, 128, 784],
];

const combos = [
  { transA: false, transB: false },
  { transA: false, transB: true },
  { transA: true, transB: false },
  { transA: true, transB: true },
];
/**
 * Epilogue activations per variant: every kind for the reference-like leader of each distinct epilogue
 * implementation (scalar in matmul_vec4k and matmul_tiled, vec4 in matmul_vec4n and the generated
 * matmul_v4_* files), two kinds elsewhere: each kind is another pipeline, and big blocks compile slowly on
 * SwiftShader. The reference kernel's epilogues are covered kind by kind in matmul.test.ts.
 */
const allKinds = Object.keys(activationKinds).filter((x) => x !== 'identity');
const fullEpilogue = new Set(['matmulVec4k@8x8', 'matmulVec4n@8x8', 'matmulV4x4@8x8', 'matmulTiled@8x8']);
const epilogueKinds = (v: MatmulVariant) => (fullEpilogue.has(v.id) ? allKinds : ['relu', 'sigmoid']);
it('every variant named for the full epilogue check exists', () => {
  for (const id of fullEpilogue) expect(matmulVariants.some((v) => v.id === id), id).toBe(true);
});

const opName = ({ transA, transB }: (typeof combos)[number]) => `${transA ? 'Aᵀ' : 'A'}·${transB ? 'Bᵀ' : 'B'}`;

/** The evaluation batch through the MLP's first layer (1000 rows, 784 → 128), in every transpose combination. */
const EVAL_SHAPE: [number, number, number] = [1000, 128, 784];
const evalCases = new Map<string, { a: Float32Array; b: Float32Array; ref: Float64Array }>();
function evalCase(flags: (typeof combos)[number]) {
  const key = opName(flags);
  if (!evalCases.has(key)) {
    const [m, n, k] = EVAL_SHAPE;
    const rng = new Rng(1000 + (flags.transA ? 2 : 0) + (flags.transB ? 1 : 0));
    const a = randomArray(m * k, rng);
    const b = randomArray(k * n, rng);
    evalCases.set(key, { a, b, ref: matmulRef(a, b, m, n, k, flags.transA, flags.transB) });
  }
  return evalCases.get(key)!;
}
const fitsShape = (v: MatmulVariant, [M, N, K]: [number, number, number], flags: (typeof combos)[number]) => v.fits({ M, N, K }, flags);

it('every variant is checked: each fits some test shape, and the evaluation batch, in some transpose combination', () => {
  for (const v of matmulVariants) {
    expect(combos.some((flags) => shapes.some((shape) => fitsShape(v, shape, flags))), v.id).toBe(true);
    expect(combos.some((flags) => fitsShape(v, EVAL_SHAPE, flags)), `${v.id} at ${EVAL_SHAPE.join('×')}`).toBe(true);
  }
});

async function run(
  v: MatmulVariant,
  [m, n, k]: [number, number, number],
  flags: (typeof combos)[number],
  epilogue: { bias?: Float32Array; y?: Float32Array; act?: number; actGrad?: number; alpha?: number },
  a: Float32Array,
  b: Float32Array,
  extraOutput = 0,
): Promise<Float32Array> {
  const base = { TRANS_A: flags.transA, TRANS_B: flags.transB, BIAS: !!epilogue.bias, ACT: epilogue.act ?? 0, ACT_GRAD: epilogue.actGrad ?? 0 };
  const sentinel = extraOutput ? new Float32Array(m * n + extraOutput).fill(12345) : undefined;
  sentinel?.fill(NaN, 0, m * n);
  const [c] = await runKernel(
    v.kernel,
    variantConstants(v, base),
    [{ data: a }, { data: b }, { data: epilogue.bias ?? epilogue.y ?? new Float32Array(4) }, { output: m * n + extraOutput, initial: sentinel }],
    { M: m, N: n, K: k, alpha: epilogue.alpha ?? 0 },
    variantWorkgroups(v, { M: m, N: n, K: k }),
  );
  return c as Float32Array;
}

describe('matmul variants vs float64 reference', () => {
  it('the catalog has a kernel for every variant, and every variant id is unique', () => {
    for (const v of matmulVariants) expect(kernels[v.kernel].params).toBe(kernels.matmul.params);
    expect(new Set(matmulVariants.map((v) => v.id)).size).toBe(matmulVariants.length);
    expect(REFERENCE_MATMUL).toMatchObject({ kernel: 'matmul', workgroup: [8, 8] });
  });

  it('the generated matmul_v4_*.wgsl files are up to date with scripts/gen_matmul_blocks.mjs', () => {
    expect(() => execFileSync(process.execPath, ['scripts/gen_matmul_blocks.mjs', '--check'], { stdio: 'pipe' })).not.toThrow();
  });

  for (const v of matmulVariants) {
    describe(v.id, () => {
      for (const flags of combos) {
        const fitting = shapes.filter(([M, N, K]) => v.fits({ M, N, K }, flags));
        if (!fitting.length) continue;
        it(`${opName(flags)} at ${fitting.map((s) => s.join('×')).join(', ')}`, async () => {
          for (const [m, n, k] of fitting) {
            const rng = new Rng(m * 7919 + n * 31 + k + (flags.transA ? 2 : 0) + (flags.transB ? 1 : 0));
            const a = randomArray(m * k, rng);
            const b = randomArray(k * n, rng);
            const c = await run(v, [m, n, k], flags, {}, a, b);
            expectAllClose(c, matmulRef(a, b, m, n, k, flags.transA, flags.transB), dotTolerance(k), `C ${m}×${n}×${k}`);
          }
        });
      }

      const evalCombos = combos.filter((flags) => fitsShape(v, EVAL_SHAPE, flags));
      if (evalCombos.length) {
        it(`evaluation batch ${EVAL_SHAPE.join('×')}: ${evalCombos.map(opName).join(', ')}`, async () => {
          for (const flags of evalCombos) {
            const { a, b, ref } = evalCase(flags);
            expectAllClose(await run(v, EVAL_SHAPE, flags, {}, a, b), ref, dotTolerance(EVAL_SHAPE[2]), `C ${EVAL_SHAPE.join('×')} ${opName(flags)}`);
          }
        });
      }

      const biasShape: [number, number, number] = [37, 20, 24];
      const fwd = { transA: false, transB: true };
      if (v.fits({ M: biasShape[0], N: biasShape[1], K: biasShape[2] }, fwd)) {
        it(`bias + ${epilogueKinds(v).join(', ')} (A·Bᵀ, as the forward pass)`, async () => {
          const [m, n, k] = biasShape;
          for (const kind of epilogueKinds(v)) {
            const rng = new Rng(kind.length);
            const a = randomArray(m * k, rng);
            const w = randomArray(n * k, rng);
            const bias = randomArray(n, rng);
            const alpha = kind === 'elu' ? 1 : 0.1;
            const act = activationKinds[kind as keyof typeof activationKinds];
            const c = await run(v, biasShape, fwd, { bias, act, alpha }, a, w);
            const z = matmulRef(a, w, m, n, k, false, true);
            expectAllClose(c, z.map((x, i) => activateRef(x + bias[i % n], kind, alpha)), matmulEpilogueTolerance(k), `act(A·Wᵀ + b), ${kind}`);
          }
        });
      }

      const gradShape: [number, number, number] = [29, 12, 8];
      const bwd = { transA: false, transB: false };
      if (v.fits({ M: gradShape[0], N: gradShape[1], K: gradShape[2] }, bwd)) {
        it(`activation-gradient epilogue: ${epilogueKinds(v).join(', ')} (A·B, as dY·W)`, async () => {
          const [m, n, k] = gradShape;
          for (const kind of epilogueKinds(v)) {
            const rng = new Rng(100 + kind.length);
            const dy = randomArray(m * k, rng);
            const w = randomArray(k * n, rng);
            const x = randomArray(m * n, rng, 3);
            const alpha = kind === 'elu' ? 1 : 0.1;
            const y = savedForGrad(x, kind, alpha); // y, or x for GELU/SiLU
            const actGrad = activationKinds[kind as keyof typeof activationKinds];
            const c = await run(v, gradShape, bwd, { y, actGrad, alpha }, dy, w);
            const g = matmulRef(dy, w, m, n, k);
            expectAllClose(c, g.map((t, i) => t * activateGradRef(x[i], kind, alpha)), matmulActGradTolerance(k, 1, maxAbs(g)), `dY·W ⊙ f′, ${kind}`);
          }
        });
      }

      it('never writes outside C', async () => {
        let checked = 0;
        for (const flags of combos) {
          const shape: [number, number, number] = [20, 12, 8];
          if (!v.fits({ M: shape[0], N: shape[1], K: shape[2] }, flags)) continue;
          checked++;
          const rng = new Rng(5);
          const c = await run(v, shape, flags, {}, randomArray(160, rng), randomArray(96, rng), 64);
          expect([...c.slice(240)].every((x) => x === 12345), opName(flags)).toBe(true);
          expect(c.slice(0, 240).every(Number.isFinite), opName(flags)).toBe(true);
        }
        expect(checked, 'transpose combinations this variant fits at 20×12×8').toBeGreaterThan(0);
      });
    });
  }

  it('on SwiftShader every variant is bitwise identical to the reference (same summation order, no fused multiply-add)', async (context) => {
    const { gpu } = await testGpu();
    if (!/swiftshader/i.test(gpu.adapterName)) context.skip();
    for (const [flags, [m, n, k]] of [
      [combos[1], [64, 128, 784]],
      [combos[2], [128, 784, 64]],
      [combos[0], [64, 128, 64]],
    ] as const) {
      const rng = new Rng(m + n + k);
      const a = randomArray(m * k, rng);
      const b = randomArray(k * n, rng);
      const expected = await run(REFERENCE_MATMUL, [m, n, k], flags, {}, a, b);
      const fitting = matmulVariants.filter((x) => x !== REFERENCE_MATMUL && x.fits({ M: m, N: n, K: k }, flags));
      expect(fitting.length, `variants other than the reference that fit ${m}×${n}×${k} ${opName(flags)}`).toBeGreaterThan(1);
      for (const v of fitting) {
        const c = await run(v, [m, n, k], flags, {}, a, b);
        expect(c.every((x, i) => x === expected[i]), `${v.id} ${opName(flags)}`).toBe(true);
      }
    }
  });
});

describe('matmul autotuner', () => {
  it('tests tune against their own temporary cache, not the user\'s (test/setup/autotune_cache.ts)', () => {
    const file = process.env.WEBGRAD_AUTOTUNE_CACHE ?? '';
    expect(file.startsWith(tmpdir()), `WEBGRAD_AUTOTUNE_CACHE = '${file}'`).toBe(true);
    expect(file).toMatch(/webgrad-autotune-[^/]+\/autotune\.json$/);
  });

  it('a trainer built with autotuning really tunes: its shapes land in the run\'s cache file', async () => {
    const { gpu } = await testGpu();
    clearAutotuneCache();
    const data = syntheticDataset(300, 16, 16, 3);
    const trainer = await Trainer.create(gpu, data, undefined, { model: { layers: [256, 96, 10] }, batchSize: 100, autotune: { rounds: 1, sampleMs: 1 } });
    trainer.destroy();
    const saved = JSON.parse(readFileSync(process.env.WEBGRAD_AUTOTUNE_CACHE!, 'utf8')) as Record<string, string>;
    // The forward matmul of the first layer (100 × 96 × 256, A·Bᵀ) was tuned and persisted.
    const key = tuneKey(gpu.adapterName, { M: 100, N: 96, K: 256 }, { TRANS_A: false, TRANS_B: true, BIAS: true, ACT: 1, ACT_GRAD: 0, WG_X: 8, WG_Y: 8 });
    expect(Object.keys(saved).some((k) => k.endsWith(key) || k === key), `cache keys: ${Object.keys(saved).join(', ')}`).toBe(true);
  });

  const fwdConstants = { TRANS_A: false, TRANS_B: true, BIAS: true, ACT: 1, ACT_GRAD: 0, WG_X: 8, WG_Y: 8 };

  it('verifies every candidate against the reference, rejects a broken one and picks a verified one', async () => {
    const { resources } = await testGpu();
    const shape = { M: 64, N: 128, K: 256 };
    // Claims 8×8 blocks but runs 4×4 ones: a quarter of C stays poisoned.
    const broken: MatmulVariant = { ...REFERENCE_MATMUL, id: 'broken', family: 'broken', block: [8, 8] };
    const candidates = [...candidateVariants(shape, { transA: false, transB: true }), broken];
    const live = resources.counts.liveBuffers;
    const result = await tuneMatmul(resources, shape, fwdConstants, candidates, { rounds: 2, sampleMs: 2 });
    expect(resources.counts.liveBuffers).toBe(live);
    const byId = new Map(result.results.map((r) => [r.variant.id, r]));
    expect(byId.get('broken')).toMatchObject({ verified: false, compiled: true });
    expect(byId.get(REFERENCE_MATMUL.id)).toMatchObject({ verified: true, error: 0 });
    const chosen = byId.get(result.chosen.id)!;
    expect(chosen.verified).toBe(true);
    expect(chosen.milliseconds).toBeGreaterThan(0);
    // The choice is the fastest of those timed.
    const timed = result.results.filter((r) => r.milliseconds !== undefined);
    expect(Math.min(...timed.map((r) => r.milliseconds!))).toBe(chosen.milliseconds);
    // Everything except the broken one passes on a working adapter (a variant may fail only to compile).
    for (const r of result.results) if (r.variant.id !== 'broken' && r.compiled) expect(r.verified, r.variant.id).toBe(true);
  });

  it('caches the choice per adapter, shape and constants, and persists it through the store', async () => {
    const { gpu, resources } = await testGpu();
    clearAutotuneCache();
    const saved = new Map<string, string>();
    const store: AutotuneStore = { get: (key) => saved.get(key), set: (key, id) => void saved.set(key, id) };
    const shape = { M: 32, N: 64, K: 128 };
    const first = await chooseMatmul(resources, shape, fwdConstants, undefined, { store, rounds: 2, sampleMs: 2 });
    const key = tuneKey(gpu.adapterName, shape, fwdConstants);
    expect(saved.get(key)).toBe(first.id);
    expect((await autotuneChoices()).get(key)).toBe(first.id);
    expect(first.fits(shape, { transA: false, transB: true })).toBe(true);
    // A second request is answered from memory: no buffer is created, no pipeline compiled.
    const before = { ...resources.counts };
    expect((await chooseMatmul(resources, shape, { ...fwdConstants, WG_X: 4 }, undefined, { store })).id).toBe(first.id);
    expect(resources.counts.buffersCreated).toBe(before.buffersCreated);
    expect(resources.counts.pipelines).toBe(before.pipelines);
    // After the memory cache is gone, the store answers (again without tuning).
    clearAutotuneCache();
    saved.set(key, REFERENCE_MATMUL.id);
    expect((await chooseMatmul(resources, shape, fwdConstants, undefined, { store })).id).toBe(REFERENCE_MATMUL.id);
    expect(resources.counts.buffersCreated).toBe(before.buffersCreated);
    // A stored id that is no variant (or does not fit) is ignored and the shape is tuned again.
    clearAutotuneCache();
    saved.set(key, 'no-such-variant');
    const again = await chooseMatmul(resources, shape, fwdConstants, undefined, { store, rounds: 1, sampleMs: 1 });
    expect(again.id).not.toBe('no-such-variant');
    expect(saved.get(key)).toBe(again.id);
  });

  it('tiny products keep the reference kernel untimed', async () => {
    const { resources } = await testGpu();
    const before = resources.counts.buffersCreated;
    expect(await chooseMatmul(resources, { M: 8, N: 8, K: 8 }, fwdConstants)).toBe(REFERENCE_MATMUL);
    expect(resources.counts.buffersCreated).toBe(before);
  });

  it('tuneMatmuls rewrites only the matmul dispatches of a plan; buffers, bindings and uniforms stay', async () => {
    const { resources } = await testGpu();
    clearAutotuneCache();
    // A small MLP step: 48 rows, 256 → 64 → 10, with its backward pass.
    const g = new Graph();
    const x = g.external(externalBuffer('x', 12288 * 4), [48, 256]);
    const labels = g.external(externalBuffer('labels', 48 * 4), [48], 'u32');
    const metrics = g.external(externalBuffer('metrics', 4 * 4), [4]);
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
    const arena = new ParameterArena([w1, b1, w2, b2].map((t) => ({ name: t.name, shape: [...t.shape], decay: t.shape.length > 1 })));
    const plan = planStep(fuse(g.nodes), layoutOf(arena));
    const tuned = await tuneMatmuls(resources, plan, { rounds: 1, sampleMs: 1 });
    expect(tuned.buffers).toBe(plan.buffers);
    expect(tuned.uniformData).toBe(plan.uniformData);
    expect(tuned.dispatches).toHaveLength(plan.dispatches.length);
    expect(plan.dispatches.some((d) => d.kernel === 'matmul')).toBe(true);
    plan.dispatches.forEach((d, i) => {
      const t = tuned.dispatches[i];
      expect(t.bindings).toEqual(d.bindings);
      expect(t.label).toBe(d.label);
      if (d.kernel !== 'matmul') return expect(t).toBe(d);
      expect(matmulKernelNames.has(t.kernel)).toBe(true);
      const v = matmulVariants.find((m) => m.kernel === t.kernel && m.workgroup[0] === t.constants.WG_X && m.workgroup[1] === t.constants.WG_Y)!;
      expect(v, t.kernel).toBeDefined();
      const shape = matmulParamsOf(plan, d);
      expect(v.fits(shape, { transA: !!d.constants.TRANS_A, transB: !!d.constants.TRANS_B })).toBe(true);
      expect(t.workgroups).toEqual(variantWorkgroups(v, shape));
      for (const flag of ['TRANS_A', 'TRANS_B', 'BIAS', 'ACT', 'ACT_GRAD']) expect(Number(t.constants[flag] ?? 0)).toBe(Number(d.constants[flag] ?? 0));
    });
    // Every tuned kernel's module exists (the plan compiles).
    for (const d of tuned.dispatches) for (const f of kernels[d.kernel].files) expect(shaderFiles[f]).toBeTypeOf('string');
  });

  it('a partial-batch plan adopts the full plan\'s variants where they fit, and keeps the reference elsewhere', () => {
    const build = (rows: number) => {
      const g = new Graph();
      const x = g.external(externalBuffer('x', rows * 128 * 4), [rows, 128]);
      const w = g.tensor([64, 128], 'param', 'fc1.weight');
      const b = g.tensor([64], 'param', 'fc1.bias');
      g.add('matmul', [x, w, b], { transB: true });
      return planStep(g.nodes, layoutOf(new ParameterArena([{ name: w.name, shape: [64, 128], decay: true }, { name: b.name, shape: [64], decay: false }])));
    };
    const full = build(64);
    const v16 = matmulVariants.find((v) => v.id === 'matmulV16x16@4x4')!;
    const shape = matmulParamsOf(full, full.dispatches[0]);
    const tunedFull = { ...full, dispatches: [{ ...full.dispatches[0], kernel: v16.kernel, constants: variantConstants(v16, full.dispatches[0].constants), workgroups: variantWorkgroups(v16, shape) }] };
    const tail = adoptMatmulVariants(tunedFull, build(20));
    expect(tail.dispatches[0]).toMatchObject({ kernel: 'matmulV16x16', workgroups: variantWorkgroups(v16, { M: 20, N: 64, K: 128 }) });
    expect(tail.dispatches[0].constants).toMatchObject({ TRANS_B: true, BIAS: true, WG_X: 4, WG_Y: 4 });
    // 18 rows: K = 128 still fits the all-vec4 kernel, but not 126 columns of input (K % 4 ≠ 0).
    const odd = (() => {
      const g = new Graph();
      const x = g.external(externalBuffer('x', 2268 * 4), [18, 126]);
      const w = g.tensor([64, 126], 'param', 'fc1.weight');
      g.add('matmul', [x, w], { transB: true });
      return planStep(g.nodes, layoutOf(new ParameterArena([{ name: w.name, shape: [64, 126], decay: true }])));
    })();
    expect(adoptMatmulVariants(tunedFull, odd).dispatches[0]).toBe(odd.dispatches[0]);
  });
});
