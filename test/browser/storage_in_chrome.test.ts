/**
 * Browser storage (src/io/browser_storage.ts) in headless Chromium, with the built library (dist/):
 * a checkpoint saved to IndexedDB in one page load is restored after a reload (a fresh JavaScript context,
 * the same origin) and the resumed run's weights are bitwise those of an uninterrupted run; then the
 * download helper writes the same bytes to disk, and the upload helpers (an <input type=file> and
 * pickFile's chooser) read them back. Nothing is built here; `npm test` runs the build first.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mnistDir, repoRoot, startServer, watchPage, type PageLog, type StaticServer } from './serve';
import { launchBrowser, type LaunchedBrowser } from './launch';

const distDir = path.join(repoRoot, 'dist');

// The page: the library and two helpers on window; the test drives it with page.evaluate.
const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>webgrad storage</title>
<input id="file" type="file">
<button id="pick">pick</button>
<script type="module">
import * as webgrad from '/dist/index.js';
window.webgrad = webgrad;
window.loadedAt = performance.timeOrigin;
// Bytes as base64, to compare bit patterns outside the page.
window.base64 = (bytes) => {
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
};
window.weightsBase64 = async (trainer) => Object.fromEntries([...(await trainer.weights())].map(([name, w]) => [name, window.base64(new Uint8Array(w.buffer, w.byteOffset, w.byteLength))]));
// The run both page loads use: dropout and augmentation make the resume depend on the restored seed and step.
window.makeTrainer = async (seed) => {
  window.gpu ??= await webgrad.requestGpu();
  const { train } = await webgrad.fetchMnist('/mnist');
  return webgrad.Trainer.create(window.gpu, webgrad.subset(train, 0, 1000), undefined, {
    model: { layers: [784, 32, 10], dropout: 0.1 },
    optimizer: { name: 'adam', lr: 2e-3 },
    augment: { maxShift: 1 },
    batchSize: 50,
    seed,
    autotune: false,
  });
};
document.getElementById('pick').addEventListener('click', () => {
  window.picked = webgrad.pickFile().then(async (file) => (file ? { name: file.name, base64: window.base64(await webgrad.readFileBytes(file)) } : null));
});
window.ready = true;
</script>`;

type Weights = Record<string, string>;

describe('browser storage in headless Chromium', () => {
  let server: StaticServer | undefined;
  let chrome: LaunchedBrowser | undefined;
  let page: Page;
  let log: PageLog;
  let downloads: string;

  beforeAll(async () => {
    if (!existsSync(path.join(distDir, 'index.js'))) throw new Error(`${path.join(distDir, 'index.js')} is missing: run \`npm run build\` first.`);
    server = await startServer({ '/dist': distDir, '/mnist': mnistDir, '/': { body: PAGE } });
    chrome = await launchBrowser();
    page = await chrome.browser.newPage();
    log = watchPage(page, { prefix: '[storage]' });
    downloads = mkdtempSync(path.join(tmpdir(), 'webgrad-downloads-'));
  });

  afterAll(async () => {
    await chrome?.close();
    await server?.close();
    if (downloads) rmSync(downloads, { recursive: true, force: true });
  });

  const load = async () => {
    await page.goto(`${server!.origin}/`, { waitUntil: 'load' });
    await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true, { timeout: 10_000 });
    return page.evaluate(() => (window as unknown as { loadedAt: number }).loadedAt);
  };

  it('a checkpoint saved to IndexedDB in one page load restores in the next and resumes bitwise', { timeout: 180_000 }, async () => {
    const firstLoad = await load();
    // Load 1: one epoch, checkpoint to IndexedDB, then a second epoch: the uninterrupted run's weights.
    const first = await page.evaluate(async () => {
      const w = window as unknown as Record<string, any>;
      const store = w.webgrad.indexedDbStore({ database: 'webgrad-test' });
      const trainer = await w.makeTrainer(5);
      await trainer.fit({ epochs: 1 });
      const checkpoint: Uint8Array = await trainer.checkpoint();
      await store.save('run.safetensors', checkpoint);
      const reports = await trainer.fit({ epochs: 1 });
      const straight: Weights = await w.weightsBase64(trainer);
      trainer.destroy();
      return { checkpointBytes: checkpoint.length, checkpoint: w.base64(checkpoint) as string, straight, loss: reports[0].loss as number };
    });
    expect(first.checkpointBytes).toBeGreaterThan(4 * (784 * 32 + 32 + 32 * 10 + 10) * 3);

    // Load 2: a fresh page (new JavaScript context, same origin); the checkpoint comes from IndexedDB.
    const secondLoad = await load();
    expect(secondLoad).not.toBe(firstLoad);
    expect(await page.evaluate(() => 'gpu' in window)).toBe(false);
    const second = await page.evaluate(async () => {
      const w = window as unknown as Record<string, any>;
      const store = w.webgrad.indexedDbStore({ database: 'webgrad-test' });
      const keys: string[] = await store.keys();
      const bytes: Uint8Array = await store.load('run.safetensors');
      const trainer = await w.makeTrainer(777); // another seed: the checkpoint's must win
      trainer.restore(bytes);
      const epochAfterRestore: number = trainer.epoch;
      const reports = await trainer.fit({ epochs: 1 });
      const resumed: Weights = await w.weightsBase64(trainer);
      trainer.destroy();
      const missing = await store.load('nope').then(() => 'loaded', (e: Error) => `${e.name}: ${e.message}`);
      const badKey = await store.save('../x', bytes).then(() => 'saved', (e: Error) => `${e.name}: ${e.message}`);
      return { keys, checkpoint: w.base64(bytes) as string, epochAfterRestore, epoch: reports[0].epoch as number, loss: reports[0].loss as number, resumed, missing, badKey };
    });
    expect(second.keys).toContain('run.safetensors');
    expect(second.checkpoint).toBe(first.checkpoint);
    expect(second.epochAfterRestore).toBe(1);
    expect(second.epoch).toBe(2);
    expect(second.loss).toBe(first.loss);
    expect(Object.keys(second.resumed)).toEqual(Object.keys(first.straight));
    for (const name of Object.keys(first.straight)) expect(second.resumed[name], `${name} bitwise`).toBe(first.straight[name]);
    expect(second.missing).toMatch(/^DataFormatError: IndexedDB webgrad-test\/files: nothing saved under 'nope' \(it holds 'run.safetensors'\)/);
    expect(second.badKey).toMatch(/^ConfigError: A storage key must be/);
    console.log(`[storage] checkpoint of ${first.checkpointBytes} bytes survived the reload; resumed epoch 2 loss ${second.loss} = uninterrupted ${first.loss}`);

    // Download: the helper's Blob download lands on disk with the same bytes.
    const cdp = await page.createCDPSession();
    await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads });
    await page.evaluate(async () => {
      const w = window as unknown as Record<string, any>;
      w.webgrad.downloadBytes(await w.webgrad.indexedDbStore({ database: 'webgrad-test' }).load('run.safetensors'), 'resume.safetensors');
    });
    const file = path.join(downloads, 'resume.safetensors');
    for (let i = 0; i < 100 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 100));
    expect(readdirSync(downloads)).toEqual(['resume.safetensors']);
    expect(readFileSync(file).toString('base64')).toBe(first.checkpoint);

    // Upload: readFileBytes on an <input type=file>, and pickFile's chooser (accepted, then cancelled).
    const input = await page.$('#file');
    await (input as unknown as { uploadFile(...paths: string[]): Promise<void> }).uploadFile(file);
    const uploaded = await page.evaluate(async () => {
      const w = window as unknown as Record<string, any>;
      return w.base64(await w.webgrad.readFileBytes((document.getElementById('file') as HTMLInputElement).files![0])) as string;
    });
    expect(uploaded).toBe(first.checkpoint);
    const [chooser] = await Promise.all([page.waitForFileChooser(), page.click('#pick')]);
    await chooser.accept([file]);
    const picked = await page.evaluate(() => (window as unknown as { picked: Promise<{ name: string; base64: string } | null> }).picked);
    expect(picked).toEqual({ name: 'resume.safetensors', base64: first.checkpoint });
    const [again] = await Promise.all([page.waitForFileChooser(), page.click('#pick')]);
    await again.cancel();
    expect(await page.evaluate(() => (window as unknown as { picked: Promise<unknown> }).picked)).toBeNull();

    expect(log.pageErrors.map((e) => e.message)).toEqual([]);
    expect(log.consoleErrors).toEqual([]);
    expect(server!.misses).toEqual([]);
  });
});
