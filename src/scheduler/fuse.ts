/**
 * Peephole fusion on the node list, before buffers are planned. Seven patterns, then the classifier head
 * (`fuseHeads`):
 *   matmul → activation                  becomes matmul{act}        (forward: bias + activation in one pass)
 *   conv2d → activation                  becomes conv2d{act}        (likewise; channels_first{act} too)
 *   matmul → activation_grad(·, v)       becomes matmul{actGrad}    (backward: dY·W times activate'(v))
 *   conv2d_grad_input → activation_grad(·, v) becomes conv2d_grad_input{actGrad} (dx times activate'(v);
 *                                                                   col2im{actGrad} likewise)
 *   activation_grad(g, v) → channels_last becomes channels_last{actGrad}(g, v) (the layout change of a conv
 *                                                                   run as a matmul reads g, times activate'(v))
 *   dropout_grad → activation_grad(·, v) becomes dropout_grad{actGrad} (mask, scale and activate'(v) in one pass)
 *   matmul(dYᵀ·X) and column_sum(dY)     become matmul{biasGrad}   (a Linear's weight and bias gradients in one
 *                                                                   dispatch: outputs dW, then db)
 * v is whatever the activation_grad node reads (its output y, or its input x where derivativeFromInput(kind),
 * src/graph/ops.ts); the fused kernel reads the same tensor. For GELU/SiLU in a training graph that x is
 * also read by the backward, so the forward matmul → activation pair stays unfused (the reader count below).
 * Each removes one dispatch (all but the bias gradient also an intermediate buffer). Those fuse only when the
 * producer's output has no other reader, so no other op ever needs the intermediate; the last needs none
 * (both nodes only read dY), and db is produced earlier than before, which nothing can observe.
 */
import type { Node } from '../graph/graph';
import { HEAD_MAX_CLASSES } from '../kernels/lower';
import { adapterKindOf } from '../gpu/adapter_kind';

export interface FuseOptions {
  /** Fuse the classifier head (`fuseHeads`; default true). */
  head?: boolean;
}

/**
 * Whether the classifier head pays on this adapter: on GPUs it saves two dispatches a step; on CPU
 * implementations its one workgroup runs on one thread while the three kernels it replaces spread over the
 * cores (SwiftShader, 784-128-64-10 at batch 128: 3.7–4.6 ms fused against 0.9 ms for the three).
 */
export function headFusionFor(adapterName: string): boolean {
  return adapterKindOf(adapterName) === 'gpu';
}

export function fuse(graphNodes: readonly Node[], options: FuseOptions = {}): Node[] {
  const nodes: (Node | undefined)[] = graphNodes.map((n) => ({ ...n, inputs: [...n.inputs], outputs: [...n.outputs], attrs: { ...n.attrs } }));
  const readers = new Map<number, number>();
  const producer = new Map<number, Node>();
  for (const node of nodes as Node[]) {
    node.inputs.forEach((t) => readers.set(t.id, (readers.get(t.id) ?? 0) + 1));
    node.outputs.forEach((t) => producer.set(t.id, node));
  }
  /** The producer of `tensorId` when it is a `op` with no epilogue yet and this tensor is its only, private output. */
  const fusable = (tensorId: number, op: 'matmul' | 'conv2d' | 'conv2d_grad_input' | 'dropout_grad' | 'channels_first' | 'col2im' | 'activation_grad'): Node | undefined => {
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

  /** The weight-gradient product dYᵀ·X (no epilogue, not yet fused) that reads `dy` as its A, if any. */
  const weightGradOf = (dy: number): Node | undefined =>
    (nodes as (Node | undefined)[]).find(
      (n) => n?.op === 'matmul' && n.attrs.transA && !n.attrs.transB && n.inputs.length === 2 && n.outputs.length === 1 && n.inputs[0].id === dy && !n.attrs.act && !n.attrs.actGrad,
    );

  nodes.forEach((node, i) => {
    if (node?.op === 'column_sum') {
      const mm = weightGradOf(node.inputs[0].id);
      if (mm) {
        mm.attrs.biasGrad = true;
        mm.outputs.push(node.outputs[0]);
        producer.set(node.outputs[0].id, mm);
        nodes[i] = undefined;
      }
    } else if (node?.op === 'activation') {
      const id = node.inputs[0].id;
      const producer = fusable(id, 'matmul') ?? fusable(id, 'conv2d') ?? fusable(id, 'channels_first');
      if (producer) absorb(i, node, producer, 'act');
    } else if (node?.op === 'activation_grad') {
      const id = node.inputs[0].id;
      const dropout = fusable(id, 'dropout_grad');
      const mm = dropout ? undefined : fusable(id, 'matmul');
      const conv = dropout || mm ? undefined : (fusable(id, 'conv2d_grad_input') ?? fusable(id, 'col2im'));
      // A matmul's epilogue operand slot holds either a bias or v, not both; conv2d_grad_input has no bias.
      const into = dropout ?? (mm && mm.inputs.length <= 2 ? mm : undefined) ?? conv;
      if (into) absorb(i, node, into, 'actGrad', node.inputs[1]);
    } else if (node?.op === 'channels_last' && node.inputs.length === 1) {
      // The other way round: the derivative moves into its one consumer, which reads g and v instead.
      const grad = fusable(node.inputs[0].id, 'activation_grad');
      if (grad) {
        node.inputs = [...grad.inputs];
        node.attrs.actGrad = grad.attrs.kind;
        node.attrs.alpha = grad.attrs.alpha;
        nodes[nodes.indexOf(grad)] = undefined;
      }
    }
  });
  if (options.head ?? true) fuseHeads(nodes, readers, producer);
  return nodes.filter((n): n is Node => n !== undefined);
}

/**
 * matmul(h·Wᵀ + b) → softmax_xent (training) → matmul(dlogits·W){actGrad}  becomes  linear_softmax_xent
 * (shaders/linear_softmax_xent.wgsl), when the logits have no other reader and at most HEAD_MAX_CLASSES
 * columns. The input-gradient product is absent when nothing below the head trains (frozen layers); the
 * head then writes dlogits only. The fused node takes softmax_xent's place: every input it reads exists by
 * then, and dh is written earlier than before, which nothing can observe. Two dispatches and the logits
 * buffer fewer per step.
 */
function fuseHeads(nodes: (Node | undefined)[], readers: ReadonlyMap<number, number>, producer: ReadonlyMap<number, Node>): void {
  nodes.forEach((loss, i) => {
    if (loss?.op !== 'softmax_xent' || loss.attrs.training === false) return;
    const [logits, labels, metrics] = loss.inputs;
    const linear = producer.get(logits.id);
    if (linear?.op !== 'matmul' || !linear.attrs.transB || linear.attrs.transA || linear.inputs.length !== 3 || linear.attrs.act) return;
    if (readers.get(logits.id) !== 1 || logits.keep || logits.shape[1] > HEAD_MAX_CLASSES) return;
    const [h, w, bias] = linear.inputs;
    const dlogits = loss.outputs[0];
    const j = nodes.findIndex(
      (n) => n?.op === 'matmul' && n.inputs[0].id === dlogits.id && n.inputs[1].id === w.id && !n.attrs.transA && !n.attrs.transB && !n.attrs.act && (n.inputs.length === 2 || !!n.attrs.actGrad),
    );
    const inputGrad = j >= 0 ? nodes[j] : undefined;
    const v = inputGrad?.inputs[2];
    nodes[i] = {
      op: 'linear_softmax_xent',
      inputs: [h, w, bias, labels, metrics, ...(v ? [v] : [])],
      outputs: [dlogits, ...(inputGrad ? inputGrad.outputs : [])],
      attrs: { writeDh: !!inputGrad, actGrad: inputGrad?.attrs.actGrad, alpha: inputGrad?.attrs.alpha, name: logits.name },
    };
    nodes[nodes.indexOf(linear)] = undefined;
    if (j >= 0) nodes[j] = undefined;
  });
}
