/**
 * What importing webgrad and calling requestGpu do to a Node process's globals, each case in a fresh
 * `node` process (a test runner's process has had its globals set up already) against the built library
 * (dist/; `npm test` builds first): importing changes nothing; requestGpu installs Dawn's WebGPU globals
 * and paces Dawn's ticks unless told not to; with nodeGlobals off and no globals, a ConfigError says so.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../browser/serve';

const dist = (file: string) => pathToFileURL(path.join(repoRoot, 'dist', file)).href;

/** Runs `body` (an async ES module snippet that sets `out`) in a fresh Node and returns `out`. */
function inFreshNode(body: string): Promise<Record<string, unknown>> {
  const script = `
    const webgrad = await import(${JSON.stringify(dist('index.js'))});
    const node = await import(${JSON.stringify(dist('node.js'))});
    const realSetImmediate = globalThis.setImmediate;
    const out = {};
    try { ${body} } catch (e) { out.error = { name: e.name, message: e.message }; }
    out.globals = ['GPUBufferUsage', 'GPUMapMode', 'GPUShaderStage', 'GPUDevice'].filter((k) => k in globalThis);
    out.setImmediateReplaced = globalThis.setImmediate !== realSetImmediate;
    console.log(JSON.stringify(out));
    process.exit(0);`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = stdout.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || !line.startsWith('{')) reject(new Error(`node exited with ${code}:\n${stdout}\n${stderr}`));
      else resolve(JSON.parse(line));
    });
  });
}

describe('Node set-up is explicit (requestGpu options), never an import side effect', () => {
  beforeAll(() => {
    if (!existsSync(path.join(repoRoot, 'dist/index.js'))) throw new Error('dist/index.js is missing: run `npm run build` first.');
  });

  it('importing webgrad, webgrad/node and webgrad/internals defines nothing and leaves setImmediate alone', async () => {
    const out = await inFreshNode(`
      const before = new Set(Object.getOwnPropertyNames(globalThis));
      await import(${JSON.stringify(dist('internals.js'))});
      out.added = Object.getOwnPropertyNames(globalThis).filter((k) => !before.has(k));`);
    expect(out).toEqual({ added: [], globals: [], setImmediateReplaced: false });
  });

  it('requestGpu() installs the WebGPU globals and paces Dawn; the device works', async () => {
    const out = await inFreshNode(`
      const gpu = await webgrad.requestGpu();
      const buffer = gpu.device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
      gpu.device.queue.writeBuffer(buffer, 0, new Float32Array(4));
      await gpu.device.queue.onSubmittedWorkDone();
      out.adapter = gpu.adapterName;`);
    expect(out.error).toBeUndefined();
    expect(out.globals).toEqual(['GPUBufferUsage', 'GPUMapMode', 'GPUShaderStage', 'GPUDevice']);
    expect(out.setImmediateReplaced).toBe(true);
  });

  it('requestGpu({ paceDawnTicks: false }) leaves setImmediate alone', async () => {
    const out = await inFreshNode(`
      const gpu = await webgrad.requestGpu({ paceDawnTicks: false });
      await gpu.device.queue.onSubmittedWorkDone();`);
    expect(out.error).toBeUndefined();
    expect(out.globals).toContain('GPUBufferUsage');
    expect(out.setImmediateReplaced).toBe(false);
  });

  it('requestGpu({ nodeGlobals: false }) needs the globals defined, and says how; installNodeGlobals() provides them', async () => {
    const refused = await inFreshNode(`await webgrad.requestGpu({ nodeGlobals: false });`);
    expect(refused.error).toEqual({ name: 'ConfigError', message: expect.stringMatching(/reads GPUBufferUsage, GPUMapMode, GPUShaderStage as globals.*installNodeGlobals\(\)/) });
    expect(refused.globals).toEqual([]);
    expect(refused.setImmediateReplaced).toBe(false);

    const explicit = await inFreshNode(`
      await node.installNodeGlobals();
      const gpu = await webgrad.requestGpu({ nodeGlobals: false, paceDawnTicks: false });
      await gpu.device.queue.onSubmittedWorkDone();`);
    expect(explicit.error).toBeUndefined();
    expect(explicit.globals).toContain('GPUShaderStage');
    expect(explicit.setImmediateReplaced).toBe(false);
  });
});
