/**
 * The demo's weights files: the trainer's state dict (`trainer.stateDict()`: PyTorch's names, layouts and
 * dtypes, num_batches_tracked included) as safetensors, which torch.nn.Sequential built from the same
 * layer list loads strictly. The metadata (strings, as safetensors has them) adds what a reader needs to
 * use the weights as they were trained: the layer list and the input normalisation, plus notes such as
 * the test accuracy. Importing hands the bytes to a new trainer (`weights`), which loads them strictly.
 */
import { decodeSafetensors, encodeSafetensors, type NamedSafetensorsTensor } from '../../src/index';

/** x = (pixel/255 − mean)/std. */
export interface Normalisation {
  mean: number;
  std: number;
}

export const DEMO_FORMAT = 'webgrad-demo-state-dict-1';

export interface ExportInfo {
  /** The layer list (the worker's `info.model`). */
  model: unknown;
  /** x = (pixel/255 − mean)/std, as training used it (the worker's `info.normalisation`). */
  normalisation: Normalisation;
  /** Anything worth keeping with the weights (test accuracy, epochs). */
  notes?: Record<string, string>;
}

export function encodeWeights(stateDict: readonly NamedSafetensorsTensor[], info: ExportInfo): Uint8Array {
  return encodeSafetensors(stateDict, {
    ...info.notes,
    format: 'pt',
    webgrad: DEMO_FORMAT,
    model: JSON.stringify(info.model),
    normalisation: JSON.stringify({ mean: info.normalisation.mean, std: info.normalisation.std }),
  });
}

export interface WeightsFile {
  /** The normalisation it was trained with, when the file says (demo exports do; `train --save` files may not). */
  normalisation?: Normalisation;
  metadata: Record<string, string>;
  tensorCount: number;
}

/**
 * Checks that `bytes` are a safetensors file and reads its metadata; a DataFormatError naming the file
 * otherwise. Whether its tensors fit the model is for the trainer to say (strictly, naming every tensor).
 */
export function readWeightsFile(bytes: Uint8Array, fileName: string): WeightsFile {
  const { tensors, metadata } = decodeSafetensors(bytes, fileName);
  let normalisation: Normalisation | undefined;
  try {
    const value = JSON.parse(metadata.normalisation ?? 'null') as { mean?: unknown; std?: unknown } | null;
    if (typeof value?.mean === 'number' && typeof value.std === 'number' && Number.isFinite(value.mean) && value.std > 0) normalisation = { mean: value.mean, std: value.std };
  } catch {
    // Not demo metadata: the current Inputs setting decides.
  }
  return { normalisation, metadata, tensorCount: tensors.size };
}
