/**
 * Node on Linux: finds a Dawn adapter without Dawn, the Vulkan loader or the drivers printing to stderr on
 * every run. What they print, measured with webgpu 0.6.2, libvulkan1 1.3.239, Mesa 22.3 and Chromium's
 * SwiftShader on a machine without a GPU:
 *   - "error: XDG_RUNTIME_DIR is invalid or not set in the environment." twice per Vulkan instance: the
 *     drivers' window-system code (Mesa's and SwiftShader's) loads libwayland-client, which asks for a
 *     display; a compute engine never needs one.
 *   - "Warning: Vulkan shaderUniform*ArrayDynamicIndexing required. / - While initializing adapter ... /
 *     at InitializeImpl (.../PhysicalDeviceVk.cpp:257)": Dawn refusing Mesa's lavapipe, a CPU Vulkan too old
 *     for WebGPU, before the engine fell back to SwiftShader.
 *   - "Error: Loader Message: ... Failed to detect any valid GPUs" and "Warning: vkEnumeratePhysicalDevices":
 *     an instance whose drivers are installed (Mesa's intel, radeon) but find no device.
 * All of it is native code writing to fd 2, which JavaScript cannot filter, so it is avoided instead:
 *   - While instances are created, XDG_RUNTIME_DIR points at a fresh, empty, private folder, and is restored
 *     afterwards; only when it is unset or not absolute, that is, when there is no Wayland session to find.
 *   - The adapter search is an ordered list of attempts, each a Vulkan environment (`planAttempts`):
 *       1. 'hardware': the installed drivers without lavapipe (VK_LOADER_DRIVERS_DISABLE), and only when a
 *          GPU device node exists (/dev/dri/renderD*, /dev/nvidia*, /dev/dxg); without one it cannot find
 *          anything, and only prints.
 *       2. 'swiftshader': Chromium's SwiftShader when it is installed (VK_ICD_FILENAMES, kept set, as before).
 *       3. 'all drivers': Dawn's own search, lavapipe included. If lavapipe is refused here, Dawn's warning
 *          is the explanation of why no adapter was found, so it is left to print.
 *     Where the user has chosen drivers (VK_ICD_FILENAMES, VK_DRIVER_FILES, VK_LOADER_DRIVERS_SELECT or
 *     _DISABLE), there is one attempt, with their environment untouched.
 * Nothing real is hidden: an adapter Dawn refuses is still refused, a failing hardware driver still prints
 * its errors, and no adapter at all is still a DeviceUnavailableError. One change of preference: on a
 * machine without a GPU device node, SwiftShader is now tried before a lavapipe new enough for Dawn.
 */

export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** Mesa's lavapipe manifest is lvp_icd.<arch>.json; the loader matches these globs against manifest names. */
const LAVAPIPE_GLOB = '*lvp*';
const USER_DRIVER_CHOICE = ['VK_ICD_FILENAMES', 'VK_DRIVER_FILES', 'VK_LOADER_DRIVERS_SELECT', 'VK_LOADER_DRIVERS_DISABLE'];

type Env = Record<string, string | undefined>;

export interface VulkanAttempt {
  name: 'hardware' | 'swiftshader' | 'all drivers' | 'as configured';
  /** Variables set for this attempt (undefined: removed). */
  set: Env;
  /** Keep them set after a successful attempt (SwiftShader's ICD, as the engine always has). */
  keep: boolean;
}

export interface MachineFacts {
  /** A GPU device node exists: /dev/dri/renderD* or card*, /dev/nvidia*, /dev/dxg (WSL). */
  gpuDeviceNode: boolean;
  swiftshaderInstalled: boolean;
}

/** The attempts, in order, for this environment and machine; a pure function, tested on its own. */
export function planAttempts(env: Env, platform: string, facts: MachineFacts): VulkanAttempt[] {
  if (platform !== 'linux' || USER_DRIVER_CHOICE.some((name) => env[name] !== undefined)) return [{ name: 'as configured', set: {}, keep: false }];
  const attempts: VulkanAttempt[] = [];
  if (facts.gpuDeviceNode) attempts.push({ name: 'hardware', set: { VK_LOADER_DRIVERS_DISABLE: LAVAPIPE_GLOB }, keep: false });
  if (facts.swiftshaderInstalled) attempts.push({ name: 'swiftshader', set: { VK_ICD_FILENAMES: SWIFTSHADER_ICD }, keep: true });
  attempts.push({ name: 'all drivers', set: {}, keep: false });
  return attempts;
}

/** True when XDG_RUNTIME_DIR would make libwayland complain: unset, or not an absolute path. */
export function needsRuntimeDir(env: Env): boolean {
  return !env.XDG_RUNTIME_DIR?.startsWith('/');
}

function apply(env: Env, changes: Env): Env {
  const previous: Env = {};
  for (const [name, value] of Object.entries(changes)) {
    previous[name] = env[name];
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return previous;
}

// Module names in variables, so browser bundlers leave these Node-only imports alone (as in device.ts).
const fsModule = 'node:fs';
const osModule = 'node:os';
const pathModule = 'node:path';

async function machineFacts(): Promise<MachineFacts & { makeRuntimeDir(): string; removeRuntimeDir(dir: string): void }> {
  const fs = await import(/* @vite-ignore */ fsModule);
  const os = await import(/* @vite-ignore */ osModule);
  const path = await import(/* @vite-ignore */ pathModule);
  const list = (dir: string): string[] => {
    try {
      return fs.readdirSync(dir);
    } catch {
      return [];
    }
  };
  const gpuDeviceNode =
    list('/dev/dri').some((name) => name.startsWith('renderD') || name.startsWith('card')) || list('/dev').some((name) => name.startsWith('nvidia') || name === 'dxg');
  return {
    gpuDeviceNode,
    swiftshaderInstalled: fs.existsSync(SWIFTSHADER_ICD),
    makeRuntimeDir: () => fs.mkdtempSync(path.join(os.tmpdir(), 'webgrad-runtime-')), // mode 0700
    removeRuntimeDir: (dir) => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * Runs `request` (create a Dawn instance, request an adapter) under each attempt's environment until one
 * returns an adapter. `env` is process.env; every variable changed here is restored, except a kept one.
 */
export async function findNodeAdapter(env: Env, platform: string, request: () => Promise<GPUAdapter | null>): Promise<GPUAdapter | null> {
  const facts = await machineFacts();
  const runtimeDir = platform === 'linux' && needsRuntimeDir(env) ? facts.makeRuntimeDir() : undefined;
  const previousRuntimeDir = runtimeDir ? apply(env, { XDG_RUNTIME_DIR: runtimeDir }) : {};
  try {
    for (const attempt of planAttempts(env, platform, facts)) {
      const previous = apply(env, attempt.set);
      let adapter: GPUAdapter | null = null;
      try {
        adapter = await request();
      } finally {
        if (!(adapter && attempt.keep)) apply(env, previous);
      }
      if (adapter) return adapter;
    }
    return null;
  } finally {
    if (runtimeDir) {
      apply(env, previousRuntimeDir);
      facts.removeRuntimeDir(runtimeDir);
    }
  }
}
