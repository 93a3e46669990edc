#!/usr/bin/env node
/**
 * GPU time of every dispatch of the norm and pooling ops at the MNIST CNN's shapes (batch 128), and of
 * batch norm and layer norm against the kernels they replaced (one thread per feature / per row, from git
 * commit 0958a59), in Node on Dawn. Each op is planned and instantiated as the engine does (src/scheduler/
 * plan.ts, executable.ts); each dispatch runs in its own timestamped pass; the median of --repeats runs
 * after two warm-ups is reported (a median because SwiftShader shares the CPU with everything else).
 *
 *   node bench/norm_pool_kernels.mjs [--repeats 9] [--old-commit 0958a59] [--only batch_norm] [--split gpu|cpu]
 *
 * --split: the norms' reduction split (src/kernels/reduction_split.ts GPU_SPLIT or CPU_SPLIT).
 *
 * Loads the TypeScript sources through Vite (no build needed). Prints a Markdown table.
 */
import { execSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createServer } from 'vite';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { repeats: { type: 'string', default: '9' }, only: { type: 'string' }, split: { type: 'string', default: 'gpu' }, 'old-commit': { type: 'string', default: '0958a59' } } });
const repeats = Number(values.repeats);

const server = await createServer({ root, logLevel: 'error', server: { middlewareMode: true, hmr: false }, appType: 'custom', optimizeDeps: { noDiscovery: true } });
const load = (file) => server.ssrLoadModule(file);
const { requestGpu } = await load('/src/gpu/device.ts');
const { GpuResources } = await load('/src/gpu/resources.ts');
const { TimestampProfiler } = await load('/src/gpu/profiler.ts');
const { Graph } = await load('/src/graph/graph.ts');
const { opDefs } = await load('/src/graph/ops.ts');
const { ParameterArena } = await load('/src/nn/parameters.ts');
const { planStep, STATE_BUFFER } = await load('/src/scheduler/plan.ts');
const { Executable } = await load('/src/scheduler/executable.ts');
const { UniformLayout } = await load('/src/kernels/uniform.ts');
const { grid1d } = await load('/src/kernels/kernel.ts');
const { withReductionSplit, GPU_SPLIT, CPU_SPLIT } = await load('/src/kernels/reduction_split.ts');
const split = values.split === 'cpu' ? CPU_SPLIT : GPU_SPLIT;

const gpu = await requestGpu();
if (!gpu.hasTimestamps) throw new Error('This adapter has no timestamp queries.');
const resources = new GpuResources(gpu);
const device = resources.device;
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const random = (n) => Float32Array.from({ length: n }, () => Math.random() * 2 - 1);

/** Times `count` dispatches, each in its own pass stamped by `profiler.pass(i)`: per-dispatch medians in ms. */
async function time(count, encodeAll) {
  const profiler = new TimestampProfiler(resources, count);
  const samples = [];
  for (let r = 0; r < repeats + 2; r++) {
    const encoder = device.createCommandEncoder();
    encodeAll(encoder, profiler);
    const times = await profiler.read(encoder, count);
    if (r >= 2) samples.push(times);
  }
  profiler.destroy();
  return Array.from({ length: count }, (_, i) => median(samples.map((s) => s[i])));
}

/** A forward op and its backward rule (upstream gradient external), planned and timed dispatch by dispatch. */
async function timeOp(build) {
  const g = new Graph();
  const { x, output } = build(g);
  const dy = g.tensor(output.shape, 'external', 'dy');
  const node = g.nodes[0];
  const grads = opDefs[node.op].backward(node, node.outputs.map((t) => (t === output ? dy : undefined)), g, node.inputs.map(() => true));
  grads.forEach((t, i) => {
    if (t && node.inputs[i].role === 'param') Object.assign(t, { role: 'grad', gradOf: node.inputs[i] });
  });
  const named = g.tensors.filter((t) => t.role === 'param' || t.role === 'state');
  const arena = new ParameterArena(named.length ? named.map((t) => ({ name: t.name, shape: [...t.shape], decay: false })) : [{ name: 'none', shape: [1], decay: false }]);
  const init = new Float32Array(arena.totalFloats).fill(1);
  const buffers = {
    params: resources.createStorage('params', init),
    grads: resources.createStorage('grads', init),
    [STATE_BUFFER]: resources.createStorage(STATE_BUFFER, init),
    x: resources.createStorage('x', random(x.size)),
    dy: resources.createStorage('dy', random(dy.size)),
  };
  const exe = await Executable.create(resources, planStep(withReductionSplit(g.nodes, split), arena), buffers, 'bench');
  const times = await time(exe.dispatchCount, (encoder, profiler) => exe.encodeSeparately(encoder, (i) => profiler.pass(i)));
  const rows = exe.plan.dispatches.map((d, i) => ({ kernel: d.kernel, workgroups: d.workgroups.join('×'), ms: times[i] }));
  exe.destroy();
  Object.values(buffers).forEach((b) => resources.destroyBuffer(b));
  return rows;
}

const normInputs = (g, shape, affineParams) => {
  const x = g.tensor(shape, 'external', 'x');
  const c = shape[1];
  const params = affineParams ? [g.tensor([c], 'param', 'w'), g.tensor([c], 'param', 'b')] : [];
  return { x, params };
};
const batchNorm = (shape) => (g) => {
  const { x, params } = normInputs(g, shape, true);
  const stats = ['rm', 'rv'].map((n) => g.tensor([shape[1]], 'state', n));
  return { x, output: g.add('batch_norm', [x, ...params, ...stats], {})[0] };
};
const groupNorm = (shape, groups) => (g) => {
  const { x, params } = normInputs(g, shape, true);
  return { x, output: g.add('group_norm', [x, ...params], { groups })[0] };
};
const layerNorm = (shape) => (g) => {
  const x = g.tensor(shape, 'external', 'x');
  const f = shape.at(-1);
  return { x, output: g.add('layer_norm', [x, g.tensor([f], 'param', 'w'), g.tensor([f], 'param', 'b')], {})[0] };
};
const pool = (op, shape, attrs) => (g) => {
  const x = g.tensor(shape, 'external', 'x');
  return { x, output: g.add(op, [x], attrs)[0] };
};

/** The replaced kernels, compiled from the old commit's WGSL, with their old bindings and dispatch sizes. */
async function timeOld(file, entryPoint, kinds, paramsFields, paramsValues, sizes, workgroups) {
  const code = execSync(`git show ${values['old-commit']}:shaders/${file}`, { cwd: root }).toString();
  const layout = device.createBindGroupLayout({
    entries: kinds.map((kind, binding) => ({ binding, visibility: GPUShaderStage.COMPUTE, buffer: { type: kind === 'uniform' ? 'uniform' : kind === 'read' ? 'read-only-storage' : 'storage' } })),
  });
  const pipeline = await device.createComputePipelineAsync({ layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }), compute: { module: device.createShaderModule({ code }), entryPoint } });
  const params = new UniformLayout('Params', paramsFields);
  const uniform = resources.createBuffer('old.params', params.byteSize, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
  device.queue.writeBuffer(uniform, 0, params.pack(paramsValues));
  const storage = sizes.map((n, i) => resources.createStorage(`old${i}`, Float32Array.from(random(n), (v) => 1 + v * 0.5)));
  const bindGroup = device.createBindGroup({ layout, entries: [...storage, uniform].map((buffer, binding) => ({ binding, resource: { buffer } })) });
  const [ms] = await time(1, (encoder, profiler) => {
    const pass = encoder.beginComputePass(profiler.pass(0));
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(...workgroups);
    pass.end();
  });
  [...storage, uniform].forEach((b) => resources.destroyBuffer(b));
  return ms;
}

const oldBatchNorm = async (rows, features) => {
  const fields = [['rows', 'u32'], ['features', 'u32'], ['eps', 'f32'], ['momentum', 'f32']];
  const p = { rows, features, eps: 1e-5, momentum: 0.1 };
  const wg = [Math.ceil(features / 64), 1, 1];
  const f = features;
  return {
    forward: await timeOld('batch_norm.wgsl', 'forward', ['read', 'write', 'write', 'write', 'write', 'write', 'write', 'write', 'uniform'], fields, p, [rows * f, f, f, f, f, rows * f, f, f], wg),
    backward: await timeOld('batch_norm.wgsl', 'backward', ['read', 'read', 'read', 'read', 'read', 'write', 'write', 'write', 'uniform'], fields, p, [rows * f, rows * f, f, f, f, rows * f, f, f], wg),
  };
};
const oldLayerNorm = async (rows, features) => {
  const fields = [['rows', 'u32'], ['features', 'u32'], ['eps', 'f32']];
  const p = { rows, features, eps: 1e-5 };
  const f = features;
  return {
    forward: await timeOld('layer_norm.wgsl', 'forward', ['read', 'read', 'read', 'write', 'write', 'write', 'uniform'], fields, p, [rows * f, f, f, rows * f, rows, rows], grid1d(rows, 64)),
    backward: await timeOld('layer_norm.wgsl', 'backward', ['read', 'read', 'read', 'read', 'read', 'write', 'write', 'write', 'uniform'], fields, p, [rows * f, rows * f, rows, rows, f, rows * f, f, f], grid1d(rows + features, 64)),
  };
};

const lines = [
  `Norm and pooling kernels (${values.split} split), median of ${repeats} timestamped runs, ${gpu.adapterName ?? 'adapter'} (${os.cpus().length} CPUs, load ${os.loadavg()[0].toFixed(2)}):`,
  '',
  '| op | shape | dispatches (kernel [workgroups] ms) | total ms |',
  '| --- | --- | --- | ---: |',
];
const report = (op, shape, rows) => {
  const fwd = rows.filter((r) => !/Backward|channelSums/.test(r.kernel));
  const bwd = rows.filter((r) => /Backward|channelSums/.test(r.kernel));
  for (const [what, list] of [['forward', fwd], ['backward', bwd]]) {
    const text = list.map((r) => `${r.kernel} [${r.workgroups}] ${r.ms.toFixed(3)}`).join(' + ');
    lines.push(`| ${op} ${what} | [${shape}] | ${text} | ${list.reduce((s, r) => s + r.ms, 0).toFixed(3)} |`);
  }
};
const cases = [
  ['max_pool2d 2×2', [128, 16, 28, 28], pool('max_pool2d', [128, 16, 28, 28], { kernel: 2 })],
  ['max_pool2d 2×2', [128, 32, 10, 10], pool('max_pool2d', [128, 32, 10, 10], { kernel: 2 })],
  ['avg_pool2d 2×2', [128, 16, 28, 28], pool('avg_pool2d', [128, 16, 28, 28], { kernel: 2 })],
  ['avg_pool2d 2×2', [128, 32, 10, 10], pool('avg_pool2d', [128, 32, 10, 10], { kernel: 2 })],
  ['batch_norm (2d)', [128, 16, 28, 28], batchNorm([128, 16, 28, 28])],
  ['group_norm G=4', [128, 16, 28, 28], groupNorm([128, 16, 28, 28], 4)],
  ['batch_norm (1d)', [128, 128], batchNorm([128, 128])],
  ['batch_norm (1d)', [4096, 512], batchNorm([4096, 512])],
  ['layer_norm', [128, 128], layerNorm([128, 128])],
  ['layer_norm', [64, 3000], layerNorm([64, 3000])],
];
for (const [op, shape, build] of cases) if (!values.only || op.includes(values.only)) report(op, shape, await timeOp(build));
if (values.only) {
  console.log(lines.join('\n'));
  await server.close();
  process.exit(0);
}
lines.push('', `Replaced kernels (commit ${values['old-commit']}), one dispatch each:`, '', '| op | shape | forward ms | backward ms |', '| --- | --- | ---: | ---: |');
for (const [rows, f] of [[128, 128], [4096, 512]]) {
  const t = await oldBatchNorm(rows, f);
  lines.push(`| old batch_norm | [${rows}, ${f}] | ${t.forward.toFixed(3)} | ${t.backward.toFixed(3)} |`);
}
for (const [rows, f] of [[128, 128], [64, 3000]]) {
  const t = await oldLayerNorm(rows, f);
  lines.push(`| old layer_norm | [${rows}, ${f}] | ${t.forward.toFixed(3)} | ${t.backward.toFixed(3)} |`);
}
console.log(lines.join('\n'));
await server.close();
process.exit(0);
