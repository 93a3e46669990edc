// Quiet start: requesting the GPU in Node prints nothing to stderr (no Vulkan loader, Dawn or Wayland lines),
// and the environment the engine changes to get there is restored.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findNodeAdapter, needsRuntimeDir, planAttempts, SWIFTSHADER_ICD } from '../../src/gpu/quiet_vulkan';
import { ensureBuilt, ROOT } from '../helpers/cli';

describe('planAttempts', () => {
  const both = { gpuDeviceNode: true, swiftshaderInstalled: true };
  it('tries hardware without lavapipe, then SwiftShader, then every driver', () => {
    expect(planAttempts({}, 'linux', both).map((a) => [a.name, a.set, a.keep])).toEqual([
      ['hardware', { VK_LOADER_DRIVERS_DISABLE: '*lvp*' }, false],
      ['swiftshader', { VK_ICD_FILENAMES: SWIFTSHADER_ICD }, true],
      ['all drivers', {}, false],
    ]);
  });

  it('skips what cannot succeed: hardware without a GPU device node, SwiftShader when it is not installed', () => {
    expect(planAttempts({}, 'linux', { gpuDeviceNode: false, swiftshaderInstalled: true }).map((a) => a.name)).toEqual(['swiftshader', 'all drivers']);
    expect(planAttempts({}, 'linux', { gpuDeviceNode: false, swiftshaderInstalled: false }).map((a) => a.name)).toEqual(['all drivers']);
  });

  it('leaves a user\'s own driver choice, and other systems, alone', () => {
    for (const name of ['VK_ICD_FILENAMES', 'VK_DRIVER_FILES', 'VK_LOADER_DRIVERS_SELECT', 'VK_LOADER_DRIVERS_DISABLE']) {
      expect(planAttempts({ [name]: 'x' }, 'linux', both)).toEqual([{ name: 'as configured', set: {}, keep: false }]);
    }
    expect(planAttempts({}, 'darwin', both).map((a) => a.name)).toEqual(['as configured']);
  });

  it('sets a runtime folder only where libwayland would complain', () => {
    expect(needsRuntimeDir({})).toBe(true);
    expect(needsRuntimeDir({ XDG_RUNTIME_DIR: 'relative' })).toBe(true);
    expect(needsRuntimeDir({ XDG_RUNTIME_DIR: '/run/user/1000' })).toBe(false);
  });
});

describe('findNodeAdapter', () => {
  it('gives each attempt a private, empty runtime folder and restores the environment when none succeeds', async () => {
    const env: Record<string, string | undefined> = { HOME: '/home/x' };
    const seen: Record<string, string | undefined>[] = [];
    const adapter = await findNodeAdapter(env, 'linux', async () => {
      seen.push({ ...env });
      expect(env.XDG_RUNTIME_DIR).toMatch(/^\//);
      expect(readdirSync(env.XDG_RUNTIME_DIR!)).toEqual([]);
      return null;
    });
    expect(adapter).toBeNull();
    expect(seen.length).toBeGreaterThanOrEqual(1);
    expect(seen.at(-1)).toEqual({ HOME: '/home/x', XDG_RUNTIME_DIR: seen[0].XDG_RUNTIME_DIR });
    expect(env).toEqual({ HOME: '/home/x' });
    expect(existsSync(seen[0].XDG_RUNTIME_DIR!)).toBe(false);
  });

  it('keeps SwiftShader\'s ICD set once it gave the adapter, and a user\'s runtime folder untouched', async () => {
    const env: Record<string, string | undefined> = { XDG_RUNTIME_DIR: '/run/user/7' };
    const fake = {} as GPUAdapter;
    const adapter = await findNodeAdapter(env, 'linux', async () => {
      expect(env.XDG_RUNTIME_DIR).toBe('/run/user/7');
      return env.VK_ICD_FILENAMES === SWIFTSHADER_ICD || env.VK_LOADER_DRIVERS_DISABLE === undefined ? fake : null;
    });
    expect(adapter).toBe(fake);
    expect(env.XDG_RUNTIME_DIR).toBe('/run/user/7');
    expect(env.VK_LOADER_DRIVERS_DISABLE).toBeUndefined();
  });
});

describe('a Node process that requests the GPU', () => {
  it('prints nothing to stderr, and finds an adapter', () => {
    ensureBuilt();
    const env = { ...process.env };
    for (const name of ['XDG_RUNTIME_DIR', 'VK_ICD_FILENAMES', 'VK_DRIVER_FILES', 'VK_LOADER_DRIVERS_SELECT', 'VK_LOADER_DRIVERS_DISABLE', 'VK_LOADER_DEBUG']) delete env[name];
    const script = `
      const { requestGpu } = await import(${JSON.stringify(join(ROOT, 'dist', 'index.js'))});
      const gpu = await requestGpu();
      const buffer = gpu.device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE });
      buffer.destroy();
      await gpu.device.queue.onSubmittedWorkDone();
      console.log(JSON.stringify({ adapter: gpu.adapterName, xdg: process.env.XDG_RUNTIME_DIR ?? null, disable: process.env.VK_LOADER_DRIVERS_DISABLE ?? null }));
      gpu.device.destroy();
      process.exit(0);`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });
    expect(run.stderr, 'stderr').toBe('');
    expect(run.status).toBe(0);
    const result = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
    expect(result.adapter).not.toBe('');
    expect(result.xdg, 'XDG_RUNTIME_DIR is restored').toBeNull();
    expect(result.disable).toBeNull();
  });
});
