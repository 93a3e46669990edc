/**
 * Every layer kind against real PyTorch: test/fixtures/torch_steps.json (python/record_torch_steps.py)
 * holds, for small networks, PyTorch's initial weights, a batch, the training-mode loss, every parameter's
 * gradient and the running statistics after the step, computed in float64. The weights load into webgrad
 * as a state dict (PyTorch's names and layouts), the same step runs on the GPU, and everything matches.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Dataset } from '../../src/data/dataset';
import type { LayerSpec } from '../../src/nn/model';
import { expectAllClose, expectValueClose, maxAbs } from '../helpers/compare';
import { trainingStepGradients } from '../helpers/graph_run';
import { torchStepTolerance } from '../tolerances';

interface Fixture {
  torch: string;
  images: number[];
  labels: number[];
  models: Record<string, { layers: LayerSpec[]; state_dict: Record<string, { shape: number[]; dtype: string; data: number[] }>; loss: number; grads: Record<string, number[]>; running_after: Record<string, number[]> }>;
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/torch_steps.json', import.meta.url), 'utf8')) as Fixture;
const data: Dataset = { x: Uint8Array.from(fixture.images), labels: Uint8Array.from(fixture.labels), count: 8, sampleShape: [1, 28, 28], numClasses: 10 };

describe(`one training step against PyTorch ${fixture.torch} (float64)`, () => {
  for (const [name, m] of Object.entries(fixture.models)) {
    it(`${name}: the loss, every gradient and the running statistics`, async () => {
      const step = await trainingStepGradients(m.layers, data, {
        initial: (_, arena) => {
          const values = new Float32Array(arena.totalFloats);
          for (const slot of arena.slots) values.set(m.state_dict[slot.name].data, slot.offset);
          return values;
        },
      });
      expect([...step.grads.keys()].sort()).toEqual(Object.keys(m.grads).sort());
      expectValueClose(step.metrics[0] / 8, m.loss, torchStepTolerance(m.loss), 'loss');
      // Gradients that vanish exactly (a bias before a norm) are float32 noise of the chain's scale: the largest gradient.
      const scale = Math.max(...Object.values(m.grads).map(maxAbs));
      for (const [param, ref] of Object.entries(m.grads)) expectAllClose(step.grads.get(param)!, ref, torchStepTolerance(scale), `∂loss/∂${param}`);
      for (const [buffer, ref] of Object.entries(m.running_after)) {
        if (buffer.endsWith('num_batches_tracked')) continue;
        expectAllClose(step.buffers.get(buffer)!, ref, torchStepTolerance(maxAbs(ref)), `${buffer} after the step`);
      }
    });
  }
});
