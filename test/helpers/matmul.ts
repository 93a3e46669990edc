/**
 * Runs one matmul variant, every step of it, on given inputs: C, D and the split-K scratch buffer are
 * poisoned (NaN) first, so an element a step fails to write shows up; C may carry a tail of sentinel
 * values past M·N to show a write outside it. With `biasGrad`, D's M sums follow C (and its tail) in the
 * result, and D carries a tail of sentinels of the same length.
 */
import { readBuffer } from '../../src/gpu/readback';
import { kernels } from '../../src/kernels/catalog';
import { stepBindings, variantSteps, type MatmulOperand, type MatmulShape, type MatmulVariant } from '../../src/kernels/matmul_variants';
import { testGpu } from './gpu';

export interface MatmulFlagsAndEpilogue {
  transA?: boolean;
  transB?: boolean;
  /** BIAS: E = bias [N]. */
  bias?: Float32Array;
  /** ACT_GRAD: E = the activation's output [M, N]. */
  y?: Float32Array;
  act?: number;
  actGrad?: number;
  /** BIAS_GRAD: D = the column sums of the stored A. */
  biasGrad?: boolean;
  alpha?: number;
}

export async function runMatmulVariant(
  variant: MatmulVariant,
  shape: MatmulShape,
  a: Float32Array,
  b: Float32Array,
  options: MatmulFlagsAndEpilogue = {},
  /** Sentinel floats (12345) after C's M·N elements; returned with C. */
  tail = 0,
): Promise<Float32Array> {
  const { gpu, resources } = await testGpu();
  const { M, N, K } = shape;
  const constants = { TRANS_A: !!options.transA, TRANS_B: !!options.transB, BIAS: !!options.bias, ACT: options.act ?? 0, ACT_GRAD: options.actGrad ?? 0, BIAS_GRAD: !!options.biasGrad };
  const selection = variantSteps(variant, shape, constants);
  const initialC = new Float32Array(M * N + tail).fill(12345);
  initialC.fill(NaN, 0, M * N);
  const buffers: Record<MatmulOperand | 'params', GPUBuffer> = {
    A: resources.createStorage('test.A', a.length ? a : new Float32Array(4)),
    B: resources.createStorage('test.B', b.length ? b : new Float32Array(4)),
    E: resources.createStorage('test.E', options.bias ?? options.y ?? new Float32Array(4)),
    C: resources.createStorage('test.C', initialC),
    scratch: resources.createStorage('test.scratch', new Float32Array(Math.max(4, selection.scratchBytes / 4)).fill(NaN)),
    D: resources.createStorage('test.D', new Float32Array(M + tail).fill(12345).fill(NaN, 0, M)),
    dummy: resources.createStorage('test.dummy', new Float32Array(4)),
    dummyOut: resources.createStorage('test.dummyOut', new Float32Array(4)),
    params: resources.createBuffer('test.params', kernels.matmul.params.byteSize, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST),
  };
  gpu.device.queue.writeBuffer(buffers.params, 0, kernels.matmul.params.pack({ M, N, K, alpha: options.alpha ?? 0 }));
  const encoder = gpu.device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  for (const step of selection.steps) {
    const kernel = kernels[step.kernel];
    const entries = stepBindings(step.operands).map((name) => ({ buffer: buffers[name], offset: 0, size: buffers[name].size }));
    pass.setPipeline(await resources.pipeline(kernel, step.constants));
    pass.setBindGroup(0, resources.createBindGroup(kernel, `test ${variant.id}`, entries));
    pass.dispatchWorkgroups(...step.workgroups);
  }
  pass.end();
  gpu.device.queue.submit([encoder.finish()]);
  let c = new Float32Array(await readBuffer(resources, buffers.C, 0, (M * N + tail) * 4));
  if (options.biasGrad) {
    const d = new Float32Array(await readBuffer(resources, buffers.D, 0, (M + tail) * 4));
    c = Float32Array.from([...c, ...d]);
  }
  gpu.check();
  Object.values(buffers).forEach((buffer) => resources.destroyBuffer(buffer));
  return c;
}
