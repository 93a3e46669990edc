/** Reading GPU buffers back to the host. Used outside the step loop (weights, tests) only. */
import type { GpuResources } from './resources';

export async function readBuffer(resources: GpuResources, source: GPUBuffer, offset = 0, size = source.size - offset): Promise<ArrayBuffer> {
  const staging = resources.createBuffer('readback', size, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
  try {
    const encoder = resources.device.createCommandEncoder();
    encoder.copyBufferToBuffer(source, offset, staging, 0, Math.ceil(size / 4) * 4);
    resources.device.queue.submit([encoder.finish()]);
    await Promise.race([staging.mapAsync(GPUMapMode.READ), resources.gpu.lost.then((e) => Promise.reject(e))]);
    return staging.getMappedRange(0, size).slice(0);
  } finally {
    resources.destroyBuffer(staging);
  }
}

export async function readFloats(resources: GpuResources, source: GPUBuffer, offset = 0, count?: number): Promise<Float32Array> {
  const size = count === undefined ? undefined : count * 4;
  return new Float32Array(await readBuffer(resources, source, offset, size));
}
