/** torch.nn.Dropout(p=0.5): inverted dropout in training, the identity in evaluation. */
import type { LayerKind } from './kind';

export const Dropout: LayerKind = {
  args: {
    p: { kind: 'number', min: 0, below: 1, default: 0.5 },
    inplace: { kind: 'bool', default: false },
  },
  infer(_args, input) {
    return [...input];
  },
  forward(args, x, ctx) {
    if (!ctx.training || args.p === 0) return x;
    return ctx.graph.add('dropout', [x, ctx.step], { rate: args.p as number, salt: ctx.salt, name: ctx.name })[0];
  },
};
