/**
 * The demo page end to end: Vite builds demo/ (engine from source, MNIST emitted into the build) into a
 * temporary folder, Vite's preview server serves it, and headless Chromium (WebGPU on SwiftShader) loads it
 * with a small configuration from the URL, trains until the shown test accuracy passes 90%, draws a digit
 * with pointer events and reads the prediction the worker's trainer made on the GPU; then exports the
 * state dict, imports it back, saves and restores the run in IndexedDB (each gives the same prediction)
 * and imports a file that does not fit. The CNN preset trains too once the engine has its kernels.
 * Screenshots go to test-output/demo/ (screenshot.png 1280×800, screenshot-narrow.png 390×844,
 * screenshot-cnn.png), an ignored folder: the test never rewrites tracked files. Every wait is on the
 * page's own state (data-state, the status lines, data-* values), never on time.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { setPriority, tmpdir } from 'node:os';
import path from 'node:path';
import { build, preview, type PreviewServer } from 'vite';
import type { ElementHandle, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectValueClose } from '../helpers/compare';
import { repoRoot, watchPage, type PageLog } from '../browser/serve';
import { launchBrowser, type LaunchedBrowser } from '../browser/launch';
import { decodeSafetensors, encodeSafetensors, mlpLayers, Model, type ModelSpec } from '../../src/index';
import { CNN_LAYERS, FEATURES } from '../../demo/src/options';
import { readWeightsFile } from '../../demo/src/weights_file';

const configFile = path.join(repoRoot, 'demo/vite.config.ts');
const screenshots = path.join(repoRoot, 'test-output/demo');
// A small run: 5,000 training samples, 1,000 test samples, 3 epochs (about 35 s on SwiftShader).
const QUERY = 'subset=5000&testSubset=1000&epochs=3&batchSize=32&lr=0.002&optimizer=adam&layers=784-128-64-10&normalisation=batch&dropout=0.1';

/** What the page shows, for failure messages and progress logs. */
async function pageSummary(page: Page): Promise<string> {
  return page.evaluate(() => {
    const text = (id: string) => document.getElementById(id)?.textContent?.trim() ?? '';
    const prediction = document.getElementById('prediction')?.dataset ?? {};
    return (
      `state ${document.body.dataset.state}; progress "${text('progress-text')}"; epoch ${text('stat-epoch')}; samples/s ${text('stat-rate')}; test acc ${text('stat-test-acc')}; ` +
      `status "${text('status')}"; prediction "${text('prediction-text')}" (pending "${prediction.pending}", digit "${prediction.digit}"); files "${text('io-status')}"`
    );
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

/** Draws a "7" with pointer events: a top bar, then a stroke down and to the left. */
async function drawSeven(page: Page): Promise<void> {
  // Clicks elsewhere (page.click scrolls its target into view) may have scrolled the pad away: mouse
  // events outside the viewport never reach it.
  const pad = (await page.$eval('#pad', (e) => {
    e.scrollIntoView({ block: 'center' });
    const r = e.getBoundingClientRect();
    return { x: r.left, y: r.top, w: r.width, h: r.height };
  })) as { x: number; y: number; w: number; h: number };
  const at = (fx: number, fy: number): [number, number] => [pad.x + fx * pad.w, pad.y + fy * pad.h];
  const stroke = [at(0.25, 0.22), at(0.5, 0.22), at(0.75, 0.22), at(0.7, 0.35), at(0.6, 0.5), at(0.5, 0.65), at(0.42, 0.82)];
  await page.mouse.move(...stroke[0]);
  await page.mouse.down();
  for (const point of stroke.slice(1)) await page.mouse.move(...point, { steps: 6 });
  await page.mouse.up();
}

/** True once the prediction card shows an answer for the current drawing and model (nothing pending). */
const predictionShown = () => {
  const box = document.getElementById('prediction')!;
  return box.dataset.pending === '' && !!box.dataset.probabilities;
};

/** The shown probabilities and digit (after predictionShown). */
async function shownPrediction(page: Page): Promise<{ digit: string; probabilities: number[] }> {
  return page.$eval('#prediction', (e) => ({ digit: (e as HTMLElement).dataset.digit ?? '', probabilities: ((e as HTMLElement).dataset.probabilities ?? '').split(',').map(Number) }));
}

/** The state-dict names torch.nn.Sequential gives the layer list: parameters, buffers, counters. */
const stateDictNames = (layers: ModelSpec) => {
  const model = Model.create(layers, [1, 28, 28]);
  return [...model.parameters.map((p) => p.name), ...model.buffers.map((b) => b.name), ...model.counters].sort();
};

/**
 * SwiftShader runs the "GPU" on the CPU's cores, in Chromium's GPU process: on a 2-core machine a busy
 * epoch takes every core from the page's main thread, and a 5 ms chart update then lasts over 50 ms of wall
 * time. A real GPU is other hardware; to measure the page and not the emulator, the GPU process's threads
 * (and those it starts later, which inherit it) get a lower CPU priority. Linux only; elsewhere a no-op.
 */
function lowerGpuProcessPriority(browserPid: number | undefined): number {
  if (browserPid === undefined || !existsSync('/proc')) return 0;
  let threads = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmdline.includes('--type=gpu-process') || !descendsFrom(pid, browserPid)) continue;
      for (const tid of readdirSync(`/proc/${pid}/task`)) {
        setPriority(Number(tid), 10);
        threads++;
      }
    } catch {
      // the process ended meanwhile, or belongs to someone else
    }
  }
  return threads;
}

/** Whether `ancestor` is among a process's parents (its browser starts it through a zygote). */
function descendsFrom(pid: string, ancestor: number): boolean {
  for (let p = Number(pid), hops = 0; p > 1 && hops < 8; hops++) {
    const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
    p = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]); // field 4, after the parenthesised name
    if (p === ancestor) return true;
  }
  return false;
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

  it('trains past 90% test accuracy in a worker with no main-thread long task, predicts a drawn 7 on the GPU, moves weights in and out, and takes screenshots', { timeout: 480_000 }, async () => {
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
    // The URL's settings are in the form, batch norm and dropout included.
    expect(await page.$eval('input[name=subset]', (e) => (e as HTMLInputElement).value)).toBe('5000');
    expect(await page.$eval('input[name=dropout]', (e) => [(e as HTMLInputElement).disabled, (e as HTMLInputElement).value])).toEqual([false, '0.1']);
    expect(await page.$eval('select[name=normalisation]', (e) => [(e as HTMLSelectElement).disabled, (e as HTMLSelectElement).value])).toEqual([false, 'batch']);
    // Every option is offered, except the CNN preset while the engine lacks its kernels (it says why).
    const disabled = await page.$$eval('select option:disabled', (options) => options.map((o) => `${(o.parentElement as HTMLSelectElement).name}=${(o as HTMLOptionElement).value}: ${o.title}`));
    console.log(`[demo] CNN preset ${FEATURES.cnn.available ? 'available' : `disabled: ${disabled.join('; ')}`}`);
    expect(disabled.map((d) => d.split(':')[0])).toEqual(FEATURES.cnn.available ? [] : ['model=cnn']);
    if (!FEATURES.cnn.available) expect(disabled[0]).toMatch(/max_pool2d/);

    await page.click('#train');
    // Setting up (loading MNIST, building and compiling the step) is not training: it gets its own limit.
    const clicked = performance.now();
    await waitFor(page, 'the training step to be built', () => /training|done|error/.test(document.body.dataset.state ?? ''), 150_000);
    const started = performance.now();
    console.log(`[demo] GPU process threads given a lower CPU priority: ${lowerGpuProcessPriority(chrome!.browser.process()?.pid)}`);
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

    // The model card shows the worker's layer summary and parameter count; the weight tiles are the first Linear's rows.
    const mlp = Model.create(mlpLayers({ layers: [784, 128, 64, 10], norm: 'batch', dropout: 0.1 }), [1, 28, 28]);
    expect(await page.$eval('#model-layers', (e) => e.textContent)).toBe(mlp.summary().join('\n'));
    expect(await page.$eval('#model-params', (e) => (e as HTMLElement).dataset.count)).toBe(String(mlp.parameterCount));
    expect(await page.$eval('#weights', (e) => [(e as HTMLElement).dataset.layer, (e as HTMLElement).dataset.tiles])).toEqual(['1.weight', '32']);

    // Draw a 7: the worker's trainer classifies it on the GPU (the page has no forward pass of its own).
    await drawSeven(page);
    await waitFor(page, 'the prediction of the drawn digit', predictionShown, 60_000);
    const { digit, probabilities } = await shownPrediction(page);
    console.log(`[demo] drawn 7 predicted as ${digit}; probabilities ${probabilities.map((p) => p.toFixed(3)).join(' ')}`);
    expect(probabilities).toHaveLength(10);
    // Ten probabilities printed to 4 decimals (prediction_panel.ts): each rounded by ≤ 5·10⁻⁵.
    expectValueClose(probabilities.reduce((s, p) => s + p, 0), 1, { atol: 10 * 5e-5, rtol: 0 }, 'Σ shown probabilities');
    expect(digit).toBe('7');
    const clearShown = () => page.$eval('#prediction', (e) => ((e as HTMLElement).dataset.probabilities = ''));
    const ioStatus = () => page.$eval('#io-status', (e) => e.textContent ?? '');

    // Save the run in IndexedDB (restored below).
    await page.click('#save-run');
    await waitFor(page, 'the saved run', () => /^(Saved|Could not)/.test(document.getElementById('io-status')?.textContent ?? ''), 30_000);
    expect(await ioStatus()).toMatch(/^Saved the run at epoch 3 in this browser \(IndexedDB webgrad-demo\/files/);

    // Export the state dict (a real download) and check the file as PyTorch would load it.
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
    const bytes = new Uint8Array(readFileSync(exported));
    const { tensors, metadata } = decodeSafetensors(bytes, exported);
    // Exactly the Sequential's state dict (strict loading needs no more and no less), in its shapes.
    expect([...tensors.keys()].sort()).toEqual(stateDictNames(mlp.spec));
    expect(tensors.get('1.weight')?.shape).toEqual([128, 784]);
    expect(tensors.get('2.num_batches_tracked')).toMatchObject({ dtype: 'I64', shape: [] });
    expect(Number(tensors.get('2.num_batches_tracked')!.data[0])).toBe(3 * Math.ceil(5000 / 32));
    expect(Number(metadata.test_accuracy)).toBeGreaterThan(0.9);
    expect(readWeightsFile(bytes, exported).normalisation).toEqual({ mean: 0, std: 1 });

    // Import it back: a new trainer with these starting weights predicts the same, bit for bit.
    await clearShown();
    const input = (await page.$('#import-file')) as ElementHandle<HTMLInputElement>;
    await input.uploadFile(exported);
    await waitFor(page, 'the import', () => /^(Imported|Could not)/.test(document.getElementById('io-status')?.textContent ?? ''), 120_000);
    console.log(`[demo] ${await ioStatus()}`);
    expect(await ioStatus()).toMatch(/^Imported mnist-784-128-64-10\.safetensors \(\d+ tensors\) into the 784-128-64-10 MLP: test accuracy 9\d\.\d\d%/);
    await waitFor(page, 'the prediction from the imported weights', predictionShown, 60_000);
    expect((await shownPrediction(page)).probabilities).toEqual(probabilities);
    expect(await page.$eval('#start-from', (e) => e.textContent)).toBe('Train starts from the weights of mnist-784-128-64-10.safetensors.');

    // Restore the saved run from IndexedDB: the same prediction again.
    await clearShown();
    await page.click('#restore-run');
    await waitFor(page, 'the restore', () => /^(Restored|Could not)/.test(document.getElementById('io-status')?.textContent ?? ''), 120_000);
    console.log(`[demo] ${await ioStatus()}`);
    expect(await ioStatus()).toMatch(/^Restored the run saved .*: the 784-128-64-10 MLP at epoch 3/);
    await waitFor(page, 'the prediction from the restored run', predictionShown, 60_000);
    expect((await shownPrediction(page)).probabilities).toEqual(probabilities);

    // A file that does not fit the model is refused with the engine's list of tensors; the model stays.
    const wrong = path.join(outDir, 'wrong.safetensors');
    writeFileSync(wrong, encodeSafetensors([{ name: '1.weight', dtype: 'F32', shape: [3, 784], data: new Float32Array(3 * 784) }, { name: 'head.weight', dtype: 'F32', shape: [2], data: new Float32Array(2) }]));
    await input.uploadFile(wrong);
    await waitFor(page, 'the refused import', () => /^(Imported|Could not)/.test(document.getElementById('io-status')?.textContent ?? ''), 120_000);
    const refusal = await ioStatus();
    console.log(`[demo] ${refusal}`);
    expect(refusal).toMatch(/^Could not import wrong\.safetensors: ShapeError: .*missing '1\.bias'.*unexpected 'head\.weight'.*size mismatch for 1\.weight: the file has \[3, 784\], the model needs \[128, 784\]/);
    expect(await page.evaluate(() => document.body.dataset.state)).toBe('done');
    await clearShown();
    await page.click('#clear');
    await drawSeven(page);
    await waitFor(page, 'the prediction after the refused import', predictionShown, 60_000);
    expect((await shownPrediction(page)).probabilities).toEqual(probabilities);

    // Train continues the restored run (still what Train starts from): Epochs 3 → 4 trains one more epoch.
    expect(await page.$eval('#start-from', (e) => e.textContent)).toMatch(/^Train continues the run saved /);
    await page.$eval('input[name=epochs]', (e) => ((e as HTMLInputElement).value = '4'));
    await page.click('#train');
    await waitFor(page, 'the continued run', () => /done|error/.test(document.body.dataset.state ?? ''), 150_000);
    const continued = await page.$eval('#status', (e) => e.textContent ?? '');
    console.log(`[demo] continued: ${continued}`);
    expect(continued).toMatch(/^Done: test accuracy [\d.]+% after 4 epochs,/);
    expect(await page.$eval('#stat-epoch', (e) => e.textContent)).toBe('4 / 4');
    expect(await page.$eval('#loss-chart', (e) => (e as HTMLElement).dataset.epochLosses?.split(',').length)).toBe(1);
    expect(await page.$eval('#progress-text', (e) => e.textContent)).toMatch(/^100% .* 5,000 \/ 5,000 samples/);

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

  // The CNN preset needs MaxPool2d and BatchNorm2d on the GPU; until the engine has max_pool2d the option is
  // disabled (checked above) and this test has nothing to train.
  it.runIf(FEATURES.cnn.available)('trains the CNN preset, shows its layers and first-layer kernels, and predicts on the GPU', { timeout: 420_000 }, async () => {
    await page.setViewport({ width: 1280, height: 800 });
    await page.goto(`${origin}/?model=cnn&subset=1500&testSubset=500&epochs=1&batchSize=50&lr=0.002&optimizer=adam`, { waitUntil: 'load' });
    await waitFor(page, 'WebGPU', () => document.body.dataset.state === 'idle', 30_000);
    // The CNN's layers are fixed: the MLP's own controls are off.
    expect(await page.$$eval('label[data-mlp] input, label[data-mlp] select', (controls) => controls.map((c) => (c as HTMLInputElement).disabled))).toEqual([true, true, true, true]);
    await page.click('#train');
    await waitFor(page, 'the CNN run to end', () => /done|error/.test(document.body.dataset.state ?? ''), 400_000);
    const status = await page.$eval('#status', (e) => e.textContent ?? '');
    console.log(`[demo] CNN: ${status}`);
    expect(await page.evaluate(() => document.body.dataset.state)).toBe('done');
    expect(Number(await page.$eval('#stat-test-acc', (e) => (e as HTMLElement).dataset.value))).toBeGreaterThan(0.8);
    const cnn = Model.create(CNN_LAYERS, [1, 28, 28]);
    expect(await page.$eval('#model-layers', (e) => e.textContent)).toBe(cnn.summary().join('\n'));
    expect(await page.$eval('#model-params', (e) => (e as HTMLElement).dataset.count)).toBe(String(cnn.parameterCount));
    // The first Conv2d's 16 kernels, 5×5 each.
    expect(await page.$eval('#weights', (e) => [(e as HTMLElement).dataset.layer, (e as HTMLElement).dataset.tiles])).toEqual(['0.weight', '16']);
    await drawSeven(page);
    await waitFor(page, 'the CNN prediction', predictionShown, 60_000);
    const { digit, probabilities } = await shownPrediction(page);
    console.log(`[demo] CNN: drawn 7 predicted as ${digit}; probabilities ${probabilities.map((p) => p.toFixed(3)).join(' ')}`);
    expectValueClose(probabilities.reduce((s, p) => s + p, 0), 1, { atol: 10 * 5e-5, rtol: 0 }, 'Σ shown probabilities');
    mkdirSync(screenshots, { recursive: true });
    await page.screenshot({ path: path.join(screenshots, 'screenshot-cnn.png') });
    expect(log.pageErrors.map((e) => e.message)).toEqual([]);
  });

  it('pauses between epochs, resumes, and stops early', { timeout: 240_000 }, async () => {
    await page.setViewport({ width: 1280, height: 800 });
    // The same model and shapes as the first test, so the page reuses the kernels it tuned then (a model
    // without batch norm fuses other epilogues and would tune again: a minute on SwiftShader).
    await page.goto(`${origin}/?${QUERY.replace('epochs=3', 'epochs=6')}`, { waitUntil: 'load' });
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
