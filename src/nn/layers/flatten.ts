/** torch.nn.Flatten(start_dim=1, end_dim=-1): [N, C, H, W] → [N, C·H·W], in NCHW order (a view, no kernel). */
import type { LayerKind } from './kind';

export const Flatten: LayerKind = {
  args: {
    start_dim: { kind: 'choice', choices: [1], default: 1, why: 'only start_dim=1 (keep the batch dimension) is supported.' },
    end_dim: { kind: 'choice', choices: [-1], default: -1, why: 'only end_dim=-1 (flatten every sample dimension) is supported.' },
  },
  infer(_args, input) {
    return [input.reduce((a, b) => a * b, 1)];
  },
  forward(_args, x, ctx) {
    if (x.shape.length === 2) return x;
    return ctx.graph.add('reshape', [x], { shape: [x.shape[0], x.size / x.shape[0]].join(','), name: ctx.name })[0];
  },
};
