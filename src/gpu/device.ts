/**
 * One call that yields a GPUDevice in the browser (navigator.gpu) and in Node (the `webgpu` package, Dawn).
 * Everything above this file sees only the standard WebGPU API, so engine code is identical in both hosts.
 */
import { ConfigError, DeviceLostError, DeviceUnavailableError, GPUValidationError } from '../errors';
import { paceDawnTicks } from './dawn_ticks';
import { findNodeAdapter, SWIFTSHADER_ICD } from './quiet_vulkan';
import { importDawn, installNodeGlobals, missingWebGpuGlobals } from './dawn';

export interface GpuContext {
  device: GPUDevice;
  adapterName: string;
  hasTimestamps: boolean;
  /** Resolves with a DeviceLostError once the device is lost; `check()` then throws it synchronously. */
  lost: Promise<DeviceLostError>;
  /** Throws the first uncaptured GPU error or the device loss, if either happened. */
  check(): void;
}

/**
 * Node: the `webgpu` package. Dawn crashes if a GPU instance or adapter it handed out is garbage-collected
 * while another is in use, so each is requested once and the ones we use are kept referenced.
 */
const keepAlive: unknown[] = [];

async function nodeAdapter(powerPreference: GPUPowerPreference, options: DeviceOptions): Promise<GPUAdapter | null | undefined> {
  const proc = (globalThis as { process?: { versions?: { node?: string }; env: Record<string, string | undefined>; platform: string } }).process;
  if (!proc?.versions?.node) return undefined;
  const { create } = await importDawn();
  if (options.nodeGlobals ?? true) await installNodeGlobals();
  const absent = missingWebGpuGlobals();
  if (absent.length) {
    throw new ConfigError(
      `requestGpu({ nodeGlobals: false }): the engine reads ${absent.join(', ')} as globals, as in a browser, and they are not defined. ` +
        "Define them yourself (e.g. from the `webgpu` package's `globals`), call installNodeGlobals() from 'webgrad/node', or leave nodeGlobals on.",
    );
  }
  if (options.paceDawnTicks ?? true) paceDawnTicks();
  // Hardware first, then SwiftShader (a CPU Vulkan) when there is no usable driver, without the Vulkan and
  // Wayland chatter on stderr: see quiet_vulkan.ts. Dawn reads the Vulkan variables when an instance is
  // created, so each attempt gets a fresh instance.
  const adapter = await findNodeAdapter(proc.env, proc.platform, async () => {
    const instance: GPU = create([]);
    keepAlive.push(instance);
    return instance.requestAdapter({ powerPreference });
  });
  keepAlive.push(adapter);
  return adapter;
}

function noAdapterMessage(inNode: boolean): string {
  const lines = ['No WebGPU adapter was found.'];
  if (inNode) {
    lines.push(
      'In Node the `webgpu` package (Dawn) needs a Vulkan driver and the Vulkan loader.',
      'On Linux without a GPU driver, use SwiftShader (a CPU Vulkan): `apt-get install -y chromium libvulkan1`,',
      `then run with VK_ICD_FILENAMES=${SWIFTSHADER_ICD} (the engine tries that path by itself when it exists).`,
    );
  } else {
    lines.push(
      'Use a browser with WebGPU: Chrome or Edge 113+, Safari 26+, or Firefox 141+ on Windows.',
      'Headless Chrome needs --enable-unsafe-webgpu (and on Linux without a GPU: --enable-features=Vulkan --use-webgpu-adapter=swiftshader).',
    );
  }
  return lines.join('\n');
}

export interface DeviceOptions {
  powerPreference?: GPUPowerPreference;
  /** Ask for timestamp queries when the adapter has them (default true). */
  timestamps?: boolean;
  /**
   * Node only (ignored in browsers). Importing webgrad changes nothing global; requestGpu does, in Node:
   * - `nodeGlobals` (default true): defines Dawn's GPUBufferUsage, GPUMapMode, GPUShaderStage and GPU*
   *   classes on globalThis where missing, since the engine reads them as globals as a browser has them.
   *   false: they must be defined already (else a ConfigError says so).
   * - `paceDawnTicks` (default true): Dawn's promise polling runs from a 1 ms timer instead of a
   *   setImmediate spin that holds a CPU core (see dawn_ticks.ts); false leaves setImmediate untouched.
   */
  nodeGlobals?: boolean;
  paceDawnTicks?: boolean;
}

export async function requestGpu(options: DeviceOptions = {}): Promise<GpuContext> {
  const powerPreference = options.powerPreference ?? 'high-performance';
  const browserGpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  const adapter = browserGpu ? await browserGpu.requestAdapter({ powerPreference }) : await nodeAdapter(powerPreference, options);
  if (!adapter) throw new DeviceUnavailableError(noAdapterMessage(!browserGpu));

  const hasTimestamps = (options.timestamps ?? true) && adapter.features.has('timestamp-query');
  const limits = adapter.limits;
  const device = await adapter.requestDevice({
    requiredFeatures: hasTimestamps ? ['timestamp-query'] : [],
    // Datasets live on the GPU, so take the largest buffers the adapter offers.
    requiredLimits: {
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxBufferSize: limits.maxBufferSize,
      maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
      maxStorageBuffersPerShaderStage: limits.maxStorageBuffersPerShaderStage,
    },
  });

  const info = adapter.info;
  // Firefox reports every field empty (fingerprinting protection): say so rather than "unknown".
  const userAgent = (globalThis as { navigator?: { userAgent?: string } }).navigator?.userAgent ?? '';
  const hidden = browserGpu ? `adapter name hidden by the browser${/Firefox\//.test(userAgent) ? ' (Firefox)' : ''}` : 'unknown adapter';
  const adapterName = [info?.vendor, info?.architecture, info?.device, info?.description].filter(Boolean).join(' ') || hidden;

  let failure: Error | undefined;
  const lost = device.lost.then((info) => {
    const error = new DeviceLostError(
      `The GPU device was lost (${info.reason}): ${info.message || 'no message'}. ` +
        'Resume from the last checkpoint (`--resume FILE`) once a device is available again.',
      info.reason,
    );
    failure ??= error;
    return error;
  });
  device.addEventListener('uncapturederror', (event) => {
    const gpuError = (event as GPUUncapturedErrorEvent).error;
    failure ??= new GPUValidationError(`Uncaptured WebGPU error: ${gpuError.message}`);
  });

  return {
    device,
    adapterName,
    hasTimestamps,
    lost,
    check() {
      if (failure) throw failure;
    },
  };
}
