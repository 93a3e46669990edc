/**
 * The training step as a graph of ops over tensors with static shapes. Building a node runs the op's
 * shape rule, so a mismatch throws a ShapeError naming the op and both shapes before any GPU work.
 */
import { ShapeError } from '../errors';
import { opDefs, type OpName } from './ops';

export type DType = 'f32' | 'u32';

/**
 * Where a tensor lives:
 *  - `activation`: produced and consumed within a step; the planner packs these by liveness.
 *  - `param`:      a slice of the parameter arena.
 *  - `grad`:       a slice of the gradient arena (the gradient of `gradOf`).
 *  - `state`:      a slice of the state buffer: non-trainable buffers such as batch norm's running
 *                  statistics (PyTorch's `register_buffer`), written by ops, never by the optimizer. Kept
 *                  apart from the parameters so that no kernel binds a parameter read_write next to a
 *                  read-only one (WebGPU forbids both views of one buffer in a dispatch).
 *  - `external`:   a buffer that outlives the plan (dataset, permutation, metrics), bound by name.
 */
export type Role = 'activation' | 'param' | 'grad' | 'state' | 'external';

export class Tensor {
  /** Set on `grad` tensors: the parameter whose gradient this is. */
  gradOf?: Tensor;
  /** Activations that must survive the step (e.g. logits read for predictions). */
  keep = false;

  constructor(
    readonly id: number,
    readonly shape: readonly number[],
    public role: Role,
    readonly name: string,
    readonly dtype: DType = 'f32',
  ) {}

  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  toString(): string {
    return `${this.name}[${this.shape.join(',')}]`;
  }
}

export type Attrs = Record<string, number | boolean | string | undefined>;

export interface Node {
  op: OpName;
  inputs: Tensor[];
  outputs: Tensor[];
  attrs: Attrs;
}

export interface OutputSpec {
  shape: number[];
  dtype?: DType;
  name: string;
}

export class Graph {
  readonly tensors: Tensor[] = [];
  readonly nodes: Node[] = [];

  tensor(shape: readonly number[], role: Role, name: string, dtype: DType = 'f32'): Tensor {
    for (const d of shape) {
      if (!Number.isInteger(d) || d <= 0) throw new ShapeError(`Tensor '${name}' has shape [${shape}]: every dimension must be a positive integer.`);
    }
    const t = new Tensor(this.tensors.length, shape, role, name, dtype);
    this.tensors.push(t);
    return t;
  }

  /** Adds a node, inferring its output shapes (the op's shape rule throws on a mismatch). */
  add(op: OpName, inputs: Tensor[], attrs: Attrs = {}): Tensor[] {
    const specs = opDefs[op].infer(inputs, attrs);
    const outputs = specs.map((s) => this.tensor(s.shape, 'activation', s.name, s.dtype ?? 'f32'));
    this.nodes.push({ op, inputs, outputs, attrs });
    return outputs;
  }

  /** Nodes that read each tensor, by tensor id. */
  consumers(): Map<number, Node[]> {
    const map = new Map<number, Node[]>();
    for (const node of this.nodes) {
      for (const t of node.inputs) {
        const list = map.get(t.id) ?? [];
        list.push(node);
        map.set(t.id, list);
      }
    }
    return map;
  }

  /** One line per node: `name[shape] = op(inputs) {attrs}`. */
  toString(): string {
    return this.nodes
      .map((n) => {
        const attrs = Object.entries(n.attrs).filter(([, v]) => v !== undefined && v !== false);
        const attrText = attrs.length ? ` {${attrs.map(([k, v]) => `${k}=${v}`).join(', ')}}` : '';
        return `${n.outputs.join(', ')} = ${n.op}(${n.inputs.map((t) => t.name).join(', ')})${attrText}`;
      })
      .join('\n');
  }
}
