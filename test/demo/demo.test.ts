/**
 * The demo page end to end: Vite builds demo/ (engine from source, MNIST emitted into the build) into a
 * temporary folder, Vite's preview server serves it, and headless Chromium (WebGPU on SwiftShader) loads it
 * with a small configuration from the URL, trains until the shown test accuracy passes 90%, draws a digit
 * with pointer events and reads the prediction. Screenshots go to test-output/demo/screenshot.png (1280×800)
 * and test-output/demo/screenshot-narrow.png (390×844), an ignored folder: the test never rewrites tracked
 * files. Every wait is on the page's own state (data-state, the status line, data-* values), never on time.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build, preview, type PreviewServer } from 'vite';
import type { ElementHandle, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectValueClose } from '../helpers/compare';
import { repoRoot, watchPage, type PageLog } from '../browser/serve';
import { launchBrowser, type LaunchedBrowser } from '../browser/launch';
import { decodeWeights } from '../../demo/src/weights_file';

const configFile = path.join(repoRoot, 'demo/vite.config.ts');
const screenshots = path.join(repoRoot, 'test-output/demo');
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

  it('trains past 90% test accuracy in a worker with no main-thread long task, predicts a drawn digit, and takes screenshots', { timeout: 360_000 }, async () => {
    await page.setViewport({ width: 1280, height: 800 });
    // Every main-thread task over 50 ms (the Long Tasks API), from the first script on.
    await page.evaluateOnNewDocument(() => {
      const tasks: { start: number; duration: number }[] = [];
      (window as unknown as { longTasks: typeof tasks }).longTasks = tasks;
      new PerformanceObserver((list) => list.getEntries().forEach((e) => tasks.push({ start: e.startTime, duration: e.duration }))).observe({ type: 'longtask', buffered: true });
    });
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
    const trainingFrom = await page.evaluate(() => performance.now());
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

    // The Trainer runs in the demo's worker: while it trained, the page's main thread had no task over
    // 50 ms (charts, progress and weight images are all it does), and the loss fell epoch by epoch.
    const trainingTo = await page.evaluate(() => performance.now());
    const longTasks = await page.evaluate(() => (window as unknown as { longTasks: { start: number; duration: number }[] }).longTasks);
    const during = longTasks.filter((t) => t.start >= trainingFrom && t.start <= trainingTo);
    console.log(
      `[demo] main-thread long tasks while training (${((trainingTo - trainingFrom) / 1000).toFixed(1)} s): ${during.length}` +
        `; before training (page load, set-up): ${longTasks.length - during.length} (${longTasks.filter((t) => t.start < trainingFrom).map((t) => `${t.duration.toFixed(0)} ms`).join(', ')})`,
    );
    expect(during.map((t) => `${t.duration.toFixed(0)} ms at ${(t.start - trainingFrom).toFixed(0)} ms`)).toEqual([]);
    const epochLosses = (await page.$eval('#loss-chart', (e) => (e as HTMLElement).dataset.epochLosses ?? '')).split(',').map(Number);
    console.log(`[demo] epoch losses: ${epochLosses.join(' ')}`);
    expect(epochLosses).toHaveLength(3);
    expect(epochLosses[2]).toBeLessThan(epochLosses[0]);

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
    await waitFor(page, 'the prediction of the drawn digit', () => !!document.getElementById('prediction')?.dataset.digit, 30_000);
    const digit = await page.$eval('#prediction', (e) => (e as HTMLElement).dataset.digit);
    const probabilities = (await page.$eval('#prediction', (e) => (e as HTMLElement).dataset.probabilities ?? '')).split(',').map(Number);
    console.log(`[demo] drawn 7 predicted as ${digit}; probabilities ${probabilities.map((p) => p.toFixed(3)).join(' ')}`);
    expect(probabilities).toHaveLength(10);
    // Ten probabilities printed to 4 decimals (main.ts): each rounded by ≤ 5·10⁻⁵.
    expectValueClose(probabilities.reduce((s, p) => s + p, 0), 1, { atol: 10 * 5e-5, rtol: 0 }, 'Σ shown probabilities');
    expect(digit).toBe('7');

    // Export the weights (a real download), check the file, and import it back: the same prediction.
    const downloads = path.join(outDir, 'downloads');
    const cdp = await page.createCDPSession();
    await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads, eventsEnabled: true });
    // The browser's own download state, not a polling loop on the file system.
    const downloaded = new Promise<string>((resolve, reject) => {
      cdp.on('Browser.downloadProgress', (e: { state: string }) => {
        if (e.state === 'completed') resolve(e.state);
        if (e.state === 'canceled') reject(new Error('The export download was canceled.'));
      });
    });
    await page.click('#export');
    await downloaded;
    const exported = path.join(downloads, 'mnist-784-128-64-10.safetensors');
    expect(readdirSync(downloads)).toContain('mnist-784-128-64-10.safetensors');
    const file = decodeWeights(new Uint8Array(readFileSync(exported)), exported);
    expect(file.predictor.widths).toEqual([784, 128, 64, 10]);
    expect(Number(file.metadata.test_accuracy)).toBeGreaterThan(0.9);
    await page.$eval('#prediction', (e) => ((e as HTMLElement).dataset.probabilities = ''));
    const input = (await page.$('#import-file')) as ElementHandle<HTMLInputElement>;
    await input.uploadFile(exported);
    await waitFor(page, 'the import', () => /^Imported/.test(document.getElementById('io-status')?.textContent ?? ''), 30_000);
    await waitFor(page, 'the prediction from the imported weights', () => !!document.getElementById('prediction')?.dataset.probabilities, 30_000);
    const again = (await page.$eval('#prediction', (e) => (e as HTMLElement).dataset.probabilities ?? '')).split(',').map(Number);
    expect(again).toEqual(probabilities);
    console.log(`[demo] ${await page.$eval('#io-status', (e) => e.textContent)}`);

    // Per-kernel GPU times, when the adapter has timestamp queries.
    if (!(await page.$eval('#profile', (e) => (e as HTMLButtonElement).disabled))) {
      await page.click('#profile');
      await page.waitForFunction(() => !!document.getElementById('kernel-times')?.dataset.count || /not available/.test(document.getElementById('kernel-times')?.textContent ?? ''), { timeout: 30_000 });
      console.log(`[demo] kernel times: ${await page.$eval('#kernel-times', (e) => (e as HTMLElement).innerText.replace(/\s+/g, ' ').slice(0, 300))}`);
    }

    mkdirSync(screenshots, { recursive: true });
    await page.screenshot({ path: path.join(screenshots, 'screenshot.png') });
    // Width and height only: changing isMobile or hasTouch would make Puppeteer reload the page.
    await page.setViewport({ width: 390, height: 844 });
    // No horizontal overflow at phone width.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    // Scrolled to the progress card: charts and the drawing pad, as a phone shows them.
    await page.evaluate(() => window.scrollTo(0, (document.querySelector<HTMLElement>('.progress-card')?.offsetTop ?? 0) - 8));
    await page.screenshot({ path: path.join(screenshots, 'screenshot-narrow.png') });
    console.log(`[demo] screenshots in ${path.relative(repoRoot, screenshots)}/`);

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
    // Read the epoch under way and click in one page task, so the two cannot straddle an epoch's end; the
    // page state decides what must follow.
    const clickDuring = (button: string) =>
      page.evaluate((id) => {
        const epoch = Number((document.getElementById('stat-epoch')?.textContent ?? '').split('/')[0]);
        const state = document.body.dataset.state;
        (document.getElementById(id) as HTMLButtonElement).click();
        return { epoch, state, after: document.body.dataset.state };
      }, button);
    const pause = await clickDuring('pause');
    expect(pause).toMatchObject({ state: 'training', after: 'pausing' });
    await waitFor(page, 'the pause', () => document.body.dataset.state === 'paused', 120_000);
    // Pause acts at the end of the epoch under way when it was clicked: the page shows exactly that epoch done.
    const status = () => page.$eval('#status', (e) => e.textContent ?? '');
    expect(await status()).toMatch(new RegExp(`^Paused after epoch ${pause.epoch}\\.`));
    expect(await page.$eval('#progress-text', (e) => e.textContent ?? '')).toContain(`${(pause.epoch * 5000).toLocaleString('en')} / 30,000 samples`);
    expect(await page.$eval('#train', (e) => (e as HTMLButtonElement).disabled)).toBe(true);
    expect(await page.$eval('#pause', (e) => e.textContent)).toBe('Resume');
    await page.click('#pause'); // Resume: training continues with the next epoch, none ran while paused.
    await waitFor(page, 'training again', () => document.body.dataset.state === 'training', 60_000);
    expect(await status()).toBe(`Training resumed at epoch ${pause.epoch + 1}.`);
    const stop = await clickDuring('stop');
    await waitFor(page, 'the stop', () => document.body.dataset.state === 'done', 120_000);
    console.log(`[demo] paused after epoch ${pause.epoch}, stop clicked during epoch ${stop.epoch}: ${await status()}`);
    // Stop acts at the end of the epoch under way when it was clicked (the last one included: still "Stopped").
    expect(stop.state).toBe('training');
    expect(stop.epoch).toBeGreaterThan(pause.epoch);
    expect(await status()).toMatch(new RegExp(`^Stopped: test accuracy [\\d.]+% after ${stop.epoch} epochs?,`));
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
