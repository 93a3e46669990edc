/**
 * torch.nn.Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True) on NCHW samples
 * [C, H, W]; weight [out, in, kh, kw] as PyTorch stores it. padding may be 'valid' (0) or 'same' (stride 1,
 * odd kernels). Fans as PyTorch computes them: fan_in = in·kh·kw, fan_out = out·kh·kw.
 */
import { addConv2d } from '../../graph/ops_im2col';
import type { InitName } from '../init';
import type { Args, LayerKind } from './kind';

/** [kh, kw], [sh, sw], [ph, pw] of a checked Conv2d or pooling spec. */
export function windowOf(args: Args): { kernel: number[]; stride: number[]; padding: number[] } {
  const kernel = args.kernel_size as number[];
  const stride = (args.stride as number[] | null) ?? kernel;
  const padding = args.padding === 'valid' ? [0, 0] : args.padding === 'same' ? kernel.map((k) => (k - 1) / 2) : (args.padding as number[]);
  return { kernel, stride, padding };
}

/** Output height and width of a sliding window (PyTorch's floor mode); throws through `fail` when empty. */
export function slide(input: readonly number[], args: Args, fail: (reason: string) => never): [number, number] {
  const { kernel, stride, padding } = windowOf(args);
  const out = [0, 1].map((d) => Math.floor((input[d + 1] + 2 * padding[d] - kernel[d]) / stride[d]) + 1);
  if (out.some((o) => o < 1)) fail(`a ${kernel.join('×')} window with padding ${padding.join('×')} does not fit a ${input[1]}×${input[2]} input`);
  return out as [number, number];
}

export const Conv2d: LayerKind = {
  args: {
    in_channels: { kind: 'int', min: 1, required: true },
    out_channels: { kind: 'int', min: 1, required: true },
    kernel_size: { kind: 'pair', min: 1, required: true },
    stride: { kind: 'pair', min: 1, default: 1 },
    padding: { kind: 'pair', min: 0, default: 0, words: ['valid', 'same'] },
    dilation: { kind: 'choice', choices: [1], default: 1, why: 'only dilation=1 is supported.' },
    groups: { kind: 'choice', choices: [1], default: 1, why: 'only groups=1 is supported.' },
    bias: { kind: 'bool', default: true },
    padding_mode: { kind: 'choice', choices: ['zeros'], default: 'zeros', why: "only padding_mode='zeros' is supported." },
    init: { kind: 'init' },
  },
  infer(args, input, fail) {
    if (input.length !== 3) fail(`Conv2d takes [N, C, H, W] images; each sample here has shape [${input.join(', ')}]`);
    if (input[0] !== args.in_channels) fail(`in_channels is ${args.in_channels} but each sample has ${input[0]} channels`);
    const { kernel, stride } = windowOf(args);
    if (args.padding === 'same' && (stride.some((s) => s !== 1) || kernel.some((k) => k % 2 === 0))) {
      fail(`padding='same' needs stride 1 and odd kernel sizes (got kernel ${kernel.join('×')}, stride ${stride.join('×')})`);
    }
    return [args.out_channels as number, ...slide(input, args, fail)];
  },
  params(args) {
    const [kh, kw] = args.kernel_size as number[];
    const [inC, outC] = [args.in_channels as number, args.out_channels as number];
    return [
      { name: 'weight', shape: [outC, inC, kh, kw], decay: true, init: { draw: args.init as InitName, fanIn: inC * kh * kw, fanOut: outC * kh * kw, rows: outC } },
      ...(args.bias ? [{ name: 'bias', shape: [outC], decay: false, init: { fill: 0 } }] : []),
    ];
  },
  forward(args, x, ctx) {
    const { stride, padding } = windowOf(args);
    const bias = args.bias ? ctx.param('bias') : undefined;
    return addConv2d(ctx.graph, x, ctx.param('weight'), bias, { strideH: stride[0], strideW: stride[1], padH: padding[0], padW: padding[1], name: ctx.name });
  },
};
