/**
 * The built library (dist/index.js) trains an MLP inside headless Chromium on WebGPU (SwiftShader):
 * the page fetches MNIST from a local server, trains two epochs on 2,000 samples and reports its step
 * losses and test accuracy. Nothing is built here; `npm test` runs `vite build` first, and a dist/ older than
 * the newest file in src/ or shaders/ is refused with a message saying so.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, mnistDir, repoRoot, startServer, watchPage, type LaunchedBrowser, type StaticServer } from './serve';

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
function checkDistIsFresh(built = path.join(distDir, 'index.js')): void {
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

interface PageResult {
  adapterName: string;
  hasTimestamps: boolean;
  losses: { epoch: number; step: number; loss: number }[];
  epochs: { epoch: number; loss: number; accuracy: number; testAccuracy?: number; seconds: number }[];
  testAccuracy: number;
}

// The page's script: everything runs in the browser; `window.trainResult` resolves with plain data.
const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>webgrad in Chrome</title>
<script type="module">
import * as webgrad from '/dist/index.js';

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

window.trainResult = train().then(
  (value) => ({ ok: true, value }),
  (error) => ({ ok: false, error: String(error && error.stack || error) }),
);
</script>`;

describe('training in headless Chromium (WebGPU)', () => {
  let server: StaticServer | undefined;
  let chrome: LaunchedBrowser | undefined;

  beforeAll(async () => {
    checkDistIsFresh();
    server = await startServer({ '/dist': distDir, '/mnist': mnistDir, '/': { body: PAGE } });
    chrome = await launchBrowser();
  });

  afterAll(async () => {
    await chrome?.close();
    await server?.close();
  });

  it('fetches MNIST, trains a 784-64-10 MLP for two epochs, and the loss falls', { timeout: 90_000 }, async () => {
    const page = await chrome!.browser.newPage();
    const log = watchPage(page, { prefix: '[chrome]' });
    await page.goto(`${server!.origin}/`, { waitUntil: 'load' });
    await page.waitForFunction(() => 'trainResult' in window, { timeout: 10_000 });
    const outcome = await page.evaluate(
      () => (window as unknown as { trainResult: Promise<{ ok: boolean; value?: unknown; error?: string }> }).trainResult,
    );
    await page.close();

    expect(server!.misses, 'the page requested files the server does not have').toEqual([]);
    expect(log.pageErrors.map((e) => e.message), 'errors thrown in the page').toEqual([]);
    if (!outcome.ok) throw new Error(`Training in the page failed:\n${outcome.error}`);
    const result = outcome.value as PageResult;

    console.log(`[chrome] ${chrome!.version}, adapter: ${result.adapterName}${result.hasTimestamps ? ' (timestamp-query)' : ''}`);
    for (const e of result.epochs) {
      console.log(`[chrome] epoch ${e.epoch}: loss ${e.loss.toFixed(4)}, train acc ${e.accuracy.toFixed(3)}, test acc ${e.testAccuracy?.toFixed(3)}, ${e.seconds.toFixed(2)} s`);
    }
    if (!/swiftshader/i.test(result.adapterName)) console.warn(`[chrome] adapter is not SwiftShader: ${result.adapterName}`);

    // 2,000 samples / 64 = 32 steps per epoch, a report every 5 steps and at the end: 7 per epoch.
    expect(result.losses.length).toBe(14);
    const losses = result.losses.map((r) => r.loss);
    expect(losses.every(Number.isFinite)).toBe(true);
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    const first = mean(losses.slice(0, 3));
    const last = mean(losses.slice(-3));
    console.log(`[chrome] step losses: ${losses.map((l) => l.toFixed(3)).join(' ')}; first-3 mean ${first.toFixed(3)}, last-3 mean ${last.toFixed(3)}`);
    expect(last).toBeLessThan(first);
    console.log(`[chrome] test accuracy (500 samples): ${result.testAccuracy.toFixed(3)}`);
    expect(result.testAccuracy).toBeGreaterThan(0.6);
    expect(log.consoleErrors, 'console.error messages in the page').toEqual([]);
  });
});
