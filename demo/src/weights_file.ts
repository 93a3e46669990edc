/**
 * Export and import of trained weights as safetensors (PyTorch layout: fc{i}.weight [out, in], fc{i}.bias
 * [out], and bn{i}.* / ln{i}.* for normalised layers), with the model and the input normalisation in the metadata so an imported file predicts exactly
 * as it did when exported. Files from `npm run train -- --save` and webgrad checkpoints load too (their
 * optimizer.* tensors are ignored; without normalisation metadata, pixels are scaled to [0, 1]).
 */
import { activationKinds, decodeSafetensors, encodeSafetensors, type ActivationName } from '../../src/index';
import { MlpPredictor, UnsupportedModelError, type NamedTensor, type Normalisation } from './predict';

export const DEMO_FORMAT = 'webgrad-demo-weights-1';

export interface ExportInfo {
  /** Anything worth keeping with the weights (test accuracy, epochs, settings). */
  notes?: Record<string, string>;
}

export function encodeWeights(predictor: MlpPredictor, info: ExportInfo = {}): Uint8Array {
  const tensors = predictor.layers.flatMap((layer, i) => {
    const vector = (name: string, data: Float32Array) => ({ name, dtype: 'F32' as const, shape: [layer.out], data });
    const list = [{ name: `fc${i + 1}.weight`, dtype: 'F32' as const, shape: [layer.out, layer.in], data: layer.weight }, vector(`fc${i + 1}.bias`, layer.bias)];
    const norm = layer.norm;
    if (norm) {
      const prefix = `${norm.kind === 'batch' ? 'bn' : 'ln'}${i + 1}`;
      list.push(vector(`${prefix}.weight`, norm.weight), vector(`${prefix}.bias`, norm.bias));
      if (norm.runningMean && norm.runningVar) list.push(vector(`${prefix}.running_mean`, norm.runningMean), vector(`${prefix}.running_var`, norm.runningVar));
    }
    return list;
  });
  return encodeSafetensors(tensors, {
    ...info.notes,
    format: 'pt',
    webgrad: DEMO_FORMAT,
    model: JSON.stringify({ layers: predictor.widths, activation: predictor.activation, alpha: predictor.alpha }),
    normalisation: JSON.stringify(predictor.normalisation),
  });
}

function parseJson(text: string | undefined): Record<string, unknown> | undefined {
  if (!text) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export interface ImportedWeights {
  predictor: MlpPredictor;
  metadata: Record<string, string>;
}

/** Reads a safetensors file into a CPU predictor. Throws DataFormatError or UnsupportedModelError with a message for the user. */
export function decodeWeights(bytes: Uint8Array, fileName: string): ImportedWeights {
  const { tensors, metadata } = decodeSafetensors(bytes, fileName);
  const weights = new Map<string, NamedTensor>();
  for (const [name, tensor] of tensors) {
    if (name.startsWith('optimizer.')) continue;
    if (tensor.dtype !== 'F32') throw new UnsupportedModelError(`${fileName}: tensor ${name} is ${tensor.dtype}; the predictor reads F32 only.`);
    weights.set(name, { data: tensor.data, shape: tensor.shape });
  }
  const model = parseJson(metadata.model);
  const activation = typeof model?.activation === 'string' && model.activation in activationKinds ? (model.activation as ActivationName) : undefined;
  if (model?.activation !== undefined && !activation) throw new UnsupportedModelError(`${fileName}: unknown activation ${JSON.stringify(model.activation)}.`);
  const alpha = typeof model?.alpha === 'number' ? model.alpha : undefined;
  const norm = parseJson(metadata.normalisation);
  const normalisation: Normalisation | undefined =
    typeof norm?.mean === 'number' && typeof norm?.std === 'number' && norm.std > 0 ? { mean: norm.mean, std: norm.std } : undefined;
  return { predictor: MlpPredictor.fromWeights(weights, { activation, alpha, normalisation }), metadata };
}
