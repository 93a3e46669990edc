/**
 * Test harness for kernels: one shared device, a way to run a single kernel on given inputs with its
 * outputs poisoned first (so an element the kernel fails to write shows up as NaN). Comparisons against
 * the float64 references: test/helpers/compare.ts, with the tolerances of test/tolerances.ts.
 */
import { requestGpu, type GpuContext } from '../../src/gpu/device';
import { GpuResources } from '../../src/gpu/resources';
import { readBuffer } from '../../src/gpu/readback';
import { kernels, stepLayout, type KernelName } from '../../src/kernels/catalog';
import type { Constants } from '../../src/kernels/kernel';
import { Rng } from '../../src/data/rng';

let shared: Promise<{ gpu: GpuContext; resources: GpuResources }> | undefined;

export function testGpu(): Promise<{ gpu: GpuContext; resources: GpuResources }> {
  shared ??= requestGpu().then((gpu) => ({ gpu, resources: new GpuResources(gpu) }));
  return shared;
}

export type HostArray = Float32Array | Uint32Array;

/** A binding for `runKernel`: data to upload, or an output of n elements to poison and read back. */
export type Arg = { data: HostArray; uniform?: boolean } | { output: number; dtype?: 'f32' | 'u32'; initial?: HostArray };

/**
 * Runs `kernel` once. `args` are the bindings in order except the final Params uniform, which is packed
 * from `params`. Returns every output binding's contents, in order.
 */
export async function runKernel(
  name: KernelName,
  constants: Constants,
  args: Arg[],
  params: Record<string, number>,
  workgroups: [number, number, number],
): Promise<HostArray[]> {
  const { gpu, resources } = await testGpu();
  const kernel = kernels[name];
  const device = gpu.device;
  const buffers = args.map((arg, i) => {
    if ('data' in arg) {
      if (arg.uniform) {
        const b = resources.createBuffer(`arg${i}`, arg.data.byteLength, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
        device.queue.writeBuffer(b, 0, arg.data as Uint32Array<ArrayBuffer>);
        return b;
      }
      return resources.createStorage(`arg${i}`, arg.data.length ? arg.data : new Float32Array(4));
    }
    const poison = arg.initial ?? (arg.dtype === 'u32' ? new Uint32Array(arg.output).fill(0xdeadbeef) : new Float32Array(arg.output).fill(NaN));
    return resources.createStorage(`out${i}`, poison);
  });
  const paramBuffer = resources.createBuffer('params', kernel.params.byteSize, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
  device.queue.writeBuffer(paramBuffer, 0, kernel.params.pack(params));
  const pipeline = await resources.pipeline(kernel, constants);
  const bindGroup = resources.createBindGroup(
    kernel,
    name,
    [...buffers, paramBuffer].map((buffer) => ({ buffer, offset: 0, size: buffer.size })),
  );
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(...workgroups);
  pass.end();
  device.queue.submit([encoder.finish()]);
  const results: HostArray[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!('output' in arg)) continue;
    const bytes = await readBuffer(resources, buffers[i], 0, arg.output * 4);
    results.push(arg.dtype === 'u32' ? new Uint32Array(bytes) : new Float32Array(bytes));
  }
  gpu.check();
  [...buffers, paramBuffer].forEach((b) => resources.destroyBuffer(b));
  return results;
}

export function randomArray(n: number, rng: Rng, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => (rng.nextFloat() * 2 - 1) * scale);
}

/** The Step uniform as a runKernel argument: every field 0 (mix_lambda 1) unless given. */
export function stepArg(values: Partial<Record<(typeof stepLayout.fields)[number][0], number>> = {}): { data: Uint32Array; uniform: true } {
  const all = Object.fromEntries(stepLayout.fields.map(([name]) => [name, values[name] ?? (name === 'mix_lambda' ? 1 : 0)]));
  return { data: new Uint32Array(stepLayout.pack(all as Record<string, number>)), uniform: true };
}
