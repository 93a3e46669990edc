/**
 * What every layer kind provides, so that a model is nothing but a list of them. A kind is a small
 * record, like an op: its constructor arguments (PyTorch's names), a shape rule on one sample's shape
 * (no batch dimension), the parameters and buffers it owns (local names as in its torch.nn module's
 * state dict), and how it adds itself to a graph. Containers (Residual) name their sub-lists in
 * `children`; the model resolves those and hands the kind their output shapes and builders.
 */
import type { Graph, Tensor } from '../../graph/graph';
import type { InitName } from '../init';
import type { ArgTable } from './args';

/** A layer as the user wrote it: PyTorch's class name in `type`, its constructor arguments beside it. */
export interface LayerSpec {
  type: string;
  [arg: string]: unknown;
}

/** A checked spec with every default filled in ("pair" arguments as [h, w]). */
export type Args = Record<string, unknown> & { type: string };

/** How a parameter starts: drawn by an initialiser with PyTorch's fans, or filled with a constant. */
export type InitRule = { draw: InitName; fanIn: number; fanOut: number; rows: number } | { fill: number };

export interface ParamDecl {
  /** Local name, e.g. 'weight'; the model prefixes the layer's path ('3.weight'). */
  name: string;
  shape: number[];
  /** Weight decay applies (weights yes; biases and norm scales no). */
  decay: boolean;
  init: InitRule;
}

/** A non-trainable buffer (running statistics); PyTorch's `register_buffer`. */
export interface BufferDecl {
  name: string;
  shape: number[];
  fill: number;
}

export interface LayerContext {
  readonly graph: Graph;
  readonly training: boolean;
  /** The step uniform (dropout masks are keyed by its seed and step). */
  readonly step: Tensor;
  /** This layer's parameter or buffer tensor, by local name (shape: the declared one, or `shape`). */
  param(name: string, shape?: readonly number[]): Tensor;
  buffer(name: string, shape?: readonly number[]): Tensor;
  /** A number distinct for every layer of the model (dropout's mask salt). */
  readonly salt: number;
  /** Labels graph tensors after this layer's path. */
  readonly name: string;
}

export interface LayerKind {
  args: ArgTable;
  /** Named sub-lists of layers (Residual: body, shortcut); absent for plain layers. */
  children?(args: Args): Record<string, readonly LayerSpec[]>;
  /**
   * The output shape of one sample given its input shape (both without the batch dimension). Call
   * `fail` with the reason on a mismatch: it throws a ShapeError naming the layer and both shapes.
   * `childOutputs` holds each child list's output shape.
   */
  infer(args: Args, input: readonly number[], fail: (reason: string) => never, childOutputs: Record<string, readonly number[]>): number[];
  params?(args: Args, input: readonly number[]): ParamDecl[];
  buffers?(args: Args, input: readonly number[]): BufferDecl[];
  /** I64 counters PyTorch keeps with the buffers (num_batches_tracked): each training step adds one. */
  counters?(args: Args): string[];
  /** Smallest batch a training step can take (batch norm over a single value per channel has no variance). */
  minTrainingRows?(args: Args, input: readonly number[]): number;
  /** Adds the layer to the graph; x is [rows, ...input]. `children` builds each sub-list on a tensor. */
  forward(args: Args, x: Tensor, ctx: LayerContext, children: Record<string, (x: Tensor) => Tensor>): Tensor;
}
