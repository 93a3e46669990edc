#!/usr/bin/env node
/**
 * TF.js's WebGPU conv2d at the MNIST CNN shapes, in Node on the same Dawn as bench/conv.mjs, for a ratio.
 * TF.js's WebGPU backend takes NHWC only, so it runs NHWC (the same FLOPs). Times: tf.conv2d (forward),
 * tf.conv2dTranspose (the input gradient), and tf.grads of Σ dy·conv(x, w) with respect to x and w (the
 * forward, both gradients and an elementwise product and sum; its GFLOP/s counts the three convolutions).
 * Each: `--reps` calls back to back after a
 * warm-up, the clock stopped by a 1-element readback of the last result, median of `--runs` runs.
 *
 *   node bench/conv_tfjs.mjs [--batch 128] [--reps 3] [--runs 3]
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { batch: { type: 'string', default: '128' }, reps: { type: 'string', default: '3' }, runs: { type: 'string', default: '3' } } });
const swiftshader = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (!process.env.VK_ICD_FILENAMES && existsSync(swiftshader)) process.env.VK_ICD_FILENAMES = swiftshader;
const { create, globals } = await import('webgpu');
Object.assign(globalThis, globals);
Object.defineProperty(globalThis, 'navigator', { value: { gpu: create([]), userAgent: `Node.js ${process.version}` }, configurable: true });
const tfModule = await import('@tensorflow/tfjs');
const tf = tfModule.default ?? tfModule;
await import('@tensorflow/tfjs-backend-webgpu');
tf.enableProdMode();
if (!(await tf.setBackend('webgpu'))) throw new Error('TF.js WebGPU backend unavailable');
await tf.ready();

const batch = Number(values.batch);
const reps = Number(values.reps);
const runs = Number(values.runs);
const layers = [
  { name: 'conv1', x: [batch, 28, 28, 1], w: [5, 5, 1, 16], pad: 'same', y: [batch, 28, 28, 16] },
  { name: 'conv2', x: [batch, 14, 14, 16], w: [5, 5, 16, 32], pad: 'valid', y: [batch, 10, 10, 32] },
];

async function time(fn) {
  const readOne = (t) => tf.tidy(() => tf.slice(t.reshape([-1]), [0], [1])).data();
  for (let i = 0; i < 2; i++) tf.dispose(await readOne(keepLast(fn)));
  const samples = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    let last;
    for (let i = 0; i < reps; i++) {
      if (last) tf.dispose(last);
      last = keepLast(fn);
    }
    await readOne(last);
    samples.push((performance.now() - t0) / reps);
    tf.dispose(last);
  }
  return samples.sort((a, b) => a - b)[Math.floor(samples.length / 2)];
}
const keepLast = (fn) => tf.tidy(fn);

console.log(`# TF.js ${tf.version.tfjs} WebGPU conv2d in Node (Dawn), ${os.cpus().length} × ${os.cpus()[0]?.model}, batch ${batch}, load ${os.loadavg().map((l) => l.toFixed(2)).join(' / ')}\n`);
console.log('| layer | computation | ms | GFLOP/s |');
console.log('| --- | --- | ---: | ---: |');
for (const l of layers) {
  const x = tf.randomUniform(l.x, -1, 1);
  const w = tf.randomUniform(l.w, -1, 1);
  const dy = tf.randomUniform(l.y, -1, 1);
  const flops = 2 * l.y.reduce((a, b) => a * b) * l.w[0] * l.w[1] * l.w[2];
  const grads = tf.grads((a, b) => tf.sum(tf.mul(tf.conv2d(a, b, 1, l.pad), dy)));
  const rows = [
    ['forward', await time(() => tf.conv2d(x, w, 1, l.pad)), 1],
    ['grad_input (conv2dTranspose)', await time(() => tf.conv2dTranspose(dy, w, l.x, 1, l.pad)), 1],
    [
      'forward + grad_input + grad_weight (tf.grads)',
      await time(() => {
        const [gx, gw] = grads([x, w]);
        return tf.add(tf.sum(gx), tf.sum(gw));
      }),
      3,
    ],
  ];
  for (const [what, ms, multiple] of rows) {
    console.log(`| ${l.name} | ${what} | ${ms.toFixed(1)} | ${((multiple * flops) / (ms * 1e6)).toFixed(3)} |`);
  }
  tf.dispose([x, w, dy]);
}
console.log(`\nload after: ${os.loadavg().map((l) => l.toFixed(2)).join(' / ')}`);
process.exit(0);
