/**
 * A model is a list of layers that mirrors torch.nn.Sequential: PyTorch's class names and constructor
 * arguments, checked and shape-inferred against one sample's shape (MNIST: [1, 28, 28]) before any GPU
 * work. Parameters and buffers are named as the Sequential built from the same list names them in its
 * state dict ('0.weight', '1.running_mean', '4.body.0.weight'), in PyTorch's layouts, so weights move
 * both ways unchanged.
 *
 * A model knows nothing of data, losses or GPUs: `forward` appends its layers to a graph, and the
 * initial values fill arenas laid out by its parameter and buffer lists.
 */
import { ConfigError, ShapeError } from '../errors';
import type { Graph, Tensor } from '../graph/graph';
import { Rng } from '../data/rng';
import { breaksSymmetry, initWeight, resolveInit, type InitName } from './init';
import { checkArgs, layerLabel } from './layers/args';
import { layerKinds } from './layers/index';
import type { Args, BufferDecl, LayerKind, LayerSpec, ParamDecl } from './layers/kind';
import type { ParameterArena, ParameterSpec } from './parameters';
import { nearest } from '../util/nearest';

export type { LayerSpec } from './layers/kind';

/** A layer list, or an object holding one with a model-wide default initialiser. */
export type ModelSpec = readonly LayerSpec[] | { layers: readonly LayerSpec[]; init?: string };

export interface ResolvedLayer {
  /** Its place in the model, as PyTorch names it: '3', '4.body.0'. */
  path: string;
  type: string;
  args: Args;
  kind: LayerKind;
  /** One sample's shape before and after the layer (no batch dimension). */
  input: number[];
  output: number[];
  children: Record<string, ResolvedLayer[]>;
  params: (ParamDecl & { fullName: string })[];
  buffers: (BufferDecl & { fullName: string })[];
  salt: number;
}

export class Model {
  private constructor(
    /** The layer list as given (it is what checkpoints store). */
    readonly spec: readonly LayerSpec[],
    readonly init: InitName,
    readonly layers: readonly ResolvedLayer[],
    readonly inputShape: readonly number[],
  ) {}

  /** Checks every layer and infers every shape; throws ConfigError / ShapeError naming the layer. */
  static create(model: ModelSpec, inputShape: readonly number[], defaults: { init?: string } = {}): Model {
    const list = Array.isArray(model) ? model : (model as { layers: readonly LayerSpec[] }).layers;
    const init = resolveInit((Array.isArray(model) ? undefined : (model as { init?: string }).init) ?? defaults.init ?? 'he_normal');
    if (!Array.isArray(list) || list.length === 0) throw new ConfigError('A model is a non-empty list of layers such as [{"type": "Linear", "in_features": 784, "out_features": 10}].');
    const counter = { salt: 0 };
    const layers = resolveList(list, [...inputShape], '', init, counter);
    return new Model(list, init, layers, [...inputShape]);
  }

  get outputShape(): readonly number[] {
    return this.layers.at(-1)!.output;
  }

  /** Every layer, depth first (containers before their children). */
  all(): ResolvedLayer[] {
    const out: ResolvedLayer[] = [];
    const walk = (list: readonly ResolvedLayer[]) =>
      list.forEach((l) => {
        out.push(l);
        Object.values(l.children).forEach(walk);
      });
    walk(this.layers);
    return out;
  }

  /** Trainable parameters, in state-dict order. */
  get parameters(): ParameterSpec[] {
    return this.all().flatMap((l) => l.params.map((p) => ({ name: p.fullName, shape: p.shape, decay: p.decay })));
  }

  /** Non-trainable buffers (running statistics), in state-dict order. */
  get buffers(): ParameterSpec[] {
    return this.all().flatMap((l) => l.buffers.map((b) => ({ name: b.fullName, shape: b.shape, decay: false })));
  }

  /** I64 counters (num_batches_tracked) by full name: each counts the training steps taken. */
  get counters(): string[] {
    return this.all().flatMap((l) => (l.kind.counters?.(l.args) ?? []).map((c) => `${l.path}.${c}`));
  }

  /** The smallest training batch every layer accepts. */
  get minTrainingRows(): number {
    return Math.max(1, ...this.all().map((l) => l.kind.minTrainingRows?.(l.args, l.input) ?? 1));
  }

  get parameterCount(): number {
    return this.parameters.reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
  }

  /** Appends the model to `graph`; x is [rows, ...inputShape]. Returns the output tensor. */
  forward(graph: Graph, x: Tensor, training: boolean, step: Tensor): Tensor {
    const build = (list: readonly ResolvedLayer[], input: Tensor): Tensor =>
      list.reduce((h, layer) => {
        const declared = new Map<string, readonly number[]>([...layer.params, ...layer.buffers].map((d) => [d.name, d.shape]));
        const tensor = (role: 'param' | 'state') => (name: string, shape?: readonly number[]) => {
          const decl = declared.get(name);
          if (!decl) throw new Error(`${layerLabel(layer.path, layer.type)} has no parameter or buffer '${name}'.`);
          return graph.tensor(shape ?? decl, role, `${layer.path}.${name}`);
        };
        const children = Object.fromEntries(Object.entries(layer.children).map(([key, sub]) => [key, (t: Tensor) => build(sub, t)]));
        const ctx = { graph, training, step, param: tensor('param'), buffer: tensor('state'), salt: layer.salt, name: `l${layer.path}` };
        return layer.kind.forward(layer.args, h, ctx, children);
      }, input);
    return build(this.layers, x);
  }

  /** Initial parameters in arena layout: drawn weights in layer order from one seeded generator, fills for the rest. */
  initialParameters(arena: ParameterArena, seed: number, warn: (message: string) => void = console.warn): Float32Array {
    const data = new Float32Array(arena.totalFloats);
    const rng = new Rng(seed);
    const drawn = this.all().flatMap((l) => l.params).filter((p) => 'draw' in p.init);
    const symmetric = drawn.find((p) => 'draw' in p.init && !breaksSymmetry(p.init.draw));
    if (symmetric && drawn.length > 1 && 'draw' in symmetric.init) {
      warn(`Initialiser '${symmetric.init.draw}' gives every unit of ${symmetric.fullName} identical weights: they get identical gradients and never become different (symmetry is not broken). Use he_normal or xavier_normal.`);
    }
    for (const p of this.all().flatMap((l) => l.params)) {
      const slot = arena.slot(p.fullName);
      if ('fill' in p.init) data.fill(p.init.fill, slot.offset, slot.offset + slot.size);
      else data.set(initWeight(p.init.draw, p.init.rows, slot.size / p.init.rows, rng, { fanIn: p.init.fanIn, fanOut: p.init.fanOut }), slot.offset);
    }
    return data;
  }

  /** Initial buffers in state-arena layout (running means 0, variances 1). */
  initialBuffers(arena: ParameterArena): Float32Array {
    const data = new Float32Array(arena.totalFloats);
    for (const b of this.all().flatMap((l) => l.buffers)) {
      const slot = arena.slot(b.fullName);
      data.fill(b.fill, slot.offset, slot.offset + slot.size);
    }
    return data;
  }

  /** One line per layer: path, type, output shape, parameter count (the CLI and the demo show it). */
  summary(): string[] {
    return this.all().map((l) => {
      const count = l.params.reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
      const depth = (l.path.split('.').length - 1) / 2;
      return `${'  '.repeat(depth)}${l.path.padEnd(10 - 2 * depth)} ${l.type.padEnd(15)} → [${l.output.join(', ')}]${count ? `  ${count} parameters` : ''}`;
    });
  }
}

function resolveList(list: readonly LayerSpec[], input: number[], prefix: string, init: InitName, counter: { salt: number }): ResolvedLayer[] {
  if (!Array.isArray(list) || list.length === 0) throw new ConfigError(`${prefix ? `layer ${prefix.slice(0, -1)}: ` : ''}a list of layers must be a non-empty array.`);
  let shape = input;
  return list.map((spec, i) => {
    const layer = resolveLayer(spec, shape, `${prefix}${i}`, init, counter);
    shape = layer.output;
    return layer;
  });
}

function resolveLayer(spec: LayerSpec, input: number[], path: string, init: InitName, counter: { salt: number }): ResolvedLayer {
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec) || typeof spec.type !== 'string') {
    throw new ConfigError(`layer ${path}: expected an object such as {"type": "Linear", "in_features": 784, "out_features": 10}; got ${JSON.stringify(spec)}.`);
  }
  const kind = Object.hasOwn(layerKinds, spec.type) ? layerKinds[spec.type] : undefined;
  if (!kind) {
    const guess = nearest(spec.type, Object.keys(layerKinds));
    throw new ConfigError(`layer ${path}: unknown layer type '${spec.type}'${guess ? ` (did you mean '${guess}'?)` : ''}. Known: ${Object.keys(layerKinds).join(', ')}.`);
  }
  const args = checkArgs(path, spec, kind.args) as Args;
  if ('init' in kind.args) args.init ??= init;
  const salt = ++counter.salt;
  const children = Object.fromEntries(
    Object.entries(kind.children?.(args) ?? {}).map(([key, sub]) => [key, resolveList(sub, input, `${path}.${key}.`, init, counter)]),
  );
  const childOutputs = Object.fromEntries(Object.entries(children).map(([key, sub]) => [key, sub.length ? sub.at(-1)!.output : input]));
  const fail = (reason: string): never => {
    throw new ShapeError(`${layerLabel(path, spec.type)}: ${reason} (input shape [${input.join(', ')}] per sample).`);
  };
  const output = kind.infer(args, input, fail, childOutputs);
  const full = <T extends { name: string }>(d: T) => ({ ...d, fullName: `${path}.${d.name}` });
  return {
    path,
    type: spec.type,
    args,
    kind,
    input,
    output,
    children,
    params: (kind.params?.(args, input) ?? []).map(full),
    buffers: (kind.buffers?.(args, input) ?? []).map(full),
    salt,
  };
}
