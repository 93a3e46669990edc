/**
 * A matmul product on synthetic inputs, to verify and time variants without touching a plan: buffers for
 * A, B, E, C, D (BIAS_GRAD's sums), the Params, the dummies and (for split-K) a scratch buffer; any
 * selection made runnable on them (`prepare`); its output next to the reference's (`output`, `compareOutputs`).
 */
import type { GpuResources } from '../gpu/resources';
import { readBuffer } from '../gpu/readback';
import type { Recorder } from '../gpu/timing';
import { kernels } from './catalog';
import type { Constants } from './kernel';
import { baseConstants, stepBindings, type MatmulOperand, type MatmulSelection, type MatmulShape } from './matmul_variants';

/** float32's unit roundoff. */
const U = 2 ** -24;

/**
 * Elementwise bound for a candidate's output against the reference kernel's (both float32, inputs in
 * [−1, 1)): each sums K products of magnitude ≤ 1 with a rounding error near u·√K·|partial sum| and at
 * worst u·K², so 8·u·K absolute (16 standard deviations of two such sums at K = 784, still far below the
 * 0.1–1 a dropped k term or a missing bias costs) plus 32·u relative for the epilogue's roundings.
 */
export function verifyTolerance(K: number): { atol: number; rtol: number } {
  return { atol: 8 * U * Math.max(K, 1), rtol: 32 * U };
}

export interface OutputComparison {
  ok: boolean;
  /** The largest |out − ref| / (atol + rtol·|ref|) over all elements (Infinity for NaN or unwritten output). */
  worst: number;
}

export function compareOutputs(out: Float32Array, ref: Float32Array, K: number): OutputComparison {
  const { atol, rtol } = verifyTolerance(K);
  let worst = 0;
  for (let i = 0; i < ref.length; i++) {
    const ratio = Math.abs(out[i] - ref[i]) / (atol + rtol * Math.abs(ref[i]));
    if (!(ratio <= worst)) worst = Number.isNaN(ratio) ? Infinity : ratio;
    if (worst === Infinity) break;
  }
  return { ok: worst <= 1, worst };
}

/** Deterministic inputs in [−1, 1) (xorshift32), padded to whole vec4s. */
export function pseudoRandom(count: number, seed: number): Float32Array {
  const out = new Float32Array(Math.max(4, Math.ceil(count / 4) * 4));
  let s = seed >>> 0 || 1;
  for (let i = 0; i < count; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = (s >>> 0) / 2 ** 31 - 1;
  }
  return out;
}

export interface PreparedSelection {
  selection: MatmulSelection;
  /** Records the product's steps once. */
  record: Recorder;
}

/** The buffers a product's steps bind; `scratch` only when a step needs it. */
export interface ProductBuffers {
  A: GPUBuffer;
  B: GPUBuffer;
  E: GPUBuffer;
  C: GPUBuffer;
  params: GPUBuffer;
  dummy: GPUBuffer;
  dummyOut: GPUBuffer;
  /** BIAS_GRAD's output [M]; only for such products. */
  D?: GPUBuffer;
  scratch?: GPUBuffer;
}

/** Compiles a selection's pipelines and binds its steps to `buffers` (whole buffers). */
export async function prepareSelection(resources: GpuResources, selection: MatmulSelection, buffers: ProductBuffers): Promise<PreparedSelection> {
  const ready = await Promise.all(
    selection.steps.map(async (step) => {
      const kernel = kernels[step.kernel];
      const pipeline = await resources.pipeline(kernel, step.constants);
      const bound = (operand: MatmulOperand | 'params') => {
        const buffer = buffers[operand];
        if (!buffer) throw new Error(`matmul ${selection.variant.id}: step ${step.kernel} binds '${operand}', which was not supplied.`);
        return { buffer, offset: 0, size: buffer.size };
      };
      const bindGroup = resources.createBindGroup(kernel, `matmul ${selection.variant.id}`, stepBindings(step.operands).map(bound));
      return { pipeline, bindGroup, workgroups: step.workgroups };
    }),
  );
  const record: Recorder = (pass) => {
    for (const { pipeline, bindGroup, workgroups } of ready) {
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(workgroups[0], workgroups[1], workgroups[2]);
    }
  };
  return { selection, record };
}

/** One product's synthetic operands on the GPU. */
export class MatmulTrial {
  private readonly created: GPUBuffer[] = [];
  readonly buffers: ProductBuffers;

  constructor(
    private readonly resources: GpuResources,
    readonly shape: MatmulShape,
    constants: Constants,
  ) {
    const { M, N, K } = shape;
    const base = baseConstants(constants);
    // For ACT_GRAD, E is an activation's output; values in [−1, 1) exercise both branches of every derivative.
    const eCount = base.ACT_GRAD ? M * N : base.BIAS ? N : 4;
    const storage = (label: string, data: Float32Array) => this.track(resources.createStorage(`trial.${label}`, data));
    const params = this.track(resources.createBuffer('trial.params', kernels.matmul.params.byteSize, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST));
    resources.device.queue.writeBuffer(params, 0, kernels.matmul.params.pack({ M, N, K, alpha: 0.1 }));
    this.buffers = {
      A: storage('A', pseudoRandom(M * K, 1)),
      B: storage('B', pseudoRandom(K * N, 2)),
      E: storage('E', pseudoRandom(eCount, 3)),
      C: storage('C', new Float32Array(M * N)),
      dummy: storage('dummy', new Float32Array(4)),
      dummyOut: storage('dummyOut', new Float32Array(4)),
      params,
    };
    if (base.BIAS_GRAD) this.buffers.D = storage('D', new Float32Array(Math.ceil(M / 4) * 4));
  }

  /** Runnable steps of `selection` on this trial's buffers (allocating its scratch buffer the first time one needs it). */
  prepare(selection: MatmulSelection): Promise<PreparedSelection> {
    if (selection.scratchBytes > (this.buffers.scratch?.size ?? 0)) {
      if (this.buffers.scratch) this.resources.destroyBuffer(this.buffers.scratch);
      this.buffers.scratch = this.track(this.resources.createStorage('trial.scratch', new Float32Array(selection.scratchBytes / 4)));
    }
    return prepareSelection(this.resources, selection, this.buffers);
  }

  /**
   * C after one run (followed by D's M sums with BIAS_GRAD), with C, D and the scratch buffer poisoned
   * (NaN) first, so an unwritten element shows.
   */
  async output(prepared: PreparedSelection): Promise<Float32Array> {
    const { device } = this.resources;
    const { M, N } = this.shape;
    device.queue.writeBuffer(this.buffers.C, 0, new Float32Array(M * N).fill(NaN));
    if (this.buffers.D) device.queue.writeBuffer(this.buffers.D, 0, new Float32Array(this.buffers.D.size / 4).fill(NaN));
    if (this.buffers.scratch) device.queue.writeBuffer(this.buffers.scratch, 0, new Float32Array(this.buffers.scratch.size / 4).fill(NaN));
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    prepared.record(pass);
    pass.end();
    device.queue.submit([encoder.finish()]);
    const c = new Float32Array(await readBuffer(this.resources, this.buffers.C, 0, M * N * 4));
    if (!this.buffers.D) return c;
    const d = new Float32Array(await readBuffer(this.resources, this.buffers.D, 0, M * 4));
    const both = new Float32Array(M * N + M);
    both.set(c);
    both.set(d, M * N);
    return both;
  }

  destroy(): void {
    this.created.forEach((buffer) => this.resources.destroyBuffer(buffer));
    this.created.length = 0;
  }

  private track(buffer: GPUBuffer): GPUBuffer {
    this.created.push(buffer);
    return buffer;
  }
}
