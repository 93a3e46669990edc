/**
 * The demo's weights files: the trainer's state dict (`trainer.stateDict()`: PyTorch's names, layouts and
 * dtypes, num_batches_tracked included) as safetensors, which torch.nn.Sequential built from the same
 * layer list loads strictly. The metadata (strings, as safetensors has them) adds what a reader needs to
 * use the weights as they were trained: the layer list and the input normalisation, plus notes such as
 * the test accuracy. Importing hands the bytes to a new trainer (`weights`), which loads them strictly.
 */
import { decodeSafetensors, encodeSafetensors, type NamedSafetensorsTensor, type Normalisation } from '../../src/index';

export type { Normalisation };

/** A normalisation as JSON (per-feature arrays as lists), and back; undefined for anything else. */
export const normalisationJson = (n: Normalisation) => JSON.stringify({ mean: typeof n.mean === 'number' ? n.mean : [...n.mean], std: typeof n.std === 'number' ? n.std : [...n.std] });

export function parseNormalisation(value: unknown): Normalisation | undefined {
  const v = value as { mean?: unknown; std?: unknown } | null;
  // A std of 0 (or a non-finite value) is no normalisation at all: the page's Inputs setting decides.
  const ok = (x: unknown, positive: boolean) => typeof x === 'number' && Number.isFinite(x) && (!positive || x > 0);
  const part = (p: unknown, positive: boolean) => (ok(p, positive) ? (p as number) : Array.isArray(p) && p.length > 0 && p.every((x) => ok(x, positive)) ? Float32Array.from(p) : undefined);
  const mean = part(v?.mean, false);
  const std = part(v?.std, true);
  return mean !== undefined && std !== undefined ? { mean, std } : undefined;
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
    normalisation: normalisationJson(info.normalisation),
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
    normalisation = parseNormalisation(JSON.parse(metadata.normalisation ?? 'null'));
  } catch {
    // Not demo metadata: the current Inputs setting decides.
  }
  return { normalisation, metadata, tensorCount: tensors.size };
}
