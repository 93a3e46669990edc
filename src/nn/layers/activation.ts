/**
 * The activations as torch.nn modules: ReLU, LeakyReLU(negative_slope=0.01), ELU(alpha=1.0), SELU, Sigmoid,
 * Tanh, GELU(approximate='none'), SiLU. Each is an `activation` op, which fusion folds into the producing
 * matmul or convolution where it can. Softmax is not among them: it is fused with the loss.
 */
import type { ActivationName } from '../../graph/ops';
import type { ArgTable } from './args';
import type { LayerKind } from './kind';

const inplace: ArgTable = { inplace: { kind: 'bool', default: false } };

function activation(kind: ActivationName, args: ArgTable = inplace, alphaArg?: string): LayerKind {
  return {
    args,
    infer: (_args, input) => [...input],
    forward(a, x, ctx) {
      const alpha = alphaArg ? (a[alphaArg] as number) : 0;
      return ctx.graph.add('activation', [x], { kind, alpha, name: ctx.name })[0];
    },
  };
}

/** torch.nn.Identity: passes its input on (an MLP with activation 'identity' uses it). */
const Identity: LayerKind = { args: {}, infer: (_args, input) => [...input], forward: (_args, x) => x };

export const activationLayers: Record<string, LayerKind> = {
  Identity,
  ReLU: activation('relu'),
  LeakyReLU: activation('leaky_relu', { negative_slope: { kind: 'number', min: 0, default: 0.01 }, ...inplace }, 'negative_slope'),
  ELU: activation('elu', { alpha: { kind: 'number', min: 0, default: 1 }, ...inplace }, 'alpha'),
  SELU: activation('selu'),
  Sigmoid: activation('sigmoid', {}),
  Tanh: activation('tanh', {}),
  GELU: activation('gelu', { approximate: { kind: 'choice', choices: ['none'], default: 'none', why: "only approximate='none' (the exact erf form) is supported." } }),
  SiLU: activation('silu'),
};

/** The layer type of each activation name (model strings and MlpConfig use the names). */
export const activationLayerOf: Record<string, string> = {
  identity: 'Identity',
  relu: 'ReLU',
  leaky_relu: 'LeakyReLU',
  elu: 'ELU',
  selu: 'SELU',
  sigmoid: 'Sigmoid',
  tanh: 'Tanh',
  gelu: 'GELU',
  silu: 'SiLU',
};
