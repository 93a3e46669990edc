#!/usr/bin/env node
/**
 * GFLOP/s of every matmul variant (src/kernels/matmul_variants.ts) at each matmul shape of the MNIST MLP
 * 784-128-64-10 (a training step at batch 64 and 128, evaluation at batch 1000), in Node on Dawn, with the
 * autotuner's own verification and timing (src/kernels/autotune.ts `tuneProduct`, exhaustive: every variant
 * that fits, verified against the reference first, then interleaved rounds timed by the one harness,
 * src/gpu/timing.ts, each sample long enough to resolve the clock, fastest sample kept).
 *
 *   node bench/matmul_variants.mjs [--batch 64,128] [--eval] [--rounds 7] [--only 0,4] [--json FILE]
 *
 * --only picks products by index in the list of each batch (fwd1 is 0, dW1 is 7), for quick runs.
 *
 * Loads the TypeScript sources through Vite (no build needed). Prints a Markdown table per batch size.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import os from 'node:os';
import { createServer } from 'vite';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    batch: { type: 'string', default: '64,128' },
    eval: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '7' },
    only: { type: 'string' },
    json: { type: 'string' },
  },
});

const server = await createServer({ root, logLevel: 'error', server: { middlewareMode: true, hmr: false }, appType: 'custom', optimizeDeps: { noDiscovery: true } });
const load = (file) => server.ssrLoadModule(file);
const { requestGpu } = await load('/src/gpu/device.ts');
const { GpuResources } = await load('/src/gpu/resources.ts');
const { tuneProduct } = await load('/src/kernels/autotune.ts');
const { matmulVariants } = await load('/src/kernels/matmul_variants.ts');
const { ALL_ALIGNED } = await load('/src/kernels/matmul_policy.ts');

const gpu = await requestGpu();
const resources = new GpuResources(gpu);
const rounds = Number(values.rounds);

/** The step's matmuls at batch B, with the flags and epilogues the fused plan gives them. */
function mlpMatmuls(B) {
  const fwd = { TRANS_A: false, TRANS_B: true, BIAS: true, ACT: 1, ACT_GRAD: 0 };
  const dx = { TRANS_A: false, TRANS_B: false, BIAS: false, ACT: 0, ACT_GRAD: 1 };
  const dw = { TRANS_A: true, TRANS_B: false, BIAS: false, ACT: 0, ACT_GRAD: 0 };
  return [
    { name: 'fwd1 X·W1ᵀ', M: B, N: 128, K: 784, c: fwd },
    { name: 'fwd2 H1·W2ᵀ', M: B, N: 64, K: 128, c: fwd },
    { name: 'fwd3 H2·W3ᵀ', M: B, N: 10, K: 64, c: { ...fwd, ACT: 0 } },
    { name: 'dH2 dZ3·W3', M: B, N: 64, K: 10, c: dx },
    { name: 'dW3 dZ3ᵀ·H2', M: 10, N: 64, K: B, c: dw },
    { name: 'dH1 dZ2·W2', M: B, N: 128, K: 64, c: dx },
    { name: 'dW2 dZ2ᵀ·H1', M: 64, N: 128, K: B, c: dw },
    { name: 'dW1 dZ1ᵀ·X', M: 128, N: 784, K: B, c: dw },
  ];
}

const cases = [];
const only = values.only ? new Set(values.only.split(',').map(Number)) : undefined;
const pick = (list) => (only ? list.filter((_, i) => only.has(i)) : list);
for (const B of values.batch.split(',').map(Number)) cases.push({ batch: B, list: pick(mlpMatmuls(B)) });
if (values.eval) cases.push({ batch: 1000, list: pick(mlpMatmuls(1000).slice(0, 3)) });

const started = Date.now();
const out = { adapter: gpu.adapterName, clock: null, host: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}`, loadBefore: os.loadavg()[0], rounds, cases: [] };
console.log(`# matmul variants on ${gpu.adapterName} (${out.host}), load average ${os.loadavg()[0].toFixed(2)}\n`);
for (const { batch, list } of cases) {
  const rows = [];
  for (const mm of list) {
    const shape = { M: mm.M, N: mm.N, K: mm.K };
    const flags = { transA: mm.c.TRANS_A, transB: mm.c.TRANS_B };
    const candidates = matmulVariants.filter((v) => v.fits(shape, flags));
    const request = { shape, constants: mm.c, alignment: ALL_ALIGNED, label: mm.name };
    const result = await tuneProduct(resources, request, candidates, { exhaustive: true, rounds, timing: { minSampleMs: 20 } });
    const gflops = (ms) => (2 * mm.M * mm.N * mm.K) / (ms * 1e6);
    out.clock ??= result.results.find((r) => r.clock)?.clock ?? null;
    const byId = Object.fromEntries(result.results.map((r) => [r.variant.id, r.milliseconds === undefined ? null : { ms: r.milliseconds, gflops: gflops(r.milliseconds), verified: r.verified, reps: r.reps }]));
    const reference = byId['matmul@8x8'];
    rows.push({ ...mm, results: byId, best: result.chosen.id, speedup: reference.ms / byId[result.chosen.id].ms });
    process.stderr.write(`${batch} ${mm.name}: best ${result.chosen.id}\n`);
  }
  out.cases.push({ batch, rows });
  const ids = matmulVariants.map((v) => v.id).filter((id) => rows.some((r) => r.results[id]));
  console.log(`## batch ${batch}: GFLOP/s per variant (ms per dispatch for the fastest), "–" = does not fit\n`);
  console.log(`| matmul | M × N × K | ${ids.join(' | ')} | fastest | vs reference |`);
  console.log(`| --- | --- | ${ids.map(() => '---:').join(' | ')} | --- | ---: |`);
  for (const r of rows) {
    const cells = ids.map((id) => {
      const x = r.results[id];
      if (!x) return '–';
      return id === r.best ? `**${x.gflops.toFixed(2)}** (${x.ms.toFixed(2)} ms)` : x.gflops.toFixed(2);
    });
    console.log(`| ${r.name} | ${r.M} × ${r.N} × ${r.K} | ${cells.join(' | ')} | ${r.best} | ${r.speedup.toFixed(2)}× |`);
  }
  console.log('');
}
out.loadAfter = os.loadavg()[0];
out.seconds = (Date.now() - started) / 1000;
console.log(`load average after: ${os.loadavg()[0].toFixed(2)}; ${out.seconds.toFixed(0)} s`);
if (values.json) writeFileSync(values.json, JSON.stringify(out, null, 1));
await server.close();
process.exit(0);
