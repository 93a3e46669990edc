/**
 * Normalisation layers as torch.nn has them. Batch norm normalises each channel over the batch (and the
 * spatial positions), keeping running statistics as buffers for evaluation; layer, group and instance norm
 * normalise each sample on its own and behave the same in training and evaluation.
 *   BatchNorm1d(num_features)  on [C] or [C, L]     BatchNorm2d(num_features)  on [C, H, W]
 *   LayerNorm(normalized_shape) on [..., *normalized_shape]
 *   GroupNorm(num_groups, num_channels) on [C, *]  InstanceNorm2d(num_features, affine=False) on [C, H, W]
 * eps defaults to 1e-5 and batch norm's momentum to 0.1, as in PyTorch.
 */
import { BATCH_NORM_MOMENTUM, NORM_EPS } from '../../graph/ops';
import type { ArgTable } from './args';
import type { LayerKind, ParamDecl } from './kind';

const eps: ArgTable = { eps: { kind: 'number', min: 0, default: NORM_EPS } };
const unsupportedStats = { kind: 'choice', choices: [false], default: false, why: 'running statistics are only kept by BatchNorm; track_running_stats=True is not supported here.' } as const;

const affineParams = (shape: number[]): ParamDecl[] => [
  { name: 'weight', shape, decay: false, init: { fill: 1 } },
  { name: 'bias', shape, decay: false, init: { fill: 0 } },
];

function batchNorm(rank: 'BatchNorm1d' | 'BatchNorm2d'): LayerKind {
  const ranks = rank === 'BatchNorm1d' ? [1, 2] : [3];
  return {
    args: {
      num_features: { kind: 'int', min: 1, required: true },
      ...eps,
      momentum: { kind: 'number', min: 0, max: 1, default: BATCH_NORM_MOMENTUM },
      affine: { kind: 'choice', choices: [true], default: true, why: 'affine=False is not supported (train γ and β, or leave the layer out).' },
      track_running_stats: { kind: 'choice', choices: [true], default: true, why: 'batch norm here always keeps running statistics for evaluation.' },
    },
    infer(args, input, fail) {
      if (!ranks.includes(input.length)) fail(`${rank} takes samples of shape ${rank === 'BatchNorm1d' ? '[C] or [C, L]' : '[C, H, W]'}; got [${input.join(', ')}]`);
      if (input[0] !== args.num_features) fail(`num_features is ${args.num_features} but each sample has ${input[0]} channels`);
      return [...input];
    },
    params: (args) => affineParams([args.num_features as number]),
    buffers: (args) => [
      { name: 'running_mean', shape: [args.num_features as number], fill: 0 },
      { name: 'running_var', shape: [args.num_features as number], fill: 1 },
    ],
    counters: () => ['num_batches_tracked'],
    // Statistics over a single value per channel have no variance: PyTorch refuses them too.
    minTrainingRows: (_args, input) => (input.slice(1).reduce((a, b) => a * b, 1) === 1 ? 2 : 1),
    forward(args, x, ctx) {
      const inputs = [x, ctx.param('weight'), ctx.param('bias'), ctx.buffer('running_mean'), ctx.buffer('running_var')];
      return ctx.graph.add('batch_norm', inputs, { training: ctx.training, eps: args.eps as number, momentum: args.momentum as number, name: ctx.name })[0];
    },
  };
}

export const BatchNorm1d = batchNorm('BatchNorm1d');
export const BatchNorm2d = batchNorm('BatchNorm2d');

export const LayerNorm: LayerKind = {
  args: {
    normalized_shape: { kind: 'ints', min: 1, required: true },
    ...eps,
    elementwise_affine: { kind: 'choice', choices: [true], default: true, why: 'elementwise_affine=False is not supported.' },
    bias: { kind: 'choice', choices: [true], default: true, why: 'bias=False is not supported.' },
  },
  infer(args, input, fail) {
    const shape = args.normalized_shape as number[];
    const tail = input.slice(input.length - shape.length);
    if (input.length < shape.length || tail.join() !== shape.join()) fail(`normalized_shape [${shape.join(', ')}] must be the trailing dimensions of each sample`);
    return [...input];
  },
  params: (args) => affineParams([...(args.normalized_shape as number[])]),
  forward(args, x, ctx) {
    const g = ctx.graph;
    const features = (args.normalized_shape as number[]).reduce((a, b) => a * b, 1);
    const rows = x.size / features;
    const flat = x.shape.length === 2 && x.shape[1] === features ? x : g.add('reshape', [x], { shape: `${rows},${features}`, name: `${ctx.name}.in` })[0];
    const [y] = g.add('layer_norm', [flat, ctx.param('weight', [features]), ctx.param('bias', [features])], { eps: args.eps as number, name: ctx.name });
    return y.shape.join() === x.shape.join() ? y : g.add('reshape', [y], { shape: x.shape.join(','), name: `${ctx.name}.out` })[0];
  },
};

function groupNorm(channelsArg: 'num_channels' | 'num_features', groupsOf: (args: Record<string, unknown>) => number): Omit<LayerKind, 'args'> {
  return {
    infer(args, input, fail) {
      if (input.length < 2) fail(`${args.type} takes samples of shape [C, *spatial]; got [${input.join(', ')}]`);
      if (input[0] !== args[channelsArg]) fail(`${channelsArg} is ${args[channelsArg]} but each sample has ${input[0]} channels`);
      if (input[0] % groupsOf(args) !== 0) fail(`num_groups ${groupsOf(args)} must divide the ${input[0]} channels`);
      return [...input];
    },
    params: (args) => (args.affine ? affineParams([args[channelsArg] as number]) : []),
    forward(args, x, ctx) {
      const inputs = args.affine ? [x, ctx.param('weight'), ctx.param('bias')] : [x];
      return ctx.graph.add('group_norm', inputs, { groups: groupsOf(args), eps: args.eps as number, name: ctx.name })[0];
    },
  };
}

export const GroupNorm: LayerKind = {
  args: { num_groups: { kind: 'int', min: 1, required: true }, num_channels: { kind: 'int', min: 1, required: true }, ...eps, affine: { kind: 'bool', default: true } },
  ...groupNorm('num_channels', (args) => args.num_groups as number),
};

export const InstanceNorm2d: LayerKind = {
  args: {
    num_features: { kind: 'int', min: 1, required: true },
    ...eps,
    momentum: { kind: 'number', min: 0, max: 1, default: BATCH_NORM_MOMENTUM },
    affine: { kind: 'bool', default: false },
    track_running_stats: unsupportedStats,
  },
  ...groupNorm('num_features', (args) => args.num_features as number),
  infer(args, input, fail) {
    if (input.length !== 3) fail(`InstanceNorm2d takes [N, C, H, W] images; each sample here has shape [${input.join(', ')}]`);
    if (input[0] !== args.num_features) fail(`num_features is ${args.num_features} but each sample has ${input[0]} channels`);
    return [...input];
  },
};
