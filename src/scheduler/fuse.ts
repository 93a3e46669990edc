/**
 * Peephole fusion on the node list, before buffers are planned. Three patterns:
 *   matmul → activation                  becomes matmul{act}        (forward: bias + activation in one pass)
 *   matmul → activation_grad(·, y)       becomes matmul{actGrad}    (backward: dY·W times activate'(y))
 *   dropout_grad → activation_grad(·, y) becomes dropout_grad{actGrad} (mask, scale and activate'(y) in one pass)
 * Each removes one dispatch and one intermediate buffer. A pattern fuses only when the matmul's output has
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
  const fusableMatmul = (tensorId: number): Node | undefined => {
    const p = producer.get(tensorId);
    const plain = p?.op === 'matmul' && !p.attrs.act && !p.attrs.actGrad;
    const t = p?.outputs[0];
    return plain && readers.get(tensorId) === 1 && t!.role === 'activation' && !t!.keep ? p : undefined;
  };

  const fusableDropoutGrad = (tensorId: number): Node | undefined => {
    const p = producer.get(tensorId);
    const t = p?.outputs[0];
    return p?.op === 'dropout_grad' && !p.attrs.actGrad && readers.get(tensorId) === 1 && t!.role === 'activation' && !t!.keep ? p : undefined;
  };

  nodes.forEach((node, i) => {
    if (node?.op === 'activation') {
      const mm = fusableMatmul(node.inputs[0].id);
      if (!mm) return;
      mm.attrs.act = node.attrs.kind;
      mm.attrs.alpha = node.attrs.alpha;
      mm.outputs = node.outputs;
      node.outputs.forEach((t) => producer.set(t.id, mm));
      nodes[i] = undefined;
    } else if (node?.op === 'activation_grad') {
      const dropout = fusableDropoutGrad(node.inputs[0].id);
      if (dropout) {
        dropout.attrs.actGrad = node.attrs.kind;
        dropout.attrs.alpha = node.attrs.alpha;
        dropout.inputs.push(node.inputs[1]);
        dropout.outputs = node.outputs;
        node.outputs.forEach((t) => producer.set(t.id, dropout));
        nodes[i] = undefined;
        return;
      }
      const mm = fusableMatmul(node.inputs[0].id);
      // The epilogue operand slot holds either a bias or y, not both.
      if (!mm || mm.inputs.length > 2) return;
      mm.attrs.actGrad = node.attrs.kind;
      mm.attrs.alpha = node.attrs.alpha;
      mm.inputs.push(node.inputs[1]);
      mm.outputs = node.outputs;
      node.outputs.forEach((t) => producer.set(t.id, mm));
      nodes[i] = undefined;
    }
  });
  return nodes.filter((n): n is Node => n !== undefined);
}
