/**
 * A plan made real: its buffers allocated, its pipelines compiled and its bind groups created, all once.
 * `encode` then records one step — the plan's transfers, then its dispatches in one compute pass — and
 * creates nothing, so the per-step host work is the encoding alone. Many steps can go into one command
 * encoder: the step index selects each step's entry of the per-step table.
 */
import { kernels } from '../kernels/catalog';
import type { GpuResources } from '../gpu/resources';
import type { ExternalBuffer } from '../graph/graph';
import { UNIFORMS, type BindingRef, type Plan, type TransferCommand } from './plan';

interface Ready {
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  workgroups: [number, number, number];
}

/** The GPU buffer behind each external handle; built by whoever owns the buffers. */
export type BufferBindings = ReadonlyMap<ExternalBuffer, GPUBuffer>;

/** Records transfer commands; `resolve` maps a BindingRef's buffer name to its GPUBuffer. */
export function encodeTransfers(encoder: GPUCommandEncoder, commands: readonly TransferCommand[], resolve: (ref: BindingRef) => GPUBuffer, stepIndex = 0): void {
  for (const c of commands) {
    if (c.kind === 'clear') encoder.clearBuffer(resolve(c.target), c.target.offset, c.target.size);
    else encoder.copyBufferToBuffer(resolve(c.from), c.from.offset + (c.stepStride ?? 0) * stepIndex, resolve(c.to), c.to.offset, c.from.size);
  }
}

export class Executable {
  private constructor(
    private readonly resources: GpuResources,
    readonly plan: Plan,
    private readonly owned: Map<string, GPUBuffer>,
    private readonly byName: Map<string, GPUBuffer>,
    private readonly ready: Ready[],
  ) {}

  /** `bindings` supplies a buffer for every external the plan declares. */
  static async create(resources: GpuResources, plan: Plan, bindings: BufferBindings, label = 'plan'): Promise<Executable> {
    const owned = new Map<string, GPUBuffer>();
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    for (const spec of plan.buffers) {
      const extra = spec.name === UNIFORMS ? GPUBufferUsage.UNIFORM : 0;
      owned.set(spec.name, resources.createBuffer(`${label}.${spec.name}`, spec.bytes, usage | extra));
    }
    resources.device.queue.writeBuffer(owned.get(UNIFORMS)!, 0, plan.uniformData);
    const byName = new Map(owned);
    for (const handle of plan.externals) {
      const buffer = bindings.get(handle);
      if (!buffer) throw new Error(`Plan '${label}' binds the external buffer '${handle.name}', which was not supplied.`);
      if (buffer.size < handle.bytes) throw new Error(`Plan '${label}': buffer '${handle.name}' has ${buffer.size} bytes, the plan needs ${handle.bytes}.`);
      byName.set(handle.name, buffer);
    }
    const ready = await Promise.all(
      plan.dispatches.map(async (d): Promise<Ready> => {
        const kernel = kernels[d.kernel];
        const pipeline = await resources.pipeline(kernel, d.constants);
        const bindGroup = resources.createBindGroup(
          kernel,
          `${label}: ${d.label}`,
          d.bindings.map((b) => ({ buffer: byName.get(b.buffer)!, offset: b.offset, size: b.size })),
        );
        return { pipeline, bindGroup, workgroups: d.workgroups };
      }),
    );
    return new Executable(resources, plan, owned, byName, ready);
  }

  /** Records step `stepIndex` of a submit: the plan's transfers, then its dispatches in one pass. */
  encode(encoder: GPUCommandEncoder, stepIndex = 0): void {
    encodeTransfers(encoder, this.plan.transfers, (ref) => this.buffer(ref.buffer), stepIndex);
    const pass = encoder.beginComputePass();
    for (const { pipeline, bindGroup, workgroups } of this.ready) {
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(workgroups[0], workgroups[1], workgroups[2]);
    }
    pass.end();
  }

  /** Records each dispatch in its own pass, `passFor(i)` supplying the (timestamped) pass descriptor. */
  encodeSeparately(encoder: GPUCommandEncoder, passFor: (index: number) => GPUComputePassDescriptor, stepIndex = 0): void {
    encodeTransfers(encoder, this.plan.transfers, (ref) => this.buffer(ref.buffer), stepIndex);
    this.ready.forEach(({ pipeline, bindGroup, workgroups }, i) => {
      const pass = encoder.beginComputePass(passFor(i));
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(workgroups[0], workgroups[1], workgroups[2]);
      pass.end();
    });
  }

  get dispatchCount(): number {
    return this.ready.length;
  }

  /** A buffer the plan binds, by name (owned or external). */
  buffer(name: string): GPUBuffer {
    const buffer = this.byName.get(name);
    if (!buffer) throw new Error(`The plan has no buffer '${name}'.`);
    return buffer;
  }

  /** The buffer and range holding a tensor (for reading results or writing inputs in tests). */
  locate(tensorId: number): { buffer: GPUBuffer; offset: number; size: number } {
    const ref = this.plan.refs.get(tensorId);
    if (!ref) throw new Error(`Tensor ${tensorId} is not in this plan.`);
    return { buffer: this.buffer(ref.buffer), offset: ref.offset, size: ref.size };
  }

  destroy(): void {
    for (const buffer of this.owned.values()) this.resources.destroyBuffer(buffer);
    this.owned.clear();
  }
}
