/**
 * Every GPU object the engine makes goes through here: buffers (counted live, with bytes), compute
 * pipelines (compiled once per kernel + constants and cached), bind-group layouts and bind groups
 * (counted). The counts are how tests prove that no step allocates and that nothing leaks.
 */
import { GPUValidationError } from '../errors';
import type { Constants, Kernel } from '../kernels/kernel';
import { shaderFiles } from '../kernels/shaders';
import type { GpuContext } from './device';

export interface ResourceCounts {
  liveBuffers: number;
  liveBytes: number;
  buffersCreated: number;
  pipelines: number;
  bindGroups: number;
}

const layoutEntryFor = (kind: Kernel['bindings'][number], binding: number): GPUBindGroupLayoutEntry => ({
  binding,
  visibility: GPUShaderStage.COMPUTE,
  buffer: { type: kind === 'uniform' ? 'uniform' : kind === 'read' ? 'read-only-storage' : 'storage' },
});

export class GpuResources {
  readonly counts: ResourceCounts = { liveBuffers: 0, liveBytes: 0, buffersCreated: 0, pipelines: 0, bindGroups: 0 };
  private readonly live = new Map<GPUBuffer, number>();
  private readonly modules = new Map<string, Promise<GPUShaderModule>>();
  private readonly pipelines = new Map<string, Promise<GPUComputePipeline>>();
  private readonly layouts = new Map<string, GPUBindGroupLayout>();

  constructor(readonly gpu: GpuContext) {}

  get device(): GPUDevice {
    return this.gpu.device;
  }

  createBuffer(label: string, bytes: number, usage: GPUBufferUsageFlags, mappedAtCreation = false): GPUBuffer {
    // Sizes are rounded to 16 bytes: uniform bindings and copies want multiples of 4, most of 16.
    const size = Math.max(16, Math.ceil(bytes / 16) * 16);
    const limit = this.device.limits.maxBufferSize;
    if (size > limit) {
      throw new GPUValidationError(`Buffer '${label}' needs ${size} bytes, more than this adapter's maxBufferSize (${limit}).`);
    }
    const buffer = this.device.createBuffer({ label, size, usage, mappedAtCreation });
    this.live.set(buffer, size);
    this.counts.liveBuffers++;
    this.counts.liveBytes += size;
    this.counts.buffersCreated++;
    return buffer;
  }

  /** A storage buffer holding `data` (uploaded through mapped-at-creation memory, no staging copy). */
  createStorage(label: string, data: ArrayBufferView, extraUsage: GPUBufferUsageFlags = 0): GPUBuffer {
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST | extraUsage;
    const buffer = this.createBuffer(label, data.byteLength, usage, true);
    new Uint8Array(buffer.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    buffer.unmap();
    return buffer;
  }

  destroyBuffer(buffer: GPUBuffer): void {
    const size = this.live.get(buffer);
    if (size === undefined) return;
    this.live.delete(buffer);
    this.counts.liveBuffers--;
    this.counts.liveBytes -= size;
    buffer.destroy();
  }

  bindGroupLayout(kernel: Kernel): GPUBindGroupLayout {
    const key = kernel.bindings.join(',');
    let layout = this.layouts.get(key);
    if (!layout) {
      layout = this.device.createBindGroupLayout({ label: key, entries: kernel.bindings.map(layoutEntryFor) });
      this.layouts.set(key, layout);
    }
    return layout;
  }

  createBindGroup(kernel: Kernel, label: string, entries: { buffer: GPUBuffer; offset: number; size: number }[]): GPUBindGroup {
    this.counts.bindGroups++;
    return this.device.createBindGroup({
      label,
      layout: this.bindGroupLayout(kernel),
      entries: entries.map((resource, binding) => ({ binding, resource })),
    });
  }

  /** The pipeline for a kernel specialised by override constants; compiled once, then cached. */
  pipeline(kernel: Kernel, constants: Constants): Promise<GPUComputePipeline> {
    const source = kernel.files.map((f) => shaderFiles[f]).join('\n');
    const constantKey = Object.keys(constants).sort().map((k) => `${k}=${Number(constants[k])}`).join(',');
    // The key holds the source itself: a change to any shader file can never reuse a stale pipeline.
    const key = `${kernel.entryPoint}|${constantKey}|${source}`;
    let pipeline = this.pipelines.get(key);
    if (!pipeline) {
      pipeline = this.compile(kernel, source, constants);
      this.pipelines.set(key, pipeline);
      this.counts.pipelines++;
    }
    return pipeline;
  }

  private async compile(kernel: Kernel, source: string, constants: Constants): Promise<GPUComputePipeline> {
    let module = this.modules.get(source);
    if (!module) {
      module = this.compileModule(kernel, source);
      this.modules.set(source, module);
    }
    const numeric = Object.fromEntries(Object.entries(constants).map(([k, v]) => [k, Number(v)]));
    try {
      return await this.device.createComputePipelineAsync({
        label: `${kernel.name} ${JSON.stringify(constants)}`,
        layout: this.device.createPipelineLayout({ bindGroupLayouts: [this.bindGroupLayout(kernel)] }),
        compute: { module: await module, entryPoint: kernel.entryPoint, constants: numeric },
      });
    } catch (error) {
      throw new GPUValidationError(`Pipeline for kernel '${kernel.name}' (${kernel.files.join(' + ')}) failed: ${(error as Error).message}`);
    }
  }

  private async compileModule(kernel: Kernel, source: string): Promise<GPUShaderModule> {
    const module = this.device.createShaderModule({ label: kernel.files.join('+'), code: source });
    const info = await module.getCompilationInfo();
    const errors = info.messages.filter((m) => m.type === 'error');
    if (errors.length) {
      throw new GPUValidationError(
        `WGSL compile error in kernel '${kernel.name}':\n` + errors.map((m) => `  ${locate(kernel, m.lineNum)}: ${m.message}`).join('\n'),
      );
    }
    return module;
  }
}

/** Maps a line of the concatenated module back to the .wgsl file and line it came from. */
export function locate(kernel: Kernel, line: number): string {
  let remaining = line;
  for (const file of kernel.files) {
    const lines = shaderFiles[file].split('\n').length;
    if (remaining <= lines) return `shaders/${file}:${remaining}`;
    remaining -= lines;
  }
  return `line ${line}`;
}
