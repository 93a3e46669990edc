/**
 * Peephole fusion on the node list, before buffers are planned. Five patterns:
 *   matmul → activation                  becomes matmul{act}        (forward: bias + activation in one pass)
 *   conv2d → activation                  becomes conv2d{act}        (likewise)
 *   matmul → activation_grad(·, v)       becomes matmul{actGrad}    (backward: dY·W times activate'(v))
 *   conv2d_grad_input → activation_grad(·, v) becomes conv2d_grad_input{actGrad} (dx times activate'(v))
 *   dropout_grad → activation_grad(·, v) becomes dropout_grad{actGrad} (mask, scale and activate'(v) in one pass)
 * v is whatever the activation_grad node reads (its output y, or its input x where derivativeFromInput(kind),
 * src/graph/ops.ts); the fused kernel reads the same tensor. For GELU/SiLU in a training graph that x is
 * also read by the backward, so the forward matmul → activation pair stays unfused (the reader count below).
 * Each removes one dispatch and one intermediate buffer. A pattern fuses only when the producer's output has
 * no other reader, so no other op ever needs the intermediate.
 */
import type { Node } from '../graph/graph';

export function fuse(graphNodes: readonly Node[]): Node[] {
  const nodes: (Node | undefined)[] = graphNodes.map((n) => ({ ...n, inputs: [...n.inputs], outputs: [...n.outputs], attrs: { ...n.attrs } }));
  const readers = new Map<number, number>();
  const producer = new Map<number, Node>();
  for (const node of nodes as Node[]) {
    node.inputs.forEach((t) => readers.set(t.id, (readers.get(t.id) ?? 0) + 1));
    node.outputs.forEach((t) => producer.set(t.id, node));
  }
  /** The producer of `tensorId` when it is a `op` with no epilogue yet and this tensor is its only, private output. */
  const fusable = (tensorId: number, op: 'matmul' | 'conv2d' | 'conv2d_grad_input' | 'dropout_grad'): Node | undefined => {
    const p = producer.get(tensorId);
    const t = p?.outputs[0];
    const plain = p?.op === op && !p.attrs.act && !p.attrs.actGrad;
    return plain && readers.get(tensorId) === 1 && t!.role === 'activation' && !t!.keep ? p : undefined;
  };
  /** Folds `node` (an activation or its gradient) into `into`: its kind as `attr`, its y (if any) as an extra input. */
  const absorb = (i: number, node: Node, into: Node, attr: 'act' | 'actGrad', y?: Node['inputs'][number]) => {
    into.attrs[attr] = node.attrs.kind;
    into.attrs.alpha = node.attrs.alpha;
    if (y) into.inputs.push(y);
    into.outputs = node.outputs;
    node.outputs.forEach((t) => producer.set(t.id, into));
    nodes[i] = undefined;
  };

  nodes.forEach((node, i) => {
    if (node?.op === 'activation') {
      const producer = fusable(node.inputs[0].id, 'matmul') ?? fusable(node.inputs[0].id, 'conv2d');
      if (producer) absorb(i, node, producer, 'act');
    } else if (node?.op === 'activation_grad') {
      const id = node.inputs[0].id;
      const dropout = fusable(id, 'dropout_grad');
      const mm = dropout ? undefined : fusable(id, 'matmul');
      const conv = dropout || mm ? undefined : fusable(id, 'conv2d_grad_input');
      // A matmul's epilogue operand slot holds either a bias or v, not both; conv2d_grad_input has no bias.
      const into = dropout ?? (mm && mm.inputs.length <= 2 ? mm : undefined) ?? conv;
      if (into) absorb(i, node, into, 'actGrad', node.inputs[1]);
    }
  });
  return nodes.filter((n): n is Node => n !== undefined);
}
