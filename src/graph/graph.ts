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
 *  - `param`:      a slice of the parameter arena (trainable).
 *  - `grad`:       a slice of the gradient arena (the gradient of `gradOf`).
 *  - `state`:      a slice of the state arena: non-trainable buffers such as batch norm's running
 *                  statistics (PyTorch's module buffers). The optimizer and the gradient norm never see it.
 *  - `external`:   a buffer that outlives the plan (dataset, permutation, metrics, the step uniform),
 *                  identified by its `ExternalBuffer` handle, never by a string.
 */
export type Role = 'activation' | 'param' | 'grad' | 'state' | 'external';

/**
 * A buffer a plan binds but does not own. Whoever creates the handle creates the GPUBuffer for it;
 * plans declare the handles they bind, and an executable is given a buffer for each.
 */
export interface ExternalBuffer {
  readonly name: string;
  readonly bytes: number;
  /** Bound as a uniform (the step values), else as storage. */
  readonly uniform?: boolean;
}

export function externalBuffer(name: string, bytes: number, uniform = false): ExternalBuffer {
  return Object.freeze({ name, bytes, uniform });
}

export class Tensor {
  /** Set on `grad` tensors: the parameter whose gradient this is. */
  gradOf?: Tensor;
  /** Activations that must survive the step (e.g. logits read for predictions). */
  keep = false;
  /** Set on `external` tensors: the buffer they are. */
  external?: ExternalBuffer;
  /** Set on views (reshape): the tensor whose buffer this one shares. */
  viewOf?: Tensor;

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
  /** The output is a view of input `viewOf` (same buffer, same bytes, another shape): no kernel runs. */
  viewOf?: number;
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

  /** A tensor that is (the start of) an external buffer. */
  external(buffer: ExternalBuffer, shape: readonly number[], dtype: DType = 'f32'): Tensor {
    const t = this.tensor(shape, 'external', buffer.name, dtype);
    t.external = buffer;
    return t;
  }

  /** Adds a node, inferring its output shapes (the op's shape rule throws on a mismatch). */
  add(op: OpName, inputs: Tensor[], attrs: Attrs = {}): Tensor[] {
    const specs = opDefs[op].infer(inputs, attrs);
    const outputs = specs.map((s) => {
      const t = this.tensor(s.shape, 'activation', s.name, s.dtype ?? 'f32');
      if (s.viewOf !== undefined) t.viewOf = inputs[s.viewOf].viewOf ?? inputs[s.viewOf];
      return t;
    });
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
