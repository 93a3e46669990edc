#!/usr/bin/env node
/**
 * GFLOP/s of the conv2d kernels (shaders/conv2d.wgsl: register-blocked and tiled variants) at the MNIST
 * CNN's shapes, in Node on Dawn: conv1 1→16 k5 pad 2 on 28×28, conv2 16→32 k5 on 14×14 (→ 10×10).
 * Each dispatch runs alone in a timestamped pass (src/gpu/profiler.ts); all dispatches of a layer run
 * interleaved in each of `--reps` repetitions after a warm-up, and the median is reported. The weight
 * gradient is its two passes (partial sums, then partial_sum.wgsl). FLOPs: 2·N·Co·OH·OW·Ci·KH·KW for every
 * computation. The engine's matmul kernels on a GEMM of the same FLOPs run alongside as a yardstick.
 *
 *   node bench/conv.mjs [--batch 128] [--reps 5] [--variants blocked,window,tiled,gemm] [--splits 0]
 *                       [--matmul matmulV16x16@2x2] [--parts] [--json FILE]
 *
 * gemm: the im2col path (src/graph/ops_im2col.ts), each computation its whole chain of dispatches, timed
 * as one: forward im2col → matmul (bias, ReLU) → channels_first; input gradient channels_last → matmul →
 * col2im (ReLU'); weight gradient channels_last → matmul dYᵀ·cols with the bias gradient. Its products run
 * the `--matmul` variant (the tuner picks per product in a real plan). --parts adds a row per dispatch.
 * --splits 0 uses the graph's choice (convWeightGradSplits); any other value overrides it.
 * Loads the TypeScript sources through Vite (no build needed).
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createServer } from 'vite';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    batch: { type: 'string', default: '128' },
    reps: { type: 'string', default: '5' },
    variants: { type: 'string', default: 'blocked,window,tiled,gemm' },
    matmul: { type: 'string', default: 'matmulV16x16@2x2' },
    parts: { type: 'boolean', default: false },
    splits: { type: 'string', default: '0' },
    layers: { type: 'string', default: 'conv1,conv2' },
    json: { type: 'string' },
  },
});

const server = await createServer({ root, logLevel: 'error', server: { middlewareMode: true, hmr: false }, appType: 'custom', optimizeDeps: { noDiscovery: true } });
const load = (file) => server.ssrLoadModule(file);
const { requestGpu } = await load('/src/gpu/device.ts');
const { GpuResources } = await load('/src/gpu/resources.ts');
const { TimestampProfiler } = await load('/src/gpu/profiler.ts');
const { kernels } = await load('/src/kernels/catalog.ts');
const { grid1d } = await load('/src/kernels/kernel.ts');
const conv = await load('/src/kernels/conv.ts');
const { IM2COL_WG, col2imInvocations, im2colInvocations } = await load('/src/kernels/lower_conv.ts');
const { matmulVariants, variantSteps } = await load('/src/kernels/matmul_variants.ts');
const { convTaps, convWeightGradSplits } = await load('/src/graph/ops_conv.ts');

const gpu = await requestGpu();
const resources = new GpuResources(gpu);
const device = resources.device;
const reps = Number(values.reps);
const batch = Number(values.batch);

const layers = {
  conv1: { batch, inChannels: 1, inH: 28, inW: 28, outChannels: 16, outH: 28, outW: 28, kernelH: 5, kernelW: 5, strideH: 1, strideW: 1, padH: 2, padW: 2 },
  conv2: { batch, inChannels: 16, inH: 14, inW: 14, outChannels: 32, outH: 10, outW: 10, kernelH: 5, kernelW: 5, strideH: 1, strideW: 1, padH: 0, padW: 0 },
};

/** The matmul family's flags, all off (a product sets the ones it uses). */
const mmConstants = { TRANS_A: false, TRANS_B: false, BIAS: false, ACT: 0, ACT_GRAD: 0, BIAS_GRAD: false };
const dummyOf = () => resources.createStorage('dummy', new Float32Array(4));
const random = (n) => Float32Array.from({ length: n }, () => Math.random() * 2 - 1);

/** One dispatch ready to encode: pipeline, bind group, workgroups. */
async function prepare(kernelName, constants, buffers, params, workgroups) {
  const kernel = kernels[kernelName];
  const uniform = resources.createBuffer('params', kernel.params.byteSize, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
  device.queue.writeBuffer(uniform, 0, kernel.params.pack(params));
  const pipeline = await resources.pipeline(kernel, constants);
  const bindGroup = resources.createBindGroup(kernel, kernelName, [...buffers, uniform].map((buffer) => ({ buffer, offset: 0, size: buffer.size })));
  return { pipeline, bindGroup, workgroups, uniform };
}

/** Median milliseconds of each entry (a dispatch, or a chain of dispatches summed), each dispatch in its own pass, over reps. */
async function time(entries) {
  const flat = entries.flatMap((e) => e.chain ?? [e.dispatch]);
  const profiler = new TimestampProfiler(resources, flat.length);
  const samples = entries.map(() => []);
  for (let r = 0; r <= reps; r++) {
    const encoder = device.createCommandEncoder();
    flat.forEach((d, i) => {
      const pass = encoder.beginComputePass(profiler.pass(i));
      pass.setPipeline(d.pipeline);
      pass.setBindGroup(0, d.bindGroup);
      pass.dispatchWorkgroups(...d.workgroups);
      pass.end();
    });
    const ms = await profiler.read(encoder, flat.length);
    let at = 0;
    if (r > 0) entries.forEach((e, i) => { const n = (e.chain ?? [e.dispatch]).length; samples[i].push(ms.slice(at, at + n).reduce((a, b) => a + b, 0)); at += n; }); // r = 0 warms up
  }
  profiler.destroy();
  gpu.check();
  return samples.map((s) => s.sort((a, b) => a - b)[Math.floor(s.length / 2)]);
}

const epilogueFor = (computation) => (computation === 'forward' ? { bias: true, act: 1 } : computation === 'grad_input' ? { actGrad: 1 } : { bias: true });

const out = { adapter: gpu.adapterName, host: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}`, loadBefore: os.loadavg(), batch, reps, rows: [] };
console.log(`# conv2d kernels on ${gpu.adapterName} (${out.host}), batch ${batch}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' / ')}\n`);
console.log('All dispatches of a layer run interleaved in every repetition (so load drifts hit them alike); median of the repetitions.');
console.log('The matmul rows are the engine\'s matmul kernels on a GEMM with the same FLOPs (M = Co, N = N·OH·OW, K = Ci·KH·KW), as a yardstick.\n');
console.log('| layer | computation | variant | workgroups | ms | GFLOP/s |');
console.log('| --- | --- | --- | --- | ---: | ---: |');
for (const name of values.layers.split(',')) {
  const g = layers[name];
  const k = convTaps(g);
  const flops = 2 * g.batch * g.outChannels * g.outH * g.outW * k;
  const xSize = g.batch * g.inChannels * g.inH * g.inW;
  const ySize = g.batch * g.outChannels * g.outH * g.outW;
  const owned = [];
  const storage = (label, data) => (owned.push(resources.createStorage(label, data)), owned.at(-1));
  const x = storage('x', random(xSize));
  const w = storage('w', random(g.outChannels * k));
  const bias = storage('bias', random(g.outChannels));
  const dy = storage('dy', random(ySize));
  const y = storage('y', new Float32Array(ySize));
  const v = storage('v', random(xSize));
  const dx = storage('dx', new Float32Array(xSize));
  const splits = Number(values.splits) || convWeightGradSplits(g, true);
  const width = g.outChannels * k + g.outChannels;
  const partials = storage('partials', new Float32Array(splits * width));
  const dw = storage('dw', new Float32Array(g.outChannels * k));
  const db = storage('db', new Float32Array(g.outChannels));
  const entries = []; // { computation, variant, dispatch, gflops: boolean }
  for (const variant of values.variants.split(',').filter((v) => v !== 'gemm')) {
    const wg = (c) => conv.convWorkgroups(variant, c, g, c === 'grad_weight' ? splits : 1, c === 'grad_weight');
    const params = (c) => conv.convParams(g, c === 'grad_weight' ? splits : 1, 0);
    const add = async (computation, buffers) => {
      if (!conv.convVariantFits(variant, computation, g)) return;
      const d = await prepare(conv.convKernelName(variant, computation), conv.convConstants(variant, computation, g, epilogueFor(computation)), buffers, params(computation), wg(computation));
      entries.push({ computation, variant, dispatch: d });
    };
    await add('forward', [x, w, bias, y]);
    await add('grad_input', [dy, w, v, dx]);
    await add('grad_weight', [dy, x, bias, partials]);
    if (variant === 'blocked') {
      const d = await prepare('partialSum', {}, [partials, dw, db], { splits, count_a: g.outChannels * k, count_b: g.outChannels }, grid1d(width, 64));
      entries.push({ computation: 'partial_sum', variant: 'all', dispatch: d });
    }
  }
  if (values.variants.split(',').includes('gemm')) {
    const taps = k;
    const M = g.batch * g.outH * g.outW;
    const cols = storage('cols', new Float32Array(M * taps));
    const rows = storage('rows', new Float32Array(M * g.outChannels));
    const variant = matmulVariants.find((v) => v.id === values.matmul);
    if (!variant) throw new Error(`--matmul: no variant ${values.matmul}`);
    const mm = async (shape, flags, buffers) => {
      const [step] = variantSteps(variant, shape, { ...mmConstants, ...flags }).steps;
      return prepare(step.kernel, step.constants, buffers, { ...shape, alpha: 0 }, step.workgroups);
    };
    const convP = conv.convParams(g, 1, 0);
    const im2col = await prepare('im2col', { WG: IM2COL_WG }, [x, cols], convP, grid1d(im2colInvocations(g), IM2COL_WG));
    const forwardMm = await mm({ M, N: g.outChannels, K: taps }, { TRANS_B: true, BIAS: true, ACT: 1 }, [cols, w, bias, rows, dummyOf()]);
    const first = await prepare('channelsFirst', { WG: IM2COL_WG, ACT: 1 }, [rows, dummyOf(), y], { count: ySize, channels: g.outChannels, spatial: g.outH * g.outW, alpha: 0 }, grid1d(ySize, IM2COL_WG));
    const last = await prepare('channelsLast', { WG: IM2COL_WG, ACT_GRAD: 0 }, [dy, dummyOf(), rows], { count: ySize, channels: g.outChannels, spatial: g.outH * g.outW, alpha: 0 }, grid1d(ySize, IM2COL_WG));
    const inputMm = await mm({ M, N: taps, K: g.outChannels }, {}, [rows, w, dummyOf(), cols, dummyOf()]);
    const col2im = await prepare('col2im', { WG: IM2COL_WG, ACT_GRAD: 1 }, [cols, v, dx], convP, grid1d(col2imInvocations([g.batch, g.inChannels, g.inH, g.inW]), IM2COL_WG));
    const weightMm = await mm({ M: g.outChannels, N: taps, K: M }, { TRANS_A: true, BIAS_GRAD: true }, [rows, cols, dummyOf(), dw, db]);
    const label = `gemm (${values.matmul})`;
    entries.push({ computation: 'forward', variant: label, chain: [im2col, forwardMm, first] });
    entries.push({ computation: 'grad_input', variant: label, chain: [last, inputMm, col2im] });
    entries.push({ computation: 'grad_weight', variant: label, chain: [last, weightMm] });
    if (values.parts) {
      const parts = { im2col, 'forward matmul': forwardMm, channels_first: first, channels_last: last, 'input-gradient matmul': inputMm, col2im, 'weight-gradient matmul': weightMm };
      for (const [part, d] of Object.entries(parts)) entries.push({ computation: `(part) ${part}`, variant: label, chain: [d] });
    }
  }
  // The yardstick: C[Co × N·OH·OW] = A[Co × K] · B[K × N·OH·OW] with the reference kernel and the 16×16 vec4 one.
  const gemm = { M: g.outChannels, N: g.batch * g.outH * g.outW, K: k };
  const a = storage('a', random(gemm.M * gemm.K));
  const b = storage('b', random(gemm.K * gemm.N));
  const c = storage('c', new Float32Array(gemm.M * gemm.N));
  entries.push({ computation: `matmul ${gemm.M}×${gemm.N}×${gemm.K}`, variant: 'matmul (reference)', dispatch: await prepare('matmul', { ...mmConstants, WG_X: 8, WG_Y: 8 }, [a, b, dummyOf(), c, dummyOf()], { ...gemm, alpha: 0 }, [Math.ceil(gemm.N / 32), Math.ceil(gemm.M / 32), 1]) });
  if (gemm.N % 4 === 0 && gemm.K % 4 === 0) {
    entries.push({ computation: `matmul ${gemm.M}×${gemm.N}×${gemm.K}`, variant: 'matmulV16x16@4x4', dispatch: await prepare('matmulV16x16', { ...mmConstants, WG_X: 4, WG_Y: 4 }, [a, b, dummyOf(), c, dummyOf()], { ...gemm, alpha: 0 }, [Math.ceil(gemm.N / 64), Math.ceil(gemm.M / 64), 1]) });
  }
  const times = await time(entries);
  entries.forEach((e, i) => {
    const ms = times[i];
    const gflops = e.computation === 'partial_sum' || e.computation.startsWith('(part)') ? null : flops / (ms * 1e6);
    const workgroups = (e.chain ?? [e.dispatch]).map((d) => d.workgroups.join('×')).join(' + ');
    out.rows.push({ layer: name, computation: e.computation, variant: e.variant, ms, gflops, workgroups, splits: e.computation === 'grad_weight' && !e.chain ? splits : undefined });
    const label = e.computation === 'grad_weight' && !e.chain ? `grad_weight + db partials (${splits} splits)` : e.computation === 'grad_weight' ? 'grad_weight + db' : e.computation;
    console.log(`| ${name} | ${label} | ${e.variant} | ${workgroups} | ${ms.toFixed(2)} | ${gflops === null ? '' : gflops.toFixed(2)} |`);
  });
  entries.flatMap((e) => e.chain ?? [e.dispatch]).forEach((d) => resources.destroyBuffer(d.uniform));
  owned.forEach((buffer) => resources.destroyBuffer(buffer));
}
out.loadAfter = os.loadavg();
console.log(`\nload average after: ${os.loadavg().map((l) => l.toFixed(2)).join(' / ')}`);
if (values.json) writeFileSync(values.json, JSON.stringify(out, null, 1));
await server.close();
process.exit(0);
