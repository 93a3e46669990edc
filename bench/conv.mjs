#!/usr/bin/env node
/**
 * GFLOP/s of the conv2d kernels (shaders/conv2d.wgsl: register-blocked and tiled variants) at the MNIST
 * CNN's shapes, in Node on Dawn: conv1 1→16 k5 pad 2 on 28×28, conv2 16→32 k5 on 14×14 (→ 10×10).
 * Each dispatch runs alone in a timestamped pass (src/gpu/profiler.ts); all dispatches of a layer run
 * interleaved in each of `--reps` repetitions after a warm-up, and the median is reported. The weight
 * gradient is its two passes (partial sums, then partial_sum.wgsl). FLOPs: 2·N·Co·OH·OW·Ci·KH·KW for every
 * computation. The engine's matmul kernels on a GEMM of the same FLOPs run alongside as a yardstick.
 *
 *   node bench/conv.mjs [--batch 128] [--reps 5] [--variants blocked,window,tiled] [--splits 0] [--json FILE]
 *
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
    variants: { type: 'string', default: 'blocked,window,tiled' },
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

/** Median milliseconds of each of the `dispatches` (run in sequence, each in its own pass), over reps. */
async function time(dispatches) {
  const profiler = new TimestampProfiler(resources, dispatches.length);
  const samples = dispatches.map(() => []);
  for (let r = 0; r <= reps; r++) {
    const encoder = device.createCommandEncoder();
    dispatches.forEach((d, i) => {
      const pass = encoder.beginComputePass(profiler.pass(i));
      pass.setPipeline(d.pipeline);
      pass.setBindGroup(0, d.bindGroup);
      pass.dispatchWorkgroups(...d.workgroups);
      pass.end();
    });
    const ms = await profiler.read(encoder, dispatches.length);
    if (r > 0) ms.forEach((m, i) => samples[i].push(m)); // r = 0 warms up
  }
  profiler.destroy();
  gpu.check();
  return samples.map((s) => s.sort((a, b) => a - b)[Math.floor(s.length / 2)]);
}

function constantsFor(variant, computation) {
  if (variant === 'tiled') return { MODE: conv.convModes[computation], BIAS: computation !== 'grad_input', ACT: computation === 'forward' ? 1 : 0, ACT_GRAD: computation === 'grad_input' ? 1 : 0 };
  if (computation === 'forward') return { WG: conv.CONV_WG, BIAS: true, ACT: 1 };
  if (computation === 'grad_input') return { WG: conv.CONV_WG, ACT_GRAD: 1 };
  return { WG: conv.CONV_WG, BIAS: true };
}

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
  for (const variant of values.variants.split(',')) {
    const wg = (c) => conv.convWorkgroups(variant, c, g, c === 'grad_weight' ? splits : 1, c === 'grad_weight');
    const params = (c) => conv.convParams(g, c === 'grad_weight' ? splits : 1, 0);
    const add = async (computation, buffers) => {
      if (!conv.convVariantFits(variant, computation, g)) return;
      const d = await prepare(conv.convKernelName(variant, computation), constantsFor(variant, computation), buffers, params(computation), wg(computation));
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
  // The yardstick: C[Co × N·OH·OW] = A[Co × K] · B[K × N·OH·OW] with the reference kernel and the 16×16 vec4 one.
  const gemm = { M: g.outChannels, N: g.batch * g.outH * g.outW, K: k };
  const a = storage('a', random(gemm.M * gemm.K));
  const b = storage('b', random(gemm.K * gemm.N));
  const c = storage('c', new Float32Array(gemm.M * gemm.N));
  const mmConstants = { TRANS_A: false, TRANS_B: false, BIAS: false, ACT: 0, ACT_GRAD: 0 };
  entries.push({ computation: `matmul ${gemm.M}×${gemm.N}×${gemm.K}`, variant: 'matmul (reference)', dispatch: await prepare('matmul', { ...mmConstants, WG_X: 8, WG_Y: 8 }, [a, b, dummyOf(), c, dummyOf()], { ...gemm, alpha: 0 }, [Math.ceil(gemm.N / 32), Math.ceil(gemm.M / 32), 1]) });
  if (gemm.N % 4 === 0 && gemm.K % 4 === 0) {
    entries.push({ computation: `matmul ${gemm.M}×${gemm.N}×${gemm.K}`, variant: 'matmulV16x16@4x4', dispatch: await prepare('matmulV16x16', { ...mmConstants, WG_X: 4, WG_Y: 4 }, [a, b, dummyOf(), c, dummyOf()], { ...gemm, alpha: 0 }, [Math.ceil(gemm.N / 64), Math.ceil(gemm.M / 64), 1]) });
  }
  const times = await time(entries.map((e) => e.dispatch));
  entries.forEach((e, i) => {
    const ms = times[i];
    const gflops = e.computation === 'partial_sum' ? null : flops / (ms * 1e6);
    out.rows.push({ layer: name, computation: e.computation, variant: e.variant, ms, gflops, workgroups: e.dispatch.workgroups, splits: e.computation === 'grad_weight' ? splits : undefined });
    const label = e.computation === 'grad_weight' ? `grad_weight + db partials (${splits} splits)` : e.computation;
    console.log(`| ${name} | ${label} | ${e.variant} | ${e.dispatch.workgroups.join('×')} | ${ms.toFixed(2)} | ${gflops === null ? '' : gflops.toFixed(2)} |`);
  });
  entries.forEach((e) => resources.destroyBuffer(e.dispatch.uniform));
  owned.forEach((buffer) => resources.destroyBuffer(buffer));
}
out.loadAfter = os.loadavg();
console.log(`\nload average after: ${os.loadavg().map((l) => l.toFixed(2)).join(' / ')}`);
if (values.json) writeFileSync(values.json, JSON.stringify(out, null, 1));
await server.close();
process.exit(0);
