/**
 * Reverse-mode differentiation of a forward graph: walks the nodes backwards, asks each op's backward
 * rule for its input gradients, and appends those ops to the same graph. A tensor read by several ops
 * (a residual block's input, say) receives one gradient from each; they are summed by `add` nodes as
 * they arrive. Parameter gradients are re-labelled `grad` so the planner places them in the gradient
 * arena; a parameter listed in `frozen` gets none, and neither does anything only it depends on.
 */
import { ShapeError } from '../errors';
import type { Graph, Tensor } from './graph';
import { opDefs, type OpDef } from './ops';

/**
 * `lossNode` is the index of the loss node, whose backward rule needs no incoming gradient: its output
 * already is the gradient of the mean loss. Returns parameter id -> gradient tensor.
 */
export function appendBackward(graph: Graph, lossNode: number, frozen: ReadonlySet<string> = new Set()): Map<number, Tensor> {
  const forwardNodes = graph.nodes.slice(0, lossNode + 1);
  const grads = new Map<number, Tensor>();
  // A tensor needs a gradient when it is a trainable parameter or computed from one; data never does.
  const needsGrad = new Set(graph.tensors.filter((t) => t.role === 'param' && !frozen.has(t.name)).map((t) => t.id));
  for (const node of forwardNodes) {
    if (node.inputs.some((t) => needsGrad.has(t.id))) node.outputs.forEach((t) => needsGrad.add(t.id));
  }
  const needed = (node: (typeof forwardNodes)[number]) => node.inputs.map((t) => needsGrad.has(t.id));
  const accumulate = (input: Tensor, g: Tensor) => {
    const earlier = grads.get(input.id);
    grads.set(input.id, earlier ? graph.add('add', [earlier, g], { name: `d${input.name}` })[0] : g);
  };

  const seedNode = forwardNodes[lossNode];
  const seedRule = (opDefs[seedNode.op] as OpDef).backward;
  if (!seedRule) throw new ShapeError(`autodiff: the loss node '${seedNode.op}' has no backward rule.`);
  seedRule(seedNode, [], graph, needed(seedNode)).forEach((g, i) => g && needsGrad.has(seedNode.inputs[i].id) && accumulate(seedNode.inputs[i], g));

  for (let n = lossNode - 1; n >= 0; n--) {
    const node = forwardNodes[n];
    const outputGrads = node.outputs.map((t) => grads.get(t.id));
    if (outputGrads.every((g) => g === undefined)) continue;
    const rule = (opDefs[node.op] as OpDef).backward;
    if (!rule) continue; // e.g. gather: its inputs are data, not differentiable
    const inputGrads = rule(node, outputGrads, graph, needed(node));
    inputGrads.forEach((g, i) => g && needsGrad.has(node.inputs[i].id) && accumulate(node.inputs[i], g));
  }

  const paramGrads = new Map<number, Tensor>();
  for (const t of graph.tensors) {
    if (t.role !== 'param') continue;
    const g = grads.get(t.id);
    if (!g) continue;
    // A view (a conv weight's gradient computed as a [Co, K] matrix, say) places its source in the arena.
    const root = g.viewOf ?? g;
    if (g.role !== 'activation' || root.role !== 'activation' || g.gradOf || root.gradOf || root.size !== t.size) {
      throw new ShapeError(`autodiff: the gradient of ${t} is ${g}, which is not a fresh tensor of its own.`);
    }
    for (const tensor of new Set([g, root])) {
      tensor.role = 'grad';
      tensor.gradOf = t;
    }
    paramGrads.set(t.id, g);
  }
  return paramGrads;
}
