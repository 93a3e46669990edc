/**
 * The built library (dist/index.js) in each headless browser of ./launch.ts (Chromium: Dawn and Tint;
 * Firefox ESR: wgpu and naga), on WebGPU (SwiftShader on a machine without a GPU):
 *  - every kernel of the catalog compiles, with a representative set of override constants
 *    (./kernel_constants.ts), and each failure is reported with the compiler's own message;
 *  - the page fetches MNIST from a local server, trains two epochs on 2,000 samples and reports its step
 *    losses and test accuracy.
 * Nothing is built here; `npm test` runs `vite build` first.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browsers, launchBrowser, type LaunchedBrowser } from './launch';
import { compileCases, type CompileCase } from './kernel_constants';
import { mnistDir, repoRoot, startServer, watchPage, type PageLog, type StaticServer } from './serve';

const distDir = path.join(repoRoot, 'dist');

/** The most recently modified file under `dir` (recursively), with its modification time. */
function newestFile(dir: string): { file: string; mtimeMs: number } {
  let newest = { file: '', mtimeMs: 0 };
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    const candidate = entry.isDirectory() ? newestFile(full) : { file: full, mtimeMs: statSync(full).mtimeMs };
    if (candidate.mtimeMs > newest.mtimeMs) newest = candidate;
  }
  return newest;
}

/** Refuses a dist/ built before the newest change to src/ or shaders/: the page would test stale code. */
function checkDistIsFresh(built = path.join(distDir, 'internals.js')): void {
  if (!existsSync(built)) throw new Error(`${built} is missing: run \`npm run build\` first (\`npm test\` does it for you).`);
  const builtAt = statSync(built).mtimeMs;
  for (const dir of ['src', 'shaders']) {
    const newest = newestFile(path.join(repoRoot, dir));
    if (newest.mtimeMs > builtAt) {
      throw new Error(
        `${path.relative(repoRoot, built)} (built ${new Date(builtAt).toISOString()}) is older than ${path.relative(repoRoot, newest.file)} ` +
          `(changed ${new Date(newest.mtimeMs).toISOString()}): the browser would run stale code. Run \`npm run build\` (\`npm test\` does it for you).`,
      );
    }
  }
}

interface TrainResult {
  adapterName: string;
  hasTimestamps: boolean;
  losses: { epoch: number; step: number; loss: number }[];
  epochs: { epoch: number; loss: number; accuracy: number; testAccuracy?: number; seconds: number }[];
  testAccuracy: number;
}

interface CompileFailure {
  kernel: string;
  constants: Record<string, number | boolean>;
  error: string;
}

interface CompileResult {
  adapterName: string;
  compiled: number;
  failures: CompileFailure[];
  /** Errors the browser reported for a deliberately broken module (the control). */
  controlErrors: number;
  seconds: number;
}

// The page's script: everything runs in the browser; each entry point resolves with plain data or
// { ok: false, error } (an exception's text survives the trip to Node, its object would not).
const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>webgrad in a browser</title>
<script type="module">
import * as webgrad from '/dist/internals.js';

const settle = (promise) => promise.then(
  (value) => ({ ok: true, value }),
  (error) => ({ ok: false, error: String(error && error.stack || error) }),
);

// Compiles each case's pipeline; a compile error, a rejected pipeline or an error caught by the device's
// error scopes counts as a failure of that case, and the sweep goes on.
async function compileAll(cases) {
  const t0 = performance.now();
  const gpu = await webgrad.requestGpu({ timestamps: false });
  const resources = new webgrad.GpuResources(gpu);
  const failures = [];
  for (const { kernel, constants } of cases) {
    const record = webgrad.kernels[kernel];
    if (!record) { failures.push({ kernel, constants, error: 'not in the built catalog (is dist/ stale?)' }); continue; }
    gpu.device.pushErrorScope('validation');
    gpu.device.pushErrorScope('internal');
    let error;
    try {
      await resources.pipeline(record, constants);
    } catch (e) {
      error = String(e && e.message || e);
    }
    const internal = await gpu.device.popErrorScope();
    const validation = await gpu.device.popErrorScope();
    error ??= (validation || internal)?.message;
    if (error) failures.push({ kernel, constants, error });
  }
  // A control: this browser's compiler reports a broken module to us, so a clean sweep means something.
  gpu.device.pushErrorScope('validation');
  const broken = gpu.device.createShaderModule({ label: 'control (broken on purpose)', code: '@compute @workgroup_size(1) fn main() { let x = ; }' });
  const controlErrors = (await broken.getCompilationInfo()).messages.filter((m) => m.type === 'error').length;
  await gpu.device.popErrorScope();
  gpu.check();
  gpu.device.destroy();
  return { adapterName: gpu.adapterName, compiled: cases.length - failures.length, failures, controlErrors, seconds: (performance.now() - t0) / 1000 };
}

async function train() {
  const gpu = await webgrad.requestGpu();
  const { train, test } = await webgrad.fetchMnist('/mnist');
  const trainSub = webgrad.subset(train, 0, 2000);
  const testSub = webgrad.subset(test, 0, 500);
  const trainer = await webgrad.Trainer.create(gpu, trainSub, testSub, {
    model: { layers: [784, 64, 10] },
    batchSize: 64,
    optimizer: { lr: 0.1, momentum: 0.9 },
    seed: 1,
  });
  const losses = [];
  const reports = await trainer.fit({ epochs: 2, reportEvery: 5, onStep: (r) => losses.push({ epoch: r.epoch, step: r.step, loss: r.loss }) });
  const final = await trainer.evaluate('test');
  trainer.destroy();
  gpu.check();
  return {
    adapterName: gpu.adapterName,
    hasTimestamps: gpu.hasTimestamps,
    losses,
    epochs: reports.map((r) => ({ epoch: r.epoch, loss: r.loss, accuracy: r.accuracy, testAccuracy: r.testAccuracy, seconds: r.seconds })),
    testAccuracy: final.accuracy,
  };
}

window.webgradTest = { compileAll: (cases) => settle(compileAll(cases)), train: () => settle(train()) };
</script>`;

type Outcome<T> = { ok: true; value: T } | { ok: false; error: string };

describe.each(browsers)('in headless %s (WebGPU)', (name) => {
  let server: StaticServer | undefined;
  let launched: LaunchedBrowser | undefined;
  const tag = `[${name}]`;

  beforeAll(async () => {
    checkDistIsFresh();
    server = await startServer({ '/dist': distDir, '/mnist': mnistDir, '/': { body: PAGE } });
    launched = await launchBrowser(name);
  });

  afterAll(async () => {
    await launched?.close();
    await server?.close();
  });

  /** Opens the page, runs one of its entry points, and fails on anything the page or server reports. */
  async function inPage<T>(run: (page: Page) => Promise<Outcome<T>>): Promise<{ value: T; log: PageLog }> {
    const page = await launched!.browser.newPage();
    const log = watchPage(page, { prefix: tag });
    await page.goto(`${server!.origin}/`, { waitUntil: 'load' });
    await page.waitForFunction(() => 'webgradTest' in window, { timeout: 10_000 });
    const outcome = await run(page);
    await page.close();
    expect(server!.misses, 'the page requested files the server does not have').toEqual([]);
    expect(log.pageErrors.map((e) => e.message), 'errors thrown in the page').toEqual([]);
    if (!outcome.ok) throw new Error(`The page failed in ${name}:\n${outcome.error}`);
    return { value: outcome.value, log };
  }

  // Chromium compiles WGSL with Tint, as Dawn does in Node, where every kernel test builds its pipelines; the
  // whole sweep (~165 s on SwiftShader) runs there only with WEBGRAD_FULL_TESTS=1. Firefox's naga, a second
  // implementation, compiles every kernel in every run (one form of each non-reference matmul variant;
  // all forms with WEBGRAD_FULL_TESTS=1).
  it.runIf(name === 'firefox' || process.env.WEBGRAD_FULL_TESTS === '1')('compiles every kernel of the catalog with representative override constants', { timeout: 300_000 }, async () => {
    const cases = compileCases();
    const { value: result } = await inPage((page) =>
      page.evaluate(
        (c) => (window as unknown as { webgradTest: { compileAll(c: CompileCase[]): Promise<Outcome<CompileResult>> } }).webgradTest.compileAll(c),
        cases,
      ),
    );
    console.log(`${tag} ${launched!.version}, adapter: ${result.adapterName}; ${result.compiled} of ${cases.length} pipelines compiled in ${result.seconds.toFixed(1)} s`);
    const report = result.failures.map((f) => `  ${f.kernel} ${JSON.stringify(f.constants)}:\n    ${f.error.replace(/\n/g, '\n    ')}`);
    expect(result.failures.length, `pipelines that failed to compile in ${name}:\n${report.join('\n')}`).toBe(0);
    expect(result.compiled).toBe(cases.length);
    expect(result.controlErrors, 'compile errors reported for a deliberately broken module').toBeGreaterThan(0);
  });

  it('fetches MNIST, trains a 784-64-10 MLP for two epochs, and the loss falls', { timeout: 120_000 }, async () => {
    const { value: result, log } = await inPage((page) =>
      page.evaluate(() => (window as unknown as { webgradTest: { train(): Promise<Outcome<TrainResult>> } }).webgradTest.train()),
    );

    console.log(`${tag} ${launched!.version}, adapter: ${result.adapterName}${result.hasTimestamps ? ' (timestamp-query)' : ''}`);
    // Firefox hides the adapter's vendor and name; the engine says so instead of "unknown adapter".
    expect(result.adapterName).not.toBe('unknown adapter');
    if (name === 'firefox' && !/swiftshader|nvidia|amd|intel|apple/i.test(result.adapterName)) expect(result.adapterName).toBe('adapter name hidden by the browser (Firefox)');
    for (const e of result.epochs) {
      console.log(`${tag} epoch ${e.epoch}: loss ${e.loss.toFixed(4)}, train acc ${e.accuracy.toFixed(3)}, test acc ${e.testAccuracy?.toFixed(3)}, ${e.seconds.toFixed(2)} s`);
    }

    // 2,000 samples / 64 = 32 steps per epoch, a report every 5 steps and at the end: 7 per epoch.
    expect(result.losses.length).toBe(14);
    const losses = result.losses.map((r) => r.loss);
    expect(losses.every(Number.isFinite)).toBe(true);
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    const first = mean(losses.slice(0, 3));
    const last = mean(losses.slice(-3));
    console.log(`${tag} step losses: ${losses.map((l) => l.toFixed(3)).join(' ')}; first-3 mean ${first.toFixed(3)}, last-3 mean ${last.toFixed(3)}`);
    expect(last).toBeLessThan(first);
    console.log(`${tag} test accuracy (500 samples): ${result.testAccuracy.toFixed(3)}`);
    expect(result.testAccuracy).toBeGreaterThan(0.6);
    expect(log.consoleErrors, 'console.error messages in the page').toEqual([]);
  });
});
