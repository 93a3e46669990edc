/**
 * Lowering of the conv ops (src/kernels/lower_conv.ts), no GPU: which kernel each node gets, its override
 * constants, operands in binding order, Params and workgroup counts.
 */
import { describe, expect, it } from 'vitest';
import { Graph } from '../../src/graph/graph';
import { opDefs } from '../../src/graph/ops';
import { convWeightGradSplits } from '../../src/graph/ops_conv';
import { kernels } from '../../src/kernels/catalog';
import { blockedInvocations, CONV_WG } from '../../src/kernels/conv';
import { lower } from '../../src/kernels/lower';
import { lowerConv } from '../../src/kernels/lower_conv';
import { geometry } from '../helpers/conv_reference';

function convGraph(stride: number) {
  const g = new Graph();
  const x = g.tensor([8, 3, 12, 12], 'param', 'x');
  const w = g.tensor([5, 3, 3, 3], 'param', 'w');
  const b = g.tensor([5], 'param', 'b');
  const [y] = g.add('conv2d', [x, w, b], { strideH: stride, strideW: stride, padH: 1, padW: 1, name: 'y' });
  opDefs.conv2d.backward!(g.nodes[0], [g.tensor(y.shape, 'activation', 'dy')], g, [true, true, true]);
  return { g, x, w, b, y };
}

describe('conv lowering', () => {
  it('stride 1: window kernels for forward, grad_input and grad_weight, then partial_sum', () => {
    const { g, x, w, b, y } = convGraph(1);
    const [fwd, gin, gw, reduce] = g.nodes.map((n) => lower(n)!);
    expect(fwd.kernel).toBe('conv2dForwardWindow');
    expect(fwd.constants).toEqual({ BIAS: true, ACT: 0, WG: CONV_WG });
    expect(fwd.operands).toEqual([{ tensor: x }, { tensor: w }, { tensor: b }, { tensor: y }]);
    const geo = geometry([8, 3, 12, 12], [5, 3, 3, 3], { padH: 1, padW: 1 });
    expect(fwd.params).toMatchObject({ batch: 8, in_channels: 3, in_h: 12, in_w: 12, out_channels: 5, out_h: 12, out_w: 12, kernel_h: 3, kernel_w: 3, stride_h: 1, pad_w: 1 });
    expect(fwd.workgroups).toEqual([Math.ceil(blockedInvocations('forward', geo, 1, false, true) / CONV_WG), 1, 1]);
    expect(gin.kernel).toBe('conv2dGradInputWindow');
    expect(gin.constants).toEqual({ ACT_GRAD: 0, WG: CONV_WG });
    expect(gin.operands[2]).toEqual({ dummy: true });
    const splits = convWeightGradSplits(geo, true);
    expect(gw.kernel).toBe('conv2dGradWeightWindow');
    expect(lowerConv(g.nodes[2], 'blocked')!.kernel).toBe('conv2dGradWeight');
    expect(lowerConv(g.nodes[2], 'blocked')!.constants).toEqual({ BIAS: true, WG: CONV_WG });
    expect(gw.constants).toEqual({ BIAS: true, WG: CONV_WG, WINDOW_KW: 3 });
    expect(gw.params).toMatchObject({ splits, rows_per_split: Math.ceil((8 * 12) / splits) });
    expect(gw.operands[2]).toEqual({ dummy: true });
    expect(reduce.kernel).toBe('partialSum');
    expect(reduce.params).toEqual({ splits, count_a: 5 * 27, count_b: 5 });
    // Every Params packs (no field missing).
    for (const d of [fwd, gin, gw, reduce]) expect(() => kernels[d.kernel].params.pack(d.params as never)).not.toThrow();
  });

  it('stride 2: blocked kernels; tiled on request, with MODE; the fused epilogues reach the constants', () => {
    const { g } = convGraph(2);
    expect(g.nodes.map((n) => lower(n)!.kernel)).toEqual(['conv2dForward', 'conv2dGradInput', 'conv2dGradWeight', 'partialSum']);
    expect(() => lowerConv(g.nodes[0], 'window')).toThrow(/window/);
    const tiled = g.nodes.slice(0, 3).map((n) => lowerConv(n, 'tiled')!);
    expect(tiled.map((d) => d.kernel)).toEqual(['conv2dTiled', 'conv2dTiled', 'conv2dTiled']);
    expect(tiled.map((d) => d.constants.MODE)).toEqual([0, 1, 2]);
    const fused = { ...g.nodes[0], attrs: { ...g.nodes[0].attrs, act: 'gelu', alpha: 0.5 } };
    expect(lower(fused)!.constants.ACT).toBe(7);
    expect(lower(fused)!.params.alpha).toBe(0.5);
    const v = g.tensor([8, 3, 12, 12], 'activation', 'v');
    const gradInput = { ...g.nodes[1], inputs: [...g.nodes[1].inputs, v], attrs: { ...g.nodes[1].attrs, actGrad: 'tanh' } };
    expect(lower(gradInput)!.constants.ACT_GRAD).toBe(3);
    expect(lower(gradInput)!.operands[2]).toEqual({ tensor: v });
  });
});
