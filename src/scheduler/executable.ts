/**
 * A plan made real: its buffers allocated, its pipelines compiled and its bind groups created, all once.
 * `encode` then records the whole plan into one compute pass and creates nothing, so the per-step host
 * work is the encoding alone.
 */
import { kernels } from '../kernels/catalog';
import type { GpuResources } from '../gpu/resources';
import type { Plan } from './plan';

interface Ready {
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  workgroups: [number, number, number];
}

export class Executable {
  private constructor(
    private readonly resources: GpuResources,
    readonly plan: Plan,
    private readonly owned: Map<string, GPUBuffer>,
    private readonly externals: Record<string, GPUBuffer>,
    private readonly ready: Ready[],
  ) {}

  /** `externals` supplies every buffer the plan binds but does not own (arenas, dataset, metrics, step). */
  static async create(resources: GpuResources, plan: Plan, externals: Record<string, GPUBuffer>, label = 'plan'): Promise<Executable> {
    const owned = new Map<string, GPUBuffer>();
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    for (const spec of plan.buffers) {
      const extra = spec.name === 'uniforms' ? GPUBufferUsage.UNIFORM : 0;
      owned.set(spec.name, resources.createBuffer(`${label}.${spec.name}`, spec.bytes, usage | extra));
    }
    resources.device.queue.writeBuffer(owned.get('uniforms')!, 0, plan.uniformData);

    const bufferFor = (name: string): GPUBuffer => {
      const buffer = owned.get(name) ?? externals[name];
      if (!buffer) throw new Error(`Plan '${label}' binds buffer '${name}', which was not supplied.`);
      return buffer;
    };
    const ready = await Promise.all(
      plan.dispatches.map(async (d): Promise<Ready> => {
        const kernel = kernels[d.kernel];
        const pipeline = await resources.pipeline(kernel, d.constants);
        const bindGroup = resources.createBindGroup(
          kernel,
          `${label}: ${d.label}`,
          d.bindings.map((b) => ({ buffer: bufferFor(b.buffer), offset: b.offset, size: b.size })),
        );
        return { pipeline, bindGroup, workgroups: d.workgroups };
      }),
    );
    return new Executable(resources, plan, owned, externals, ready);
  }

  encode(pass: GPUComputePassEncoder): void {
    for (const { pipeline, bindGroup, workgroups } of this.ready) {
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(workgroups[0], workgroups[1], workgroups[2]);
    }
  }

  /** Records each dispatch in its own pass, `passFor(i)` supplying the (timestamped) pass descriptor. */
  encodeSeparately(encoder: GPUCommandEncoder, passFor: (index: number) => GPUComputePassDescriptor): void {
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

  /** The buffer and range holding a tensor (for reading results or writing inputs in tests). */
  locate(tensorId: number): { buffer: GPUBuffer; offset: number; size: number } {
    const ref = this.plan.refs.get(tensorId);
    if (!ref) throw new Error(`Tensor ${tensorId} is not in this plan.`);
    return { buffer: this.owned.get(ref.buffer) ?? this.externals[ref.buffer], offset: ref.offset, size: ref.size };
  }

  destroy(): void {
    for (const buffer of this.owned.values()) this.resources.destroyBuffer(buffer);
    this.owned.clear();
  }
}
