/**
 * Prediction for the drawn digit, on the CPU.
 *
 * The Trainer has no predict API yet, so the demo runs the forward pass itself from `trainer.weights()`
 * (or an imported safetensors file): a plain MLP, x → (W·x + b → activation)* → W·x + b → softmax, with
 * PyTorch-layout weights fc{i}.weight [out, in] and fc{i}.bias [out]. For one 784-pixel digit that is
 * about 100k multiply-adds, far below anything worth a GPU round trip. The activations match
 * shaders/act_fns.wgsl. Hidden layers may carry a norm between the linear map and the activation, as the
 * engine builds them (src/nn/mlp.ts): batch norm bn{i}.* with its running statistics (evaluation mode) or
 * layer norm ln{i}.*; dropout is the identity at prediction time. Models with other parameters are
 * refused with a message instead of being predicted wrongly.
 */
import { NORM_EPS, type ActivationName } from '../../src/index';

export class UnsupportedModelError extends Error {}

export interface Layer {
  /** [out, in], row-major. */
  weight: Float32Array;
  bias: Float32Array;
  in: number;
  out: number;
  /** Normalisation after the linear map (hidden layers only). */
  norm?: LayerNorm;
}

export interface LayerNorm {
  kind: 'batch' | 'layer';
  /** γ and β, [out]. */
  weight: Float32Array;
  bias: Float32Array;
  /** Batch norm's running statistics, [out]. */
  runningMean?: Float32Array;
  runningVar?: Float32Array;
}

export interface Normalisation {
  mean: number;
  std: number;
}

const SELU_LAMBDA = 1.0507009873554805;
const SELU_ALPHA = 1.6732632423543772;

/** erf by Abramowitz & Stegun 7.1.26 (absolute error ≤ 1.5e-7): plenty for a prediction. */
function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return Math.sign(x) * (1 - poly * Math.exp(-x * x));
}

export function activate(x: number, kind: ActivationName, alpha: number): number {
  switch (kind) {
    case 'relu':
      return x > 0 ? x : 0;
    case 'sigmoid':
      return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
    case 'tanh':
      return Math.tanh(x);
    case 'leaky_relu':
      return x > 0 ? x : alpha * x;
    case 'elu':
      return x > 0 ? x : alpha * (Math.exp(x) - 1);
    case 'selu':
      return SELU_LAMBDA * (x > 0 ? x : SELU_ALPHA * (Math.exp(x) - 1));
    case 'gelu':
      return 0.5 * x * (1 + erf(x / Math.SQRT2));
    case 'silu':
      return x / (1 + Math.exp(-x));
    default:
      return x;
  }
}

export function softmax(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  const out = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += out[i] = Math.exp(logits[i] - max);
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}

/** Batch norm with its running statistics, or layer norm over the row (biased variance), in place. */
function normalise(y: Float64Array, norm: LayerNorm): void {
  if (norm.kind === 'batch') {
    for (let o = 0; o < y.length; o++) y[o] = ((y[o] - norm.runningMean![o]) / Math.sqrt(norm.runningVar![o] + NORM_EPS)) * norm.weight[o] + norm.bias[o];
    return;
  }
  let mean = 0;
  for (let o = 0; o < y.length; o++) mean += y[o];
  mean /= y.length;
  let variance = 0;
  for (let o = 0; o < y.length; o++) variance += (y[o] - mean) ** 2;
  const rstd = 1 / Math.sqrt(variance / y.length + NORM_EPS);
  for (let o = 0; o < y.length; o++) y[o] = (y[o] - mean) * rstd * norm.weight[o] + norm.bias[o];
}

/** A tensor as the predictor needs it: data plus (when known) its shape. */
export interface NamedTensor {
  data: Float32Array;
  shape?: readonly number[];
}

export class MlpPredictor {
  private constructor(
    readonly layers: Layer[],
    readonly activation: ActivationName,
    readonly alpha: number,
    readonly normalisation: Normalisation,
  ) {}

  /** Widths from input to output, e.g. [784, 128, 64, 10]. */
  get widths(): number[] {
    return [this.layers[0].in, ...this.layers.map((l) => l.out)];
  }

  /**
   * Builds the predictor from named parameters. Throws UnsupportedModelError for parameters other than
   * fc{i}.weight / fc{i}.bias (optimizer.* state in a checkpoint is ignored), and for inconsistent shapes.
   */
  static fromWeights(
    weights: ReadonlyMap<string, NamedTensor | Float32Array>,
    options: { activation?: ActivationName; alpha?: number; normalisation?: Normalisation } = {},
  ): MlpPredictor {
    const names = [...weights.keys()].filter((name) => !name.startsWith('optimizer.'));
    const known = /^(fc\d+\.(weight|bias)|bn\d+\.(weight|bias|running_mean|running_var)|ln\d+\.(weight|bias))$/;
    const other = names.filter((name) => !known.test(name));
    if (other.length) {
      throw new UnsupportedModelError(
        `This model has parameters the demo's CPU predictor does not handle (${other.slice(0, 4).join(', ')}${other.length > 4 ? ', …' : ''}). ` +
          'It predicts MLPs of fc{i}.weight/bias with optional bn{i}.* (batch norm) or ln{i}.* (layer norm) after hidden layers.',
      );
    }
    const count = names.filter((name) => /^fc\d+\.weight$/.test(name)).length;
    if (count === 0) throw new UnsupportedModelError('No fc1.weight found: not an MLP weights file.');
    const get = (name: string): NamedTensor => {
      const value = weights.get(name);
      if (!value) throw new UnsupportedModelError(`Missing tensor ${name} (layers must be fc1 … fc${count}).`);
      return value instanceof Float32Array ? { data: value } : value;
    };
    const vector = (name: string, width: number): Float32Array => {
      const { data, shape } = get(name);
      if (data.length !== width || (shape && (shape.length !== 1 || shape[0] !== width))) {
        throw new UnsupportedModelError(`${name} has ${shape ? `shape [${shape.join(', ')}]` : `${data.length} values`}; layer ${name.match(/\d+/)![0]} has ${width} outputs.`);
      }
      return data;
    };
    const normOf = (i: number, width: number): LayerNorm | undefined => {
      const batch = names.some((name) => name.startsWith(`bn${i}.`));
      const layer = names.some((name) => name.startsWith(`ln${i}.`));
      if (batch && layer) throw new UnsupportedModelError(`Layer ${i} has both bn${i}.* and ln${i}.* tensors.`);
      if (!batch && !layer) return undefined;
      if (i === count) throw new UnsupportedModelError(`The output layer fc${i} cannot have a norm (found ${batch ? 'bn' : 'ln'}${i}.*).`);
      const prefix = batch ? `bn${i}` : `ln${i}`;
      const norm: LayerNorm = { kind: batch ? 'batch' : 'layer', weight: vector(`${prefix}.weight`, width), bias: vector(`${prefix}.bias`, width) };
      if (batch) {
        norm.runningMean = vector(`${prefix}.running_mean`, width);
        norm.runningVar = vector(`${prefix}.running_var`, width);
      }
      return norm;
    };
    const layers: Layer[] = [];
    let width = 0;
    for (let i = 1; i <= count; i++) {
      const weight = get(`fc${i}.weight`);
      const bias = get(`fc${i}.bias`);
      const out = bias.data.length;
      const inferredIn = weight.data.length / out;
      const [shapeOut, shapeIn] = weight.shape ?? [out, inferredIn];
      if (shapeOut !== out || !Number.isInteger(inferredIn) || shapeIn !== inferredIn || (i > 1 && shapeIn !== width)) {
        throw new UnsupportedModelError(
          `fc${i}.weight has ${weight.shape ? `shape [${weight.shape.join(', ')}]` : `${weight.data.length} values`}, which does not fit ` +
            `fc${i}.bias [${out}]${i > 1 ? ` and the previous layer's ${width} outputs` : ''}.`,
        );
      }
      const norm = normOf(i, out);
      layers.push({ weight: weight.data, bias: bias.data, in: shapeIn, out, ...(norm ? { norm } : {}) });
      width = out;
    }
    const stray = names.filter((name) => /^(bn|ln)\d+\./.test(name) && Number(name.match(/\d+/)![0]) > count);
    if (stray.length) throw new UnsupportedModelError(`${stray[0]} belongs to no layer (the model has fc1 … fc${count}).`);
    const activation = options.activation ?? 'relu';
    const alpha = options.alpha ?? (activation === 'elu' ? 1 : 0.01);
    return new MlpPredictor(layers, activation, alpha, options.normalisation ?? { mean: 0, std: 1 });
  }

  /** Logits for one image of raw pixel bytes (0..255), normalised as in training. */
  logits(pixels: ArrayLike<number>): Float64Array {
    const first = this.layers[0];
    if (pixels.length !== first.in) throw new UnsupportedModelError(`The model expects ${first.in} inputs; got ${pixels.length} pixels.`);
    const { mean, std } = this.normalisation;
    let x = Float64Array.from(pixels, (p) => (p / 255 - mean) / std);
    this.layers.forEach((layer, index) => {
      const y = new Float64Array(layer.out);
      for (let o = 0; o < layer.out; o++) {
        let sum = layer.bias[o];
        const row = o * layer.in;
        for (let i = 0; i < layer.in; i++) sum += layer.weight[row + i] * x[i];
        y[o] = sum;
      }
      if (layer.norm) normalise(y, layer.norm);
      if (index < this.layers.length - 1) for (let o = 0; o < layer.out; o++) y[o] = activate(y[o], this.activation, this.alpha);
      x = y;
    });
    return x;
  }

  /** Class probabilities (softmax of the logits). */
  predict(pixels: ArrayLike<number>): Float64Array {
    return softmax(this.logits(pixels));
  }
}
