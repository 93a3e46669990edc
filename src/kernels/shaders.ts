/** The WGSL sources, imported as text (Vite's `?raw`), so the same bundle runs in browsers and in Node. */
import actFns from '../../shaders/act_fns.wgsl?raw';
import activation from '../../shaders/activation.wgsl?raw';
import batchNorm from '../../shaders/batch_norm.wgsl?raw';
import channelSums from '../../shaders/channel_sums.wgsl?raw';
import columnSum from '../../shaders/column_sum.wgsl?raw';
import dropout from '../../shaders/dropout.wgsl?raw';
import gather from '../../shaders/gather.wgsl?raw';
import gatherAugment from '../../shaders/gather_augment.wgsl?raw';
import matmul from '../../shaders/matmul.wgsl?raw';
import matmulTiled from '../../shaders/matmul_tiled.wgsl?raw';
import matmulV4x4 from '../../shaders/matmul_v4_4x4.wgsl?raw';
import matmulV8x8 from '../../shaders/matmul_v4_8x8.wgsl?raw';
import matmulV8x16 from '../../shaders/matmul_v4_8x16.wgsl?raw';
import matmulV16x16 from '../../shaders/matmul_v4_16x16.wgsl?raw';
import matmulVec4k from '../../shaders/matmul_vec4k.wgsl?raw';
import matmulVec4n from '../../shaders/matmul_vec4n.wgsl?raw';
import gradNorm from '../../shaders/grad_norm.wgsl?raw';
import groupNorm from '../../shaders/group_norm.wgsl?raw';
import mixupInputs from '../../shaders/mixup_inputs.wgsl?raw';
import mixupTargets from '../../shaders/mixup_targets.wgsl?raw';
import moments from '../../shaders/moments.wgsl?raw';
import optimizer from '../../shaders/optimizer.wgsl?raw';
import pool2d from '../../shaders/pool2d.wgsl?raw';
import softmaxXent from '../../shaders/softmax_xent.wgsl?raw';

export const shaderFiles = {
  'act_fns.wgsl': actFns,
  'activation.wgsl': activation,
  'batch_norm.wgsl': batchNorm,
  'channel_sums.wgsl': channelSums,
  'column_sum.wgsl': columnSum,
  'dropout.wgsl': dropout,
  'gather.wgsl': gather,
  'gather_augment.wgsl': gatherAugment,
  'matmul.wgsl': matmul,
  'matmul_tiled.wgsl': matmulTiled,
  'matmul_v4_4x4.wgsl': matmulV4x4,
  'matmul_v4_8x8.wgsl': matmulV8x8,
  'matmul_v4_8x16.wgsl': matmulV8x16,
  'matmul_v4_16x16.wgsl': matmulV16x16,
  'matmul_vec4k.wgsl': matmulVec4k,
  'matmul_vec4n.wgsl': matmulVec4n,
  'grad_norm.wgsl': gradNorm,
  'group_norm.wgsl': groupNorm,
  'mixup_inputs.wgsl': mixupInputs,
  'mixup_targets.wgsl': mixupTargets,
  'moments.wgsl': moments,
  'optimizer.wgsl': optimizer,
  'pool2d.wgsl': pool2d,
  'softmax_xent.wgsl': softmaxXent,
} as const;

export type ShaderFile = keyof typeof shaderFiles;
