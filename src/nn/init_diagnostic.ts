/**
 * The initialisation experiment of the lessons, on the GPU: one batch goes through a deep stack of dense
 * layers (10 × 256 by default) for each initialiser and activation, and the mean, standard deviation and
 * saturated fraction of every layer's activations are reduced on the GPU (shaders/moments.wgsl). Only
 * those few numbers come back. It shows what the lessons claim: all-zero and tiny N(0, 0.01²) weights
 * make the signal vanish, N(0, 1) makes it explode through ReLU and saturate tanh, and He (for ReLU)
 * and Xavier (for tanh) keep it at scale.
 *
 * The stack is an ordinary graph (matmul + bias + activation, fused, then a `moments` node per layer)
 * planned and run by the same scheduler as training, built once per activation; each initialiser only
 * rewrites the parameter arena.
 */
import { ConfigError } from '../errors';
import type { GpuContext } from '../gpu/device';
import { GpuResources } from '../gpu/resources';
import { readFloats } from '../gpu/readback';
import { externalBuffer, Graph, type ExternalBuffer, type Tensor } from '../graph/graph';
import { activationKinds, type ActivationName } from '../graph/ops';
import { splitForAdapter, withReductionSplit } from '../kernels/reduction_split';
import { Rng } from '../data/rng';
import { fuse } from '../scheduler/fuse';
import { planStep } from '../scheduler/plan';
import { Executable } from '../scheduler/executable';
import { initWeight, resolveInit, type InitName } from './init';
import { ParameterArena } from './parameters';

export interface InitCase {
  /** Shown in the table, e.g. 'normal(0.01)'. */
  label: string;
  init: InitName;
  /** Standard deviation for 'normal', value for 'constant', gain for 'orthogonal'. */
  scale?: number;
}

export const defaultInitCases: InitCase[] = [
  { label: 'zeros', init: 'zeros' },
  { label: 'normal(0.01)', init: 'normal', scale: 0.01 },
  { label: 'normal(1)', init: 'normal', scale: 1 },
  { label: 'xavier_normal', init: 'xavier_normal' },
  { label: 'xavier_uniform', init: 'xavier_uniform' },
  { label: 'he_normal', init: 'he_normal' },
  { label: 'he_uniform', init: 'he_uniform' },
  { label: 'lecun_normal', init: 'lecun_normal' },
  { label: 'orthogonal', init: 'orthogonal' },
];

export interface InitDiagnosticOptions {
  inits?: InitCase[];
  activations?: ActivationName[];
  /** Dense layers in the stack (default 10) and their width (default 256). */
  depth?: number;
  width?: number;
  /** The batch: `rows` samples of `features` values, row-major. Default: 512 × width draws of N(0, 1). */
  inputs?: { data: Float32Array; rows: number; features: number; description?: string };
  seed?: number;
}

export interface LayerStats {
  mean: number;
  std: number;
  /** Fraction of |h| > 0.99: saturated tanh units. */
  saturated: number;
}

export type Verdict = 'vanishes' | 'explodes' | 'saturates' | 'shrinks' | 'grows' | 'stable';

export interface InitDiagnosticRow {
  activation: ActivationName;
  label: string;
  init: InitName;
  layers: LayerStats[];
  verdict: Verdict;
}

export interface InitDiagnosticResult {
  rows: InitDiagnosticRow[];
  depth: number;
  width: number;
  inputDescription: string;
}

/** How the last layer's activations compare with the first's. */
export function verdictOf(activation: ActivationName, layers: readonly LayerStats[]): Verdict {
  const first = layers[0].std;
  const last = layers[layers.length - 1];
  if (!(last.std >= 1e-3)) return Number.isFinite(last.std) ? 'vanishes' : 'explodes';
  if (last.std > 1e3) return 'explodes';
  if ((activation === 'tanh' || activation === 'selu' || activation === 'elu') && last.saturated > 0.5) return 'saturates';
  if (last.std < 0.1 * first) return 'shrinks';
  if (last.std > 10 * first) return 'grows';
  return 'stable';
}

export async function initDiagnostic(gpu: GpuContext | GpuResources, options: InitDiagnosticOptions = {}): Promise<InitDiagnosticResult> {
  const resources = gpu instanceof GpuResources ? gpu : new GpuResources(gpu);
  const depth = options.depth ?? 10;
  const width = options.width ?? 256;
  const seed = options.seed ?? 0;
  const activations = options.activations ?? ['relu', 'tanh'];
  const cases = options.inits ?? defaultInitCases;
  if (!Number.isInteger(depth) || depth < 1 || !Number.isInteger(width) || width < 1) {
    throw new ConfigError(`The stack needs a positive integer depth and width; got depth ${depth}, width ${width}.`);
  }
  for (const a of activations) if (!(a in activationKinds)) throw new ConfigError(`Unknown activation '${a}'. Expected one of: ${Object.keys(activationKinds).join(', ')}.`);
  cases.forEach((c) => resolveInit(c.init));
  const inputs = options.inputs ?? randomInputs(512, width, seed);
  if (inputs.data.length !== inputs.rows * inputs.features) {
    throw new ConfigError(`The inputs hold ${inputs.data.length} values, not rows × features = ${inputs.rows} × ${inputs.features}.`);
  }

  const widths = [inputs.features, ...new Array<number>(depth).fill(width)];
  const arena = new ParameterArena(
    widths.slice(1).flatMap((out, i) => [
      { name: `fc${i + 1}.weight`, shape: [out, widths[i]], decay: true },
      { name: `fc${i + 1}.bias`, shape: [out], decay: false },
    ]),
  );
  const params = resources.createStorage('diagnostic.params', new Float32Array(arena.totalFloats));
  const input = resources.createStorage('diagnostic.input', inputs.data);
  const handles = { params: externalBuffer('params', params.size), grads: externalBuffer('grads', 16), input: externalBuffer('diagnostic.input', inputs.data.byteLength) };
  const bindings = new Map([[handles.params, params], [handles.input, input]]);
  const layout = { params: arena, paramsBuffer: handles.params, gradsBuffer: handles.grads };
  const results: InitDiagnosticRow[] = [];
  try {
    for (const activation of activations) {
      const { graph, stats } = stackGraph(widths, inputs.rows, activation, handles.input);
      const nodes = withReductionSplit(fuse(graph.nodes), splitForAdapter(resources.gpu.adapterName));
      const executable = await Executable.create(resources, planStep(nodes, layout), bindings, `diagnostic.${activation}`);
      try {
        for (const c of cases) {
          const data = new Float32Array(arena.totalFloats);
          const rng = new Rng(seed + 1);
          for (let i = 1; i < widths.length; i++) data.set(initWeight(c.init, widths[i], widths[i - 1], rng, { scale: c.scale }), arena.slot(`fc${i}.weight`).offset);
          resources.device.queue.writeBuffer(params, 0, data);
          const encoder = resources.device.createCommandEncoder();
          executable.encode(encoder);
          resources.device.queue.submit([encoder.finish()]);
          const layers = await Promise.all(
            stats.map(async (t) => {
              const where = executable.locate(t.id);
              const [mean, std, saturated] = await readFloats(resources, where.buffer, where.offset, 4);
              return { mean, std, saturated };
            }),
          );
          results.push({ activation, label: c.label, init: c.init, layers, verdict: verdictOf(activation, layers) });
        }
      } finally {
        executable.destroy();
      }
    }
    resources.gpu.check();
  } finally {
    resources.destroyBuffer(params);
    resources.destroyBuffer(input);
  }
  return { rows: results, depth, width, inputDescription: inputs.description ?? `${inputs.rows} inputs of ${inputs.features} values` };
}

function randomInputs(rows: number, features: number, seed: number) {
  const rng = new Rng(seed);
  return { data: Float32Array.from({ length: rows * features }, () => rng.normal()), rows, features, description: `${rows} random N(0, 1) inputs of ${features} values` };
}

/** input → (matmul + bias → activation → moments)* : the moments outputs are kept to be read back. */
function stackGraph(widths: number[], rows: number, activation: ActivationName, input: ExternalBuffer): { graph: Graph; stats: Tensor[] } {
  const g = new Graph();
  let x = g.external(input, [rows, widths[0]]);
  const stats: Tensor[] = [];
  for (let i = 1; i < widths.length; i++) {
    const weight = g.tensor([widths[i], widths[i - 1]], 'param', `fc${i}.weight`);
    const bias = g.tensor([widths[i]], 'param', `fc${i}.bias`);
    [x] = g.add('matmul', [x, weight, bias], { transB: true, name: `z${i}` });
    [x] = g.add('activation', [x], { kind: activation, alpha: activation === 'elu' ? 1 : 0.01, name: `h${i}` });
    const [m] = g.add('moments', [x], { name: `moments${i}` });
    m.keep = true;
    stats.push(m);
  }
  return { graph: g, stats };
}

const cell = (v: number): string => {
  if (v === 0) return '0';
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a >= 1e4 || a < 1e-2 ? v.toExponential(1) : v.toPrecision(3);
};

/** One table per activation and statistic: initialisers down, layers across, the verdict last. */
export function formatInitDiagnostic(result: InitDiagnosticResult): string {
  const out: string[] = [];
  const activations = [...new Set(result.rows.map((r) => r.activation))];
  for (const activation of activations) {
    const rows = result.rows.filter((r) => r.activation === activation);
    for (const [stat, title] of [['std', 'standard deviation'], ['mean', 'mean']] as const) {
      out.push(`${activation}: ${title} of each layer's activations (${result.depth} layers of ${result.width}; ${result.inputDescription})`);
      const header = ['init', ...rows[0].layers.map((_, i) => `L${i + 1}`)];
      if (stat === 'std') header.push('|h|>0.99', 'verdict');
      const body = rows.map((r) => {
        const cells = [r.label, ...r.layers.map((l) => cell(l[stat]))];
        // |h| > 0.99 means saturation only for tanh; for unbounded activations it is just a large value.
        const saturated = activation === 'tanh' ? `${(100 * r.layers[r.layers.length - 1].saturated).toFixed(0)}%` : '-';
        if (stat === 'std') cells.push(saturated, r.verdict);
        return cells;
      });
      const widths = header.map((h, c) => Math.max(h.length, ...body.map((b) => b[c].length)));
      const line = (cells: string[]) => cells.map((v, c) => (c === 0 || c === cells.length - 1 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  ').trimEnd();
      out.push(line(header), ...body.map(line), '');
    }
  }
  return out.join('\n');
}
