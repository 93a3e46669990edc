#!/usr/bin/env node
/**
 * The GPU benchmark: webgrad in Node on Dawn (the `webgpu` package) on the machine's own GPU driver, with
 * PyTorch on the same card beside it. One command, end to end in under 5 minutes:
 *
 *   npm run bench -- --gpu              (or: node bench/gpu.mjs, with dist/ built)
 *
 *  a. matmul GFLOP/s at the MLP's shapes (batch 128 and 1024, forward and both backward products) and at
 *     4096³, reference kernel and autotuned variant, against the card's FP32 peak (bench/gpu_peaks.mjs);
 *  b. the MLP 784-128-64-10: ms per step, a 60,000-sample epoch, steps per second, test accuracy;
 *  c. a small CNN epoch, when the engine takes layer-list models (skipped with the reason otherwise);
 *  d. what one step asks of the host: dispatches, submits, command buffers, buffer writes, map requests;
 *  e. PyTorch's figures for the same products and models (bench/torch_bench.py), when a python3 there
 *     imports torch and sees CUDA.
 *
 * It never points Vulkan at SwiftShader, and it refuses a CPU adapter (SwiftShader, llvmpipe) unless
 * --allow-cpu is given, so a machine without its GPU driver fails loudly instead of timing a CPU.
 *
 * Flags: --allow-cpu  --tiny (small sizes, for smoke tests)  --no-torch  --no-cnn  --data=DIR (MNIST IDX
 * files)  --out=DIR (write the JSON and a RESULTS-gpu.md section there instead of bench/results and
 * bench/RESULTS.md)  --python=PATH  --note=TEXT.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { countGpuCalls } from './gpu_counters.mjs';
import { fp32Peak, isCpuAdapter } from './gpu_peaks.mjs';
import { gpuSection } from './report_gpu.mjs';
import { writeResultsMarkdown } from './report.mjs';
import { round } from './stats.mjs';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(benchDir, '..');
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const BATCH = 128;
const TIME_BUDGET_S = 270; // the whole run must end inside 5 minutes; optional parts are skipped past this

/** The CNN as a torch.nn.Sequential-shaped layer list (the same model as torch_bench.py's `cnn`). */
export const CNN_LAYERS = [
  { type: 'Conv2d', in_channels: 1, out_channels: 16, kernel_size: 5 },
  { type: 'ReLU' },
  { type: 'MaxPool2d', kernel_size: 2 },
  { type: 'Conv2d', in_channels: 16, out_channels: 32, kernel_size: 5 },
  { type: 'ReLU' },
  { type: 'MaxPool2d', kernel_size: 2 },
  { type: 'Flatten' },
  { type: 'Linear', in_features: 512, out_features: 10 },
];

const MLP_OPTIONS = { model: { layers: [784, 128, 64, 10] }, batchSize: BATCH, optimizer: { name: 'sgd', lr: 0.1 }, seed: 1 };
const CNN_OPTIONS = { model: CNN_LAYERS, batchSize: BATCH, optimizer: { name: 'sgd', lr: 0.1 }, seed: 1 };

function parseArgs(argv) {
  const flags = { allowCpu: false, tiny: false, torch: true, cnn: true, data: null, out: null, python: null, note: null };
  for (const a of argv) {
    if (a === '--allow-cpu') flags.allowCpu = true;
    else if (a === '--tiny') flags.tiny = true;
    else if (a === '--no-torch') flags.torch = false;
    else if (a === '--no-cnn') flags.cnn = false;
    else if (a.startsWith('--data=')) flags.data = path.resolve(a.slice(7));
    else if (a.startsWith('--out=')) flags.out = path.resolve(a.slice(6));
    else if (a.startsWith('--python=')) flags.python = a.slice(9);
    else if (a.startsWith('--note=')) flags.note = a.slice(7);
    else throw new Error(`Unknown argument ${a}. Usage: node bench/gpu.mjs [--allow-cpu] [--tiny] [--no-torch] [--no-cnn] [--data=DIR] [--out=DIR] [--python=PATH] [--note=TEXT]`);
  }
  return flags;
}

/** Sizes: the real run, or a smoke test small enough for SwiftShader on two cores. */
function sizes(tiny) {
  return tiny
    ? { batches: [128], square: 256, runs: 3, runFlops: 2e8, maxReps: 20, stepSteps: 10, stepRuns: 3, epochSamples: 2000, cnnSamples: 512 }
    : { batches: [128, 1024], square: 4096, runs: 5, runFlops: 1e12, maxReps: 500, stepSteps: 50, stepRuns: 5, epochSamples: 60000, cnnSamples: 60000 };
}

function matmulCases(s) {
  const cases = [];
  for (const B of s.batches) {
    cases.push(
      { name: `fwd X·Wᵀ B=${B}`, M: B, N: 128, K: 784, transA: false, transB: true },
      { name: `bwd dY·W B=${B}`, M: B, N: 784, K: 128, transA: false, transB: false },
      { name: `bwd dYᵀ·X B=${B}`, M: 128, N: 784, K: B, transA: true, transB: false },
    );
  }
  cases.push({ name: `square ${s.square}`, M: s.square, N: s.square, K: s.square, transA: false, transB: false });
  return cases;
}

/** A python3 that imports torch: --python, $PYTHON, then python3 on the PATH, then /usr/bin/python3. */
function findPython(preferred) {
  for (const candidate of [preferred, process.env.PYTHON, 'python3', '/usr/bin/python3'].filter(Boolean)) {
    const probe = spawnSync(candidate, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8', timeout: 60_000 });
    if (probe.status === 0) return { python: candidate, torch: probe.stdout.trim() };
  }
  return null;
}

function gitCommit() {
  if (process.env.WEBGRAD_COMMIT) return process.env.WEBGRAD_COMMIT; // set by the bundle's run.sh
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

/** Runs the benchmark; returns the process exit code. */
export async function runGpuBench(argv) {
  const started = Date.now();
  const elapsed = () => (Date.now() - started) / 1000;
  const say = (msg) => console.log(`[gpu ${elapsed().toFixed(0).padStart(3)} s] ${msg}`);
  let flags;
  try {
    flags = parseArgs(argv);
  } catch (error) {
    console.error(error.message);
    return 2;
  }
  if (process.env.VK_ICD_FILENAMES?.includes('swiftshader') && !flags.allowCpu) {
    console.error(`VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES} points Vulkan at SwiftShader, a CPU. Unset it to use the GPU's driver, or pass --allow-cpu for a smoke test.`);
    return 1;
  }
  // A fast GPU finishes a wait in microseconds: spin on Dawn's events instead of the 1 ms timer the engine
  // uses by default (which suits SwiftShader, whose "GPU" threads share the CPU with that spin).
  if (!flags.allowCpu) process.env.WEBGRAD_DAWN_TICKS ??= 'immediate';
  const s = sizes(flags.tiny);
  const distIndex = path.join(repoRoot, 'dist/index.js');
  if (!existsSync(distIndex)) {
    console.error(`${distIndex} is missing: run \`npm run build\` first (\`npm run bench -- --gpu\` does).`);
    return 1;
  }
  // The public API, plus the engine's parts (kernels, GpuResources, autotuner) where a build splits them
  // into dist/internals.js: the matmul section dispatches kernels directly.
  const internals = path.join(repoRoot, 'dist/internals.js');
  const webgrad = { ...(existsSync(internals) ? await import(pathToFileURL(internals).href) : {}), ...(await import(pathToFileURL(distIndex).href)) };
  const { loadMnist, defaultMnistDir } = await import(pathToFileURL(path.join(repoRoot, 'dist/node.js')).href);
  const { createSuite } = await import('./suite.mjs');
  const dataDir = flags.data ?? defaultMnistDir();

  const gpu = await webgrad.requestGpu();
  const adapter = gpu.adapterName;
  const cpuAdapter = isCpuAdapter(adapter) || process.env.VK_ICD_FILENAMES === SWIFTSHADER_ICD;
  say(`adapter: ${adapter}${gpu.hasTimestamps ? ' (timestamp-query)' : ''}; VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES ?? '(unset)'}`);
  if (cpuAdapter && !flags.allowCpu) {
    console.error(
      `The adapter is a CPU (${adapter}): this machine's GPU driver was not found by Vulkan. Check \`vulkaninfo --summary\`, ` +
        'the loader (libvulkan.so.1 on LD_LIBRARY_PATH) and the driver manifest (VK_ICD_FILENAMES, e.g. /usr/share/vulkan/icd.d/nvidia_icd.json), ' +
        'or pass --allow-cpu to smoke-test this script on it.',
    );
    return 1;
  }
  const peak = fp32Peak(adapter);
  const results = {
    date: new Date(started).toISOString(),
    mode: cpuAdapter || flags.tiny ? 'gpu-smoke' : 'gpu',
    ...(flags.note ? { note: flags.note } : {}),
    environment: {
      host: 'node',
      node: process.version,
      dawn: 'webgpu (npm)',
      adapter,
      timestamps: gpu.hasTimestamps,
      cpuAdapter,
      fp32Peak: peak,
      vkIcd: process.env.VK_ICD_FILENAMES ?? null,
      dawnTicks: process.env.WEBGRAD_DAWN_TICKS === 'immediate' ? 'setImmediate loop' : 'paced (1 ms timer)',
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      platform: `${os.platform()} ${os.release()}`,
    },
    webgrad: { commit: gitCommit() },
    settings: { ...s, tiny: flags.tiny, batchSize: BATCH, dataDir },
  };
  const outDir = flags.out ?? path.join(benchDir, 'results');
  const file = path.join(outDir, `${results.date.slice(0, 10)}-${results.mode}.json`);
  const save = () => {
    mkdirSync(outDir, { recursive: true });
    results.seconds = Math.round(elapsed());
    writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
  };

  const suite = createSuite({ webgrad, tf: null, loadMnist: () => loadMnist(dataDir), log: () => {} });
  try {
    // a. matmul
    results.matmul = [];
    await runSection(results, 'matmulError', say, async () => {
      for (const spec of matmulCases(s)) {
        const flops = 2 * spec.M * spec.N * spec.K;
        const reps = Math.max(1, Math.min(s.maxReps, Math.round(s.runFlops / flops)));
        const common = { spec, reps, runs: s.runs, warmup: 2 };
        const reference = await suite.matmulWebgrad(common);
        const tuned = await suite.matmulWebgrad({ ...common, variant: 'tuned' });
        const ofPeak = (g) => (peak ? round(g / (peak.tflops * 1000), 3) : null);
        results.matmul.push({ ...spec, reps, reference, tuned, referenceOfPeak: ofPeak(reference.gflops), tunedOfPeak: ofPeak(tuned.gflops) });
        say(`matmul ${spec.name.padEnd(16)} reference ${reference.gflops} GFLOP/s, tuned ${tuned.gflops} (${tuned.kernel})${peak ? `, ${(100 * ofPeak(tuned.gflops)).toFixed(1)}% of ${peak.tflops} TFLOP/s` : ''}`);
      }
    });
    save();

    // b. MLP
    await runSection(results, 'mlpError', say, async () => {
      const step = await suite.stepWebgrad({ batchSize: BATCH, steps: s.stepSteps, runs: s.stepRuns });
      const epoch = await suite.epochWebgrad({ count: s.epochSamples, batchSize: BATCH });
      results.mlp = { step, epoch: { ...epoch, stepsPerSecond: round(epoch.steps / epoch.epochSeconds) } };
      say(`MLP: ${step.msPerStep} ms/step; epoch of ${epoch.samples} in ${epoch.epochSeconds} s (${results.mlp.epoch.stepsPerSecond} steps/s), test accuracy ${epoch.testAccuracy}`);
      results.mlp.hostCalls = await countedEpoch(webgrad, gpu, loadMnist, dataDir, MLP_OPTIONS, s.stepSteps * BATCH);
      say(`MLP host calls per step: ${JSON.stringify(results.mlp.hostCalls.perStep)}`);
    });
    save();

    // c. CNN, when the engine takes layer lists
    if (!flags.cnn) results.cnn = { skipped: '--no-cnn' };
    else if (elapsed() > TIME_BUDGET_S) results.cnn = { skipped: `time budget: ${elapsed().toFixed(0)} s spent before it` };
    else await runSection(results, 'cnnError', say, async () => (results.cnn = await cnnEpoch(webgrad, gpu, loadMnist, dataDir, s.cnnSamples, TIME_BUDGET_S - elapsed())));
    results.cnn ??= { skipped: `failed: ${results.cnnError}` };
    say(results.cnn.skipped ? `CNN skipped: ${results.cnn.skipped}` : `CNN: epoch of ${results.cnn.samples} in ${results.cnn.epochSeconds} s (${results.cnn.stepsPerSecond} steps/s), test accuracy ${results.cnn.testAccuracy}`);
    save();

    // e. PyTorch
    // The CNN at the webgrad epoch's sample count (cut or not); when the engine has no CNN yet, PyTorch's
    // figures are still taken, as the reference a later run will be held against.
    const cnnSamples = !flags.cnn ? 0 : (results.cnn?.samples ?? s.cnnSamples);
    results.torch = flags.torch ? runTorch(flags, s, dataDir, cpuAdapter, elapsed, say, cnnSamples) : { skipped: '--no-torch' };
    save();
  } finally {
    gpu.check();
  }
  save();
  const section = gpuSection(results, path.basename(file));
  if (flags.out) {
    writeFileSync(path.join(outDir, 'RESULTS-gpu.md'), section + '\n');
    say(`wrote ${file} and ${path.join(outDir, 'RESULTS-gpu.md')}`);
  } else {
    const markdown = writeResultsMarkdown(outDir, path.join(benchDir, 'RESULTS.md'));
    say(`wrote ${path.relative(repoRoot, file)}${results.mode === 'gpu' ? ` and ${path.relative(repoRoot, markdown)}` : ' (a smoke run: RESULTS.md shows only real GPU runs)'}`);
  }
  console.log(section);
  if (elapsed() > 300) console.warn(`The run took ${elapsed().toFixed(0)} s, over its 5-minute budget.`);
  const failed = ['matmulError', 'mlpError', 'cnnError'].filter((k) => results[k]);
  if (failed.length) console.error(`Sections failed: ${failed.map((k) => `${k}: ${results[k]}`).join('; ')}`);
  return failed.length ? 1 : 0;
}

/**
 * Runs one section; an exception is recorded under `results[key]` and printed, and the run goes on, so one
 * broken part (a model the engine refuses, an API that moved) still leaves the others measured. The exit
 * code says a section failed.
 */
async function runSection(results, key, say, body) {
  try {
    await body();
  } catch (error) {
    results[key] = String(error?.stack ?? error).split('\n').slice(0, 3).join(' | ');
    say(`FAILED (${key}): ${results[key]}`);
  }
}

/** One epoch of `count` samples with the host-call counters on: calls per step, not timed. */
async function countedEpoch(webgrad, gpu, loadMnist, dataDir, options, count) {
  const { train } = await loadMnist(dataDir);
  const trainer = await webgrad.Trainer.create(gpu, webgrad.subset(train, 0, count), undefined, options);
  await trainer.fit({ epochs: 1, evaluate: false }); // warm-up: nothing of set-up is counted
  const counter = countGpuCalls(gpu.device);
  try {
    await trainer.fit({ epochs: 1, evaluate: false });
    const steps = Math.ceil(count / options.batchSize);
    return { steps, totals: { ...counter.counts }, perStep: counter.perStep(steps) };
  } finally {
    counter.remove();
    trainer.destroy();
  }
}

/**
 * A CNN epoch through `Trainer.create(gpu, train, test, { model: layers })`; skipped when the engine refuses
 * the layer list. A 20-step probe first counts the host calls per step and times a step, and the epoch is
 * cut to the samples that fit in `secondsLeft` (the JSON says so), so a slow convolution cannot push the
 * whole run past its 5 minutes.
 */
async function cnnEpoch(webgrad, gpu, loadMnist, dataDir, wanted, secondsLeft) {
  const { train, test } = await loadMnist(dataDir);
  const probeSteps = 20;
  let probe;
  try {
    probe = await webgrad.Trainer.create(gpu, webgrad.subset(train, 0, probeSteps * BATCH), undefined, CNN_OPTIONS);
  } catch (error) {
    return { skipped: `the engine does not take this layer-list model yet: ${String(error?.message ?? error).split('\n')[0]}` };
  }
  let perStep;
  let probeMs;
  try {
    await probe.fit({ epochs: 1, evaluate: false }); // warm-up
    const counter = countGpuCalls(gpu.device);
    try {
      const t0 = performance.now();
      await probe.fit({ epochs: 1, evaluate: false });
      probeMs = (performance.now() - t0) / probeSteps;
      perStep = counter.perStep(probeSteps);
    } finally {
      counter.remove();
    }
  } finally {
    probe.destroy();
  }
  // Half of what is left goes to the epoch (set-up, evaluation and PyTorch need the rest).
  const affordable = Math.floor((secondsLeft * 500) / probeMs) * BATCH;
  const count = Math.max(BATCH, Math.min(wanted, affordable));
  const trainer = await webgrad.Trainer.create(gpu, webgrad.subset(train, 0, count), test, CNN_OPTIONS);
  try {
    await gpu.device.queue.onSubmittedWorkDone();
    const t0 = performance.now();
    const [report] = await trainer.fit({ epochs: 1, evaluate: false });
    const epochSeconds = (performance.now() - t0) / 1000;
    const evaluation = await trainer.evaluate('test');
    const steps = Math.ceil(count / BATCH);
    return {
      layers: CNN_LAYERS,
      samples: count,
      ...(count < wanted ? { cut: `${wanted} samples wanted; ${count} fit the time left at ${round(probeMs)} ms per step` } : {}),
      steps,
      epochSeconds: round(epochSeconds),
      stepsPerSecond: round(steps / epochSeconds),
      msPerStep: round((1000 * epochSeconds) / steps),
      trainLoss: round(report.loss),
      testAccuracy: round(evaluation.accuracy),
      hostCalls: { probeSteps, perStep },
    };
  } finally {
    trainer.destroy();
  }
}

/** bench/torch_bench.py on CUDA (or on the CPU for a smoke run with --allow-cpu); its JSON, or why it was skipped. */
function runTorch(flags, s, dataDir, cpuAdapter, elapsed, say, cnnSamples) {
  const found = findPython(flags.python);
  if (!found) return { skipped: 'no python3 here imports torch' };
  const left = Math.max(20, 290 - elapsed());
  const device = cpuAdapter ? 'cpu' : 'cuda';
  const matmul = matmulCases(s).map((c) => ({ ...c, runFlops: cpuAdapter ? 5e7 : s.runFlops }));
  const args = [
    path.join(benchDir, 'torch_bench.py'),
    '--data', dataDir,
    '--device', device,
    '--samples', String(s.epochSamples),
    '--cnn-samples', String(cnnSamples),
    '--matmul', JSON.stringify(matmul),
  ];
  say(`PyTorch ${found.torch} (${found.python}) on ${device}, at most ${left.toFixed(0)} s`);
  const run = spawnSync(found.python, args, { encoding: 'utf8', timeout: Math.round(left * 1000), stdio: ['ignore', 'pipe', 'inherit'] });
  if (run.error || run.status !== 0) return { skipped: `torch_bench.py failed: ${run.error?.message ?? `exit ${run.status}`}`, python: found.python };
  try {
    const parsed = JSON.parse(run.stdout.trim().split('\n').at(-1));
    return { python: found.python, ...parsed };
  } catch {
    return { skipped: `torch_bench.py printed no JSON: ${run.stdout.slice(-200)}` };
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  runGpuBench(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
