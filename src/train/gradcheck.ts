/**
 * Numerical gradient check for any model the engine builds: runs the model's own training graph (same
 * kernels, same dropout masks, batch-norm batch statistics) once for the analytic gradients, then nudges
 * sampled parameters by ±ε and compares (L(θ+ε) − L(θ−ε)) / 2ε with them. Everything runs on the GPU;
 * only the loss and the sampled gradients are read back. The loss is computed in f32, so ε around 1e-2
 * and a tolerance around 1e-2 are the right scale; a wrong backward rule is off by far more.
 */
import type { GpuContext } from '../gpu/device';
import { GpuResources } from '../gpu/resources';
import { readFloats } from '../gpu/readback';
import type { Dataset } from '../data/dataset';
import { GpuDataset } from '../data/gpu_dataset';
import { Rng } from '../data/rng';
import { toModel, type ModelInput } from '../nn/model_input';
import { resolveOptimizer } from '../optim/optimizer';
import { BatchRunner } from './batch_runner';
import { checkLossData, METRICS_FLOATS, resolveLoss, type LossOption } from './loss';
import { totalsOf } from './metrics';
import { lossOf } from './reports';
import { packStepTable, TrainingState } from './training_state';

export interface GradientCheckResult {
  parameter: string;
  index: number;
  analytic: number;
  numeric: number;
  /** |a − n| / max(|a|, |n|, 1e-3). */
  relativeError: number;
}

export interface GradientCheckOptions {
  samplesPerParameter?: number;
  epsilon?: number;
  seed?: number;
  /** The loss to differentiate (default plain cross-entropy), as TrainerOptions.loss. */
  loss?: LossOption;
}

export async function gradientCheck(gpu: GpuContext | GpuResources, modelInput: ModelInput, data: Dataset, options: GradientCheckOptions = {}): Promise<GradientCheckResult[]> {
  const resources = gpu instanceof GpuResources ? gpu : new GpuResources(gpu);
  const device = resources.device;
  const seed = options.seed ?? 0;
  const epsilon = options.epsilon ?? 1e-2;
  const model = toModel(modelInput, data.sampleShape);
  const lossSpec = resolveLoss(options.loss);
  checkLossData(lossSpec, data, model.outputShape, 'gradient-check');
  let initial: Float32Array = new Float32Array(0);
  const state = new TrainingState(resources, model, resolveOptimizer({ lr: 1 }), (arena, stateArena) => {
    initial = model.initialParameters(arena, seed, () => {});
    return { params: initial, state: model.initialBuffers(stateArena) };
  }, 1);
  state.writeStepTable(packStepTable([{ step: 0, batchStart: 0, seed, mixLambda: 1, lr: 1 }]));
  const dataset = new GpuDataset(resources, 'train', data, undefined, { classWeights: lossSpec.classWeights });
  const { arena } = state;
  const runner = await BatchRunner.create(
    resources,
    { model, loss: lossSpec, source: dataset.source, batchSize: data.count, training: true, layout: state.layout, step: state.step, stepTable: state.stepTable, autotune: false },
    new Map([...state.bindings, ...dataset.buffers]),
  );

  const loss = async (): Promise<number> => {
    const encoder = device.createCommandEncoder();
    encoder.clearBuffer(dataset.metrics);
    runner.encode(encoder, 0);
    device.queue.submit([encoder.finish()]);
    return lossOf(totalsOf(await readFloats(resources, dataset.metrics, 0, METRICS_FLOATS)));
  };
  const setParam = (index: number, value: number) => device.queue.writeBuffer(state.params, index * 4, new Float32Array([value]));

  try {
    await loss();
    const grads = await readFloats(resources, state.buffer(state.optimizerBuffers.grads));
    const rng = new Rng(seed + 1);
    const results: GradientCheckResult[] = [];
    for (const slot of arena.slots) {
      for (let s = 0; s < Math.min(options.samplesPerParameter ?? 5, slot.size); s++) {
        const index = slot.offset + rng.nextBelow(slot.size);
        const original = initial[index];
        setParam(index, original + epsilon);
        const up = await loss();
        setParam(index, original - epsilon);
        const down = await loss();
        setParam(index, original);
        const numeric = (up - down) / (2 * epsilon);
        const analytic = grads[index];
        results.push({
          parameter: slot.name,
          index: index - slot.offset,
          analytic,
          numeric,
          relativeError: Math.abs(analytic - numeric) / Math.max(Math.abs(analytic), Math.abs(numeric), 1e-3),
        });
      }
    }
    return results;
  } finally {
    runner.destroy();
    dataset.destroy();
    state.destroy();
  }
}
