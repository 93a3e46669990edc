/**
 * Prediction for the drawn digit, on the CPU.
 *
 * The Trainer has no predict API yet, so the demo runs the forward pass itself from `trainer.weights()`
 * (or an imported safetensors file): a plain MLP, x → (W·x + b → activation)* → W·x + b → softmax, with
 * PyTorch-layout weights fc{i}.weight [out, in] and fc{i}.bias [out]. For one 784-pixel digit that is
 * about 100k multiply-adds, far below anything worth a GPU round trip. The activations match
 * shaders/act_fns.wgsl. Models with other parameters (batch norm's bnN.*, issue 3) are refused with a
 * message instead of being predicted wrongly.
 */
import type { ActivationName } from '../../src/index';

export class UnsupportedModelError extends Error {}

export interface Layer {
  /** [out, in], row-major. */
  weight: Float32Array;
  bias: Float32Array;
  in: number;
  out: number;
}

export interface Normalisation {
  mean: number;
  std: number;
}

const SELU_LAMBDA = 1.0507009873554805;
const SELU_ALPHA = 1.6732632423543772;

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
    const other = names.filter((name) => !/^fc\d+\.(weight|bias)$/.test(name));
    if (other.length) {
      const norm = other.some((name) => /^(bn|ln)\d+\./.test(name));
      throw new UnsupportedModelError(
        `This model has parameters the demo's CPU predictor does not handle (${other.slice(0, 4).join(', ')}${other.length > 4 ? ', …' : ''}). ` +
          (norm ? 'Prediction with normalisation layers comes with issue 3; ' : '') +
          'only plain MLPs (fc{i}.weight, fc{i}.bias) can be predicted here.',
      );
    }
    const count = names.filter((name) => name.endsWith('.weight')).length;
    if (count === 0) throw new UnsupportedModelError('No fc1.weight found: not an MLP weights file.');
    const get = (name: string): NamedTensor => {
      const value = weights.get(name);
      if (!value) throw new UnsupportedModelError(`Missing tensor ${name} (layers must be fc1 … fc${count}).`);
      return value instanceof Float32Array ? { data: value } : value;
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
      layers.push({ weight: weight.data, bias: bias.data, in: shapeIn, out });
      width = out;
    }
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
        y[o] = index < this.layers.length - 1 ? activate(sum, this.activation, this.alpha) : sum;
      }
      x = y;
    });
    return x;
  }

  /** Class probabilities (softmax of the logits). */
  predict(pixels: ArrayLike<number>): Float64Array {
    return softmax(this.logits(pixels));
  }
}
