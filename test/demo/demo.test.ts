/**
 * The demo page end to end: Vite builds demo/ (engine from source, MNIST emitted into the build) into a
 * temporary folder, Vite's preview server serves it, and headless Chromium (WebGPU on SwiftShader) loads it
 * with a small configuration from the URL, trains until the shown test accuracy passes 90%, draws a digit
 * with pointer events and reads the prediction. Screenshots go to demo/screenshot.png (1280×800) and
 * demo/screenshot-narrow.png (390×844).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build, preview, type PreviewServer } from 'vite';
import type { ElementHandle, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, watchPage, type PageLog } from '../browser/serve';
import { launchBrowser, type LaunchedBrowser } from '../browser/launch';
import { decodeWeights } from '../../demo/src/weights_file';

const configFile = path.join(repoRoot, 'demo/vite.config.ts');
// A small run: 5,000 training samples, 1,000 test samples, 3 epochs (about 35 s on SwiftShader).
const QUERY = 'subset=5000&testSubset=1000&epochs=3&batchSize=32&lr=0.002&optimizer=adam&layers=784-128-64-10&normalisation=batch&dropout=0.1';

/** What the page shows, for failure messages and progress logs. */
async function pageSummary(page: Page): Promise<string> {
  return page.evaluate(() => {
    const text = (id: string) => document.getElementById(id)?.textContent?.trim() ?? '';
    return `state ${document.body.dataset.state}; progress "${text('progress-text')}"; epoch ${text('stat-epoch')}; samples/s ${text('stat-rate')}; test acc ${text('stat-test-acc')}; status "${text('status')}"`;
  });
}

/** page.waitForFunction that logs the page every 10 s and says what the page showed when it times out. */
async function waitFor(page: Page, what: string, predicate: () => boolean, timeout: number): Promise<void> {
  const ticker = setInterval(() => void pageSummary(page).then((s) => console.log(`[demo] waiting for ${what}: ${s}`), () => undefined), 10_000);
  try {
    await page.waitForFunction(predicate, { timeout, polling: 250 });
  } catch (error) {
    throw new Error(`Timed out after ${timeout / 1000} s waiting for ${what}. The page shows: ${await pageSummary(page)}`, { cause: error });
  } finally {
    clearInterval(ticker);
  }
}

describe('demo page in headless Chromium (WebGPU)', () => {
  let outDir: string;
  let server: PreviewServer | undefined;
  let chrome: LaunchedBrowser | undefined;
  let page: Page;
  let log: PageLog;
  let origin: string;

  beforeAll(async () => {
    const started = performance.now();
    outDir = mkdtempSync(path.join(tmpdir(), 'webgrad-demo-'));
    await build({ configFile, logLevel: 'warn', build: { outDir, emptyOutDir: true, sourcemap: false } });
    server = await preview({ configFile, logLevel: 'warn', build: { outDir }, preview: { host: '127.0.0.1', port: 0, strictPort: false, open: false } });
    origin = server.resolvedUrls?.local[0]?.replace(/\/$/, '') ?? '';
    if (!origin) throw new Error('The preview server reported no URL.');
    chrome = await launchBrowser();
    page = await chrome.browser.newPage();
    log = watchPage(page, { prefix: '[demo]' });
    console.log(`[demo] built and serving at ${origin} in ${((performance.now() - started) / 1000).toFixed(1)} s; ${chrome.version}`);
  }, 120_000);

  afterAll(async () => {
    await chrome?.close();
    await server?.close();
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  it('trains past 90% test accuracy, predicts a drawn digit, and takes screenshots', { timeout: 360_000 }, async () => {
    await page.setViewport({ width: 1280, height: 800 });
    await page.goto(`${origin}/?${QUERY}`, { waitUntil: 'load' });

    // WebGPU is there: the adapter badge turns green and Train is enabled.
    await page.waitForFunction(() => document.body.dataset.state === 'idle' || document.body.dataset.state === 'error', { timeout: 30_000 });
    const adapter = await page.$eval('#gpu-adapter', (e) => e.textContent ?? '');
    expect(await page.$eval('#no-webgpu', (e) => (e as HTMLElement).hidden)).toBe(true);
    console.log(`[demo] adapter: ${adapter}; timestamps: ${await page.$eval('#gpu-timestamps', (e) => e.textContent)}`);
    // The URL's settings are in the form, batch norm and dropout included (the CPU predictor handles both).
    expect(await page.$eval('input[name=subset]', (e) => (e as HTMLInputElement).value)).toBe('5000');
    expect(await page.$eval('input[name=dropout]', (e) => [(e as HTMLInputElement).disabled, (e as HTMLInputElement).value])).toEqual([false, '0.1']);
    expect(await page.$eval('select[name=normalisation]', (e) => [(e as HTMLSelectElement).disabled, (e as HTMLSelectElement).value])).toEqual([false, 'batch']);
    expect(await page.$$eval('select option:disabled', (options) => options.length)).toBe(0);

    await page.click('#train');
    // Setting up (loading MNIST, building and compiling the step) is not training: it gets its own limit.
    const clicked = performance.now();
    await waitFor(page, 'the training step to be built', () => /training|done|error/.test(document.body.dataset.state ?? ''), 150_000);
    const started = performance.now();
    console.log(`[demo] set-up took ${((started - clicked) / 1000).toFixed(1)} s`);
    // Until the shown test accuracy passes 90%, or the run ends without getting there.
    await waitFor(page, 'test accuracy > 90%', () => Number(document.getElementById('stat-test-acc')?.dataset.value) > 0.9 || /done|error/.test(document.body.dataset.state ?? ''), 90_000);
    const accuracy = Number(await page.$eval('#stat-test-acc', (e) => (e as HTMLElement).dataset.value));
    console.log(`[demo] shown test accuracy ${(100 * accuracy).toFixed(2)}% after ${((performance.now() - started) / 1000).toFixed(1)} s`);
    expect(accuracy).toBeGreaterThan(0.9);
    await waitFor(page, 'the end of training', () => document.body.dataset.state === 'done' || document.body.dataset.state === 'error', 90_000);
    const status = await page.$eval('#status', (e) => e.textContent ?? '');
    console.log(`[demo] status: ${status}; training took ${((performance.now() - started) / 1000).toFixed(1)} s`);
    expect(await page.evaluate(() => document.body.dataset.state)).toBe('done');
    expect(await page.$eval('#progress-text', (e) => e.textContent)).toMatch(/^100%/);

    // Draw a "7" with pointer events: a top bar, then a stroke down and to the left.
    const pad = (await page.$eval('#pad', (e) => {
      const r = e.getBoundingClientRect();
      return { x: r.left, y: r.top, w: r.width, h: r.height };
    })) as { x: number; y: number; w: number; h: number };
    const at = (fx: number, fy: number): [number, number] => [pad.x + fx * pad.w, pad.y + fy * pad.h];
    const strokes: [number, number][][] = [
      [at(0.25, 0.22), at(0.5, 0.22), at(0.75, 0.22), at(0.7, 0.35), at(0.6, 0.5), at(0.5, 0.65), at(0.42, 0.82)],
    ];
    for (const stroke of strokes) {
      await page.mouse.move(...stroke[0]);
      await page.mouse.down();
      for (const point of stroke.slice(1)) await page.mouse.move(...point, { steps: 6 });
      await page.mouse.up();
    }
    await page.waitForFunction(() => document.getElementById('prediction')?.dataset.digit !== '', { timeout: 5_000 });
    const digit = await page.$eval('#prediction', (e) => (e as HTMLElement).dataset.digit);
    const probabilities = (await page.$eval('#prediction', (e) => (e as HTMLElement).dataset.probabilities ?? '')).split(',').map(Number);
    console.log(`[demo] drawn 7 predicted as ${digit}; probabilities ${probabilities.map((p) => p.toFixed(3)).join(' ')}`);
    expect(probabilities).toHaveLength(10);
    expect(probabilities.reduce((s, p) => s + p, 0)).toBeCloseTo(1, 2);
    expect(digit).toBe('7');

    // Export the weights (a real download), check the file, and import it back: the same prediction.
    const downloads = path.join(outDir, 'downloads');
    const cdp = await page.createCDPSession();
    await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads });
    await page.click('#export');
    const exported = path.join(downloads, 'mnist-784-128-64-10.safetensors');
    for (let i = 0; i < 100 && !existsSync(exported); i++) await new Promise((r) => setTimeout(r, 100));
    expect(readdirSync(downloads)).toContain('mnist-784-128-64-10.safetensors');
    const file = decodeWeights(new Uint8Array(readFileSync(exported)), exported);
    expect(file.predictor.widths).toEqual([784, 128, 64, 10]);
    expect(Number(file.metadata.test_accuracy)).toBeGreaterThan(0.9);
    await page.$eval('#prediction', (e) => ((e as HTMLElement).dataset.probabilities = ''));
    const input = (await page.$('#import-file')) as ElementHandle<HTMLInputElement>;
    await input.uploadFile(exported);
    await page.waitForFunction(() => /^Imported/.test(document.getElementById('io-status')?.textContent ?? ''), { timeout: 5_000 });
    await page.waitForFunction(() => !!document.getElementById('prediction')?.dataset.probabilities, { timeout: 5_000 });
    const again = (await page.$eval('#prediction', (e) => (e as HTMLElement).dataset.probabilities ?? '')).split(',').map(Number);
    expect(again).toEqual(probabilities);
    console.log(`[demo] ${await page.$eval('#io-status', (e) => e.textContent)}`);

    // Per-kernel GPU times, when the adapter has timestamp queries.
    if (!(await page.$eval('#profile', (e) => (e as HTMLButtonElement).disabled))) {
      await page.click('#profile');
      await page.waitForFunction(() => !!document.getElementById('kernel-times')?.dataset.count || /not available/.test(document.getElementById('kernel-times')?.textContent ?? ''), { timeout: 30_000 });
      console.log(`[demo] kernel times: ${await page.$eval('#kernel-times', (e) => (e as HTMLElement).innerText.replace(/\s+/g, ' ').slice(0, 300))}`);
    }

    await page.screenshot({ path: path.join(repoRoot, 'demo/screenshot.png') });
    // Width and height only: changing isMobile or hasTouch would make Puppeteer reload the page.
    await page.setViewport({ width: 390, height: 844 });
    // No horizontal overflow at phone width.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    // Scrolled to the progress card: charts and the drawing pad, as a phone shows them.
    await page.evaluate(() => window.scrollTo(0, (document.querySelector<HTMLElement>('.progress-card')?.offsetTop ?? 0) - 8));
    await page.screenshot({ path: path.join(repoRoot, 'demo/screenshot-narrow.png') });

    expect(log.pageErrors.map((e) => e.message), 'errors thrown in the page').toEqual([]);
    expect(log.consoleErrors, 'console.error messages in the page').toEqual([]);
  });

  it('pauses between epochs, resumes, and stops early', { timeout: 240_000 }, async () => {
    await page.setViewport({ width: 1280, height: 800 });
    // The same shapes as above, so the page reuses what it cached then (e.g. tuned kernels).
    await page.goto(`${origin}/?subset=5000&testSubset=1000&epochs=6&batchSize=32&layers=784-128-64-10&optimizer=adam`, { waitUntil: 'load' });
    await waitFor(page, 'WebGPU', () => document.body.dataset.state === 'idle', 30_000);
    await page.click('#train');
    await waitFor(page, 'training', () => document.body.dataset.state === 'training', 150_000);
    await page.click('#pause');
    expect(await page.evaluate(() => document.body.dataset.state)).toBe('pausing');
    await waitFor(page, 'the pause', () => document.body.dataset.state === 'paused', 60_000);
    const paused = await pageSummary(page);
    // Pause acts at the end of the epoch under way (the first, unless it finished before the click).
    const pausedAfter = Number(/status "Paused after epoch (\d+)\./.exec(paused)?.[1]);
    expect(pausedAfter).toBeGreaterThanOrEqual(1);
    expect(pausedAfter).toBeLessThan(6);
    // Nothing moves while paused.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await pageSummary(page)).toBe(paused);
    expect(await page.$eval('#train', (e) => (e as HTMLButtonElement).disabled)).toBe(true);
    await page.click('#pause'); // Resume
    await waitFor(page, 'training again', () => document.body.dataset.state === 'training', 10_000);
    await page.click('#stop');
    await waitFor(page, 'the stop', () => document.body.dataset.state === 'done', 60_000);
    const status = await page.$eval('#status', (e) => e.textContent ?? '');
    console.log(`[demo] after pause, resume and stop: ${status}`);
    // Stop acts at the end of the epoch under way after the resume.
    const stoppedAfter = Number(/^Stopped: test accuracy [\d.]+% after (\d+) epochs/.exec(status)?.[1]);
    expect(stoppedAfter).toBeGreaterThan(pausedAfter);
    expect(stoppedAfter).toBeLessThan(6);
    expect(log.pageErrors.map((e) => e.message)).toEqual([]);
  });

  it('explains which browsers work when WebGPU is missing', async () => {
    const bare = await chrome!.browser.newPage();
    await bare.evaluateOnNewDocument(() => Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined }));
    await bare.goto(`${origin}/`, { waitUntil: 'load' });
    await bare.waitForFunction(() => !(document.getElementById('no-webgpu') as HTMLElement).hidden, { timeout: 10_000 });
    const text = await bare.$eval('#no-webgpu', (e) => (e as HTMLElement).innerText);
    expect(text).toMatch(/Chrome or Edge 113\+/);
    expect(text).toMatch(/Safari 26\+/);
    expect(text).toMatch(/Firefox 141\+ on Windows/);
    expect(text).toMatch(/enable-unsafe-webgpu/);
    expect(await bare.$eval('#train', (e) => (e as HTMLButtonElement).disabled)).toBe(true);
    await bare.close();
  });
});
