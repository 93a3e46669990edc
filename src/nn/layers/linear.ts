/** torch.nn.Linear(in_features, out_features, bias=True): y = x·Wᵀ + b, W stored [out, in]. */
import type { InitName } from '../init';
import type { LayerKind } from './kind';

export const Linear: LayerKind = {
  args: {
    in_features: { kind: 'int', min: 1, required: true },
    out_features: { kind: 'int', min: 1, required: true },
    bias: { kind: 'bool', default: true },
    init: { kind: 'init' },
  },
  infer(args, input, fail) {
    if (input.length !== 1) fail(`Linear takes [N, in_features] rows; each sample here has shape [${input.join(', ')}] (put a Flatten before it)`);
    if (input[0] !== args.in_features) fail(`in_features is ${args.in_features} but each sample has ${input[0]} features`);
    return [args.out_features as number];
  },
  params(args) {
    const [inF, outF] = [args.in_features as number, args.out_features as number];
    return [
      { name: 'weight', shape: [outF, inF], decay: true, init: { draw: args.init as InitName, fanIn: inF, fanOut: outF, rows: outF } },
      ...(args.bias ? [{ name: 'bias', shape: [outF], decay: false, init: { fill: 0 } }] : []),
    ];
  },
  forward(args, x, ctx) {
    const inputs = [x, ctx.param('weight')];
    if (args.bias) inputs.push(ctx.param('bias'));
    return ctx.graph.add('matmul', inputs, { transB: true, name: ctx.name })[0];
  },
};
