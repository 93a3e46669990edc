/** The WGSL sources, imported as text (Vite's `?raw`), so the same bundle runs in browsers and in Node. */
import actFns from '../../shaders/act_fns.wgsl?raw';
import activation from '../../shaders/activation.wgsl?raw';
import columnSum from '../../shaders/column_sum.wgsl?raw';
import gather from '../../shaders/gather.wgsl?raw';
import gatherAugment from '../../shaders/gather_augment.wgsl?raw';
import matmul from '../../shaders/matmul.wgsl?raw';
import gradNorm from '../../shaders/grad_norm.wgsl?raw';
import mixupInputs from '../../shaders/mixup_inputs.wgsl?raw';
import mixupTargets from '../../shaders/mixup_targets.wgsl?raw';
import optimizer from '../../shaders/optimizer.wgsl?raw';
import softmaxXent from '../../shaders/softmax_xent.wgsl?raw';

export const shaderFiles = {
  'act_fns.wgsl': actFns,
  'activation.wgsl': activation,
  'column_sum.wgsl': columnSum,
  'gather.wgsl': gather,
  'gather_augment.wgsl': gatherAugment,
  'matmul.wgsl': matmul,
  'grad_norm.wgsl': gradNorm,
  'mixup_inputs.wgsl': mixupInputs,
  'mixup_targets.wgsl': mixupTargets,
  'optimizer.wgsl': optimizer,
  'softmax_xent.wgsl': softmaxXent,
} as const;

export type ShaderFile = keyof typeof shaderFiles;
