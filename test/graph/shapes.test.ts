/**
 * Graph construction, autodiff, fusion and buffer planning: all plain data, so no GPU is needed. Shape
 * mistakes must surface here, before any GPU work, with messages that name the op and the shapes.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, ShapeError } from '../../src/errors';
import { Graph, type Node } from '../../src/graph/graph';
import { validateMlp, type MlpConfig } from '../../src/nn/mlp';
import { fuse } from '../../src/scheduler/fuse';
import { formatPlan, planStep } from '../../src/scheduler/plan';
import { HEAD_MAX_CLASSES } from '../../src/kernels/lower';
import { mnistLikeSource, modelGraph } from '../helpers/step_graph';

const model: MlpConfig = { layers: [784, 128, 64, 10], activation: 'relu' };

function trainingGraph(config = model, rows = 128) {
  const { graph, layout } = modelGraph(config, rows);
  const grads = new Map(graph.tensors.filter((t) => t.role === 'grad').map((g) => [g.gradOf!.id, g]));
  return { graph, grads, layout };
}

describe('shape errors', () => {
  it('matmul with mismatched inner dimensions throws a ShapeError naming the op and both shapes', () => {
    const g = new Graph();
    const a = g.tensor([3, 4], 'activation', 'a');
    const b = g.tensor([5, 6], 'param', 'b');
    expect(() => g.add('matmul', [a, b])).toThrow(ShapeError);
    expect(() => g.add('matmul', [a, b])).toThrow(/matmul/);
    expect(() => g.add('matmul', [a, b])).toThrow(/a \[3, 4\]/);
    expect(() => g.add('matmul', [a, b])).toThrow(/b \[5, 6\]/);
    expect(() => g.add('matmul', [a, b])).toThrow(/4 ≠ 5/);
    // With transB the stored [6, 5] is read as [5, 6]ᵀ: inner 4 vs 5 still differ, and the message says ᵀ.
    const bt = g.tensor([6, 5], 'param', 'bt');
    expect(() => g.add('matmul', [a, bt], { transB: true })).toThrow(/bt \[6, 5\]ᵀ/);
    expect(g.nodes).toHaveLength(0);
  });

  it('a wrong-sized bias is refused', () => {
    const g = new Graph();
    const x = g.tensor([2, 3], 'activation', 'x');
    const w = g.tensor([4, 3], 'param', 'w');
    const bias = g.tensor([3], 'param', 'bias');
    expect(() => g.add('matmul', [x, w, bias], { transB: true })).toThrow(/bias \[3\] must have shape \[4\]/);
  });

  it('a model whose input width differs from the data is refused, naming the layer and both shapes', () => {
    expect(() => modelGraph({ layers: [100, 10] }, 8)).toThrow(ShapeError);
    expect(() => modelGraph({ layers: [100, 10] }, 8)).toThrow(/layer 1 \(Linear\): in_features is 100 but each sample has 784 features/);
  });

  for (const layers of [[784, 0, 10], [784, -3, 10], [784, 1.5, 10], [784, NaN, 10], [784], []]) {
    it(`layers [${layers}] are refused with a ShapeError`, () => {
      expect(() => validateMlp({ layers })).toThrow(ShapeError);
      expect(() => modelGraph({ layers }, 8)).toThrow(ShapeError);
    });
  }

  it('an unknown activation is a ConfigError that lists the valid ones', () => {
    const config = { layers: [784, 10], activation: 'swish' } as unknown as MlpConfig;
    expect(() => validateMlp(config)).toThrow(ConfigError);
    expect(() => validateMlp(config)).toThrow(/swish.*relu/);
  });

  it('tensors with a zero or fractional dimension are refused', () => {
    const g = new Graph();
    expect(() => g.tensor([0, 3], 'activation', 'z')).toThrow(ShapeError);
    expect(() => g.tensor([2.5], 'activation', 'z')).toThrow(ShapeError);
  });
});

describe('autodiff', () => {
  it('gives every parameter a gradient of its own shape, and the data none', () => {
    // Batch 100, not 128: dfc1.weight is [128, 784], which would look like a gradient of a 128-row batch.
    const { graph, grads } = trainingGraph(model, 100);
    const params = graph.tensors.filter((t) => t.role === 'param');
    expect(params.map((p) => p.name)).toEqual(['1.weight', '1.bias', '3.weight', '3.bias', '5.weight', '5.bias']);
    expect([...grads.keys()].sort()).toEqual(params.map((p) => p.id).sort());
    for (const p of params) {
      const g = grads.get(p.id)!;
      expect(g.shape).toEqual(p.shape);
      expect(g.role).toBe('grad');
      expect(g.gradOf).toBe(p);
    }
    // Every grad tensor is a parameter's: nothing else is placed in the gradient arena.
    expect(graph.tensors.filter((t) => t.role === 'grad')).toHaveLength(params.length);
    // No gradient flows into the batch: no op produces a second [100, 784] tensor (dx = dz1·W1).
    const x = graph.nodes[0].outputs[0];
    expect(x.shape).toEqual([100, 784]);
    expect(graph.tensors.filter((t) => t.shape.join() === '100,784' && t.viewOf !== x)).toEqual([x]);
    expect(graph.tensors.some((t) => t.name === `d${x.name}`)).toBe(false);
  });
});

describe('fusion and the plan', () => {
  it('784-128-64-10 training graph: 8 dispatches after fusion (gather, 2 forward matmuls, the fused head, 4 backward matmuls; views run nothing)', () => {
    const { graph } = trainingGraph();
    const fused = fuse(graph.nodes);
    expect(graph.nodes).toHaveLength(19);
    expect(fused.map((n) => n.op)).toEqual([
      'gather', // the batch's inputs and labels, one dispatch
      'reshape', // the batch as [128, 1, 28, 28] images (a view: no dispatch)
      'reshape', // Flatten (a view)
      'matmul', // z1 + bias, relu fused
      'matmul', // z2 + bias, relu fused
      'linear_softmax_xent', // logits, softmax_xent and dh2 = dlogits·W3 with relu' fused
      'matmul', // dW3 and db3
      'matmul', // dh1 = dz2·W2, relu' fused
      'matmul', // dW2 and db2
      'matmul', // dW1 and db1
    ]);
    expect(fused.filter((n) => n.attrs.act === 'relu')).toHaveLength(2);
    expect(fused.filter((n) => n.attrs.actGrad === 'relu')).toHaveLength(2);
    expect(fused.filter((n) => n.attrs.biasGrad).map((n) => n.outputs.map((t) => t.name))).toEqual([
      ['d5.weight', 'd5.bias'],
      ['d3.weight', 'd3.bias'],
      ['d1.weight', 'd1.bias'],
    ]);
  });

  it('the head fuses only up to HEAD_MAX_CLASSES classes, and never in an evaluation graph', () => {
    const ops = (classes: number, training = true) =>
      fuse(modelGraph({ layers: [784, 16, classes], activation: 'relu' }, 32, training, mnistLikeSource(60000, 'train', 28, classes)).graph.nodes).map((n) => n.op);
    expect(ops(HEAD_MAX_CLASSES)).toContain('linear_softmax_xent');
    expect(ops(HEAD_MAX_CLASSES + 1)).not.toContain('linear_softmax_xent');
    expect(ops(HEAD_MAX_CLASSES + 1)).toEqual(expect.arrayContaining(['softmax_xent']));
    expect(ops(10, false)).toEqual(['gather', 'reshape', 'reshape', 'matmul', 'matmul', 'softmax_xent']);
  });

  it('plan snapshot', () => {
    const { graph, layout } = trainingGraph();
    const plan = planStep(fuse(graph.nodes), layout);
    expect(plan.dispatches).toHaveLength(8);
    expect(formatPlan(plan)).toMatchInlineSnapshot(`
      "buffers (9, 559.5 KiB):
        act0       392.0 KiB
        act1       512 B
        act2       64.0 KiB
        act3       64.0 KiB
        act4       5.0 KiB
        act5       32.0 KiB
        dummy      16 B
        uniforms   2.0 KiB
        dummy.out  16 B
      externals (7): train.perm 234.4 KiB, step 32 B uniform, train.side 234.4 KiB, train.x0 45937.5 KiB, params 427.5 KiB, train.metrics 32 B, grads 427.5 KiB
      commands (0 transfers, 8 dispatches):
         0 gather             [98×1×1] {WORDS CHUNKS=1} (train.x0, dummy, dummy, dummy, train.perm, train.side, act0, act1, step, uniforms)  gather→x,labels
         1 matmul             [4×4×1] {TRANS_B BIAS ACT=1 WG_X=8 WG_Y=8} (act0, params, params+436736, act2, dummy.out, uniforms+256)  matmul→l2
         2 matmul             [2×4×1] {TRANS_B BIAS ACT=1 WG_X=8 WG_Y=8} (act2, params+401408, params+437248, act3, dummy.out, uniforms+512)  matmul→l4
         3 linearSoftmaxXent  [1×1×1] {WRITE_DH ACT_GRAD=1} (act3, params+434176, params+437504, act1, act3, act4, act5, train.metrics, uniforms+768)  linear_softmax_xent→dl5,dl3
         4 matmul             [3×1×1] {TRANS_A BIAS_GRAD WG_X=8 WG_Y=8} (act4, act3, dummy, grads+434176, grads+437504, uniforms+1024)  matmul→d5.weight,d5.bias
         5 matmul             [4×4×1] {ACT_GRAD=1 WG_X=8 WG_Y=8} (act5, params+401408, act2, act3, dummy.out, uniforms+1280)  matmul→dl1
         6 matmul             [5×2×1] {TRANS_A BIAS_GRAD WG_X=8 WG_Y=8} (act5, act2, dummy, grads+401408, grads+437248, uniforms+1536)  matmul→d3.weight,d3.bias
         7 matmul             [26×4×1] {TRANS_A BIAS_GRAD WG_X=8 WG_Y=8} (act3, act0, dummy, grads, grads+436736, uniforms+1792)  matmul→d1.weight,d1.bias"
    `);
  });

  it('liveness: tensors a node uses never overlap in memory, and buffers are shared', () => {
    const { graph, layout } = trainingGraph();
    const nodes = fuse(graph.nodes);
    const plan = planStep(nodes, layout);
    const overlaps = (a: { buffer: string; offset: number; size: number }, b: typeof a) => a.buffer === b.buffer && a.offset < b.offset + b.size && b.offset < a.offset + a.size;
    for (const node of nodes) {
      // A view shares its source's buffer by design.
      const used = [...new Set([...node.inputs, ...node.outputs])].filter((t, _, all) => !all.some((u) => t.viewOf === u || u.viewOf === t || (t.viewOf && t.viewOf === u.viewOf)));
      for (let i = 0; i < used.length; i++) {
        for (let j = i + 1; j < used.length; j++) {
          expect(overlaps(plan.refs.get(used[i].id)!, plan.refs.get(used[j].id)!), `${node.op}: ${used[i]} and ${used[j]}`).toBe(false);
        }
      }
    }
    // A buffer is reused only once the previous tensor in it is dead (its last reader has run).
    // Views (reshape) share their source's buffer by design; the roots are what liveness packs.
    const activations = graph.tensors.filter((t) => t.role === 'activation' && !t.viewOf && plan.refs.has(t.id));
    const lifetime = (id: number) => {
      const isIt = (t: { id: number; viewOf?: { id: number } }) => t.id === id || t.viewOf?.id === id;
      const def = nodes.findIndex((n: Node) => n.outputs.some((t) => t.id === id));
      const uses = nodes.flatMap((n, i) => (n.inputs.some(isIt) || n.outputs.some(isIt) ? [i] : []));
      const keep = graph.tensors[id].keep;
      return [def, keep ? Infinity : Math.max(def, ...uses)] as const;
    };
    for (let i = 0; i < activations.length; i++) {
      for (let j = i + 1; j < activations.length; j++) {
        const [a, b] = [activations[i], activations[j]];
        if (plan.refs.get(a.id)!.buffer !== plan.refs.get(b.id)!.buffer) continue;
        const [la, lb] = [lifetime(a.id), lifetime(b.id)];
        expect(la[1] < lb[0] || lb[1] < la[0], `${a} [${la}] and ${b} [${lb}] share ${plan.refs.get(a.id)!.buffer}`).toBe(true);
      }
    }
    const activationBuffers = plan.buffers.filter((b) => b.name.startsWith('act'));
    expect(activationBuffers.length).toBeGreaterThan(0);
    expect(activationBuffers.length).toBeLessThan(activations.length);
  });
});
