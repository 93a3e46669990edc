/** The WGSL sources, imported as text (Vite's `?raw`), so the same bundle runs in browsers and in Node. */
import accumulate from '../../shaders/accumulate.wgsl?raw';
import actFns from '../../shaders/act_fns.wgsl?raw';
import activation from '../../shaders/activation.wgsl?raw';
import add from '../../shaders/add.wgsl?raw';
import batchNorm from '../../shaders/batch_norm.wgsl?raw';
import channelSums from '../../shaders/channel_sums.wgsl?raw';
import columnSum from '../../shaders/column_sum.wgsl?raw';
import channels from '../../shaders/channels.wgsl?raw';
import col2im from '../../shaders/col2im.wgsl?raw';
import conv2d from '../../shaders/conv2d.wgsl?raw';
import conv2dBlocked from '../../shaders/conv2d_blocked.wgsl?raw';
import conv2dTiled from '../../shaders/conv2d_tiled.wgsl?raw';
import conv2dWindow from '../../shaders/conv2d_window.wgsl?raw';
import convParams from '../../shaders/conv_params.wgsl?raw';
import im2col from '../../shaders/im2col.wgsl?raw';
import dropout from '../../shaders/dropout.wgsl?raw';
import gather from '../../shaders/gather.wgsl?raw';
import gatherAugment from '../../shaders/gather_augment.wgsl?raw';
import matmul from '../../shaders/matmul.wgsl?raw';
import matmulBlocks from '../../shaders/matmul_blocks.wgsl?raw';
import matmulCommon from '../../shaders/matmul_common.wgsl?raw';
import matmulSplitK from '../../shaders/matmul_split_k.wgsl?raw';
import matmulTiled from '../../shaders/matmul_tiled.wgsl?raw';
import matmulVec4k from '../../shaders/matmul_vec4k.wgsl?raw';
import matmulVec4n from '../../shaders/matmul_vec4n.wgsl?raw';
import loss from '../../shaders/loss.wgsl?raw';
import lossReduce from '../../shaders/loss_reduce.wgsl?raw';
import gradNorm from '../../shaders/grad_norm.wgsl?raw';
import groupNorm from '../../shaders/group_norm.wgsl?raw';
import mixupInputs from '../../shaders/mixup_inputs.wgsl?raw';
import mixupTargets from '../../shaders/mixup_targets.wgsl?raw';
import moments from '../../shaders/moments.wgsl?raw';
import optimizer from '../../shaders/optimizer.wgsl?raw';
import partialSum from '../../shaders/partial_sum.wgsl?raw';
import softmax from '../../shaders/softmax.wgsl?raw';
import pool2d from '../../shaders/pool2d.wgsl?raw';
import softmaxXent from '../../shaders/softmax_xent.wgsl?raw';
import linearSoftmaxXent from '../../shaders/linear_softmax_xent.wgsl?raw';
import xentMetrics from '../../shaders/xent_metrics.wgsl?raw';
import gradChunks from '../../shaders/grad_chunks.wgsl?raw';

export const shaderFiles = {
  'accumulate.wgsl': accumulate,
  'act_fns.wgsl': actFns,
  'activation.wgsl': activation,
  'add.wgsl': add,
  'batch_norm.wgsl': batchNorm,
  'channel_sums.wgsl': channelSums,
  'column_sum.wgsl': columnSum,
  'channels.wgsl': channels,
  'col2im.wgsl': col2im,
  'conv2d.wgsl': conv2d,
  'conv2d_blocked.wgsl': conv2dBlocked,
  'conv2d_tiled.wgsl': conv2dTiled,
  'conv2d_window.wgsl': conv2dWindow,
  'conv_params.wgsl': convParams,
  'im2col.wgsl': im2col,
  'dropout.wgsl': dropout,
  'gather.wgsl': gather,
  'gather_augment.wgsl': gatherAugment,
  'matmul.wgsl': matmul,
  'matmul_blocks.wgsl': matmulBlocks,
  'matmul_common.wgsl': matmulCommon,
  'matmul_split_k.wgsl': matmulSplitK,
  'matmul_tiled.wgsl': matmulTiled,
  'matmul_vec4k.wgsl': matmulVec4k,
  'matmul_vec4n.wgsl': matmulVec4n,
  'grad_norm.wgsl': gradNorm,
  'loss.wgsl': loss,
  'loss_reduce.wgsl': lossReduce,
  'group_norm.wgsl': groupNorm,
  'mixup_inputs.wgsl': mixupInputs,
  'mixup_targets.wgsl': mixupTargets,
  'moments.wgsl': moments,
  'optimizer.wgsl': optimizer,
  'partial_sum.wgsl': partialSum,
  'softmax.wgsl': softmax,
  'pool2d.wgsl': pool2d,
  'softmax_xent.wgsl': softmaxXent,
  'linear_softmax_xent.wgsl': linearSoftmaxXent,
  'xent_metrics.wgsl': xentMetrics,
  'grad_chunks.wgsl': gradChunks,
} as const;

export type ShaderFile = keyof typeof shaderFiles;
