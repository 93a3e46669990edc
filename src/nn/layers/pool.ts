/**
 * torch.nn.MaxPool2d and AvgPool2d(kernel_size, stride=kernel_size, padding=0) on [C, H, W] samples, in
 * PyTorch's floor mode; average pooling counts the zero padding (count_include_pad=True, PyTorch's default).
 */
import type { ArgTable } from './args';
import { slide, windowOf } from './conv';
import type { LayerKind } from './kind';

const windowArgs: ArgTable = {
  kernel_size: { kind: 'pair', min: 1, required: true },
  stride: { kind: 'pair', min: 1, default: null },
  padding: { kind: 'pair', min: 0, default: 0 },
  ceil_mode: { kind: 'choice', choices: [false], default: false, why: 'only ceil_mode=False (floor) is supported.' },
};

function pool(op: 'max_pool2d' | 'avg_pool2d', extra: ArgTable): LayerKind {
  return {
    args: { ...windowArgs, ...extra },
    infer(args, input, fail) {
      if (input.length !== 3) fail(`pooling takes [N, C, H, W] images; each sample here has shape [${input.join(', ')}]`);
      const { kernel, padding } = windowOf(args);
      if (padding.some((p, d) => p > kernel[d] / 2)) fail(`padding ${padding.join('×')} must be at most half the kernel ${kernel.join('×')} (as PyTorch requires)`);
      return [input[0], ...slide(input, args, fail)];
    },
    forward(args, x, ctx) {
      const { kernel, stride, padding } = windowOf(args);
      const attrs = { kernelH: kernel[0], kernelW: kernel[1], strideH: stride[0], strideW: stride[1], padH: padding[0], padW: padding[1], name: ctx.name };
      return ctx.graph.add(op, [x], attrs)[0];
    },
  };
}

export const MaxPool2d = pool('max_pool2d', {
  dilation: { kind: 'choice', choices: [1], default: 1, why: 'only dilation=1 is supported.' },
  return_indices: { kind: 'choice', choices: [false], default: false, why: 'return_indices is not supported (the indices stay on the GPU for the backward pass).' },
});

export const AvgPool2d = pool('avg_pool2d', {
  count_include_pad: { kind: 'choice', choices: [true], default: true, why: 'only count_include_pad=True (PyTorch\'s default) is supported.' },
  divisor_override: { kind: 'choice', choices: [null], default: null, why: 'divisor_override is not supported.' },
});
